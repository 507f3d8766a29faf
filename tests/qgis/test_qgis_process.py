"""The deployed plugin under qgis_process: system Python, the models in the runtime the
profile's geovl/runtime setting names; and the ZIP of make package in a clean profile."""
from __future__ import annotations

import os

import numpy as np
import pytest
from qgis.core import QgsVectorLayer

from .conftest import QGIS_PROCESS, qgis_process

pytestmark = pytest.mark.skipif(not os.access(QGIS_PROCESS, os.X_OK), reason="qgis_process is not installed")


def test_plugins_lists_geovl(home):
    """`qgis_process plugins` lists geovl as a loaded plugin with a Processing provider."""
    done = qgis_process(home, "plugins")
    assert done.returncode == 0, done.stderr
    assert any(line.split() == ["*", "geovl"] for line in done.stdout.splitlines()), done.stdout


def test_unknown_model_fails_with_a_sentence(home, rgb_raster, tmp_path):
    """MODEL=no-such-model exits non-zero with the 'Unknown model' sentence and no traceback."""
    out = tmp_path / "out.gpkg"
    done = qgis_process(home, "run", "geovl:retrieve", "--", f"INPUT={rgb_raster}", "QUERY=a harbour",
                        "MODEL=no-such-model", "TILE_SIZE=64", f"OUTPUT={out}")
    text = done.stdout + done.stderr
    assert done.returncode != 0, text
    # Reaching the model resolver means the job ran in the runtime that deploy.py wrote into
    # the geovl/runtime setting (the system Python has no torch, rasterio or shapely).
    assert "Unknown model 'no-such-model'" in text
    assert "Traceback" not in text
    assert not out.exists()


def test_retrieve_runs_under_qgis_process(home, rgb_raster, tiny_clip_dir, qgis_app, tmp_path):
    """qgis_process runs geovl:retrieve with the deployed plugin and writes 10 matching tiles."""
    out = tmp_path / "out.gpkg"
    done = qgis_process(home, "run", "geovl:retrieve", "--", f"INPUT={rgb_raster}", "QUERY=a harbour",
                        f"MODEL={tiny_clip_dir}", "TILE_SIZE=64", f"OUTPUT={out}")
    assert done.returncode == 0, done.stdout + done.stderr
    layer = QgsVectorLayer(str(out), "out", "ogr")
    assert layer.isValid() and layer.featureCount() == 10
    assert layer.crs().authid() == "EPSG:32633"


def test_segment_runs_under_qgis_process(home, tiny_sam_ckpt, tiny_sam_factory, plugin, tmp_path):
    """qgis_process --json runs geovl:segment with a GeoJSON prompt layer (EPSG:4326) over a
    raster in EPSG:32631 and writes polygons, class raster and centre lines to files that
    QGIS opens; the class raster is SamPredictor's mask for the two points, closed."""
    import json

    import rasterio
    from qgis.core import (QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsPointXY, QgsProject,
                           QgsRasterLayer)

    from ..models.conftest import scene
    from .conftest import to_map, write_rgb
    from .test_segment_processing import best_mask, closed, predictor

    image = scene(256, 256, seed=5)
    raster = write_rgb(tmp_path / "input.tif", image)
    to_wgs84 = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:32631"),
                                      QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
    lonlat = [to_wgs84.transform(QgsPointXY(*to_map(*p))) for p in [(100.5, 80.5), (200.5, 30.5)]]
    prompts = tmp_path / "prompts.geojson"
    prompts.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"label": label, "cls": "road"},
         "geometry": {"type": "Point", "coordinates": [p.x(), p.y()]}} for p, label in zip(lonlat, [1, 0])]}))
    out, mask, lines = (tmp_path / "segments.gpkg", tmp_path / "classes.tif", tmp_path / "lines.gpkg")
    args = [f"INPUT={raster}", f"PROMPTS={prompts}", "LABEL_FIELD=label", "CLASS_FIELD=cls",
            f"MODEL={tiny_sam_ckpt}", "REFINE=false", "PRECISION=1"]  # fp32, as SamPredictor below
    done = qgis_process(home, "--json", "run", "geovl:segment", "--", *args, f"OUTPUT={out}",
                        f"OUTPUT_MASK={mask}", f"OUTPUT_CENTERLINES={lines}")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout[done.stdout.index("{"):])
    assert report["algorithm_details"]["id"] == "geovl:segment"
    assert report["results"] == {"OUTPUT": str(out), "OUTPUT_MASK": str(mask), "OUTPUT_CENTERLINES": str(lines)}
    assert "1 tile(s) decoded, 1 encoded in this run, 1 mask(s)." in report["log"]["info"]

    polygons = QgsVectorLayer(str(out), "segments", "ogr")
    assert polygons.isValid() and polygons.crs().authid() == "EPSG:32631"
    features = list(polygons.getFeatures())
    # prompt_id is the prompt's feature id: OGR numbers GeoJSON features from 0.
    assert features and {(f["class"], f["prompt_id"]) for f in features} == {("road", 0)}
    assert QgsVectorLayer(str(lines), "lines", "ogr").isValid()
    classes = QgsRasterLayer(str(mask), "classes", "gdal")
    assert classes.isValid() and classes.crs().authid() == "EPSG:32631"

    reference = predictor(tiny_sam_ckpt, tiny_sam_factory, image)
    road, _ = best_mask(reference, False, point_coords=[[100.5, 80.5], [200.5, 30.5]], point_labels=[1, 0])
    assert 0 < road.sum() < road.size, "the reference mask should be a real shape for this test to bite"
    with rasterio.open(mask) as written:
        assert written.tags()["GEOVL_CLASSES"] == '{"1": "road"}'
        np.testing.assert_array_equal(written.read(1), closed(road).astype(np.uint8))


def test_ask_runs_under_qgis_process(home, tiny_florence2_dir, tmp_path):
    """qgis_process --json runs geovl:ask: objects and tiles as files QGIS opens, the
    answer in the results, the report on disk."""
    import json

    from ..models.conftest import scene
    from .conftest import write_rgb

    raster = write_rgb(tmp_path / "input.tif", scene(64, 128, seed=5))
    out, tiles, report = tmp_path / "objects.gpkg", tmp_path / "tiles.gpkg", tmp_path / "report.html"
    done = qgis_process(home, "--json", "run", "geovl:ask", "--", f"INPUT={raster}", "QUESTION=Where are the ships?",
                        f"MODEL={tiny_florence2_dir}", "MAX_NEW_TOKENS=30", f"OUTPUT={out}", f"OUTPUT_TILES={tiles}",
                        f"OUTPUT_REPORT={report}")
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(done.stdout[done.stdout.index("{"):])["results"]
    assert {k: results[k] for k in ("OUTPUT", "OUTPUT_TILES", "OUTPUT_REPORT")} == {
        "OUTPUT": str(out), "OUTPUT_TILES": str(tiles), "OUTPUT_REPORT": str(report)}
    assert results["OUTPUT_ANSWER"].strip()
    assert QgsVectorLayer(str(out), "objects", "ogr").isValid()
    assert QgsVectorLayer(str(tiles), "tiles", "ogr").featureCount() == 2
    assert "<html>" in report.read_text(encoding="utf-8").lower().replace("<!doctype html>", "")


def test_the_zip_in_a_clean_profile_says_how_to_install_the_runtime(tmp_path, rgb_raster):
    """make package's ZIP unzipped into a clean profile (no runtime anywhere): the plugin
    loads, and a run says where to press Install instead of failing on imports."""
    import subprocess
    import sys
    import zipfile

    from .conftest import REPO_ROOT

    done = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "scripts", "package.py")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    archive = max((os.path.join(REPO_ROOT, "dist", f) for f in os.listdir(os.path.join(REPO_ROOT, "dist"))),
                  key=os.path.getmtime)
    home = tmp_path / "home"
    profile = home / ".local" / "share" / "QGIS" / "QGIS3" / "profiles" / "default"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(profile / "python" / "plugins")
    (profile / "QGIS").mkdir(parents=True)
    (profile / "QGIS" / "QGIS3.ini").write_text("[PythonPlugins]\ngeovl=true\n")
    assert (profile / "python" / "plugins" / "geovl" / "runtime" / "install.py").is_file()

    out = tmp_path / "out.gpkg"
    done = qgis_process(home, "run", "geovl:retrieve", "--", f"INPUT={rgb_raster}", "QUERY=a harbour",
                        f"OUTPUT={out}")
    text = done.stdout + done.stderr
    assert done.returncode != 0, text
    assert "GeoVL's runtime is not installed: open Plugins › GeoVL › Runtime… and press Install" in text
    assert "Traceback" not in text and not out.exists()
    assert not (profile / "geovl-runtime").exists()   # nothing installed behind the user's back
