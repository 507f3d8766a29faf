"""The segment map tool on a web layer in the real desktop: an XYZ layer of a loopback
tile server has no pixels of its own, so the first click renders the map view at the
canvas's ground resolution (into the render cache) and segments that rendering; the
click's prompt is in the layer's CRS and the decode answers without an error. The
rendering runs off the GUI thread: the tile server answers each tile only once the GUI
thread has pinged it meanwhile (a timer), which a blocked window could not do; a second
click while it renders waits for it and goes in after the first (no second rendering
started from inside the first)."""
from __future__ import annotations

import os
import shutil

import pytest
import rasterio

from ..tile_server import TileServer
from .desktop import CHECKOUT, keep_artifacts, run_desktop

pytestmark = pytest.mark.desktop

ARTIFACTS = os.path.join(CHECKOUT, "test-artifacts", "desktop-segment-web")
TIMEOUT_S = 150

SCRIPT = r'''
import math
import time
import urllib.request

from qgis.core import QgsApplication, QgsCoordinateReferenceSystem, QgsProject, QgsRasterLayer, QgsRectangle
from qgis.PyQt.QtCore import QPoint, Qt, QTimer
from qgis.PyQt.QtTest import QTest

P = PATHS
pinger = QTimer()   # the GUI thread's heartbeat, which the tile server waits for (the map's own tiles too)
pinger.timeout.connect(lambda: urllib.request.urlopen(P["alive"], timeout=2).close())
pinger.start(50)
canvas = iface.mapCanvas()
canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
tiles = QgsRasterLayer(P["xyz"], "tiles", "wms")
QgsProject.instance().addMapLayer(tiles)
screenshot("0-layer")  # the desktop zooms to the first layer's extent (the world) meanwhile
y60 = 6378137.0 * math.log(math.tan(math.radians(75)))  # 60 N
canvas.setExtent(QgsRectangle(0.0, y60 - 1000, 2000.0, y60 + 1000))
screenshot("1-view")
iface.setActiveLayer(tiles)
trigger("mActionGeoVLSegmentTool")
dock = find_dock("GeoVLSegmentDock")
dock.model.setCurrentText(P["sam"])
tool = canvas.mapTool()
previews = []
tool.previewChanged.connect(lambda: previews.append(1))
QgsApplication.processEvents()   # the dock took its room from the canvas
shown = canvas.extent()
results["canvas"] = {"units_per_px": canvas.mapUnitsPerPixel(),
                     "extent": [shown.xMinimum(), shown.yMinimum(), shown.xMaximum(), shown.yMaximum()]}
centre = QPoint(canvas.viewport().width() // 2, canvas.viewport().height() // 2)
beside = centre + QPoint(30, 20)
results["clicked_at"] = [[canvas.getCoordinateTransform().toMapCoordinates(p).x(),
                          canvas.getCoordinateTransform().toMapCoordinates(p).y()] for p in (centre, beside)]
QTimer.singleShot(150, lambda: QTest.mouseClick(canvas.viewport(), Qt.MouseButton.RightButton,
                                                Qt.KeyboardModifier.NoModifier, beside))
QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)
start = time.monotonic()
while (len(tool.prompts) < 2 or tool.decoding is not None) and time.monotonic() - start < 90:
    QgsApplication.processEvents()
    time.sleep(0.01)
pinger.stop()
results["decoded"] = tool.decoding is None
results["status"] = dock.status.text()
results["raster"] = tool.target.path if tool.target else None
results["prompts"] = [dict(p) for p in tool.prompts]
screenshot("2-clicked")
'''


def test_segment_tool_on_a_web_layer(tiny_sam_ckpt, tmp_path):
    assert shutil.which("xvfb-run"), "xvfb-run is not installed: run make setup (it installs xvfb)."
    server = TileServer("ok", gate_s=5.0, gate_pings=3)
    cache = tmp_path / "cache"
    try:
        paths = {"xyz": server.xyz_source, "sam": tiny_sam_ckpt, "alive": server.alive_url}
        run = run_desktop(f"PATHS = {paths!r}\n" + SCRIPT, str(tmp_path / "qgis"), TIMEOUT_S,
                          env={"GEOVL_CACHE_DIR": str(cache)},
                          settings={"geovl/device": "cpu", "geovl/precision": "fp32"})
    finally:
        server.close()
    keep_artifacts(run, ARTIFACTS)
    results = run.results or {}
    assert run.returncode == 0 and not results.get("error"), run.describe()
    assert results["decoded"] and "Score" in results["status"], results["status"]
    # The rendering is the map view at the canvas's pixels, kept in the render cache.
    assert os.path.dirname(results["raster"]) == str(cache / "rendered")
    xmin, ymin, xmax, ymax = results["canvas"]["extent"]
    with rasterio.open(results["raster"]) as rendering:
        assert rendering.crs.to_epsg() == 3857
        assert rendering.res[0] == pytest.approx(results["canvas"]["units_per_px"], rel=1e-3)
        left, bottom, right, top = rendering.bounds
    assert left == pytest.approx(xmin, abs=1e-3) and top == pytest.approx(ymax, abs=1e-3)
    pixel = rendering.res[0]
    assert right == pytest.approx(xmax, abs=2 * pixel) and bottom == pytest.approx(ymin, abs=2 * pixel)
    # The clicks went in, in their order, as an object and a background point in the layer's
    # CRS (the canvas's here), on one rendering.
    assert [p["label"] for p in results["prompts"]] == [1, 0]
    assert [p["coords"][0] for p in results["prompts"]] == [pytest.approx(xy, abs=1e-6) for xy in results["clicked_at"]]
    assert len(list((cache / "rendered").glob("*.tif"))) == 1
    assert server.requests > 0 and server.gate_timeouts == 0    # the window went on while the tiles came
