"""geovl:retrieve refuses bad input with a sentence the user can act on, and writes nothing."""
from __future__ import annotations

import numpy as np
import pytest
from qgis.core import (QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsFeature, QgsGeometry, QgsProject,
                       QgsProcessingException, QgsRectangle, QgsVectorLayer)

from ..conftest import write_raster
from .conftest import partial_files, tile_bounds


def run_retrieve(raster, model, output, **extra):
    import processing

    params = {"INPUT": raster, "QUERY": "a harbour", "MODEL": model, "TILE_SIZE": 64, "OUTPUT": output, **extra}
    return processing.run("geovl:retrieve", params)


def assert_refused(tmp_path, cache_dir, raster, model, phrase, **extra):
    out = tmp_path / "out.gpkg"
    with pytest.raises(QgsProcessingException, match=phrase):
        run_retrieve(raster, model, str(out), **extra)
    assert not out.exists()
    assert partial_files(tmp_path) == []
    index_dir = cache_dir / "retrieval"
    assert not index_dir.exists() or not any(index_dir.glob("*.gpkg"))


def test_raster_without_crs(plugin, tiny_clip_dir, tmp_path, cache_dir):
    """A GeoTIFF without a CRS is refused with a hint to assign one."""
    raster = write_raster(tmp_path / "nocrs.tif", np.full((3, 80, 80), 100, np.uint8), crs=None)
    assert_refused(tmp_path, cache_dir, raster, tiny_clip_dir, "no coordinate reference system")


def test_no_query_and_no_query_layer(plugin, tiny_clip_dir, rgb_raster, tmp_path, cache_dir):
    """An empty query without a query layer asks for one of the two."""
    assert_refused(tmp_path, cache_dir, rgb_raster, tiny_clip_dir, r"Give a query text \(QUERY\)", QUERY="  ")


def test_extent_outside_raster(plugin, tiny_clip_dir, rgb_raster, tmp_path, cache_dir):
    """An extent away from the raster says it does not overlap."""
    assert_refused(tmp_path, cache_dir, rgb_raster, tiny_clip_dir, "does not overlap the raster",
                   EXTENT="0,10,0,10 [EPSG:32633]")


def test_all_nodata_raster(plugin, tiny_clip_dir, tmp_path, cache_dir):
    """A raster of nodata only has nothing to index."""
    raster = write_raster(tmp_path / "empty.tif", np.zeros((3, 100, 100), np.uint8), nodata=0)
    assert_refused(tmp_path, cache_dir, raster, tiny_clip_dir, "nothing to index")


@pytest.mark.parametrize("model, phrase", [
    ("no-such-model", "Unknown model 'no-such-model'"),
    ("/nonexistent/dir/model.pt", "not an existing file or folder"),
])
def test_unknown_model(plugin, rgb_raster, tmp_path, cache_dir, model, phrase):
    """An unknown preset name or a missing path names the problem."""
    assert_refused(tmp_path, cache_dir, rgb_raster, model, phrase)


def test_corrupt_checkpoint(plugin, rgb_raster, tmp_path, cache_dir):
    """Random bytes in a .pt file are reported as an unreadable checkpoint."""
    checkpoint = tmp_path / "x.pt"
    checkpoint.write_bytes(np.random.default_rng(0).bytes(4096))
    assert_refused(tmp_path, cache_dir, rgb_raster, str(checkpoint), "Cannot read the checkpoint")


def test_model_that_is_not_an_image_text_embedder(plugin, rgb_raster, tmp_path, cache_dir):
    """A saved ViTModel folder is refused as not an image-text embedder."""
    from transformers import ViTConfig, ViTModel

    folder = tmp_path / "vit"
    ViTModel(ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                       image_size=32, patch_size=16)).save_pretrained(folder)
    assert_refused(tmp_path, cache_dir, rgb_raster, str(folder), "not an image-text embedder")


def test_band_that_does_not_exist(plugin, tiny_clip_dir, rgb_raster, tmp_path, cache_dir):
    """BANDS=[7] on a 3-band raster is refused."""
    assert_refused(tmp_path, cache_dir, rgb_raster, tiny_clip_dir, r"\[7\] do not exist", BANDS=[7])


def test_raster_smaller_than_one_tile(plugin, tiny_clip_dir, tmp_path, cache_dir):
    """A 40 x 30 px raster with 64 px tiles gives exactly one (padded) tile."""
    data = np.random.default_rng(3).integers(0, 255, (3, 30, 40), dtype=np.uint8)
    raster = write_raster(tmp_path / "small.tif", data)
    out = str(tmp_path / "out.gpkg")
    run_retrieve(raster, tiny_clip_dir, out)
    layer = QgsVectorLayer(out, "out", "ogr")
    assert layer.isValid() and layer.featureCount() == 1
    feature = next(layer.getFeatures())
    assert (feature["rank"], feature["tile_row"], feature["tile_col"]) == (1, 0, 0)


def test_query_layer_in_another_crs(plugin, tiny_clip_dir, rgb_raster, tmp_path, cache_dir):
    """A query polygon in EPSG:4326 is reprojected to the raster: its own tile ranks first."""
    row, col = 1, 2
    xmin, ymin, xmax, ymax = tile_bounds(row, col)
    # A quarter pixel inside the tile, so that coordinate round-off in the 32633 -> 4326 -> 32633
    # round trip cannot make the example window grow by a pixel.
    polygon = QgsGeometry.fromRect(QgsRectangle(xmin + 0.25, ymin + 0.25, xmax - 0.25, ymax - 0.25))
    to_wgs84 = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:32633"),
                                      QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
    assert polygon.transform(to_wgs84) == 0
    assert abs(polygon.boundingBox().xMinimum() - 15.0) < 1  # UTM 33N: longitudes around 15 degrees
    layer = QgsVectorLayer("Polygon?crs=EPSG:4326", "examples", "memory")
    feature = QgsFeature()
    feature.setGeometry(polygon)
    assert layer.dataProvider().addFeatures([feature])[0]

    out = str(tmp_path / "out.gpkg")
    run_retrieve(rgb_raster, tiny_clip_dir, out, QUERY="", QUERY_LAYER=layer, TOP_K=3)
    hits = sorted(QgsVectorLayer(out, "out", "ogr").getFeatures(), key=lambda f: f["rank"])
    assert len(hits) == 3
    assert (hits[0]["tile_row"], hits[0]["tile_col"]) == (row, col)
    assert hits[0]["score"] == pytest.approx(1.0, abs=1e-2)
    assert hits[0]["query"] == "like 1 feature(s) of the query layer"
