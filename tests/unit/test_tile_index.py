"""The tile index GeoPackage: structure checked with plain sqlite3 (and ogr if present), round trips."""
import os
import sqlite3

import numpy as np
import pytest
from rasterio.crs import CRS
from shapely.geometry import box

from geovl.geo.files import atomic_path
from geovl.errors import InputError
from geovl.geo.tile_index import (IndexCheck, TileIndexWriter, check_index, load_embeddings, read_cells, read_meta,
                                  read_tiles)

META = {"key": "0123abcd", "raster": "abc123", "model": "clip-vit-b32", "tile_size": 224, "overlap": 32,
        "stretch": {"method": "percentile 2-98", "low": [1.5, 2.0, 3.0], "high": [900.0, 950.0, 1000.0]}}
ROWS = [0, 0, 1, 1, 2]
COLS = [0, 1, 0, 1, 0]
# 100 m tiles in UTM 33N, origin (400000, 5000000), rows going south
FOOTPRINTS = [box(400000 + 100 * c, 5000000 - 100 * (r + 1), 400000 + 100 * (c + 1), 5000000 - 100 * r)
              for r, c in zip(ROWS, COLS)]


@pytest.fixture
def embeddings():
    return np.random.default_rng(11).normal(size=(len(ROWS), 8)).astype(np.float32) * 5


@pytest.fixture
def index(tmp_path, embeddings):
    """An index of five tiles written through atomic_path; returns its path."""
    target = str(tmp_path / "index.gpkg")
    with atomic_path(target) as tmp:
        with TileIndexWriter(tmp, CRS.from_epsg(32633).to_wkt(), 32633, META) as writer:
            writer.add(FOOTPRINTS[:3], ROWS[:3], COLS[:3], embeddings[:3])
            writer.add(FOOTPRINTS[3:], ROWS[3:], COLS[3:], embeddings[3:])
    return target


def test_index_is_a_geopackage(index, tmp_path):
    """application_id is 'GPKG', tiles is a features table, geovl_meta an attributes table."""
    assert os.listdir(tmp_path) == ["index.gpkg"]  # temporary name renamed away
    con = sqlite3.connect(index)
    try:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        contents = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents"))
        assert contents == {"tiles": "features", "geovl_meta": "attributes"}
        assert con.execute("SELECT table_name, column_name, geometry_type_name, srs_id, z, m "
                           "FROM gpkg_geometry_columns").fetchall() == [("tiles", "geom", "POLYGON", 32633, 0, 0)]
        assert con.execute("SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys "
                           "WHERE srs_id = 32633").fetchone() == ("EPSG", 32633)
        extent = con.execute("SELECT min_x, min_y, max_x, max_y, srs_id FROM gpkg_contents "
                             "WHERE table_name = 'tiles'").fetchone()
        assert extent == (400000, 5000000 - 300, 400200, 5000000, 32633)
        assert con.execute("SELECT count(*) FROM tiles").fetchone()[0] == 5
        assert con.execute("SELECT count(*) FROM rtree_tiles_geom").fetchone()[0] == 5
    finally:
        con.close()


def test_meta_round_trips(index, tmp_path):
    """read_meta returns the dict given to the writer plus the tile count and embedding
    size the writer records; a non-index file gives None."""
    assert read_meta(index) == {**META, "tile_count": 5, "embedding_dim": 8}
    other = tmp_path / "not_an_index.gpkg"
    other.write_bytes(b"this is not sqlite")
    assert read_meta(str(other)) is None
    assert read_meta(str(tmp_path / "missing.gpkg")) is None


def test_embeddings_are_unit_rows_in_fid_order(index, embeddings):
    """load_embeddings gives float32 unit rows equal to the normalised input, fids 1..5."""
    fids, matrix = load_embeddings(index)
    np.testing.assert_array_equal(fids, [1, 2, 3, 4, 5])
    assert matrix.dtype == np.float32 and matrix.shape == (5, 8)
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-6)
    expected = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    np.testing.assert_allclose(matrix, expected, atol=2e-3)  # stored as float16


def test_read_tiles_returns_footprints(index):
    """read_tiles gives each fid's row, col and footprint, in the order asked."""
    tiles = read_tiles(index, [4, 1, 5])
    assert [(t.fid, t.row, t.col) for t in tiles] == [(4, 1, 1), (1, 0, 0), (5, 2, 0)]
    for tile, i in zip(tiles, [3, 0, 4]):
        assert tile.footprint.equals(FOOTPRINTS[i])
    assert tiles[0].footprint.bounds == (400100, 4999800, 400200, 4999900)


def test_read_cells_matches_rows_and_cols(index):
    """read_cells gives grid rows and columns in fid order."""
    rows, cols = read_cells(index)
    np.testing.assert_array_equal(rows, ROWS)
    np.testing.assert_array_equal(cols, COLS)


def test_failure_inside_atomic_path_leaves_nothing(tmp_path, embeddings):
    """An exception while writing leaves no index and no partial file in the folder."""
    target = tmp_path / "index.gpkg"
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(str(target)) as tmp:
            with TileIndexWriter(tmp, CRS.from_epsg(32633).to_wkt(), 32633, META) as writer:
                writer.add(FOOTPRINTS, ROWS, COLS, embeddings)
                raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


def test_failure_keeps_previous_index(index, embeddings):
    """A failed rebuild does not replace or damage the index already at the target."""
    with pytest.raises(RuntimeError):
        with atomic_path(index) as tmp:
            with TileIndexWriter(tmp, CRS.from_epsg(32633).to_wkt(), 32633, {"model": "other"}):
                raise RuntimeError("boom")
    assert read_meta(index) == {**META, "tile_count": 5, "embedding_dim": 8}
    assert os.listdir(os.path.dirname(index)) == ["index.gpkg"]


def test_ogr_reads_the_index(index):
    """GDAL's GPKG driver sees 5 polygons in EPSG:32633 with the right envelope."""
    ogr = pytest.importorskip("osgeo.ogr")
    ds = ogr.Open(index)
    assert ds is not None
    layer = ds.GetLayerByName("tiles")
    assert layer.GetFeatureCount() == 5
    srs = layer.GetSpatialRef()
    srs.AutoIdentifyEPSG()
    assert srs.GetAuthorityCode(None) == "32633"
    feature = layer.GetFeature(4)
    assert (feature.GetField("grid_row"), feature.GetField("grid_col")) == (1, 1)
    # OGR envelopes are (minx, maxx, miny, maxy)
    assert feature.GetGeometryRef().GetEnvelope() == (400100, 400200, 4999800, 4999900)
    ds = None


# ---------------------------------------------------------------- damage

@pytest.mark.parametrize("how, geovl, problem", [
    ("truncated", True, "cannot be read"),
    ("random bytes", False, "cannot be read"),
    ("half the rows deleted", True, "holds 3 tiles where 5 were written"),
    ("a short embedding", True, "1 of its 5 embeddings are not 8 float16 values"),
    ("tiles table dropped", True, "table of tiles is missing"),
    ("metadata table dropped", True, "metadata table is missing"),
])
def test_damaged_index_is_told_apart(index, damage_index, how, geovl, problem):
    """check_index says whether the file is a GeoVL index and what is damaged in it."""
    sound = check_index(index)
    assert sound.geovl and not sound.problem
    damage_index(index, how)
    found = check_index(index)
    assert found.exists and found.geovl is geovl
    assert problem in found.problem


def test_metadata_without_tile_count_is_damage(index):
    """An index whose metadata lost its tile count is damaged."""
    con = sqlite3.connect(index)
    con.execute("DELETE FROM geovl_meta WHERE key = 'tile_count'")
    con.commit()
    con.close()
    assert check_index(index).problem == "its metadata lacks tile_count"


def test_other_geopackage_is_not_a_geovl_index(tmp_path):
    """A GeoPackage that is not GeoVL's (no geovl_meta table registered) is not GeoVL's; a missing path is absent."""
    other = str(tmp_path / "roads.gpkg")
    from geovl.geo import gpkg
    con, srs = gpkg.create(other, CRS.from_epsg(32633).to_wkt(), 32633)
    gpkg.add_feature_table(con, "roads", "name TEXT", srs)
    con.commit()
    con.close()
    found = check_index(other)
    assert found.exists and not found.geovl and not found.meta
    assert not check_index(str(tmp_path / "missing.gpkg")).exists


def test_locked_index_is_in_use_not_foreign(index):
    """An index another connection holds an exclusive lock on raises InputError saying it is in use."""
    holder = sqlite3.connect(index, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(InputError, match="is in use: another program holds a write lock") as error:
            check_index(index)
        assert "not a GeoVL index" not in str(error.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not check_index(index).problem


def test_full_disk_while_writing_the_index_leaves_nothing(small_disk, embeddings):
    """An index that outgrows a 128 KiB disk raises InputError naming the folder; no partial file or journal stays."""
    disk = small_disk(128)
    many = np.repeat(embeddings, 400, axis=0)
    with pytest.raises(InputError, match=f"'{disk}'.*the disk is full"):
        with atomic_path(os.path.join(disk, "index.gpkg")) as tmp:
            with TileIndexWriter(tmp, CRS.from_epsg(32633).to_wkt(), 32633, META) as writer:
                for i in range(0, len(many), 50):
                    writer.add(FOOTPRINTS[:1] * 50, [0] * 50, [0] * 50, many[i:i + 50])
    assert os.listdir(disk) == []


def test_an_index_of_one_tile_loads(tmp_path, embeddings):
    target = str(tmp_path / "one.gpkg")
    with atomic_path(target) as tmp:
        with TileIndexWriter(tmp, CRS.from_epsg(32633).to_wkt(), 32633, META) as writer:
            writer.add(FOOTPRINTS[:1], ROWS[:1], COLS[:1], embeddings[:1])
    fids, matrix = load_embeddings(target)
    assert matrix.shape == (1, 8) and list(fids) == [1]
    np.testing.assert_allclose(matrix[0], embeddings[0] / np.linalg.norm(embeddings[0]), atol=2e-3)


def test_embeddings_of_another_size_are_refused_naming_both(tmp_path, embeddings):
    with TileIndexWriter(str(tmp_path / "mixed.gpkg"), CRS.from_epsg(32633).to_wkt(), 32633, META) as writer:
        writer.add(FOOTPRINTS[:1], ROWS[:1], COLS[:1], embeddings[:1])
        with pytest.raises(ValueError, match="Embeddings of 4 values in an index of 8"):
            writer.add(FOOTPRINTS[1:2], ROWS[1:2], COLS[1:2], embeddings[1:2, :4])


def _write_index(path: str, embeddings: np.ndarray) -> str:
    with TileIndexWriter(path, CRS.from_epsg(32633).to_wkt(), 32633, META) as writer:
        writer.add(FOOTPRINTS[:len(embeddings)], ROWS[:len(embeddings)], COLS[:len(embeddings)], embeddings)
    return path


def test_short_and_zero_embeddings_load_as_unit_and_zero_rows(tmp_path):
    """A row shorter than 1 is scaled up to unit length; an all-zero row stays zero (no NaN)."""
    short = np.zeros((2, 4), np.float32)
    short[0] = [0.25, 0.0, 0.0, 0.0]
    _, matrix = load_embeddings(_write_index(str(tmp_path / "short.gpkg"), short))
    np.testing.assert_allclose(matrix, [[1, 0, 0, 0], [0, 0, 0, 0]])


def test_loaded_embeddings_are_read_only(index):
    """The matrix is shared by every later query of the file: nobody may change it."""
    _, matrix = load_embeddings(index)
    assert not matrix.flags.writeable


def test_embedding_cache_drops_the_least_recently_used_file(tmp_path, embeddings):
    from geovl.geo import tile_index
    paths = [_write_index(str(tmp_path / f"i{n}.gpkg"), embeddings) for n in range(tile_index._CACHE_SIZE + 1)]
    first = load_embeddings(paths[0])[1]
    for path in paths[1:-1]:
        load_embeddings(path)
    assert load_embeddings(paths[0])[1] is first          # cached, and now the most recent
    second = load_embeddings(paths[1])[1]
    load_embeddings(paths[-1])                              # one file too many: paths[2] goes
    assert load_embeddings(paths[0])[1] is first
    assert load_embeddings(paths[1])[1] is second
    assert len(tile_index._cache) <= tile_index._CACHE_SIZE


def test_an_index_of_no_tiles_loads_empty(tmp_path):
    """Nothing embedded (every tile nodata): no rows and no embedding size."""
    path = _write_index(str(tmp_path / "empty.gpkg"), np.zeros((0, 8), np.float32))
    fids, matrix = load_embeddings(path)
    assert fids.shape == (0,) and matrix.shape == (0, 0)


def test_an_empty_batch_first_does_not_fix_the_embedding_size(tmp_path, embeddings):
    path = str(tmp_path / "late.gpkg")
    with TileIndexWriter(path, CRS.from_epsg(32633).to_wkt(), 32633, META) as writer:
        writer.add([], [], [], np.zeros((0, 8), np.float32))
        writer.add(FOOTPRINTS[:2], ROWS[:2], COLS[:2], embeddings[:2])
    assert read_meta(path)["embedding_dim"] == 8 and check_index(path).problem == ""


def test_a_folder_or_nothing_at_the_index_path(tmp_path):
    assert check_index(str(tmp_path)) == IndexCheck(True, False, {}, "it is a folder")
    missing = check_index(str(tmp_path / "missing.gpkg"))
    assert (missing.exists, missing.geovl, missing.problem) == (False, False, "")


def test_a_text_file_naming_the_metadata_table_is_not_an_index(tmp_path):
    """Only an SQLite file that mentions geovl_meta is a damaged index, not any file."""
    other = tmp_path / "notes.gpkg"
    other.write_bytes(b"geovl_meta is GeoVL's metadata table\n" * 10)
    check = check_index(str(other))
    assert check.exists and not check.geovl


def test_a_failed_writer_start_closes_its_file(tmp_path):
    """Metadata that cannot be written (not JSON) raises, and leaves no open handle on the file."""
    path = tmp_path / "bad.gpkg"
    with pytest.raises(TypeError):
        TileIndexWriter(str(path), CRS.from_epsg(32633).to_wkt(), 32633, {"key": object()})
    open_files = {os.path.realpath(os.path.join("/proc/self/fd", fd)) for fd in os.listdir("/proc/self/fd")}
    assert str(path.resolve()) not in open_files


def test_index_records_are_immutable(index):
    """IndexCheck and IndexedTile values are shared between callers (and the cache)."""
    import dataclasses
    check, tile = check_index(index), read_tiles(index, [1])[0]
    for value, field in ((check, "problem"), (tile, "row")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, field, None)
