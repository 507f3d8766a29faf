"""geovl:retrieve through processing.run: outputs, footprints, heatmap, index reuse, provider life cycle."""
from __future__ import annotations

import os

import pytest
from qgis.core import (QgsApplication, QgsGeometry, QgsProcessingFeedback, QgsRasterLayer, QgsRectangle,
                       QgsVectorLayer, QgsWkbTypes)

from .conftest import tile_bounds

ROWS, COLS = 4, 5  # rgb_raster is 200 x 300 px: 1 + ceil((200 - 64) / 64) rows, 1 + ceil((300 - 64) / 64) cols


def run_retrieve(raster, model, output, query="storage tanks next to a harbour", feedback=None, **extra):
    import processing

    params = {"INPUT": raster, "QUERY": query, "MODEL": model, "TILE_SIZE": 64, "OUTPUT": output, **extra}
    return processing.run("geovl:retrieve", params, feedback=feedback)


def check_hits(layer: QgsVectorLayer, raster: str, model: str, query: str, k: int) -> None:
    assert layer.isValid()
    assert layer.geometryType() == QgsWkbTypes.GeometryType.PolygonGeometry
    assert layer.crs().authid() == "EPSG:32633"
    names = layer.fields().names()
    assert {"rank", "score", "query", "model", "source", "tile_row", "tile_col"} <= set(names)
    features = sorted(layer.getFeatures(), key=lambda f: f["rank"])
    assert [f["rank"] for f in features] == list(range(1, k + 1))
    scores = [f["score"] for f in features]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= s <= 1.0 for s in scores)
    cells = set()
    for f in features:
        assert f["query"] == query and f["model"] == model
        assert os.path.realpath(f["source"]) == os.path.realpath(raster)
        row, col = f["tile_row"], f["tile_col"]
        assert 0 <= row < ROWS and 0 <= col < COLS
        cells.add((row, col))
        expected = QgsGeometry.fromRect(QgsRectangle(*tile_bounds(row, col)))
        assert f.geometry().isGeosEqual(expected), (row, col, f.geometry().asWkt())
    assert len(cells) == k


def test_memory_output_heatmap_and_index(plugin, tiny_clip_dir, rgb_raster, cache_dir, tmp_path):
    """A memory output holds TOP_K ranked tile footprints; heatmap and index match the tile grid."""
    heatmap = str(tmp_path / "heat.tif")
    result = run_retrieve(rgb_raster, tiny_clip_dir, "memory:", TOP_K=7, OUTPUT_HEATMAP=heatmap)
    layer = result["OUTPUT"]
    assert isinstance(layer, QgsVectorLayer) and layer.featureCount() == 7
    check_hits(layer, rgb_raster, tiny_clip_dir, "storage tanks next to a harbour", 7)

    assert result["OUTPUT_HEATMAP"] == heatmap
    raster = QgsRasterLayer(heatmap, "heat", "gdal")
    assert raster.isValid() and raster.crs().authid() == "EPSG:32633"
    assert (raster.width(), raster.height()) == (COLS, ROWS)
    assert raster.extent().xMinimum() == pytest.approx(500_000.0)
    assert raster.extent().yMaximum() == pytest.approx(4_650_000.0)

    index = result["OUTPUT_INDEX"]
    assert os.path.isfile(index) and os.path.realpath(index).startswith(os.path.realpath(cache_dir))
    tiles = QgsVectorLayer(f"{index}|layername=tiles", "tiles", "ogr")
    assert tiles.isValid() and tiles.featureCount() == ROWS * COLS


def test_gpkg_output_and_index_reuse(plugin, tiny_clip_dir, rgb_raster, cache_dir, tmp_path):
    """A GeoPackage output; a second query on the same raster reuses the index untouched."""
    out = str(tmp_path / "hits.gpkg")
    first = run_retrieve(rgb_raster, tiny_clip_dir, out)
    assert first["OUTPUT"] == out
    check_hits(QgsVectorLayer(out, "hits", "ogr"), rgb_raster, tiny_clip_dir, "storage tanks next to a harbour", 10)
    index = first["OUTPUT_INDEX"]
    mtime = os.stat(index).st_mtime_ns

    feedback = QgsProcessingFeedback()
    out2 = str(tmp_path / "hits2.gpkg")
    second = run_retrieve(rgb_raster, tiny_clip_dir, out2, query="a forest", feedback=feedback, TOP_K=3)
    assert second["OUTPUT_INDEX"] == index
    assert os.stat(index).st_mtime_ns == mtime
    assert "Reusing the tile index" in feedback.textLog()
    assert "(0 embedded in this run)" in feedback.textLog()
    check_hits(QgsVectorLayer(out2, "hits2", "ogr"), rgb_raster, tiny_clip_dir, "a forest", 3)


def test_provider_registered_removed_and_reloaded(plugin, qgis_iface):
    """unload() removes the 'geovl' provider; loading the plugin again registers it anew."""
    registry = QgsApplication.processingRegistry()
    plugin.unload()  # the session's plugin: registered again below
    try:
        reload_twice(registry, qgis_iface)
    finally:
        plugin.initProcessing()
    assert registry.providerById("geovl") is not None


def reload_twice(registry, qgis_iface) -> None:
    import geovl

    for _ in range(2):
        plugin = geovl.classFactory(qgis_iface)
        plugin.initProcessing()
        try:
            provider = registry.providerById("geovl")
            assert provider is not None
            assert registry.algorithmById("geovl:retrieve") is not None
        finally:
            plugin.unload()
        assert registry.providerById("geovl") is None
        assert registry.algorithmById("geovl:retrieve") is None


def example_layer(wkts: list[str]) -> QgsVectorLayer:
    """A query layer of the raster's CRS (EPSG:32633) holding `wkts`."""
    from qgis.core import QgsFeature

    kind = QgsGeometry.fromWkt(wkts[0]).type()
    name = {QgsWkbTypes.GeometryType.PointGeometry: "Point", QgsWkbTypes.GeometryType.LineGeometry: "LineString",
            QgsWkbTypes.GeometryType.PolygonGeometry: "Polygon"}[kind]
    layer = QgsVectorLayer(f"{name}?crs=EPSG:32633", "examples", "memory")
    features = []
    for text in wkts:
        feature = QgsFeature()
        feature.setGeometry(QgsGeometry.fromWkt(text))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    return layer


@pytest.mark.parametrize("wkts, tiling, expected", [
    # a point is one tile of the pixels the raster is read at, centred on it (1 m pixels here)
    (["POINT (500100 4649900)"], {"tile_size": 64, "resolution": 0.0}, [(500068, 4649868, 500132, 4649932)]),
    (["POINT (500100 4649900)"], {"tile_size": 0, "resolution": 0.0}, [(499988, 4649788, 500212, 4650012)]),
    (["POINT (500100 4649900)"], {"tile_size": 64, "resolution": 2.0}, [(500036, 4649836, 500164, 4649964)]),
    # lines with no width or no height are taken as points at their centre
    (["LINESTRING (500090 4649900, 500110 4649900)"], {"tile_size": 64, "resolution": 0.0},
     [(500068, 4649868, 500132, 4649932)]),
    (["LINESTRING (500100 4649890, 500100 4649910)"], {"tile_size": 64, "resolution": 0.0},
     [(500068, 4649868, 500132, 4649932)]),
    # an area is its own bounding box
    (["POLYGON ((500010 4649810, 500050 4649810, 500050 4649830, 500010 4649830, 500010 4649810))",
      "POLYGON ((500200 4649950, 500260 4649950, 500260 4649990, 500200 4649950))"],
     {"tile_size": 64, "resolution": 0.0}, [(500010, 4649810, 500050, 4649830), (500200, 4649950, 500260, 4649990)]),
])
def test_query_layer_examples_become_boxes(plugin, rgb_raster, wkts, tiling, expected):
    from qgis.core import QgsProcessingContext, QgsProject

    from geovl.processing.retrieve import RetrieveAlgorithm

    algorithm = RetrieveAlgorithm()
    algorithm.initAlgorithm()
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    examples = example_layer(wkts)
    boxes = algorithm._example_bounds({"QUERY_LAYER": examples}, context, QgsRasterLayer(rgb_raster, "rgb"), tiling)
    assert boxes == [pytest.approx(box) for box in expected]


def test_explicit_index_path_negative_query_and_bounds_of_top_k(plugin, tiny_clip_dir, rgb_raster, cache_dir,
                                                                  tmp_path):
    """OUTPUT_INDEX is written where it is asked for; NEGATIVE goes into each hit's
    provenance; TOP_K and BATCH_SIZE take 1 and refuse 0."""
    index = str(tmp_path / "my_index.gpkg")
    result = run_retrieve(rgb_raster, tiny_clip_dir, "memory:", TOP_K=1, BATCH_SIZE=1, NEGATIVE="open water",
                          OUTPUT_INDEX=index)
    assert result["OUTPUT_INDEX"] == index and os.path.isfile(index)
    (hit,) = result["OUTPUT"].getFeatures()
    assert hit["negative"] == "open water"
    for name in ("TOP_K", "BATCH_SIZE"):
        with pytest.raises(Exception, match=name):
            run_retrieve(rgb_raster, tiny_clip_dir, "memory:", **{name: 0})
