"""Retrieval above the approximate-search threshold (GEOVL_ANN_MIN_TILES): the ANN index
is built with the tile index, the hits are the exact search's (candidates re-scored
exactly), a damaged ANN file is rebuilt with a warning, and one of an earlier build of
the tile index is replaced."""
from __future__ import annotations

import os

import numpy as np
import pytest

from geovl.geo import ann_index
from geovl.pipelines.options import ModelOptions, TilingOptions
from geovl.pipelines.retrieve import retrieve

from ..conftest import write_raster
from .conftest import Recorder


@pytest.fixture
def raster(tmp_path):
    image = np.random.default_rng(5).integers(0, 255, (3, 256, 320), dtype=np.uint8)
    return write_raster(str(tmp_path / "scene.tif"), image)


def run(raster, model, index, feedback=None):
    return retrieve(raster, ModelOptions(model, "cpu", "fp32"), query="a field", tiling=TilingOptions(tile_size=32),
                    top_k=5, index_path=index, feedback=feedback or Recorder())


def test_hits_above_the_threshold_are_the_exact_searchs(raster, tiny_clip_dir, tmp_path, monkeypatch):
    exact = run(raster, tiny_clip_dir, str(tmp_path / "exact.gpkg"))
    monkeypatch.setenv("GEOVL_ANN_MIN_TILES", "10")
    feedback = Recorder()
    approximate = run(raster, tiny_clip_dir, str(tmp_path / "ann.gpkg"), feedback)
    assert approximate.tile_count == exact.tile_count == 80
    assert len(list(tmp_path.glob("ann.gpkg.*.ann"))) == 1 and not list(tmp_path.glob("exact.gpkg*.ann"))
    assert any("approximate-search index of 80 tiles" in line for line in feedback.infos)
    assert [(h.row, h.col) for h in approximate.hits] == [(h.row, h.col) for h in exact.hits]
    assert [h.score for h in approximate.hits] == pytest.approx([h.score for h in exact.hits], abs=1e-6)


def test_a_damaged_or_stale_ann_file_is_rebuilt(raster, tiny_clip_dir, tmp_path, monkeypatch):
    from geovl.geo.tile_index import read_meta
    from geovl.pipelines.retrieve import ann_file

    monkeypatch.setenv("GEOVL_ANN_MIN_TILES", "10")
    index = str(tmp_path / "ann.gpkg")
    first = run(raster, tiny_clip_dir, index)
    path = ann_file(index, read_meta(index))
    with open(path, "r+b") as damaged:
        damaged.truncate(200)
    feedback = Recorder()
    again = run(raster, tiny_clip_dir, index, feedback)
    assert any("is damaged; building it again" in line for line in feedback.warnings)
    assert [(h.row, h.col) for h in again.hits] == [(h.row, h.col) for h in first.hits]
    assert ann_index.load(path, 80) is not None
    write_raster(raster, np.random.default_rng(6).integers(0, 255, (3, 256, 320), dtype=np.uint8))
    feedback = Recorder()
    run(raster, tiny_clip_dir, index, feedback)             # the raster changed: a new tile index, a new ANN file
    assert any("approximate-search index of 80 tiles" in line for line in feedback.infos)
    assert [p.name for p in tmp_path.glob("ann.gpkg.*.ann")] == [os.path.basename(ann_file(index, read_meta(index)))] != \
        [os.path.basename(path)]


@pytest.mark.parametrize("threshold, approximate", [(80, True), (81, False)])
def test_the_threshold_is_the_first_size_searched_approximately(raster, tiny_clip_dir, tmp_path, monkeypatch,
                                                                 threshold, approximate):
    monkeypatch.setenv("GEOVL_ANN_MIN_TILES", str(threshold))       # the raster has 80 tiles
    feedback = Recorder()
    result = run(raster, tiny_clip_dir, str(tmp_path / "index.gpkg"), feedback)
    assert bool(list(tmp_path.glob("index.gpkg.*.ann"))) is approximate
    assert any("approximate-search index" in line for line in feedback.infos) is approximate
    assert len(result.hits) == 5
    for path in tmp_path.glob("index.gpkg.*.ann"):    # a query at the threshold reads the ANN file
        with open(path, "r+b") as damaged:
            damaged.truncate(200)
        again = Recorder()
        run(raster, tiny_clip_dir, str(tmp_path / "index.gpkg"), again)
        assert any("is damaged; building it again" in line for line in again.warnings)
