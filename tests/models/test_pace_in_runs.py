"""Long runs say early how long they will take: indexing for retrieval and asking tiles
(a clock that advances 20 s a reading stands in for a slow device)."""
from __future__ import annotations

import itertools

import pytest

from geovl.pipelines.options import ModelOptions, TilingOptions
from geovl.pipelines.retrieve import retrieve

from .conftest import Recorder


@pytest.fixture
def slow_clock(monkeypatch):
    ticks = itertools.count(0.0, 20.0)
    monkeypatch.setattr("geovl.pipelines.feedback.time.monotonic", lambda: next(ticks))


def test_indexing_announces_the_time_it_will_take(slow_clock, rgb_raster, tiny_clip_dir, cache_dir):
    feedback = Recorder()
    retrieve(rgb_raster, ModelOptions(tiny_clip_dir, "cpu", "fp32"), "a road", tiling=TilingOptions(tile_size=64),
             batch_size=4, feedback=feedback)
    # 4 x 5 tiles: after the first batch of 4, 20 s have passed, 16 tiles are left.
    assert "4 of 20 tile(s) in 20 s: about 80 s left at this pace on this device." in feedback.infos
