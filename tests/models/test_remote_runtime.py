"""The runtime served over HTTP (runtime/serve.py) and reached as QGIS reaches it
(runtime/remote.py): a real server process on loopback, real jobs with tiny models.
Rasters it cannot see are sent and read there; rasters in its --data folders are read in
place; outputs come back as files; a wrong token, a path outside its folders and an
oversized message are refused with a sentence and nothing written; cancel, a server that
dies mid-job, and TLS with a certificate of its own."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading

import pytest

from geovl.runtime.client import JobFailed, Runtime, WorkerStopped
from geovl.runtime.remote import RemoteRuntime

from ..remote_server import ServerProcess
from .test_worker import read_table, retrieve_job


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("server-data")


@pytest.fixture(scope="module")
def server(tmp_path_factory, data_folder, tiny_clip_dir, tiny_sam_ckpt):
    started = ServerProcess(tmp_path_factory.mktemp("server"), "--data", str(data_folder),
                            "--data", tiny_clip_dir, "--data", os.path.dirname(tiny_sam_ckpt))
    yield started
    started.stop()


@pytest.fixture
def remote(server):
    return RemoteRuntime(server.url, server.token)


def test_a_raster_the_server_cannot_see_is_sent_and_the_result_equals_the_local_worker(
        server, remote, rgb_raster, tiny_clip_dir, tmp_path):
    """The raster (outside --data) is sent once, kept by its SHA-256, and the features
    fetched back are the local worker's, row for row; the job's folder is gone after."""
    local = Runtime(sys.executable, log=lambda line: None)
    try:
        expected = local.run("retrieve", retrieve_job(rgb_raster, tiny_clip_dir, tmp_path, tmp_path / "cache"),
                             lambda event: None)
    finally:
        local.stop()
    remote_out = tmp_path / "remote"
    remote_out.mkdir()
    events = []
    values = remote.run("retrieve", retrieve_job(rgb_raster, tiny_clip_dir, remote_out, tmp_path / "unused"),
                        events.append)
    assert values["features"] == str(remote_out / "hits.gpkg")
    assert read_table(values["features"], "hits") == read_table(expected["features"], "hits")
    assert values["tile_count"] == 20 and values["index_path"].startswith("geovl-server:cache/")
    assert not (tmp_path / "unused").exists()      # the client's cache folder means nothing there
    assert [e["percent"] for e in events if e["type"] == "progress"][-1] == 100
    uploads = [name for name in server.files() if name.startswith("uploads")]
    assert len(uploads) == 1 and uploads[0].endswith(os.path.basename(rgb_raster))
    assert not [name for name in server.files() if name.startswith("jobs")]
    sent = os.path.getmtime(os.path.join(server.workdir, uploads[0]))
    RemoteRuntime(server.url, server.token).run(      # a new QGIS session: the server still has it
        "retrieve", retrieve_job(rgb_raster, tiny_clip_dir, remote_out, tmp_path / "unused"), lambda event: None)
    assert os.path.getmtime(os.path.join(server.workdir, uploads[0])) == sent


def test_a_raster_in_a_data_folder_is_read_in_place(server, remote, data_folder, tiny_clip_dir, tmp_path):
    import shutil

    from ..conftest import write_raster
    import numpy as np

    raster = write_raster(str(data_folder / "shared.tif"),
                          np.random.default_rng(3).integers(0, 255, (3, 128, 160), dtype=np.uint8))
    before = [name for name in server.files() if name.startswith("uploads")]
    values = remote.run("retrieve", retrieve_job(raster, tiny_clip_dir, tmp_path, tmp_path / "cache"),
                        lambda event: None)
    assert len(read_table(values["features"], "hits")) == 5
    assert [name for name in server.files() if name.startswith("uploads")] == before
    shutil.copy(raster, tmp_path / "copy.tif")   # the same bytes elsewhere: also seen as the server's file
    remote.run("retrieve", retrieve_job(str(tmp_path / "copy.tif"), tiny_clip_dir, tmp_path, tmp_path / "cache"),
               lambda event: None)
    assert [name for name in server.files() if name.startswith("uploads")] != before


def test_the_segment_tools_jobs_answer_as_in_the_local_worker(remote, tiny_sam_ckpt, tmp_path):
    """segment_tiles and segment_object (the preview's mask bits and the accepted
    polygons) give over the server what the worker's jobs give here."""
    from geovl.runtime.jobs import run_job

    from .conftest import Recorder, scene
    from .test_segment_pipeline import to_map, write_rgb

    raster = write_rgb(tmp_path / "tool.tif", scene(256, 512, seed=6))
    common = {"raster": raster, "model": {"name": tiny_sam_ckpt, "device": "cpu", "precision": "fp32"},
              "tiling": {}, "environment": {"GEOVL_CACHE_DIR": str(tmp_path / "cache")}}
    click = {"kind": "point", "coords": [to_map(300.5, 40.5)], "label": 1}
    for job, extra in [("segment_tiles", {"at": to_map(300.5, 40.5)}), ("segment_object", {"prompts": [click]}),
                       ("segment_object", {"prompts": [click], "as": "mask"})]:
        here = json.loads(json.dumps(run_job(job, {**common, **extra}, Recorder())))
        there = remote.run(job, {**common, **extra}, lambda event: None)
        if job == "segment_tiles":
            here.pop("encoded"), there.pop("encoded")    # encoded here, then there: each cache its own
        assert there == here, job


def test_an_input_that_cannot_be_read_is_a_sentence(remote, tiny_clip_dir, tmp_path):
    with pytest.raises(JobFailed) as info:
        remote.run("retrieve", retrieve_job(str(tmp_path / "gone.tif"), tiny_clip_dir, tmp_path, tmp_path / "cache"),
                   lambda event: None)
    assert info.value.kind == "input" and "Cannot read" in str(info.value) and "gone.tif" in str(info.value)


@pytest.mark.parametrize("token", ["", "not-the-token"])
def test_a_missing_or_wrong_token_is_refused_and_nothing_is_written(server, rgb_raster, tiny_clip_dir, tmp_path,
                                                                    token):
    before = server.files()
    with pytest.raises(JobFailed) as info:
        RemoteRuntime(server.url, token).run(
            "retrieve", retrieve_job(rgb_raster, tiny_clip_dir, tmp_path, tmp_path / "cache"), lambda event: None)
    assert "refused the token" in str(info.value) and "Runtime…" in str(info.value)
    assert server.files() == before and not (tmp_path / "hits.gpkg").exists()
    assert server.raw("GET", "/v1/status", token=token or "x")[0] == 401


def test_paths_outside_the_servers_folders_are_refused(server, tiny_clip_dir, tmp_path):
    """A raster named by a path the server was not given, a model outside its folders, and
    an output written anywhere but the job's folder: 403 with a sentence, nothing written."""
    before = server.files()
    job = {"type": "run", "id": "a1", "job": "retrieve"}
    for arguments, what in [({"raster": "/etc/passwd"}, "may not read /etc/passwd"),
                            ({"raster": "upload:" + "0" * 64 + "/x.tif"}, "has no upload"),
                            ({"raster": "/etc/../etc/hostname", "model": {"name": "/root/model"}}, "may not read"),
                            ({"features": str(tmp_path / "out.gpkg")}, "only in the job's own folder"),
                            ({"features": "output:../../token.sha256"}, "not a file or job name")]:
        status, answer = server.raw("POST", "/v1/jobs", json.dumps({**job, "arguments": arguments}).encode(),
                                    headers={"Content-Type": "application/json"})
        assert status in (400, 403, 410) and what in answer["error"], arguments
    assert server.raw("POST", "/v1/stat", json.dumps({"path": "/etc/passwd"}).encode())[0] == 403
    assert server.raw("GET", "/v1/uploads/" + "0" * 64 + "/..%2Ftoken.sha256")[0] == 400
    assert server.files() == before and not (tmp_path / "out.gpkg").exists()


def test_oversized_requests_are_refused(server):
    before = server.files()
    big = json.dumps({"type": "run", "id": "b1", "job": "retrieve",
                      "arguments": {"query": "x" * (2 << 20)}}).encode()
    status, answer = server.raw("POST", "/v1/jobs", big, headers={"Content-Type": "application/json"})
    assert status == 413 and "too large" in answer["error"] and "Nothing was written" in answer["error"]
    status, answer = server.raw("PUT", f"/v1/uploads/{'1' * 64}/big.tif?offset=0", b"0" * (17 << 20))
    assert status == 413
    assert server.files() == before


def test_an_upload_that_arrives_damaged_is_dropped(server):
    bundle = "2" * 64
    assert server.raw("PUT", f"/v1/uploads/{bundle}/x.tif?offset=0", b"abc", headers={"X-GeoVL-Size": "3"})[0] == 200
    assert server.raw("PUT", f"/v1/uploads/{bundle}/x.tif?offset=0", b"abc")[1]["size"] == 3   # 409: go on from 3
    status, answer = server.raw("POST", f"/v1/uploads/{bundle}/x.tif?sha256={bundle}")
    assert status == 422 and "damaged" in answer["error"]
    assert not [name for name in server.files() if bundle in name]


def test_cancel_stops_the_job_on_the_server(server, remote, tiny_clip_dir, tmp_path):
    from ..conftest import write_raster
    import numpy as np

    raster = write_raster(str(tmp_path / "large.tif"),
                          np.random.default_rng(4).integers(0, 255, (3, 1024, 1024), dtype=np.uint8))
    started = threading.Event()

    def on_event(event):
        if event["type"] == "progress":
            started.set()

    with pytest.raises(JobFailed) as info:
        remote.run("retrieve", retrieve_job(raster, tiny_clip_dir, tmp_path, tmp_path / "cache",
                                            batch_size=1), on_event, cancelled=started.is_set)
    assert info.value.kind == "cancelled"
    assert not (tmp_path / "hits.gpkg").exists()
    assert server.raw("GET", "/v1/status")[1]["jobs_running"] == 0


def test_a_server_that_dies_mid_job_is_a_sentence(tmp_path, tiny_clip_dir, rgb_raster):
    dying = ServerProcess(tmp_path / "server", "--data", tiny_clip_dir)
    try:
        def on_event(event):
            if event["type"] == "progress":
                dying.process.kill()

        with pytest.raises(WorkerStopped) as info:
            RemoteRuntime(dying.url, dying.token).run(
                "retrieve", retrieve_job(rgb_raster, tiny_clip_dir, tmp_path, tmp_path / "cache", batch_size=1),
                on_event, activity="indexing")
        assert re.search(r"stopped answering while indexing \(\d+ % done\)", str(info.value))
        with pytest.raises(JobFailed) as info:
            RemoteRuntime(dying.url, dying.token).status()
        assert "Cannot reach the GeoVL server" in str(info.value)
    finally:
        dying.stop()


def test_tls_with_a_certificate_of_its_own(tmp_path, tiny_clip_dir):
    """With --cert and --key the server speaks https; a client that trusts the certificate
    (ca_file) is served, one that does not is told it cannot reach it."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    secure = ServerProcess(tmp_path / "server", "--cert", str(cert), "--key", str(key))
    try:
        assert secure.url.startswith("https://127.0.0.1:")
        assert RemoteRuntime(secure.url, secure.token, ca_file=str(cert)).status()["jobs_running"] == 0
        with pytest.raises(JobFailed) as info:
            RemoteRuntime(secure.url, secure.token).status()
        assert "CERTIFICATE_VERIFY_FAILED" in str(info.value) or "certificate" in str(info.value)
    finally:
        secure.stop()


def test_the_token_is_shown_once_and_kept_only_as_its_hash(tmp_path):
    first = ServerProcess(tmp_path / "server")
    first.stop()
    again = ServerProcess(tmp_path / "server")
    try:
        assert first.token and again.token is None       # the second start prints no token
        assert RemoteRuntime(again.url, first.token).status()["protocol"] == 1
        stored = (tmp_path / "server" / "token.sha256").read_text()
        assert first.token not in stored and len(stored.strip()) == 64
        assert oct((tmp_path / "server" / "token.sha256").stat().st_mode & 0o777) == "0o600"
    finally:
        again.stop()


def test_a_restart_drops_old_job_folders_and_uploads_no_job_used_for_a_month(tmp_path):
    import time

    workdir = tmp_path / "server"
    day = 24 * 3600
    for name, age in [("jobs/old", 2 * day), ("jobs/new", 60), ("uploads/" + "a" * 64, 31 * day),
                      ("uploads/" + "b" * 64, 2 * day), ("uploads/" + "c" * 64, 60)]:
        folder = workdir / name
        folder.mkdir(parents=True)
        (folder / "x.tif").write_bytes(b"x")
        if name.startswith("uploads"):
            (folder / "y.tif.partial").write_bytes(b"y")
        os.utime(folder, (time.time() - age,) * 2)
    restarted = ServerProcess(workdir)
    restarted.stop()
    assert sorted(restarted.files()) == sorted([
        "jobs/new/x.tif", f"uploads/{'b' * 64}/x.tif", f"uploads/{'c' * 64}/x.tif", f"uploads/{'c' * 64}/y.tif.partial"])
