"""The ask dock in the real QGIS desktop (Xvfb, Mesa GL): opened through its action,
a question about the map view is answered by a tiny memorising Qwen2.5-VL in the worker,
and its grounded boxes are drawn in a memory layer named after the question, at map
coordinates computed here by hand."""
from __future__ import annotations

import os
import shutil

import pytest

from ..models.conftest import scene
from ..models.test_ask_pipeline import PIXEL, X0, Y0, write_rgb
from .desktop import CHECKOUT, keep_artifacts, run_desktop
from .test_desktop_runs_models import drawn

pytestmark = pytest.mark.desktop

ARTIFACTS = os.path.join(CHECKOUT, "test-artifacts", "desktop-ask-dock")
TIMEOUT_S = 180
QUESTION = "Where are the planes?"

SCRIPT = r'''
import time

from qgis.core import QgsApplication, QgsProject, QgsRectangle
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtTest import QTest

P = PATHS
canvas = iface.mapCanvas()
raster = show_raster(P["raster"], "scene")
view = QgsRectangle(raster.extent())
view.grow(20)      # the whole raster and a margin in the view
canvas.setExtent(view)
screenshot("0-raster")

trigger("mActionGeoVLAskDock")
dock = find_dock("GeoVLAskDock")
results["dock_shown"] = dock is not None and dock.isVisible()
dock.model.setCurrentText(P["vlm"])
dock.question.setText(P["question"])
QTest.mouseClick(dock.ask_button, Qt.MouseButton.LeftButton)
results["asked_while_running"] = not dock.ask_button.isEnabled()
start = time.monotonic()
while not dock.ask_button.isEnabled():
    QgsApplication.processEvents()
    if time.monotonic() - start > 120:
        raise TimeoutError(dock.history.toPlainText())
    time.sleep(0.02)
results["history"] = dock.history.toPlainText()
layers = QgsProject.instance().mapLayersByName(P["question"])
results["layers"] = len(layers)
if layers:
    layer = layers[0]
    results["crs"] = layer.crs().authid()
    results["boxes"] = sorted([f.geometry().boundingBox().toRectF().getCoords(), f["label"], f["question"]]
                              for f in layer.getFeatures())
    results["on_top"] = QgsProject.instance().layerTreeRoot().children()[0].layerId() == layer.id()
screenshot("1-answer")
'''


def test_ask_dock_draws_the_answer_boxes(memorised_qwen2_5_vl_dir, tmp_path):
    assert shutil.which("xvfb-run"), "xvfb-run is not installed: run make setup (it installs xvfb)."
    raster = write_rgb(tmp_path / "scene.tif", scene(140, 160, seed=2))
    paths = {"raster": raster, "vlm": memorised_qwen2_5_vl_dir, "question": QUESTION}
    run = run_desktop(f"PATHS = {paths!r}\n" + SCRIPT, str(tmp_path / "qgis"), TIMEOUT_S,
                      env={"GEOVL_CACHE_DIR": str(tmp_path / "cache")},
                      settings={"geovl/device": "cpu", "geovl/precision": "fp32"})
    keep_artifacts(run, ARTIFACTS)
    results = run.results or {}
    assert run.returncode == 0 and not results.get("error"), run.describe()
    assert results["dock_shown"] and results["asked_while_running"]
    assert results["layers"] == 1, results["history"]
    assert results["crs"] == "EPSG:32631" and results["on_top"]
    # The view holds the whole 160 x 140 px raster: one 56 px image of its 160 px side
    # (160/56 raster pixels per model pixel); the memorised boxes (10, 20, 30, 40) and
    # (28, 0, 56, 12) on the map, by hand.
    scale = 160 / 56 * PIXEL
    expected = sorted([[X0 + a * scale, Y0 - d * scale, X0 + c * scale, Y0 - b * scale], "plane", QUESTION]
                      for a, b, c, d in ((10, 20, 30, 40), (28, 0, 56, 12)))
    got = results["boxes"]
    assert [row[1:] for row in got] == [row[1:] for row in expected]
    for (box, *_), (want, *_) in zip(got, expected):
        # QRectF.getCoords: x1, y1 (the minimum y on the map), x2, y2
        assert box == pytest.approx([want[0], want[1], want[2], want[3]], abs=1e-6), (box, want)
    assert QUESTION in results["history"] and "2 object(s) drawn" in results["history"]
    names = [os.path.basename(p) for p in run.screenshots]
    assert names == ["0-raster.png", "1-answer.png"]
    assert drawn(run.screenshots[1], results["canvas_in_screenshot"]["1-answer"])
    assert not results["torch_imported"] and results["modules"] == [], results["modules"]
