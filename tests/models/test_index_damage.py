"""retrieve() over index locations a fault campaign broke: damaged indexes in the cache
are rebuilt with a warning; at a path the user chose, a file that is not a GeoVL index
is refused and left byte for byte, another GeoVL index is rebuilt, a locked one is 'in
use'; read-only and full disks are sentences with nothing left behind; tiles whose
embeddings are not finite are warned about and kept out of the ranking."""
from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest
import rasterio

from geovl.errors import InputError, ModelError
from geovl.geo.tile_index import check_index, load_embeddings, read_cells, read_meta
from geovl.models.resolver import load_embedder
from geovl.pipelines.options import ModelOptions, TilingOptions
from geovl.pipelines.retrieve import retrieve

from ..conftest import INDEX_DAMAGES, write_raster
from .conftest import Recorder

TILING = TilingOptions(tile_size=64)
TILES = 4 * 5  # the 200 x 300 rgb_raster in 64 px tiles
GREY = np.array([123, 117, 104], np.uint8)  # CLIP's mean colour (0.481, 0.458, 0.408) in uint8


@pytest.fixture
def clip_options(tiny_clip_dir):
    return ModelOptions(tiny_clip_dir, "cpu", "fp32")


def leftovers(folder) -> list[str]:
    return [name for name in os.listdir(folder) if ".partial" in name] if os.path.isdir(folder) else []


@pytest.mark.parametrize("how", INDEX_DAMAGES)
def test_damaged_cache_index_is_rebuilt_with_a_warning(rgb_raster, clip_options, cache_dir, damage_index, how):
    """The default index, damaged, is rebuilt (all tiles, a full top 10) with a warning; the next run reuses it."""
    first = retrieve(rgb_raster, clip_options, "a road", tiling=TILING)
    damage_index(first.index_path, how)
    feedback = Recorder()
    again = retrieve(rgb_raster, clip_options, "a road", tiling=TILING, top_k=10, feedback=feedback)
    assert again.index_path == first.index_path
    assert again.tiles_embedded == again.tile_count == TILES and len(again.hits) == 10
    assert [w for w in feedback.warnings if "is damaged" in w and "rebuilding it" in w], feedback.warnings
    assert not any("not a GeoVL index; choose" in w for w in feedback.warnings)
    third = retrieve(rgb_raster, clip_options, "a road", tiling=TILING, feedback=(quiet := Recorder()))
    assert third.tiles_embedded == 0 and not quiet.warnings


def test_a_cache_index_replaced_by_another_database_says_so(rgb_raster, clip_options, cache_dir):
    first = retrieve(rgb_raster, clip_options, "a road", tiling=TILING)
    os.remove(first.index_path)
    with sqlite3.connect(first.index_path) as con:
        con.execute("CREATE TABLE roads (fid INTEGER PRIMARY KEY)")
    feedback = Recorder()
    again = retrieve(rgb_raster, clip_options, "a road", tiling=TILING, feedback=feedback)
    assert again.tiles_embedded == TILES
    assert [w for w in feedback.warnings if "is damaged (it is not a GeoVL index): rebuilding it" in w], \
        feedback.warnings


@pytest.mark.parametrize("content", [b"my notes, not an index\n", "geopackage"])
def test_chosen_file_that_is_not_an_index_is_refused_and_unchanged(rgb_raster, clip_options, cache_dir, tmp_path,
                                                                   content):
    """A text file, or another GeoPackage, at the chosen index path: InputError, and its bytes are unchanged."""
    path = tmp_path / "mine.gpkg"
    if content == "geopackage":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE roads (fid INTEGER PRIMARY KEY, name TEXT)")
        con.execute("INSERT INTO roads (name) VALUES ('A1')")
        con.commit()
        con.close()
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    why = "another kind of file" if content == "geopackage" else "cannot be read"
    with pytest.raises(InputError, match=f"exists and is not a GeoVL index \\(.*{why}.*\\).*leaves it as it is"):
        retrieve(rgb_raster, clip_options, "a road", tiling=TILING, index_path=str(path))
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_chosen_index_of_other_bands_is_rebuilt_with_an_info_line(rgb_raster, clip_options, cache_dir, tmp_path):
    """A GeoVL index of the same raster with other BANDS at the chosen path is rebuilt, never reused."""
    path = str(tmp_path / "chosen.gpkg")
    retrieve(rgb_raster, clip_options, "a road", tiling=TILING, index_path=path)
    feedback = Recorder()
    other = retrieve(rgb_raster, clip_options, "a road", tiling=TilingOptions(tile_size=64, bands=(3, 2, 1)),
                     index_path=path, feedback=feedback)
    assert other.tiles_embedded == TILES
    assert read_meta(path)["bands"] == [3, 2, 1]
    assert [i for i in feedback.infos if "was built for another raster" in i] and not feedback.warnings


def test_chosen_damaged_index_is_rebuilt_with_a_warning(rgb_raster, clip_options, cache_dir, tmp_path, damage_index):
    """A GeoVL index at the chosen path with half its rows gone is rebuilt (not reused with 10 hits missing)."""
    path = str(tmp_path / "chosen.gpkg")
    retrieve(rgb_raster, clip_options, "a road", tiling=TILING, index_path=path)
    damage_index(path, "half the rows deleted")
    feedback = Recorder()
    again = retrieve(rgb_raster, clip_options, "a road", tiling=TILING, index_path=path, top_k=TILES,
                     feedback=feedback)
    assert again.tiles_embedded == TILES and len(again.hits) == TILES
    assert [w for w in feedback.warnings if "holds 10 tiles where 20 were written" in w]


def test_locked_chosen_index_is_in_use(rgb_raster, clip_options, cache_dir, tmp_path):
    """An index another connection holds BEGIN EXCLUSIVE on: 'in use', and it is left as it is."""
    path = str(tmp_path / "chosen.gpkg")
    retrieve(rgb_raster, clip_options, "a road", tiling=TILING, index_path=path)
    before = open(path, "rb").read()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(InputError, match="is in use") as error:
            retrieve(rgb_raster, clip_options, "a river", tiling=TILING, index_path=path)
        assert "not a GeoVL index" not in str(error.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert open(path, "rb").read() == before and not check_index(path).problem


def test_read_only_index_folder_and_cache_dir(rgb_raster, clip_options, cache_dir, small_disk, monkeypatch):
    """A chosen index in a read-only folder, or GEOVL_CACHE_DIR on a read-only disk: InputError naming the folder."""
    disk = small_disk(64, read_only=True)
    with pytest.raises(InputError, match=f"'{disk}'.*read-only"):
        retrieve(rgb_raster, clip_options, "a road", tiling=TILING, index_path=os.path.join(disk, "i.gpkg"))
    monkeypatch.setenv("GEOVL_CACHE_DIR", disk)
    with pytest.raises(InputError, match=f"'{os.path.join(disk, 'retrieval')}'.*read-only.*GEOVL_CACHE_DIR"):
        retrieve(rgb_raster, clip_options, "a road", tiling=TILING)


def test_full_cache_disk_is_a_sentence_and_leaves_nothing(rgb_raster, clip_options, small_disk, monkeypatch):
    """GEOVL_CACHE_DIR on a 96 KiB disk: the index does not fit; InputError, no partial file or journal."""
    disk = small_disk(96)
    monkeypatch.setenv("GEOVL_CACHE_DIR", disk)
    with pytest.raises(InputError, match="retrieval'.*the disk is full"):
        retrieve(rgb_raster, clip_options, "a road", tiling=TILING)
    assert os.listdir(os.path.join(disk, "retrieval")) == []


# ---------------------------------------------------------------- non-finite embeddings

@pytest.fixture(scope="module")
def overflowing_clip_dir(tiny_clip_dir, tmp_path_factory):
    """tiny CLIP whose patch embedding is a constant 1e17: on a white tile the squares in
    the first layer norm pass float32's range (inf, then NaN); on a tile of CLIP's mean
    colour the normalised pixels are ~0 and everything stays finite."""
    import torch
    from transformers import CLIPImageProcessor, CLIPModel, PreTrainedTokenizerFast

    path = str(tmp_path_factory.mktemp("overflowing-clip"))
    model = CLIPModel.from_pretrained(tiny_clip_dir)
    with torch.no_grad():
        model.vision_model.embeddings.patch_embedding.weight.fill_(1e17)
    model.save_pretrained(path)
    CLIPImageProcessor.from_pretrained(tiny_clip_dir).save_pretrained(path)
    PreTrainedTokenizerFast.from_pretrained(tiny_clip_dir).save_pretrained(path)
    return path


def test_non_finite_embeddings_are_warned_about_and_left_out(tmp_path, cache_dir, overflowing_clip_dir):
    """A uint8 raster, grey with its first tile column white: those 2 tiles overflow to NaN; a
    warning names the count, the model and precision and fp32; they are not ranked and
    the heatmap marks them nodata. A rerun reuses the index and warns again."""
    data = np.broadcast_to(GREY[:, None, None], (3, 128, 192)).copy()
    data[:, :, :64] = 255
    raster = write_raster(tmp_path / "bright.tif", data)
    options = ModelOptions(overflowing_clip_dir, "cpu", "fp32")
    heat = str(tmp_path / "heat.tif")
    feedback = Recorder()
    result = retrieve(raster, options, "a road", tiling=TILING, top_k=10, heatmap_path=heat, feedback=feedback)
    warning = [w for w in feedback.warnings if "non-finite" in w]
    assert warning and "2 of 6 tiles" in warning[0] and overflowing_clip_dir in warning[0] and "fp32" in warning[0]
    assert result.tile_count == 4 and len(result.hits) == 4
    assert {(h.row, h.col) for h in result.hits} == {(r, c) for r in range(2) for c in (1, 2)}
    assert all(np.isfinite(h.score) for h in result.hits)
    _, matrix = load_embeddings(result.index_path)
    assert np.isfinite(matrix).all()
    with rasterio.open(heat) as ds:
        values = ds.read(1)
        assert (values[:, 0] == ds.nodata).all() and np.isfinite(values[:, 1:]).all()
        assert (values[:, 1:] != ds.nodata).all()
    rows, cols = read_cells(result.index_path)
    assert 0 not in cols
    again = Recorder()
    reused = retrieve(raster, options, "a road", tiling=TILING, feedback=again)
    assert reused.tiles_embedded == 0 and [w for w in again.warnings if "2 of 6 tiles" in w]


def test_as_many_non_finite_tiles_as_finite_ones_still_make_an_index(tmp_path, cache_dir, overflowing_clip_dir):
    """One white tile (NaN) and one grey: an index of the grey tile and a warning, not a
    refusal as if every tile were nodata."""
    data = np.broadcast_to(GREY[:, None, None], (3, 64, 128)).copy()
    data[:, :, :64] = 255
    feedback = Recorder()
    result = retrieve(write_raster(tmp_path / "half.tif", data), ModelOptions(overflowing_clip_dir, "cpu", "fp32"),
                      "a road", tiling=TILING, feedback=feedback)
    assert result.tile_count == 1 and [(h.row, h.col) for h in result.hits] == [(0, 1)]
    assert any("1 of 2 tiles" in w for w in feedback.warnings)


def test_every_tile_non_finite_is_a_model_error_and_leaves_no_index(tmp_path, cache_dir, overflowing_clip_dir):
    white = np.full((3, 64, 128), 255, np.uint8)
    with pytest.raises(ModelError, match="Every tile's embedding is non-finite.*fp32"):
        retrieve(write_raster(tmp_path / "white.tif", white), ModelOptions(overflowing_clip_dir, "cpu", "fp32"),
                 "a road", tiling=TILING)
    assert not [n for n in os.listdir(cache_dir / "retrieval") if n.endswith(".gpkg")]


def test_the_overflowing_model_really_gives_nan_on_white(overflowing_clip_dir):
    """The fixture's premise: NaN rows for a white tile, finite ones for a grey tile."""
    embedder = load_embedder(overflowing_clip_dir, "cpu", "fp32")
    white, grey = np.full((64, 64, 3), 255, np.uint8), np.broadcast_to(GREY, (64, 64, 3)).copy()
    embeddings = embedder.embed_images([white, grey])
    assert not np.isfinite(embeddings[0]).all() and np.isfinite(embeddings[1]).all()


# ---------------------------------------------------------------- killed runs

KILLED_BUILD = """
import sys, time
from geovl.pipelines.feedback import QuietFeedback
from geovl.pipelines.options import ModelOptions, TilingOptions
from geovl.pipelines.retrieve import retrieve

class StopAtFirstBatch(QuietFeedback):
    def progress(self, percent):
        print("indexing", flush=True)
        time.sleep(600)

retrieve(sys.argv[1], ModelOptions(sys.argv[2], "cpu", "fp32"), "a road", tiling=TilingOptions(tile_size=64),
         batch_size=4, feedback=StopAtFirstBatch())
"""


def test_index_build_killed_with_sigkill_is_swept_by_the_next_run(rgb_raster, tiny_clip_dir, clip_options, cache_dir):
    """A retrieve run kill -9ed while writing its index leaves a partial index and its
    journal in the cache; the next run removes them and builds the index."""
    import signal
    import subprocess
    import sys

    import geovl

    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(geovl.__file__))}
    child = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, rgb_raster, tiny_clip_dir], env=env,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "indexing"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    folder = cache_dir / "retrieval"
    left = leftovers(folder)
    assert left and all(f".{child.pid}-" in name for name in left) and any(n.endswith(".gpkg-journal") for n in left)
    result = retrieve(rgb_raster, clip_options, "a road", tiling=TILING)
    assert result.tiles_embedded == TILES
    assert os.listdir(folder) == [os.path.basename(result.index_path)]
