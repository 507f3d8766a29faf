"""The interactive tools' job runner (geovl_plugin/background_jobs.py) on the real runtime
worker: a click replaces the decode still waiting, the answer of a decode superseded while
it ran is dropped, a cancelled job answers nothing, and answers arrive as Qt signals."""
from __future__ import annotations

import time

import pytest
from qgis.core import QgsApplication

# rgb_raster covers x 500000-500300, y 4649800-4650000 (EPSG:32633, 1 m pixels)
POINTS = [(500100.5, 4649920.5), (500150.5, 4649900.5), (500220.5, 4649850.5)]


@pytest.fixture
def jobs(plugin):
    from geovl.geovl_plugin.background_jobs import BackgroundJobs

    runner = BackgroundJobs()
    runner.answers = []
    runner.finished.connect(lambda lane, ticket, values: runner.answers.append((lane, ticket, "done")))
    runner.failed.connect(lambda lane, ticket, text: runner.answers.append((lane, ticket, text)))
    yield runner
    runner.shut_down()


def segment_object(tiny_sam_ckpt, raster, point) -> dict:
    return {"raster": raster, "model": {"name": tiny_sam_ckpt, "device": "cpu", "precision": "fp32"},
            "tiling": {}, "prompts": [{"kind": "point", "coords": [list(point)], "label": 1}]}


def settle(jobs, lanes=("encode", "decode"), limit_s=120) -> None:
    """Process Qt events until no lane has work and the answers are delivered."""
    start = time.monotonic()
    while any(jobs.busy(lane) for lane in lanes) and time.monotonic() - start < limit_s:
        QgsApplication.processEvents()
        time.sleep(0.01)
    for _ in range(20):
        QgsApplication.processEvents()
        time.sleep(0.01)


def test_a_click_replaces_the_decode_still_waiting(jobs, tiny_sam_ckpt, rgb_raster, cache_dir):
    encode = jobs.submit("encode", "segment_tiles", {**segment_object(tiny_sam_ckpt, rgb_raster, POINTS[0]),
                                                     "at": list(POINTS[0])}, "encoding")
    first = jobs.submit("decode", "segment_object", segment_object(tiny_sam_ckpt, rgb_raster, POINTS[1]), "segmenting")
    second = jobs.submit("decode", "segment_object", segment_object(tiny_sam_ckpt, rgb_raster, POINTS[2]),
                         "segmenting")
    assert not jobs.is_current("decode", first) and jobs.is_current("decode", second)
    settle(jobs)
    assert jobs.answers == [("encode", encode, "done"), ("decode", second, "done")]


def test_the_answer_of_a_decode_superseded_while_it_ran_is_dropped(jobs, tiny_sam_ckpt, rgb_raster, cache_dir):
    # The first job loads the model and encodes a tile: it is still running when the next click comes.
    stale = jobs.submit("decode", "segment_object", segment_object(tiny_sam_ckpt, rgb_raster, POINTS[0]),
                        "segmenting")
    while jobs._running is None:
        time.sleep(0.001)
    fresh = jobs.submit("decode", "segment_object", segment_object(tiny_sam_ckpt, rgb_raster, POINTS[1]),
                        "segmenting")
    settle(jobs)
    assert jobs.answers == [("decode", fresh, "done")], (stale, jobs.answers)


def test_a_cancelled_job_answers_nothing(jobs, tiny_sam_ckpt, rgb_raster, cache_dir):
    jobs.submit("encode", "segment_tiles", {**segment_object(tiny_sam_ckpt, rgb_raster, POINTS[0]),
                                            "at": list(POINTS[0])}, "encoding")
    jobs.cancel("encode")
    settle(jobs)
    assert jobs.answers == [] and not jobs.busy("encode")
    after = jobs.submit("decode", "segment_object", segment_object(tiny_sam_ckpt, rgb_raster, POINTS[2]),
                        "segmenting")
    settle(jobs)
    assert jobs.answers == [("decode", after, "done")]


def test_a_failed_job_answers_with_the_runtime_sentence(jobs, tiny_sam_ckpt, rgb_raster, cache_dir):
    ticket = jobs.submit("decode", "segment_object", segment_object(tiny_sam_ckpt, rgb_raster, (0.0, 0.0)),
                         "segmenting")
    settle(jobs)
    assert [(lane, t) for lane, t, _ in jobs.answers] == [("decode", ticket)]
    assert "No object point or box lies on the raster" in jobs.answers[0][2]
