"""Web layers in the real desktop, run as the Processing dialog runs them: in a
background task (QgsProcessingAlgRunnerTask prepares the algorithm on the main thread,
then runs it on a worker thread, whose network manager fetches the tiles).

An XYZ layer of a loopback tile server, with no EXTENT and no RESOLUTION, renders the map
view at the canvas's ground resolution; the same layer from a server that answers HTTP
500 fails with the sentence and leaves nothing in the render cache."""
from __future__ import annotations

import os
import shutil

import pytest

from ..tile_server import TileServer
from .desktop import CHECKOUT, keep_artifacts, run_desktop

pytestmark = pytest.mark.desktop

ARTIFACTS = os.path.join(CHECKOUT, "test-artifacts", "desktop-web-layers")
TIMEOUT_S = 150

SCRIPT = r'''
import math

from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsProcessingAlgRunnerTask,
                       QgsProcessingContext, QgsProcessingFeedback, QgsProject, QgsRasterLayer, QgsRectangle)
from qgis.PyQt.QtCore import QEventLoop, QTimer

P = PATHS
canvas = iface.mapCanvas()
canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
y60 = 6378137.0 * math.log(math.tan(math.radians(75)))  # 60 N
view = QgsRectangle(0.0, y60 - 1000, 2000.0, y60 + 1000)


def run_in_task(layer):
    """Run geovl:retrieve on `layer` as the dialog does; returns (ok, results, log)."""
    step("run " + layer.name())
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("geovl:retrieve")
    context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
    context.setProject(QgsProject.instance())
    params = {"INPUT": layer.id(), "QUERY": "a roof", "MODEL": P["clip"], "TILE_SIZE": 64, "TOP_K": 3,
              "OUTPUT": "memory:"}
    task = QgsProcessingAlgRunnerTask(algorithm, params, context, feedback)
    done = {}
    loop = QEventLoop()
    task.executed.connect(lambda ok, values: (done.update(ok=ok, values=values), loop.quit()))
    QTimer.singleShot(100_000, loop.quit)
    QgsApplication.taskManager().addTask(task)
    loop.exec_()
    values = done.get("values") or {}
    return done.get("ok"), {key: str(value) for key, value in values.items()}, feedback.textLog()


good = QgsRasterLayer(P["good"], "tiles", "wms")
QgsProject.instance().addMapLayer(good)
screenshot("1-xyz-layer")  # the desktop zooms to the first layer's extent (the world) meanwhile
canvas.setExtent(view)
screenshot("2-map-view")
shown = canvas.extent()
results["canvas"] = {"width_px": canvas.width(), "units_per_px": canvas.mapUnitsPerPixel(),
                     "extent": [shown.xMinimum(), shown.yMinimum(), shown.xMaximum(), shown.yMaximum()]}
ok, values, log = run_in_task(good)
results["good"] = {"ok": ok, "values": values, "log": log}

broken = QgsRasterLayer(P["broken"], "broken tiles", "wms")
QgsProject.instance().addMapLayer(broken, False)  # not drawn: only the run asks its server
ok, values, log = run_in_task(broken)
results["broken"] = {"ok": ok, "values": values, "log": log}
screenshot("3-after-runs")
'''


def test_web_layers_in_a_background_task(tiny_clip_dir, tmp_path):
    assert shutil.which("xvfb-run"), "xvfb-run is not installed: run make setup (it installs xvfb)."
    good, broken = TileServer("ok"), TileServer("error")
    cache = tmp_path / "cache"
    try:
        paths = {"good": good.xyz_source, "broken": broken.xyz_source, "clip": tiny_clip_dir}
        run = run_desktop(f"PATHS = {paths!r}\n" + SCRIPT, str(tmp_path / "qgis"), TIMEOUT_S,
                          env={"GEOVL_CACHE_DIR": str(cache)})
    finally:
        good.close()
        broken.close()
    keep_artifacts(run, ARTIFACTS)
    results = run.results or {}
    assert run.returncode == 0 and not results.get("error"), run.describe()

    first = results["good"]
    assert first["ok"], first["log"]
    assert "Layer 'tiles' has no extent of its own: using the map view" in first["log"]
    canvas = results["canvas"]
    # The canvas's pixels at 60 N: CRS metres per pixel x cos(60).
    assert f"using the map view's, {canvas['units_per_px'] * 0.5:.3g} m per pixel" in first["log"]
    width_px = round((canvas["extent"][2] - canvas["extent"][0]) / canvas["units_per_px"])
    assert f"Rendering layer 'tiles' to a {width_px} x " in first["log"] or \
        f"Rendering layer 'tiles' to a {width_px + 1} x " in first["log"], first["log"]
    rendered = sorted((cache / "rendered").glob("*.tif"))
    assert len(rendered) == 1

    second = results["broken"]
    assert not second["ok"]
    assert "Rendering layer 'broken tiles' failed: its data could not be fetched" in second["log"]
    assert broken.requests > 0
    assert sorted((cache / "rendered").glob("*.tif")) == rendered
    assert not [f for f in os.listdir(cache / "rendered") if ".partial" in f]
    assert not results["torch_imported"], results["modules"]
