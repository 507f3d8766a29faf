"""The segment map tool in the real QGIS desktop (Xvfb, Mesa GL), driven with QTest:
activated through its action, a left click and a drag on the map canvas give previews
equal to SamPredictor's masks for the same prompts on that tile (fp32, pixel parity),
Backspace takes back a prompt, Enter adds one feature to a polygon layer with the fields
of geovl:segment, Esc clears. The models run in the worker; the GUI never imports torch."""
from __future__ import annotations

import base64
import os
import shutil

import numpy as np
import pytest
import torch
from segment_anything import SamPredictor
from shapely import wkt
from shapely.geometry import mapping, shape

from ..models.conftest import scene
from ..models.test_interactive import closed, rasterised
from ..models.test_segment_pipeline import PIXEL, X0, Y0, to_map, write_rgb
from .desktop import CHECKOUT, keep_artifacts, run_desktop
from .test_desktop_runs_models import drawn

pytestmark = pytest.mark.desktop

ARTIFACTS = os.path.join(CHECKOUT, "test-artifacts", "desktop-segment-tool")
TIMEOUT_S = 180

SCRIPT = r'''
import time

from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QPoint, Qt
from qgis.PyQt.QtTest import QTest

P = PATHS
canvas = iface.mapCanvas()
show_raster(P["raster"], "tile")
screenshot("0-raster")

results["action_found"] = trigger("mActionGeoVLSegmentTool") is not None
dock = find_dock("GeoVLSegmentDock")
results["dock_shown"] = dock is not None and dock.isVisible()
dock.model.setCurrentText(P["sam"])
tool = canvas.mapTool()
results["tool_active"] = type(tool).__name__
previews = []
tool.previewChanged.connect(lambda: previews.append(time.perf_counter()))
viewport = canvas.viewport()


def screen(col, row):
    """The canvas pixel of the raster pixel position (col, row)."""
    x, y = P["x0"] + col * P["pixel"], P["y0"] - row * P["pixel"]
    point = canvas.getCoordinateTransform().transform(x, y)
    return QPoint(round(point.x()), round(point.y()))


def wait_preview(before, limit_s=90):
    start = time.monotonic()
    while len(previews) == before or tool.decoding is not None:
        QgsApplication.processEvents()
        if time.monotonic() - start > limit_s:
            raise TimeoutError("no preview after %s s: %s" % (limit_s, dock.status.text()))
        time.sleep(0.01)


def accept():
    """Enter, then wait for the object's polygons to come and be added."""
    QTest.keyClick(canvas, Qt.Key.Key_Return)
    start = time.monotonic()
    while tool.accepting is not None and time.monotonic() - start < 60:
        QgsApplication.processEvents()
        time.sleep(0.01)


def state(name):
    results.setdefault("states", {})[name] = {
        "prompts": [dict(p) for p in tool.prompts],
        "preview": tool.preview_mask, "score": tool.score, "status": dock.status.text()}


step("point")
n = len(previews)
QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, screen(100, 80))
wait_preview(n)
state("point")
screenshot("1-point-preview")

step("box")
n = len(previews)
QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, screen(40, 60))
QTest.mouseMove(viewport, screen(80, 100))
QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, screen(120, 150))
wait_preview(n)
state("point and box")
screenshot("2-point-and-box-preview")

step("background point, then undo")
n = len(previews)
QTest.mouseClick(viewport, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, screen(200, 30))
wait_preview(n)
state("with background")
n = len(previews)
QTest.keyClick(canvas, Qt.Key.Key_Backspace)
wait_preview(n)
state("undone")

step("accept")
accept()
layer = QgsProject.instance().mapLayersByName("GeoVL objects")[0]
results["features"] = [{"wkt": f.geometry().asWkt(12), **{k: f[k] for k in layer.fields().names()}}
                       for f in layer.getFeatures()]
results["layer_crs"] = layer.crs().authid()
state("accepted")
screenshot("3-accepted")

step("escape")
n = len(previews)
QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, screen(60, 190))
wait_preview(n)
QTest.keyClick(canvas, Qt.Key.Key_Escape)
QgsApplication.processEvents()
state("escaped")
results["saved"] = layer.commitChanges()      # Save Layer Edits, as the dock's message asks

step("hover preview")
results["hover_checked"] = dock.hover_preview.isChecked()
QTest.mouseMove(viewport, screen(100, 80))
start = time.monotonic()
while tool.hover_mask is None and time.monotonic() - start < 60:
    QgsApplication.processEvents()
    time.sleep(0.01)
screenshot("4-hover-preview")
at = tool._to_raster(tool._hover_point)
results["hover"] = {"mask": tool.hover_mask, "prompts": list(tool.prompts), "preview": tool.preview_mask,
                    "at": [at.x(), at.y()]}
before = layer.featureCount()
QTest.keyClick(canvas, Qt.Key.Key_Return)      # a hover preview is not an object to accept
QgsApplication.processEvents()
results["hover"]["enter_added"] = layer.featureCount() - before
results["hover"]["status_after_enter"] = dock.status.text()
dock.hover_preview.setChecked(False)
QgsApplication.processEvents()
results["hover"]["mask_when_unchecked"] = tool.hover_mask

step("accept into a layer in another CRS")
from qgis.core import QgsVectorLayer
lonlat = QgsVectorLayer("MultiPolygon?crs=EPSG:4326&field=class:string", "lon-lat objects", "memory")
QgsProject.instance().addMapLayer(lonlat)
dock.output.setLayer(lonlat)
n = len(previews)
QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, screen(100, 80))
wait_preview(n)
state("lon-lat point")
accept()
results["lonlat_features"] = [{"wkt": f.geometry().asWkt(15), "class": f["class"]} for f in lonlat.getFeatures()]
lonlat.rollBack()
'''


def unpacked(preview: dict, shape: tuple[int, int]) -> np.ndarray:
    """The preview's mask bits (segment_object "as": "mask") placed on the tile's pixels."""
    width, height = preview["size"]
    rows = np.frombuffer(base64.b64decode(preview["bits"]), np.uint8).reshape(height, -1)
    bits = np.unpackbits(rows, axis=1)[:, :width].astype(bool)
    xmin, _, _, ymax = preview["bounds"]
    col, row = round((xmin - X0) / PIXEL), round((Y0 - ymax) / PIXEL)
    assert (preview["bounds"][2] - xmin, ymax - preview["bounds"][1]) == (width * PIXEL, height * PIXEL)
    mask = np.zeros(shape, bool)
    mask[row:row + height, col:col + width] = bits
    return mask


def predictor_mask(sam, image: np.ndarray, prompts: list[dict]) -> tuple[np.ndarray, float]:
    """SamPredictor's mask (closed as the engine closes it) for the tool's prompts, in
    the tile's pixels: one point asks for three masks and keeps the best."""
    points = [p for p in prompts if p["kind"] == "point"]
    box = next((p["coords"] for p in prompts if p["kind"] == "box"), None)
    pixels = lambda xy: [(xy[0] - X0) / PIXEL, (Y0 - xy[1]) / PIXEL]   # noqa: E731
    arguments = {"point_coords": np.array([pixels(p["coords"][0]) for p in points], float),
                 "point_labels": np.array([p["label"] for p in points])}
    if box:
        (x0, y1), (x1, y0) = pixels(box[0]), pixels(box[1])
        arguments["box"] = np.array([x0, y0, x1, y1], float)
    predictor = SamPredictor(sam)
    predictor.set_image(image)
    multimask = box is None and len(points) == 1
    masks, scores, _ = predictor.predict(**arguments, multimask_output=multimask)
    best = int(np.argmax(scores))
    return closed(masks[best]), float(scores[best])


def test_segment_tool_in_the_desktop(tiny_sam_ckpt, tiny_sam_factory, tmp_path):
    assert shutil.which("xvfb-run"), "xvfb-run is not installed: run make setup (it installs xvfb)."
    image = scene(256, 256, seed=5)
    raster = write_rgb(tmp_path / "tile.tif", image)
    paths = {"raster": raster, "sam": tiny_sam_ckpt, "x0": X0, "y0": Y0, "pixel": PIXEL}
    run = run_desktop(f"PATHS = {paths!r}\n" + SCRIPT, str(tmp_path / "qgis"), TIMEOUT_S,
                      env={"GEOVL_CACHE_DIR": str(tmp_path / "cache")},
                      settings={"geovl/device": "cpu", "geovl/precision": "fp32"})
    keep_artifacts(run, ARTIFACTS)
    results = run.results or {}
    assert run.returncode == 0 and not results.get("error"), run.describe()
    assert results["action_found"] and results["dock_shown"] and results["tool_active"] == "SegmentMapTool"

    states = results["states"]
    assert [p["kind"] for p in states["point"]["prompts"]] == ["point"]
    assert [p["kind"] for p in states["point and box"]["prompts"]] == ["point", "box"]
    assert [p["label"] for p in states["with background"]["prompts"]] == [1, 1, 0]
    # The clicks land where they were made (within a screen pixel of the canvas).
    click = states["point"]["prompts"][0]["coords"][0]
    assert np.allclose(click, to_map(100, 80), atol=2 * PIXEL), click

    sam = tiny_sam_factory()
    sam.load_state_dict(torch.load(tiny_sam_ckpt, weights_only=True))
    for name in ("point", "point and box", "with background"):
        expected, score = predictor_mask(sam, image, states[name]["prompts"])
        assert expected.any() and not expected.all(), f"{name}: a partial mask is needed for the test to bite"
        np.testing.assert_array_equal(unpacked(states[name]["preview"], image.shape[:2]), expected, err_msg=name)
        assert states[name]["score"] == pytest.approx(score, abs=1e-5), name

    # Undo took back the background point: the prompts and the preview of before it.
    assert states["undone"]["prompts"] == states["point and box"]["prompts"]
    assert states["undone"]["preview"] == states["point and box"]["preview"]

    # Enter added one feature: the point-and-box object, in the raster's CRS, with segment's fields.
    features = results["features"]
    assert len(features) == 1, features
    feature = features[0]
    expected, score = predictor_mask(sam, image, states["point and box"]["prompts"])
    np.testing.assert_array_equal(rasterised([wkt.loads(feature["wkt"])], image.shape[:2]), expected)
    assert results["layer_crs"] == "EPSG:32631"
    assert feature["class"] == "object" and feature["prompt_id"] == 1 and feature["version"] == "1"
    assert feature["score"] == pytest.approx(score, abs=1e-5) and feature["model"] == tiny_sam_ckpt
    assert feature["area_m2"] == pytest.approx(expected.sum() * PIXEL * PIXEL, rel=0.01)
    assert states["accepted"]["prompts"] == [] and states["accepted"]["preview"] is None

    # Esc dropped the new object's prompt and its preview.
    assert states["escaped"]["prompts"] == [] and states["escaped"]["preview"] is None
    assert results["saved"]

    # The cursor resting on the open tile before any click: SamPredictor's mask for a
    # click there; Enter does not take it; unchecking the box removes it.
    hover = results["hover"]
    assert results["hover_checked"] and hover["mask"] is not None, hover
    expected, _ = predictor_mask(sam, image, [{"kind": "point", "label": 1, "coords": [hover["at"]]}])
    np.testing.assert_array_equal(unpacked(hover["mask"], image.shape[:2]), expected)
    assert hover["prompts"] == [] and hover["preview"] is None
    assert hover["enter_added"] == 0 and "Nothing to accept yet" in hover["status_after_enter"]
    assert hover["mask_when_unchecked"] is None

    # Into a layer in EPSG:4326: the same object, its geometry mapped to lon/lat.
    (lonlat,) = results["lonlat_features"]
    assert lonlat["class"] == "object"
    from rasterio.warp import transform_geom
    back = shape(transform_geom("EPSG:4326", "EPSG:32631", mapping(wkt.loads(lonlat["wkt"]))))
    expected, _ = predictor_mask(sam, image, states["lon-lat point"]["prompts"])
    np.testing.assert_array_equal(rasterised([back], image.shape[:2]), expected)
    assert wkt.loads(lonlat["wkt"]).bounds[1] == pytest.approx(42.0, abs=0.1)   # degrees: a latitude near 42 N

    names = [os.path.basename(p) for p in run.screenshots]
    assert names == ["0-raster.png", "1-point-preview.png", "2-point-and-box-preview.png", "3-accepted.png",
                     "4-hover-preview.png"]
    for png in run.screenshots:
        assert drawn(png, results["canvas_in_screenshot"][os.path.basename(png)[:-4]]), png
    assert not results["torch_imported"] and results["modules"] == [], results["modules"]
