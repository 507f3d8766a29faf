"""The regression test for the desktop crash: in the real QGIS desktop (Xvfb, Mesa GL,
libLLVM-15 loaded by the GUI), geovl:retrieve, geovl:segment and geovl:index_archive (on
a local Ray instance in the worker) run with tiny models through processing.run in the
GUI process, complete, and QGIS exits 0. torch in the GUI
process crashed it (signal 11, triton against Mesa's LLVM), so the GUI process must not
have imported torch afterwards: the models run in the GeoVL worker."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from qgis.PyQt.QtGui import QImage

from .desktop import CHECKOUT, keep_artifacts, run_desktop

pytestmark = pytest.mark.desktop

ARTIFACTS = os.path.join(CHECKOUT, "test-artifacts", "desktop")
TIMEOUT_S = 150  # a hard kill; the run itself takes about 20 s here

SCRIPT = r'''
import os

import processing
import qgis.utils
from qgis.core import QgsApplication, QgsProcessingFeedback, QgsProject, QgsRasterLayer, QgsVectorLayer

P = PATHS
results["plugin_loaded"] = "geovl" in qgis.utils.plugins
results["provider_registered"] = QgsApplication.processingRegistry().providerById("geovl") is not None

raster = QgsRasterLayer(P["raster"], "rgb")
QgsProject.instance().addMapLayer(raster)
iface.mapCanvas().setExtent(raster.extent())
screenshot("1-raster-loaded")


def run(algorithm, parameters):
    """processing.run keeping the algorithm's log (its error sentence, when it fails) in the results."""
    step(algorithm)
    feedback = QgsProcessingFeedback()
    try:
        return processing.run(algorithm, parameters, feedback=feedback)
    finally:
        results.setdefault("log", {})[algorithm] = feedback.textLog()


def features(path):
    layer = QgsVectorLayer(path, os.path.basename(path), "ogr")
    return layer.featureCount() if layer.isValid() else -1


out = run("geovl:retrieve", {"INPUT": P["raster"], "QUERY": "storage tanks next to a harbour",
                             "MODEL": P["clip"], "TILE_SIZE": 64, "TOP_K": 5, "OUTPUT": P["hits"]})
results["retrieve"] = {"output": out["OUTPUT"], "features": features(P["hits"])}
QgsProject.instance().addMapLayer(QgsVectorLayer(P["hits"], "hits", "ogr"))

out = run("geovl:segment", {"INPUT": P["raster"], "PROMPTS": P["prompts"], "MODEL": P["sam"],
                            "REFINE": False, "OUTPUT": P["segments"], "OUTPUT_MASK": P["mask"]})
results["segment"] = {"output": out["OUTPUT"], "features": features(P["segments"]), "mask": out["OUTPUT_MASK"]}
QgsProject.instance().addMapLayer(QgsVectorLayer(P["segments"], "segments", "ogr"))

out = run("geovl:index_archive", {"FOLDER": P["sheets"], "QUERY": "storage tanks", "MODEL": P["clip"],
                                  "TILE_SIZE": 64, "TOP_K": 3, "WORKERS": 1, "OUTPUT": P["archive_hits"]})
results["index_archive"] = {"tiles": out["TILE_COUNT"], "features": features(P["archive_hits"])}
screenshot("2-after-runs")
'''


def point_prompts(path: str, points) -> str:
    """A GeoJSON file of point prompts in the raster's CRS (EPSG:32633, named as GDAL reads it)."""
    collection = {"type": "FeatureCollection",
                  "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32633"}},
                  "features": [{"type": "Feature", "properties": {"label": 1},
                                "geometry": {"type": "Point", "coordinates": list(p)}} for p in points]}
    with open(path, "w") as f:
        json.dump(collection, f)
    return path


def drawn(png: str, box) -> bool:
    """Whether the box [x, y, width, height] of the screenshot shows a drawing: many
    colours, none covering almost all of it (an undrawn canvas is one colour)."""
    assert box, f"the map canvas is not shown in {png}"
    image = QImage(png).convertToFormat(QImage.Format.Format_RGB32)
    assert not image.isNull(), f"{png} is not an image"
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    pixels = np.frombuffer(bits, np.uint32).reshape(image.height(), image.bytesPerLine() // 4)
    x, y, width, height = box
    _, counts = np.unique(pixels[y:y + height, x:x + width], return_counts=True)
    return len(counts) > 50 and counts.max() < 0.9 * counts.sum()


def test_retrieve_and_segment_in_the_desktop(tiny_clip_dir, tiny_sam_ckpt, rgb_raster, tmp_path):
    assert shutil.which("xvfb-run"), "xvfb-run is not installed: run make setup (it installs xvfb)."
    # rgb_raster covers x 500000-500300, y 4649800-4650000 (EPSG:32633, 1 m pixels).
    paths = {"raster": rgb_raster, "clip": tiny_clip_dir, "sam": tiny_sam_ckpt,
             "prompts": point_prompts(str(tmp_path / "prompts.geojson"),
                                      [(500100.5, 4649920.5), (500220.5, 4649850.5)]),
             "hits": str(tmp_path / "hits.gpkg"), "segments": str(tmp_path / "segments.gpkg"),
             "mask": str(tmp_path / "classes.tif"), "sheets": str(tmp_path / "sheets"),
             "archive_hits": str(tmp_path / "archive-hits.gpkg")}
    os.makedirs(paths["sheets"])
    for sheet in ("a.tif", "b.tif"):
        shutil.copyfile(rgb_raster, os.path.join(paths["sheets"], sheet))
    run = run_desktop(f"PATHS = {paths!r}\n" + SCRIPT, str(tmp_path / "qgis"), TIMEOUT_S,
                      env={"GEOVL_CACHE_DIR": str(tmp_path / "cache")})
    keep_artifacts(run, ARTIFACTS)  # whatever the outcome
    results = run.results or {}

    assert run.returncode == 0 and not results.get("error"), run.describe()
    assert results["plugin_loaded"] and results["provider_registered"], run.describe()
    # The configuration that crashed: Mesa's GL and its LLVM are in the GUI process.
    gl = [os.path.basename(p) for p in results["gl"]]
    assert any(n.startswith(("swrast_dri", "libGLX_mesa")) for n in gl), gl
    assert any(n.startswith("libLLVM") for n in gl), gl

    assert results["retrieve"]["features"] == 5 and os.path.isfile(paths["hits"]), results["retrieve"]
    assert results["segment"]["features"] > 0 and os.path.isfile(paths["segments"]), results["segment"]
    assert os.path.isfile(paths["mask"]), results["segment"]
    assert results["index_archive"] == {"tiles": 40, "features": 3}, results["index_archive"]

    assert [os.path.basename(p) for p in run.screenshots] == ["1-raster-loaded.png", "2-after-runs.png"]
    for png in run.screenshots:  # the map canvas shows the raster (and then the results)
        assert drawn(png, results["canvas_in_screenshot"][os.path.basename(png)[:-4]]), png
    # The models ran in the worker: the GUI process never imported torch (nor the engine).
    assert not results["torch_imported"], results["modules"]
    assert results["modules"] == [], results["modules"]
