"""geovl:index_archive through processing.run: a folder on the local Ray instance the
runtime starts, raster layers in the runtime's own process, the archive given one way
only, and a GeoVL server refused with a sentence."""
from __future__ import annotations

import os

import numpy as np
import pytest
from qgis.core import QgsProcessingException, QgsRasterLayer, QgsVectorLayer
from rasterio.transform import from_origin

from ..conftest import write_raster


def write_archive(folder, count: int = 2) -> list[str]:
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(3)
    return [write_raster(os.path.join(folder, f"sheet{i}.tif"), rng.integers(0, 255, (3, 128, 128), dtype=np.uint8),
                         transform=from_origin(500_000.0 + 128 * i, 4_650_000.0, 1.0, 1.0)) for i in range(count)]


def run(model, **parameters):
    import processing
    return processing.run("geovl:index_archive", {"MODEL": model, "TILE_SIZE": 64, "QUERY": "a field", "TOP_K": 8,
                                                  "OUTPUT": "memory:", **parameters})


def test_a_folder_on_the_local_ray_instance(plugin, tiny_clip_dir, tmp_path, cache_dir):
    rasters = write_archive(tmp_path / "sheets")
    index = str(tmp_path / "archive.gpkg")
    result = run(tiny_clip_dir, FOLDER=str(tmp_path / "sheets"), OUTPUT_INDEX=index, WORKERS=1)
    assert (result["TILE_COUNT"], result["RASTER_COUNT"]) == (8, 2) and result["OUTPUT_INDEX"] == index
    layer = result["OUTPUT"]
    assert isinstance(layer, QgsVectorLayer) and layer.featureCount() == 8
    assert layer.crs().authid() == "EPSG:32633"
    features = sorted(layer.getFeatures(), key=lambda f: f["rank"])
    assert [f["rank"] for f in features] == list(range(1, 9))
    assert {f["raster"] for f in features} == set(rasters) and {f["name"] for f in features} == {"sheet0.tif",
                                                                                                  "sheet1.tif"}
    for feature in features:      # each footprint is its tile of its raster
        raster = QgsRasterLayer(feature["raster"], "sheet", "gdal")
        x0 = raster.extent().xMinimum() + 64 * feature["tile_col"]
        y1 = raster.extent().yMaximum() - 64 * feature["tile_row"]
        assert feature.geometry().boundingBox().toString(1) == f"{x0:.1f},{y1 - 64:.1f} : {x0 + 64:.1f},{y1:.1f}"
    view = QgsVectorLayer(f"{index}|layername=archive_tiles", "tiles", "ogr")
    assert view.isValid() and view.featureCount() == 8 and {f["raster"] for f in view.getFeatures()} == set(rasters)
    view = None


def test_a_second_ray_job_finds_the_instance_the_first_started(plugin, tiny_clip_dir, tmp_path, cache_dir):
    """The runtime runs each job in a thread of its own, and a local Ray instance dies with
    the thread that started it (Linux's parent-death signal): the second job would find
    it gone and take the runtime down."""
    for run_number in range(2):
        write_archive(tmp_path / f"sheets{run_number}")
        result = run(tiny_clip_dir, FOLDER=str(tmp_path / f"sheets{run_number}"), WORKERS=1)
        assert result["TILE_COUNT"] == 8


def test_raster_layers_in_the_runtime_itself(plugin, tiny_clip_dir, tmp_path, cache_dir):
    rasters = write_archive(tmp_path / "sheets", 3)
    layers = [QgsRasterLayer(path, os.path.basename(path), "gdal") for path in rasters]
    result = run(tiny_clip_dir, LAYERS=layers, RAY_ADDRESS="in-process", TOP_K=12)
    assert (result["TILE_COUNT"], result["RASTER_COUNT"]) == (12, 3)
    assert {f["raster"] for f in result["OUTPUT"].getFeatures()} == set(rasters)
    layers = None


def test_the_archive_is_given_one_way(plugin, tiny_clip_dir, tmp_path, cache_dir):
    write_archive(tmp_path / "sheets", 1)
    listing = tmp_path / "list.txt"
    listing.write_text("sheets/sheet0.tif\n")
    with pytest.raises(QgsProcessingException, match="Give the archive one way"):
        run(tiny_clip_dir, INPUT=str(listing), FOLDER=str(tmp_path / "sheets"))
    with pytest.raises(QgsProcessingException, match="Give the archive one way"):
        run(tiny_clip_dir)
    missing = tmp_path / "missing.txt"
    missing.write_text("sheets/sheet9.tif\n")
    with pytest.raises(QgsProcessingException, match="sheet9.tif"):
        run(tiny_clip_dir, INPUT=str(missing), RAY_ADDRESS="in-process")


def test_a_geovl_server_is_refused(plugin, tiny_clip_dir, tmp_path, cache_dir, monkeypatch):
    write_archive(tmp_path / "sheets", 1)
    monkeypatch.setenv("GEOVL_SERVER", "http://127.0.0.1:9")
    monkeypatch.setenv("GEOVL_SERVER_TOKEN", "x" * 32)
    with pytest.raises(QgsProcessingException, match="Archive jobs run on Ray, not on a GeoVL server"):
        run(tiny_clip_dir, FOLDER=str(tmp_path / "sheets"))


def test_segmenting_sheets_with_a_prompt_layer(plugin, tiny_sam_ckpt, tmp_path, cache_dir):
    import processing
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY

    sheets = write_archive(tmp_path / "sheets", 3)
    prompts = QgsVectorLayer("Point?crs=EPSG:32633&field=class:string", "prompts", "memory")
    on_sheets = [(500_040.5, 4_649_960.5), (500_128.0 + 70.5, 4_649_930.5)]     # on sheets 0 and 1, none on 2
    for x, y in on_sheets:
        feature = QgsFeature(prompts.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        feature.setAttributes(["road"])
        prompts.dataProvider().addFeature(feature)
    result = processing.run("geovl:segment_archive", {
        "FOLDER": str(tmp_path / "sheets"), "PROMPTS": prompts, "CLASS_FIELD": "class", "MODEL": tiny_sam_ckpt,
        "MIN_AREA": 0.0, "OUTPUT": "memory:", "WORKERS": 1})
    layer = result["OUTPUT"]
    assert result["RASTER_COUNT"] == 3 and layer.crs().authid() == "EPSG:32633"
    found = list(layer.getFeatures())
    assert found and {f["raster"] for f in found} <= set(sheets[:2]) and {f["class"] for f in found} == {"road"}
    for feature in found:      # each polygon lies on its sheet and holds its prompt
        sheet = QgsRasterLayer(feature["raster"], "sheet", "gdal")
        assert sheet.extent().contains(feature.geometry().boundingBox())
    assert {f["prompt_id"] for f in found} <= {1, 2}
    sheet = None
    prompts = None
