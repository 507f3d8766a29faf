"""Archive jobs (pipelines/archive.py): one index over the tiles of many rasters, each
tile as geovl:retrieve embeds it and with its source raster; queries across the archive;
reuse, cancel and resume; a STAC ItemCollection of COGs. Ray itself is in test_archive_ray.py."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Polygon

from geovl.errors import Cancelled, InputError, ModelError
from geovl.geo import archive_index, tile_index
from geovl.pipelines.archive import IN_PROCESS, index_archive
from geovl.pipelines.options import ModelOptions, TilingOptions
from geovl.pipelines.retrieve import retrieve

from ..conftest import write_raster
from .conftest import Recorder, scene

TILING = TilingOptions(tile_size=32)


def write_archive(folder, count: int = 3, crs: list[str] | None = None) -> list[str]:
    """`count` rasters of 128 x 160 px (4 x 5 tiles of 32 px), in EPSG:32633 unless `crs` says."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(count):
        image = np.moveaxis(scene(128, 160, seed=i), -1, 0)
        paths.append(write_raster(os.path.join(folder, f"scene{i}.tif"), image, crs=(crs or ["EPSG:32633"] * count)[i],
                                  transform=from_origin(500_000.0 + 1_000 * i, 4_650_000.0, 1.0, 1.0)))
    return paths


def run(archive, model, index, feedback=None, **extra):
    return index_archive(str(archive), ModelOptions(model, "cpu", "fp32"), TILING, index_path=str(index),
                         batch_size=8, cluster=IN_PROCESS, feedback=feedback or Recorder(), **extra)


def cells(index: str) -> dict[tuple[int, int, int], bytes]:
    """(source_id, row, col) -> float16 embedding blob of every tile of an archive index."""
    import sqlite3
    with sqlite3.connect(index) as con:
        rows = con.execute("SELECT source_id, grid_row, grid_col, embedding FROM tiles")
        return {(s, r, c): e for s, r, c, e in rows}


def test_each_tile_is_embedded_as_retrieve_embeds_its_raster(tiny_clip_dir, tmp_path, cache_dir):
    rasters = write_archive(tmp_path / "archive")
    result = run(tmp_path / "archive", tiny_clip_dir, tmp_path / "archive.gpkg")
    assert (result.raster_count, result.tile_count, result.tiles_embedded, result.tiles_resumed) == (3, 60, 60, 0)
    found = cells(result.index_path)
    import sqlite3
    for source_id, raster in enumerate(rasters):
        single = retrieve(raster, ModelOptions(tiny_clip_dir, "cpu", "fp32"), query="x", tiling=TILING,
                          index_path=str(tmp_path / f"single{source_id}.gpkg"))
        with sqlite3.connect(single.index_path) as con:
            expected = {(r, c): e for r, c, e in con.execute("SELECT grid_row, grid_col, embedding FROM tiles")}
        assert {(r, c): e for (s, r, c), e in found.items() if s == source_id} == expected
    sources = archive_index.read_sources(result.index_path, [1, 21, 60])
    assert [path for path, _ in sources] == [rasters[0], rasters[1], rasters[2]]
    assert [name for _, name in sources] == ["scene0.tif", "scene1.tif", "scene2.tif"]
    assert tile_index.check_index(result.index_path).problem == ""
    assert not os.path.exists(archive_index.resume_path(result.index_path))


def test_a_query_ranks_the_tiles_of_all_rasters(tiny_clip_dir, tmp_path, cache_dir):
    rasters = write_archive(tmp_path / "archive")
    result = run(tmp_path / "archive", tiny_clip_dir, tmp_path / "archive.gpkg", query="a field", top_k=60)
    fids, matrix = tile_index.load_embeddings(result.index_path)
    from geovl.models.resolver import load_embedder
    vector = load_embedder(tiny_clip_dir, "cpu", "fp32").embed_query("a field")
    expected = np.sort(matrix @ vector)[::-1]
    assert [h.score for h in result.hits] == pytest.approx(expected.tolist(), abs=1e-5)
    assert {h.raster for h in result.hits} == set(rasters)
    first = result.hits[0]
    with rasterio.open(first.raster) as dataset:   # the footprint is that tile of that raster
        x0, y0 = dataset.transform * (32 * first.col, 32 * first.row)
    assert first.footprint.equals(Polygon([(x0, y0), (x0 + 32, y0), (x0 + 32, y0 - 32), (x0, y0 - 32)]))


def test_rasters_in_several_crs_are_indexed_in_wgs84(tiny_clip_dir, tmp_path, cache_dir):
    write_archive(tmp_path / "archive", 2, ["EPSG:32633", "EPSG:32634"])
    result = run(tmp_path / "archive", tiny_clip_dir, tmp_path / "archive.gpkg", query="a field", top_k=40)
    assert rasterio.crs.CRS.from_wkt(result.crs_wkt).to_epsg() == 4326
    for hit in result.hits:       # each raster's tiles lie where its zone puts them
        lon = hit.footprint.centroid.x
        assert (12 < lon < 18) if hit.name == "scene0.tif" else (18 < lon < 24), (hit.name, lon)


def test_a_finished_index_is_reused_and_a_changed_raster_makes_a_new_one(tiny_clip_dir, tmp_path, cache_dir):
    rasters = write_archive(tmp_path / "archive")
    run(tmp_path / "archive", tiny_clip_dir, tmp_path / "archive.gpkg")
    feedback = Recorder()
    again = run(tmp_path / "archive", tiny_clip_dir, tmp_path / "archive.gpkg", feedback)
    assert again.tiles_embedded == 0 and again.tile_count == 60
    assert any("Reusing the archive index" in line for line in feedback.infos)
    write_raster(rasters[1], np.moveaxis(scene(128, 160, seed=9), -1, 0),
                 transform=from_origin(501_000.0, 4_650_000.0, 1.0, 1.0))
    changed = run(tmp_path / "archive", tiny_clip_dir, tmp_path / "archive.gpkg")
    assert changed.tiles_embedded == 60


def test_a_cancelled_run_goes_on_from_the_tiles_it_wrote(tiny_clip_dir, tmp_path, cache_dir):
    write_archive(tmp_path / "archive")
    whole = cells(run(tmp_path / "archive", tiny_clip_dir, tmp_path / "whole.gpkg").index_path)
    index = tmp_path / "archive.gpkg"
    with pytest.raises(Cancelled):
        run(tmp_path / "archive", tiny_clip_dir, index, Recorder(cancel_after_progress=3))
    assert not index.exists()
    written = cells(archive_index.resume_path(str(index)))
    assert len(written) == 24          # three batches of 8
    feedback = Recorder()
    resumed = run(tmp_path / "archive", tiny_clip_dir, index, feedback)
    assert (resumed.tiles_resumed, resumed.tiles_embedded, resumed.tile_count) == (24, 36, 60)
    assert any("24 tiles are written, 36 of 60 to go" in line for line in feedback.infos)
    assert cells(str(index)) == whole


def test_an_unfinished_index_of_other_rasters_is_started_afresh(tiny_clip_dir, tmp_path, cache_dir):
    write_archive(tmp_path / "archive")
    write_archive(tmp_path / "other", 1)
    index = tmp_path / "archive.gpkg"
    with pytest.raises(Cancelled):
        run(tmp_path / "other", tiny_clip_dir, index, Recorder(cancel_after_progress=1))
    feedback = Recorder()
    result = run(tmp_path / "archive", tiny_clip_dir, index, feedback)
    assert (result.tiles_resumed, result.tiles_embedded) == (0, 60)
    assert any("Starting" in line and "afresh" in line for line in feedback.infos)


def test_a_stac_item_collection_of_local_cogs(tiny_clip_dir, tmp_path, cache_dir):
    cogs = []
    for i, tif in enumerate(write_archive(tmp_path / "tifs", 2)):
        cog = str(tmp_path / f"item{i}.cog.tif")
        with rasterio.open(tif) as src:
            profile = {**src.profile, "driver": "COG"}
            profile.pop("blockxsize", None), profile.pop("blockysize", None), profile.pop("tiled", None)
            with rasterio.open(cog, "w", **profile) as dst:
                dst.write(src.read())
        cogs.append(cog)
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "stac_version": "1.0.0", "id": f"S2_{i}", "geometry": None, "properties": {},
         "assets": {"thumbnail": {"href": "thumb.png", "type": "image/png"},
                    "visual": {"href": os.path.basename(cog), "type": "image/tiff; application=geotiff; "
                               "profile=cloud-optimized", "roles": ["visual"]}}} for i, cog in enumerate(cogs)]}
    stac = tmp_path / "items.json"
    stac.write_text(json.dumps(collection))
    result = run(stac, tiny_clip_dir, tmp_path / "archive.gpkg", query="a field", top_k=40)
    assert (result.raster_count, result.tile_count) == (2, 40)
    assert {(h.name, h.raster) for h in result.hits} == {("S2_0", cogs[0]), ("S2_1", cogs[1])}


def test_bad_requests_are_sentences(tiny_clip_dir, tmp_path, cache_dir):
    rasters = write_archive(tmp_path / "archive", 1)
    with pytest.raises(InputError, match="extent does not apply"):
        index_archive(str(tmp_path / "archive"), ModelOptions(tiny_clip_dir, "cpu", "fp32"),
                      TilingOptions(tile_size=32, extent=(0, 0, 1, 1)), cluster=IN_PROCESS)
    with pytest.raises(InputError, match="is one of the archive's rasters"):
        run(tmp_path / "archive", tiny_clip_dir, rasters[0])
    not_index = tmp_path / "notes.gpkg"
    not_index.write_text("my notes")
    with pytest.raises(InputError, match="is not a GeoVL index"):
        run(tmp_path / "archive", tiny_clip_dir, not_index)
    assert not_index.read_text() == "my notes"


def test_a_query_with_another_model_than_the_index_is_refused(tiny_clip_dir, tiny_siglip_dir, tmp_path, cache_dir):
    from geovl.models.resolver import load_embedder
    from geovl.pipelines.archive import rank_archive

    write_archive(tmp_path / "archive", 1)
    result = run(tmp_path / "archive", tiny_clip_dir, tmp_path / "archive.gpkg")
    with pytest.raises(ModelError, match="query it with the model it was made with"):
        rank_archive(result.index_path, tile_index.read_meta(result.index_path),
                     load_embedder(tiny_siglip_dir, "cpu", "fp32"), "a field", "", 5, Recorder())


def test_the_command_line_queries_an_archive_index(tiny_clip_dir, tmp_path, cache_dir, capsys):
    import sqlite3

    from geovl.runtime.batch import main

    rasters = write_archive(tmp_path / "archive", 2)
    index, hits = tmp_path / "archive.gpkg", tmp_path / "hits.gpkg"
    assert main(["index", str(tmp_path / "archive"), "--model", tiny_clip_dir, "--index", str(index),
                 "--tile-size", "32", "--device", "cpu", "--precision", "fp32", "--ray", IN_PROCESS]) == 0
    assert "40 tiles of 2 rasters (40 embedded now, 0 by an earlier run)" in capsys.readouterr().out
    assert main(["query", str(index), "a field", "--top-k", "3", "--output", str(hits), "--precision", "fp32"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["1", "2", "3"]
    assert {line.split("\t")[2] for line in lines} <= set(rasters)
    with sqlite3.connect(hits) as con:
        assert con.execute("SELECT count(*) FROM hits").fetchone()[0] == 3
        assert con.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = 'hits'").fetchone()[0] == 32633
    assert main(["query", str(tmp_path / "nothing.gpkg"), "a field"]) == 1
    assert "is not a complete GeoVL archive index (it does not exist)" in capsys.readouterr().err


def test_a_run_killed_between_finishing_and_renaming_goes_on(tiny_clip_dir, tmp_path, cache_dir):
    write_archive(tmp_path / "archive", 2)
    index = tmp_path / "archive.gpkg"
    whole = cells(run(tmp_path / "archive", tiny_clip_dir, index).index_path)
    os.replace(index, archive_index.resume_path(str(index)))      # finished, not yet renamed
    again = run(tmp_path / "archive", tiny_clip_dir, index)
    assert (again.tiles_resumed, again.tiles_embedded, again.tile_count) == (40, 0, 40)
    assert cells(str(index)) == whole and tile_index.check_index(str(index)).problem == ""
