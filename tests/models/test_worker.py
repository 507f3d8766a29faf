"""The runtime worker as QGIS uses it, through runtime.client: a real worker process
(`python -m geovl.runtime.worker` on this interpreter) running real jobs with tiny models;
events, results as files, cancel, concurrent jobs, and a worker that dies mid-job."""
from __future__ import annotations

import os
import signal
import sys
import threading

import pytest
import rasterio

from geovl.geo.gpkg import blob_geometry
from geovl.pipelines.options import ModelOptions, TilingOptions
from geovl.pipelines.retrieve import retrieve
from geovl.runtime.client import JobFailed, Runtime, WorkerStopped

TILING = {"tile_size": 64, "overlap": 0, "resolution": 0.0, "extent": None, "bands": None}


@pytest.fixture(scope="module")
def runtime():
    warm = Runtime(sys.executable, log=lambda line: None)
    yield warm
    warm.stop()


def retrieve_job(raster: str, model: str, out, cache, **extra) -> dict:
    return {"raster": raster, "model": {"name": model, "device": "cpu", "precision": "fp32"}, "query": "a field",
            "negative": "", "examples": [], "tiling": TILING, "top_k": 5, "index_path": None, "heatmap_path": None,
            "batch_size": 4, "features": str(out / "hits.gpkg"), "environment": {"GEOVL_CACHE_DIR": str(cache)},
            **extra}


def read_table(path: str, table: str) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(path) as con:
        return list(con.execute(f'SELECT * FROM "{table}" ORDER BY fid'))


def test_retrieve_job_equals_the_pipeline_and_streams_events(runtime, rgb_raster, tiny_clip_dir, tmp_path):
    """A job's features file holds what retrieve() returns in this process; progress rises
    to 100 before the result, info lines arrive, and the worker stays warm for the next job."""
    events = []
    values = runtime.run("retrieve", retrieve_job(rgb_raster, tiny_clip_dir, tmp_path, tmp_path / "cache"),
                         events.append)
    expected = retrieve(rgb_raster, ModelOptions(tiny_clip_dir, "cpu", "fp32"), query="a field",
                        tiling=TilingOptions(tile_size=64), top_k=5, batch_size=4,
                        index_path=str(tmp_path / "mine.gpkg"))
    rows = read_table(values["features"], "hits")
    assert [(r[2], r[4], r[5]) for r in rows] == [(h.rank, h.row, h.col) for h in expected.hits]
    assert [r[3] for r in rows] == pytest.approx([h.score for h in expected.hits], abs=1e-5)
    assert [blob_geometry(r[1]).bounds for r in rows] == [h.footprint.bounds for h in expected.hits]
    assert values["tile_count"] == 20 and values["tiles_embedded"] == 20
    assert values["index_path"].startswith(str(tmp_path / "cache"))   # the job's GEOVL_CACHE_DIR
    percents = [e["percent"] for e in events if e["type"] == "progress"]
    assert percents == sorted(percents) and percents[-1] == 100
    assert any(e["type"] == "info" for e in events)

    pid = runtime.worker().pid
    again = runtime.run("retrieve", retrieve_job(rgb_raster, tiny_clip_dir, tmp_path, tmp_path / "cache"),
                        lambda e: None)
    assert runtime.worker().pid == pid and again["tiles_embedded"] == 0   # warm, and the index reused


def test_errors_come_back_as_kinds_with_sentences(runtime, tmp_path, tiny_clip_dir):
    with pytest.raises(JobFailed) as missing:
        runtime.run("retrieve", retrieve_job(str(tmp_path / "nowhere.tif"), tiny_clip_dir, tmp_path, tmp_path),
                    lambda e: None)
    assert missing.value.kind == "input" and "nowhere.tif" in str(missing.value)
    with pytest.raises(JobFailed) as unknown:
        runtime.run("paint", {}, lambda e: None)
    assert unknown.value.kind == "input" and "Repair" in str(unknown.value)
    assert not (tmp_path / "hits.gpkg").exists()


def test_cancel_stops_the_job_and_writes_nothing(runtime, tiny_clip_dir, tmp_path):
    raster = big_raster(tmp_path)
    cancel = threading.Event()

    def on_event(event):
        if event["type"] == "progress" and event["percent"] > 0:
            cancel.set()

    with pytest.raises(JobFailed) as stopped:
        runtime.run("retrieve", retrieve_job(raster, tiny_clip_dir, tmp_path, tmp_path / "cache"), on_event,
                    cancelled=cancel.is_set)
    assert stopped.value.kind == "cancelled"
    assert not (tmp_path / "hits.gpkg").exists()
    assert not [f for _, _, files in os.walk(tmp_path) for f in files if ".partial" in f]


def test_two_threads_run_jobs_at_once(runtime, rgb_raster, tiny_clip_dir, tmp_path):
    """Processing runs algorithms in threads: both jobs complete, each with its own result."""
    results, errors = {}, []

    def run(name):
        folder = tmp_path / name
        folder.mkdir()
        try:
            results[name] = runtime.run("retrieve", retrieve_job(rgb_raster, tiny_clip_dir, folder, tmp_path / name),
                                        lambda e: None)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    assert {name: len(read_table(v["features"], "hits")) for name, v in results.items()} == {"a": 5, "b": 5}


@pytest.mark.parametrize("signal_number", [signal.SIGKILL, signal.SIGSEGV])
def test_a_worker_dying_mid_job_is_a_sentence_and_the_next_run_works(runtime, tiny_clip_dir, tmp_path,
                                                                     rgb_raster, signal_number):
    """Killed (the out-of-memory killer's signal 9) or crashing (signal 11) in the middle of
    a job: the job fails with a sentence that says so, nothing is left half-written, and
    the next run gets a new worker."""
    raster = big_raster(tmp_path)
    worker = runtime.worker()

    def on_event(event):
        if event["type"] == "progress" and event["percent"] > 0:
            os.kill(worker.pid, signal_number)

    with pytest.raises(WorkerStopped) as died:
        runtime.run("retrieve", retrieve_job(raster, tiny_clip_dir, tmp_path, tmp_path / "cache"), on_event,
                    activity="indexing the tiles")
    sentence = str(died.value)
    assert "stopped while indexing the tiles" in sentence and f"signal {signal_number}" in sentence
    assert "Nothing was written" in sentence
    assert not (tmp_path / "hits.gpkg").exists()
    values = runtime.run("retrieve", retrieve_job(rgb_raster, tiny_clip_dir, tmp_path, tmp_path / "cache2"),
                         lambda e: None)
    assert runtime.worker().pid != worker.pid and len(read_table(values["features"], "hits")) == 5


def test_a_worker_that_cannot_start_says_so(tmp_path):
    """A runtime without the engine's packages (a bare venv) fails at start, with its error."""
    import subprocess

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    broken = Runtime(str(tmp_path / "bare" / "bin" / "python"), log=lambda line: None)
    try:
        with pytest.raises(WorkerStopped) as failed:
            broken.run("retrieve", {}, lambda e: None)
    finally:
        broken.stop()
    assert "could not start" in str(failed.value) and "ModuleNotFoundError" in str(failed.value)
    assert "Repair" in str(failed.value)


def big_raster(tmp_path) -> str:
    """A raster of 100 tiles of 64 px: long enough to be stopped in the middle."""
    import numpy as np

    from ..conftest import write_raster

    data = np.random.default_rng(0).integers(0, 255, (3, 640, 640), dtype=np.uint8)
    path = write_raster(tmp_path / "big.tif", data)
    with rasterio.open(path) as src:
        assert src.width == 640
    return path


def test_a_cancelled_job_that_does_not_stop_gets_its_worker_killed(tiny_clip_dir, tmp_path):
    """A worker that cannot answer (stopped here with SIGSTOP) is killed once the cancel
    has waited its grace time, and the job fails as cancelled."""
    own = Runtime(sys.executable, log=lambda line: None)
    raster = big_raster(tmp_path)
    worker = own.worker()
    cancel = threading.Event()

    def on_event(event):
        if event["type"] == "progress" and event["percent"] > 0 and not cancel.is_set():
            os.kill(worker.pid, signal.SIGSTOP)
            cancel.set()

    try:
        with pytest.raises(JobFailed) as stopped:
            own.run("retrieve", retrieve_job(raster, tiny_clip_dir, tmp_path, tmp_path / "cache"), on_event,
                    cancelled=cancel.is_set)
        assert stopped.value.kind == "cancelled" and "did not stop in time" in str(stopped.value)
        assert not worker.alive and own.worker().pid != worker.pid
    finally:
        own.stop()


def test_what_the_worker_says_on_stderr_reaches_the_log_and_a_bad_line_breaks_nothing(rgb_raster, tiny_clip_dir,
                                                                                       tmp_path):
    """A line that is not a message is refused on stderr, which the client hands to its log
    (QGIS's GeoVL log tab), and the worker goes on serving jobs."""
    lines = []
    own = Runtime(sys.executable, log=lines.append)
    try:
        worker = own.worker()
        worker._process.stdin.write(b"this is not json\n")
        worker._process.stdin.flush()
        values = own.run("retrieve", retrieve_job(rgb_raster, tiny_clip_dir, tmp_path, tmp_path / "cache"),
                         lambda e: None)
        assert len(read_table(values["features"], "hits")) == 5
        assert any("ignored a line that is not a message" in line for line in lines), lines
    finally:
        own.stop()
