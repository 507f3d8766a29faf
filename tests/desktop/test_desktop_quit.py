"""Quitting the real QGIS desktop through File > Exit with GeoVL's tools open and results
loaded: QGIS asks its usual questions (temporary layers, saving the project) and exits 0.
QGIS 3.22 segfaults in ~QgisApp when it closes the project after its docks are gone
(the active layer not the last one removed); File > Exit closes it first."""
from __future__ import annotations

import os
import shutil

import pytest

from .desktop import CHECKOUT, keep_artifacts, run_desktop
from .test_desktop_runs_models import point_prompts

pytestmark = pytest.mark.desktop

ARTIFACTS = os.path.join(CHECKOUT, "test-artifacts", "desktop-quit")
TIMEOUT_S = 150

SCRIPT = r'''
import processing
import qgis.utils
from qgis.core import QgsProject, QgsRasterLayer, QgsVectorLayer

P = PATHS
raster = QgsRasterLayer(P["raster"], "rgb")
QgsProject.instance().addMapLayer(raster)
iface.mapCanvas().setExtent(raster.extent())
processing.runAndLoadResults("geovl:segment", {"INPUT": P["raster"], "PROMPTS": P["prompts"], "MODEL": P["sam"],
                                               "REFINE": False, "OUTPUT": "TEMPORARY_OUTPUT"})
objects = QgsVectorLayer("MultiPolygon?crs=EPSG:32633", "GeoVL objects", "memory")   # its id sorts first
QgsProject.instance().addMapLayer(objects)
iface.setActiveLayer(objects)
plugin = qgis.utils.plugins["geovl"]
plugin.use_segment_tool(True)
plugin.show_ask_dock()
results["layers"] = sorted(layer.name() for layer in QgsProject.instance().mapLayers().values())
screenshot("1-before-quitting")
'''


def test_file_exit_with_tools_and_results_open(tiny_sam_ckpt, rgb_raster, tmp_path):
    assert shutil.which("xvfb-run"), "xvfb-run is not installed: run make setup (it installs xvfb)."
    paths = {"raster": rgb_raster, "sam": tiny_sam_ckpt,
             "prompts": point_prompts(str(tmp_path / "prompts.geojson"), [(500100.5, 4649920.5)])}
    run = run_desktop(f"PATHS = {paths!r}\n" + SCRIPT, str(tmp_path / "qgis"), TIMEOUT_S,
                      env={"GEOVL_CACHE_DIR": str(tmp_path / "cache")}, quit_by_menu=True)
    keep_artifacts(run, ARTIFACTS)
    results = run.results or {}
    assert not results.get("error"), run.describe()
    assert len(results["layers"]) == 3, results["layers"]       # the raster, the segments, GeoVL objects
    assert run.returncode == 0 and not run.timed_out, run.describe()
    with open(os.path.join(run.out_dir, "quit.log")) as f:
        questions = f.read()
    assert "temporary" in questions and "save the current project" in questions, questions
