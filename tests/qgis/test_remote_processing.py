"""The four algorithms through `processing.run` on a GeoVL server on loopback
(GEOVL_SERVER and GEOVL_SERVER_TOKEN, as a script sets them): the rasters, outside the
server's folders, are sent to it; every output (features, rasters, reports, a chosen
index) comes back to the path asked for and equals the local runtime's. A wrong token
fails the run with the sentence and writes nothing. The choice made in the Runtime
dialog keeps the token in QGIS's authentication database, not in the settings."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback, QgsSettings, QgsVectorLayer

from ..conftest import write_raster
from ..remote_server import ServerProcess
from .conftest import to_map, write_rgb

FP32 = {"DEVICE": 1, "PRECISION": 1}


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_clip_dir, tiny_sam_ckpt, tiny_florence2_dir):
    models = [tiny_clip_dir, os.path.dirname(tiny_sam_ckpt), tiny_florence2_dir]
    started = ServerProcess(tmp_path_factory.mktemp("server"), *[arg for m in models for arg in ("--data", m)])
    yield started
    started.stop()


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("client-rasters")
    rng = np.random.default_rng(0)
    before = rng.integers(0, 255, (3, 128, 128), dtype=np.uint8)
    after = before.copy()
    after[:, 30:70, 30:70] = 255 - after[:, 30:70, 30:70]
    prompts = folder / "prompts.geojson"
    x, y = to_map(40.5, 40.5)
    prompts.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {
        "name": "urn:ogc:def:crs:EPSG::32631"}}, "features": [{"type": "Feature", "properties": {}, "geometry": {
            "type": "Point", "coordinates": [x, y]}}]}))
    return {"before": write_raster(folder / "before.tif", before), "after": write_raster(folder / "after.tif", after),
            "rgb": write_rgb(folder / "rgb.tif", before.transpose(1, 2, 0)), "prompts": str(prompts)}


def runs(scenes, out, clip, sam, vlm) -> dict[str, tuple[str, dict]]:
    out.mkdir(exist_ok=True)
    return {
        "retrieve": ("geovl:retrieve", {"INPUT": scenes["before"], "QUERY": "ships", "MODEL": clip, "TILE_SIZE": 64,
                                        "OUTPUT": str(out / "hits.gpkg"), "OUTPUT_HEATMAP": str(out / "heat.tif"),
                                        "OUTPUT_INDEX": str(out / "index.gpkg"), **FP32}),
        "segment": ("geovl:segment", {"INPUT": scenes["rgb"], "PROMPTS": scenes["prompts"], "MODEL": sam,
                                      "OUTPUT": str(out / "objects.gpkg"), "OUTPUT_MASK": str(out / "classes.tif"),
                                      **FP32}),
        "ask": ("geovl:ask", {"INPUT": scenes["rgb"], "QUESTION": "What is here?", "MODEL": vlm, "MAX_NEW_TOKENS": 5,
                              "OUTPUT": str(out / "answer.gpkg"), "OUTPUT_TILES": str(out / "tiles.gpkg"),
                              "OUTPUT_REPORT": str(out / "answer.html"), **FP32}),
        "change": ("geovl:change", {"BEFORE": scenes["before"], "AFTER": scenes["after"],
                                    "OUTPUT": str(out / "regions.gpkg"), "OUTPUT_MAGNITUDE": str(out / "mag.tif"),
                                    "OUTPUT_MASK": str(out / "mask.tif"), "OUTPUT_REPORT": str(out / "change.html")}),
    }


def features(path: str) -> list[tuple]:
    layer = QgsVectorLayer(path, "check", "ogr")
    assert layer.isValid(), path
    return sorted((f.geometry().asWkt(3), tuple(str(v) for v in f.attributes()[1:])) for f in layer.getFeatures())


def test_all_four_algorithms_run_on_the_server_and_equal_the_local_runtime(
        plugin, server, scenes, tmp_path, monkeypatch, tiny_clip_dir, tiny_sam_ckpt, tiny_florence2_dir):
    import processing

    models = (tiny_clip_dir, tiny_sam_ckpt, tiny_florence2_dir)
    monkeypatch.setenv("GEOVL_CACHE_DIR", str(tmp_path / "local-cache"))
    local = {name: processing.run(alg, params) for name, (alg, params) in
             runs(scenes, tmp_path / "local", *models).items()}
    monkeypatch.setenv("GEOVL_SERVER", server.url)
    monkeypatch.setenv("GEOVL_SERVER_TOKEN", server.token)
    remote_runs = runs(scenes, tmp_path / "remote", *models)
    remote = {name: processing.run(alg, params) for name, (alg, params) in remote_runs.items()}
    for name, (_, params) in remote_runs.items():
        for key, path in params.items():
            if key.startswith("OUTPUT") and key != "OUTPUT_INDEX":
                local_path = path.replace(str(tmp_path / "remote"), str(tmp_path / "local"))
                assert os.path.isfile(path), (name, key)
                if path.endswith(".gpkg"):
                    assert features(path) == features(local_path), (name, key)
                elif path.endswith(".tif"):
                    from osgeo import gdal
                    assert gdal.Open(path).ReadAsArray().tolist() == gdal.Open(local_path).ReadAsArray().tolist()
    assert remote["retrieve"]["OUTPUT_INDEX"] == str(tmp_path / "remote" / "index.gpkg")
    assert os.path.getsize(tmp_path / "remote" / "index.gpkg") > 0
    assert len(features(remote["retrieve"]["OUTPUT"])) == 4 and len(features(remote["change"]["OUTPUT"])) > 0
    assert remote["ask"]["OUTPUT_REPORT"] == str(tmp_path / "remote" / "answer.html")
    feedback = QgsProcessingFeedback()     # the chosen index is sent back to the server: no tile embedded again
    again = processing.run(*remote_runs["retrieve"], feedback=feedback)
    assert "Reusing the tile index" in feedback.textLog() and "(0 embedded in this run)" in feedback.textLog()
    assert features(again["OUTPUT"]) == features(str(tmp_path / "local" / "hits.gpkg"))
    sent = {os.path.basename(name) for name in server.files()}
    assert {"before.tif", "after.tif", "rgb.tif"} <= sent      # the rasters the server could not see
    assert not any(name.startswith("jobs") for name in server.files())
    leftovers = [n for n in os.listdir(tmp_path / "remote") if "partial" in n]
    assert leftovers == []
    del local, remote, again


def test_a_wrong_token_fails_the_run_and_writes_nothing(plugin, server, scenes, tmp_path, monkeypatch, tiny_clip_dir):
    import processing

    monkeypatch.setenv("GEOVL_SERVER", server.url)
    monkeypatch.setenv("GEOVL_SERVER_TOKEN", "guessed")
    with pytest.raises(QgsProcessingException) as info:
        processing.run("geovl:retrieve", {"INPUT": scenes["before"], "QUERY": "ships", "MODEL": tiny_clip_dir,
                                          "OUTPUT": str(tmp_path / "hits.gpkg")})
    assert "refused the token" in str(info.value)
    assert os.listdir(tmp_path) == []


def test_the_chosen_server_keeps_its_token_in_the_authentication_database(plugin, server, monkeypatch):
    from geovl.processing.runtime_link import (SERVER_AUTH_SETTING, choose_local, choose_server, chosen_server,
                                               missing_runtime_sentence, runtime)

    monkeypatch.delenv("GEOVL_SERVER", raising=False)
    manager = QgsApplication.authManager()
    if not manager.masterPasswordIsSet():
        assert manager.setMasterPassword("test master password", True)
    try:
        choose_server(server.url, server.token)
        assert chosen_server().token == server.token and chosen_server().url == server.url
        assert runtime().status()["protocol"] == 1
        settings = QgsSettings()
        stored = {key: settings.value(key) for key in settings.allKeys() if key.startswith("geovl")}
        assert server.token not in json.dumps(stored, default=str)
        assert manager.configIds() and settings.value(SERVER_AUTH_SETTING) in manager.configIds()
        choose_server(server.url, "")                         # no token: a sentence before any run
        assert "address or token is missing" in missing_runtime_sentence()
    finally:
        choose_local()
    assert chosen_server() is None
