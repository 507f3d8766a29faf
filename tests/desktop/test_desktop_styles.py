"""Styled results and reports in the real QGIS desktop (Xvfb): geovl:change run from its
algorithm dialog loads the regions, mask and magnitude styled and on top of the layer
tree, and lists the report in the Results Viewer under the overall caption; a change run
that fails leaves no "HTML output has been generated" line in the dialog; segment and
retrieve results loaded by processing.runAndLoadResults are styled. Screenshots of the
styled results go to test-artifacts/desktop-styles/ (the README's pictures)."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from ..models.conftest import pair_arrays, scene, write_pair
from ..qgis.conftest import to_map, write_rgb
from .desktop import CHECKOUT, keep_artifacts, run_desktop
from .test_desktop_runs_models import drawn

pytestmark = pytest.mark.desktop

ARTIFACTS = os.path.join(CHECKOUT, "test-artifacts", "desktop-styles")
TIMEOUT_S = 240

SCRIPT = r'''
import time

import processing
import qgis.utils
from processing.core.ProcessingResults import resultsList
from qgis.core import QgsLayerTreeLayer, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import QLabel, QTextEdit

P = PATHS
project = QgsProject.instance()


def wait_for(condition, limit_s=60):
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > limit_s:
            raise TimeoutError("waited too long")
        QCoreApplication.processEvents()
        time.sleep(0.05)


def dialog_log(dialog):
    return "\n".join(edit.toPlainText() for edit in dialog.findChildren(QTextEdit))


def run_in_dialog(algorithm, parameters):
    """The algorithm's own dialog, its Run pressed; the dialog's log once the run ended
    (the dialog closes itself after a run that succeeded, unless set to stay open)."""
    dialog = processing.createAlgorithmDialog(algorithm, parameters)
    state = {}
    dialog.algorithmFinished.connect(lambda ok, _: state.update(ok=ok, log=dialog_log(dialog)))
    dialog.show()
    dialog.runAlgorithm()
    try:
        wait_for(lambda: "ok" in state)
    except TimeoutError:
        bar = [w.text() for w in dialog.messageBar().findChildren(QLabel)]
        raise TimeoutError(f"{algorithm} did not finish; log: {dialog_log(dialog)!r}; message bar: {bar!r}")
    for _ in range(20):   # what the dialog writes after algorithmFinished
        QCoreApplication.processEvents()
        time.sleep(0.05)
    try:
        state["log"] = dialog_log(dialog)
        dialog.close()
    except RuntimeError:   # already deleted
        pass
    return state["log"]


def tree_names():
    return [node.name() for node in project.layerTreeRoot().children()]


before = QgsRasterLayer(P["before"], "before")
after = QgsRasterLayer(P["after"], "after")
project.addMapLayer(before)
project.addMapLayer(after)
iface.setActiveLayer(before)
iface.mapCanvas().setExtent(before.extent())

step("change dialog")
listed = len(resultsList.getResults())
results["change_log"] = run_in_dialog("geovl:change", {"BEFORE": before, "AFTER": after})
results["change_tree"] = tree_names()
top = [node.layer() for node in project.layerTreeRoot().children()[:3] if isinstance(node, QgsLayerTreeLayer)]
results["change_top"] = [(layer.name(), layer.renderer().type() if layer.renderer() else None,
                          layer.labelsEnabled() if hasattr(layer, "labelsEnabled") else None) for layer in top]
results["change_listed"] = [(r.name, r.filename) for r in resultsList.getResults()[listed:]]
dock = qgis.utils.plugins["processing"].resultsDock   # Processing › Results Viewer
results["results_viewer"] = {"visible": dock.isVisible(), "top": dock.treeResults.topLevelItem(0).text(0)
                             if dock.treeResults.topLevelItemCount() else None}
screenshot("1-change-styled")

step("failed change dialog")
elsewhere = QgsRasterLayer(P["elsewhere"], "elsewhere")
project.addMapLayer(elsewhere)
results["failed_log"] = run_in_dialog("geovl:change", {"BEFORE": before, "AFTER": elsewhere})
project.removeMapLayer(elsewhere.id())

step("segment")
for layer in list(project.mapLayers().values()):
    project.removeMapLayer(layer.id())
scene_layer = QgsRasterLayer(P["scene"], "scene")
project.addMapLayer(scene_layer)
iface.mapCanvas().setExtent(scene_layer.extent())
processing.runAndLoadResults("geovl:segment", {
    "INPUT": P["scene"], "PROMPTS": P["prompts"], "MODEL": P["sam"], "REFINE": False, "PRECISION": 1,
    "CLASS_FIELD": "class", "OUTPUT": "TEMPORARY_OUTPUT", "OUTPUT_MASK": "TEMPORARY_OUTPUT"})
results["segment_tree"] = tree_names()
screenshot("2-segment-styled")

step("retrieve")
for layer in list(project.mapLayers().values()):
    if layer.id() != scene_layer.id():
        project.removeMapLayer(layer.id())
processing.runAndLoadResults("geovl:retrieve", {
    "INPUT": P["scene"], "QUERY": "a harbour", "MODEL": P["clip"], "TILE_SIZE": 64, "PRECISION": 1, "TOP_K": 6,
    "OUTPUT": "TEMPORARY_OUTPUT", "OUTPUT_HEATMAP": "TEMPORARY_OUTPUT"})
results["retrieve_tree"] = tree_names()
screenshot("3-retrieve-styled")
# Quitting this harness's QGIS 3.22 with loaded results crashes in QgisApp::setMapStyleDockLayer
# (with or without GeoVL's styles): the project is cleared while the window is still whole.
project.removeAllMapLayers()
'''


def prompts(path: str) -> str:
    """Point prompts of two classes on the segment test grid (EPSG:32631)."""
    points = [((100.5, 80.5), "road"), ((40.5, 200.5), "sidewalk")]
    collection = {"type": "FeatureCollection",
                  "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32631"}},
                  "features": [{"type": "Feature", "properties": {"class": name},
                                "geometry": {"type": "Point", "coordinates": list(to_map(*p))}}
                               for p, name in points]}
    with open(path, "w") as f:
        json.dump(collection, f)
    return path


def test_styled_results_and_reports_in_the_desktop(tiny_clip_dir, tiny_sam_ckpt, tmp_path):
    from affine import Affine

    from ..models.conftest import TRANSFORM

    assert shutil.which("xvfb-run"), "xvfb-run is not installed: run make setup (it installs xvfb)."
    before, after = write_pair(tmp_path, *pair_arrays())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _, far = write_pair(elsewhere, *pair_arrays(), transform=Affine.translation(100_000, 0) * TRANSFORM)
    paths = {"before": before, "after": after, "elsewhere": far, "clip": tiny_clip_dir, "sam": tiny_sam_ckpt,
             "scene": write_rgb(tmp_path / "scene.tif", scene(256, 256, seed=5)),
             "prompts": prompts(str(tmp_path / "prompts.geojson"))}
    run = run_desktop(f"PATHS = {paths!r}\n" + SCRIPT, str(tmp_path / "qgis"), TIMEOUT_S,
                      env={"GEOVL_CACHE_DIR": str(tmp_path / "cache")})
    keep_artifacts(run, ARTIFACTS)
    results = run.results or {}
    assert run.returncode == 0 and not results.get("error"), run.describe()

    # From the dialog: the three results on top, styled; the inputs below them.
    assert "Execution completed" in results["change_log"], results["change_log"]
    top = results["change_top"]
    assert [name for name, _, _ in top] == ["Change regions", "Change mask", "Change magnitude"], top
    renderers = {name: renderer for name, renderer, _ in top}
    assert renderers["Change mask"] == "paletted" and renderers["Change magnitude"] == "singlebandpseudocolor", top
    assert top[0][2] is True, top   # the regions are labelled
    assert results["change_tree"][3:] == ["after", "before"], results["change_tree"]
    # The report in the Results Viewer, under the caption; the viewer opened by itself.
    [(name, report)] = results["change_listed"]
    assert name.startswith("Overall caption: ") and len(name) > len("Overall caption: ") and report.endswith(".html")
    assert results["results_viewer"]["visible"], results["results_viewer"]
    assert results["results_viewer"]["top"].startswith("Overall caption: "), results["results_viewer"]
    assert "HTML output has been generated" not in results["change_log"]

    # A failed run: the dialog says why, and announces no HTML output.
    assert "Execution failed" in results["failed_log"], results["failed_log"]
    assert "do not overlap" in results["failed_log"], results["failed_log"]
    assert "HTML output has been generated" not in results["failed_log"], results["failed_log"]

    assert results["segment_tree"][-1] == "scene" and len(results["segment_tree"]) == 3, results["segment_tree"]
    assert results["retrieve_tree"][-1] == "scene" and len(results["retrieve_tree"]) == 3, results["retrieve_tree"]
    for png in run.screenshots:
        assert drawn(png, results["canvas_in_screenshot"][os.path.basename(png)[:-4]]), png
    assert not results["torch_imported"], results["modules"]
