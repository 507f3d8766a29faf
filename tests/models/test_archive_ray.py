"""Archive jobs on a local Ray instance (pipelines/archive_ray.py): the index is the one the
in-process path writes, a driver killed half-way (`python -m geovl.runtime.batch`, kill -9)
leaves what it wrote and the next run goes on from there, and a cluster that is not
there is a sentence."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from geovl.errors import InputError
from geovl.geo import archive_index
from geovl.pipelines.archive import IN_PROCESS, index_archive
from geovl.pipelines.options import ModelOptions, TilingOptions

from .conftest import Recorder
from .test_archive import cells, write_archive

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__import__("geovl").__file__)))


@pytest.fixture(scope="module")
def ray_instance():
    """The local Ray instance the tests' runs start, stopped after the module."""
    yield
    import ray
    ray.shutdown()


def run(archive, model, index, cluster, tiling=TilingOptions(tile_size=32), batch_size=8, feedback=None, **extra):
    return index_archive(str(archive), ModelOptions(model, "cpu", "fp32"), tiling, index_path=str(index),
                         batch_size=batch_size, cluster=cluster, feedback=feedback or Recorder(), **extra)


def embeddings(found: dict) -> dict:
    return {key: np.frombuffer(blob, np.float16).astype(np.float32) for key, blob in found.items()}


def test_no_cluster_at_the_address_is_a_sentence(tiny_clip_dir, tmp_path, cache_dir, monkeypatch):
    import ray
    assert not ray.is_initialized()
    monkeypatch.setenv("RAY_ADDRESS", "auto")    # `auto`: a cluster this machine belongs to; there is none
    write_archive(tmp_path / "archive", 1)
    with pytest.raises(InputError, match="Cannot reach the Ray cluster at auto"):
        run(tmp_path / "archive", tiny_clip_dir, tmp_path / "archive.gpkg", "")


def test_on_ray_the_index_is_the_in_process_one(ray_instance, tiny_clip_dir, tmp_path, cache_dir):
    write_archive(tmp_path / "archive")
    here = run(tmp_path / "archive", tiny_clip_dir, tmp_path / "here.gpkg", IN_PROCESS, query="a field", top_k=5)
    feedback = Recorder()
    on_ray = run(tmp_path / "archive", tiny_clip_dir, tmp_path / "ray.gpkg", "", workers=2, feedback=feedback,
                 query="a field", top_k=5)
    assert any(line.startswith("Ray: 2 worker(s)") for line in feedback.infos)
    assert (on_ray.tile_count, on_ray.tiles_embedded) == (60, 60)
    expected, found = embeddings(cells(here.index_path)), embeddings(cells(on_ray.index_path))
    assert found.keys() == expected.keys()
    # the workers run torch on one thread each: sums in another order, so float16 may differ by a unit
    assert max(np.abs(found[k] - expected[k]).max() for k in expected) < 2e-3
    assert [(h.raster, h.row, h.col) for h in on_ray.hits] == [(h.raster, h.row, h.col) for h in here.hits]


def test_a_driver_killed_half_way_goes_on_from_what_it_wrote(ray_instance, tiny_clip_dir, tmp_path, cache_dir):
    tiling = TilingOptions(tile_size=16)        # 3 rasters of 8 x 10 tiles: 120 batches of 2
    write_archive(tmp_path / "archive")
    whole = cells(run(tmp_path / "archive", tiny_clip_dir, tmp_path / "whole.gpkg", IN_PROCESS, tiling).index_path)
    index = tmp_path / "archive.gpkg"
    resume = archive_index.resume_path(str(index))
    driver = subprocess.Popen(
        [sys.executable, "-m", "geovl.runtime.batch", "index", str(tmp_path / "archive"), "--model", tiny_clip_dir,
         "--index", str(index), "--tile-size", "16", "--batch-size", "2", "--workers", "1", "--device", "cpu",
         "--precision", "fp32"],
        env={**os.environ, "PYTHONPATH": PACKAGE_PARENT}, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and driver.poll() is None and written_tiles(resume) < 2:
            time.sleep(0.02)
        assert driver.poll() is None, driver.stderr.read().decode()[-2000:]
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
    finally:
        with_leftovers = subprocess.run(["pkill", "-9", "-s", str(driver.pid)], check=False)   # Ray's processes
        assert with_leftovers.returncode in (0, 1)
    assert not index.exists()
    before = cells(resume)
    assert 2 <= len(before) < 240
    feedback = Recorder()
    resumed = run(tmp_path / "archive", tiny_clip_dir, index, "", tiling, batch_size=2, feedback=feedback)
    assert (resumed.tiles_resumed, resumed.tiles_embedded, resumed.tile_count) == (len(before), 240 - len(before), 240)
    after = cells(str(index))
    assert after.keys() == whole.keys()                     # none lost, none twice (a unique key per tile)
    assert all(after[key] == blob for key, blob in before.items())   # what was written is kept as it was
    assert max(np.abs(value - embeddings(whole)[key]).max() for key, value in embeddings(after).items()) < 2e-3


def written_tiles(path: str) -> int:
    """Tiles committed to a resume file so far (0 while it is not there)."""
    if not os.path.exists(path):
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            return con.execute("SELECT count(*) FROM tiles").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_segmentation_on_ray_is_the_in_process_one(ray_instance, tiny_sam_ckpt, tmp_path, cache_dir):
    from geovl.pipelines.archive_segment import segment_archive

    from .test_archive_segment import features, job, write_sheets

    write_sheets(tmp_path / "sheets")
    here = segment_archive(str(tmp_path / "sheets"), job(tiny_sam_ckpt), str(tmp_path / "here.gpkg"),
                           cluster=IN_PROCESS)
    feedback = Recorder()
    on_ray = segment_archive(str(tmp_path / "sheets"), job(tiny_sam_ckpt), str(tmp_path / "ray.gpkg"), cluster="",
                             workers=2, feedback=feedback)
    assert any(line.startswith("Ray: 2 worker(s)") for line in feedback.infos)
    assert (on_ray.rasters_segmented, on_ray.region_count) == (3, here.region_count)
    expected, found = features(here.output_path), features(on_ray.output_path)
    assert [f[:3] + f[4:5] for f in found] == [f[:3] + f[4:5] for f in expected]   # raster, name, class, prompt
    assert [f[3] for f in found] == pytest.approx([f[3] for f in expected], rel=0.02)   # areas
