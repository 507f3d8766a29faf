"""geovl:change through processing.run and qgis_process: layers in the right place, the
caption as a string output, model captions in the attribute table, bad input, cancel."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from qgis.core import (QgsProcessingException, QgsProcessingFeedback, QgsRasterLayer,
                       QgsVectorLayer)
from qgis.PyQt.QtGui import QTextDocument

from ..models.conftest import BUILT, PIXEL, REMOVED, SIZE, pair_arrays, to_map, write_pair
from .conftest import QGIS_PROCESS, partial_files, qgis_process

FIELDS = ["id", "area_m2", "magnitude", "location", "facts", "caption", "before_label", "after_label", "method",
          "model", "source", "version"]


def run_change(before, after, feedback=None, **extra):
    import processing

    params = {"BEFORE": before, "AFTER": after, "DEVICE": 1, "OUTPUT": "memory:", **extra}
    return processing.run("geovl:change", params, feedback=feedback)


@pytest.fixture
def pair(tmp_path):
    return write_pair(tmp_path, *pair_arrays())


def test_change_regions_rasters_caption_and_report(plugin, pair, tmp_path, cache_dir):
    paths = {"OUTPUT_MAGNITUDE": str(tmp_path / "magnitude.tif"), "OUTPUT_MASK": str(tmp_path / "mask.tif"),
             "OUTPUT_REPORT": str(tmp_path / "report.html")}
    result = run_change(*pair, **paths)
    regions = result["OUTPUT"]
    assert regions.crs().authid() == "EPSG:32631" and regions.fields().names() == FIELDS
    assert regions.featureCount() == 3
    features = sorted(regions.getFeatures(), key=lambda f: f["id"])
    for rect in (to_map(*r) for r in BUILT + [REMOVED]):
        best = max(features, key=lambda f: f.geometry().intersection(_qgs(rect)).area())
        overlap = best.geometry().intersection(_qgs(rect)).area() / best.geometry().combine(_qgs(rect)).area()
        assert overlap > 0.85
        assert best["area_m2"] == pytest.approx(best.geometry().area())
        assert best["method"] == "cva" and best["caption"] == best["facts"] and best["model"] == ""
        assert best["magnitude"] > 1 and ("brighter after" in best["facts"] or "darker after" in best["facts"])
    assert result["OUTPUT_CAPTION"].startswith("3 change region(s) covering")
    for key in ("OUTPUT_MAGNITUDE", "OUTPUT_MASK"):
        layer = QgsRasterLayer(result[key], key)
        assert layer.isValid() and layer.crs().authid() == "EPSG:32631"
        assert (layer.width(), layer.height()) == (SIZE, SIZE)
        assert layer.extent().xMinimum() == pytest.approx(448_000.0)
    document = QTextDocument()
    document.setHtml(open(result["OUTPUT_REPORT"], encoding="utf-8").read())
    assert result["OUTPUT_CAPTION"].splitlines()[0] in document.toPlainText()


def _qgs(polygon):
    from qgis.core import QgsGeometry
    return QgsGeometry.fromWkt(polygon.wkt)


def test_model_captions_land_in_the_attribute_table(plugin, pair, memorised_change_qwen_dir, cache_dir):
    result = run_change(*pair, CAPTION_MODEL=memorised_change_qwen_dir, MAX_CAPTIONS=2)
    features = sorted(result["OUTPUT"].getFeatures(), key=lambda f: f["id"])
    for feature in features[:2]:
        assert feature["caption"] == "buildings were built on bare land"
        assert (feature["before_label"], feature["after_label"]) == ("bare land", "buildings")
        assert feature["model"] == memorised_change_qwen_dir
    assert features[2]["caption"] == features[2]["facts"] and not features[2]["before_label"]
    assert result["OUTPUT_CAPTION"].splitlines()[-1] == f"{memorised_change_qwen_dir}: buildings were built on bare land"


def test_identical_rasters_give_an_empty_layer_and_a_no_change_caption(plugin, tmp_path, cache_dir):
    before, _ = pair_arrays()
    b, a = write_pair(tmp_path, before, before)
    result = run_change(b, a, OUTPUT_MASK=str(tmp_path / "mask.tif"))
    assert result["OUTPUT"].featureCount() == 0
    assert result["OUTPUT_CAPTION"].startswith("No change found")


@pytest.mark.parametrize("after_bands, extra, message", [
    (3, {}, "BEFORE has 4 band(s) and AFTER has 3: choose the bands to compare"),
    (4, {"THRESHOLD": -1}, None),
])
def test_bad_input_is_a_sentence(plugin, tmp_path, cache_dir, after_bands, extra, message):
    before, after = pair_arrays()
    b, a = write_pair(tmp_path, before, after[:after_bands])
    if message is None:   # a negative threshold is refused by the parameter itself
        with pytest.raises(QgsProcessingException):
            run_change(b, a, **extra)
        return
    with pytest.raises(QgsProcessingException, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_change(b, a, **extra)


def test_rasters_that_do_not_overlap_are_refused(plugin, tmp_path, cache_dir):
    from rasterio.transform import from_origin
    from tests.conftest import write_raster

    before, after = pair_arrays()
    b = write_raster(tmp_path / "b.tif", before, crs="EPSG:32631", transform=from_origin(448_000, 5_412_000, 0.5, 0.5))
    a = write_raster(tmp_path / "a.tif", after, crs="EPSG:32631", transform=from_origin(458_000, 5_412_000, 0.5, 0.5))
    with pytest.raises(QgsProcessingException, match="BEFORE and AFTER do not overlap"):
        run_change(b, a)


def test_cancel_leaves_no_outputs(plugin, pair, tmp_path, cache_dir):
    feedback = QgsProcessingFeedback()
    feedback.progressChanged.connect(lambda p: feedback.cancel() if p > 5 else None)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(QgsProcessingException, match="cancelled"):
        run_change(*pair, feedback=feedback, TILE_SIZE=64, OUTPUT_MAGNITUDE=str(out / "m.tif"),
                   OUTPUT_MASK=str(out / "k.tif"), OUTPUT_REPORT=str(out / "r.html"))
    assert list(out.iterdir()) == [] and partial_files(tmp_path) == []


@pytest.mark.skipif(not os.access(QGIS_PROCESS, os.X_OK), reason="qgis_process is not installed")
def test_change_runs_under_qgis_process(home, pair, tmp_path, qgis_app):
    out = tmp_path / "regions.gpkg"
    done = qgis_process(home, "--json", "run", "geovl:change", "--", f"BEFORE={pair[0]}", f"AFTER={pair[1]}",
                        "METHOD=1", f"OUTPUT={out}", f"OUTPUT_MASK={tmp_path / 'mask.tif'}")
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(done.stdout)["results"]
    assert results["OUTPUT_CAPTION"].startswith("3 change region(s)")
    layer = QgsVectorLayer(str(out), "regions", "ogr")
    assert layer.isValid() and layer.featureCount() == 3 and layer.crs().authid() == "EPSG:32631"
    assert {f["method"] for f in layer.getFeatures()} == {"irmad"}
    assert all(f["magnitude"] > 0 and "after (" in f["facts"] for f in layer.getFeatures())
    total = sum(f["area_m2"] for f in layer.getFeatures())
    planted = sum((r1 - r0) * (c1 - c0) for r0, c0, r1, c1 in BUILT + [REMOVED]) * PIXEL ** 2
    assert total == pytest.approx(planted, rel=0.1)
    mask = QgsRasterLayer(str(tmp_path / "mask.tif"), "mask")
    assert mask.isValid() and np.isclose(mask.rasterUnitsPerPixelX(), PIXEL)
