"""geovl:retrieve and geovl:segment as children of Processing models, saved to .model3 and run headless."""
from __future__ import annotations

import pytest
from qgis.core import (QgsGeometry, QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                       QgsProcessingModelChildParameterSource, QgsProcessingModelOutput, QgsProcessingModelParameter,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterRasterLayer, QgsRectangle,
                       QgsVectorLayer, QgsWkbTypes)

TOP_K = 6


def add_centroids(model: QgsProcessingModelAlgorithm, child_id: str, description: str) -> QgsProcessingModelAlgorithm:
    """native:centroids of the child's OUTPUT, as the model's output "points"."""
    centroids = QgsProcessingModelChildAlgorithm("native:centroids")
    centroids.setChildId("centroids")
    centroids.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromChildOutput(child_id, "OUTPUT")])
    centroids.addParameterSources("ALL_PARTS", [QgsProcessingModelChildParameterSource.fromStaticValue(False)])
    output = QgsProcessingModelOutput("points", description)
    output.setChildId("centroids")
    output.setChildOutputName("OUTPUT")
    centroids.setModelOutputs({"points": output})
    model.addChildAlgorithm(centroids)
    model.updateDestinationParameters()
    return model


def build_model(model_dir: str) -> QgsProcessingModelAlgorithm:
    model = QgsProcessingModelAlgorithm("geovl_centroids", "tests")
    model.addModelParameter(QgsProcessingParameterRasterLayer("raster", "Raster"), QgsProcessingModelParameter("raster"))

    retrieve = QgsProcessingModelChildAlgorithm("geovl:retrieve")
    retrieve.setChildId("retrieve")
    static = QgsProcessingModelChildParameterSource.fromStaticValue
    retrieve.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromModelParameter("raster")])
    retrieve.addParameterSources("QUERY", [static("storage tanks next to a harbour")])
    retrieve.addParameterSources("MODEL", [static(model_dir)])
    retrieve.addParameterSources("TILE_SIZE", [static(64)])
    retrieve.addParameterSources("TOP_K", [static(TOP_K)])
    model.addChildAlgorithm(retrieve)

    return add_centroids(model, "retrieve", "Centroids of the matching tiles")


def test_model_round_trip_and_run(plugin, tiny_clip_dir, rgb_raster, cache_dir, tmp_path):
    """A model retrieve -> centroids survives toFile/fromFile and yields TOP_K points in EPSG:32633."""
    import processing

    path = str(tmp_path / "geovl_centroids.model3")
    assert build_model(tiny_clip_dir).toFile(path)
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(path)
    assert set(model.childAlgorithms()) == {"retrieve", "centroids"}

    out = str(tmp_path / "points.gpkg")
    result = processing.run(model, {"raster": rgb_raster, "centroids:points": out})
    assert result["centroids:points"] == out
    points = QgsVectorLayer(out, "points", "ogr")
    assert points.isValid()
    assert points.geometryType() == QgsWkbTypes.GeometryType.PointGeometry
    assert points.crs().authid() == "EPSG:32633"
    assert points.featureCount() == TOP_K
    ranks = sorted(f["rank"] for f in points.getFeatures())
    assert ranks == list(range(1, TOP_K + 1))
    for f in points.getFeatures():  # the centre of tile (row, col) of 64 m tiles from (500000, 4650000)
        p = f.geometry().asPoint()
        assert (p.x(), p.y()) == pytest.approx((500_032.0 + 64 * f["tile_col"], 4_649_968.0 - 64 * f["tile_row"]))


def build_segment_model(checkpoint: str) -> QgsProcessingModelAlgorithm:
    """raster + prompts -> geovl:segment -> native:centroids."""
    model = QgsProcessingModelAlgorithm("geovl_segment_centroids", "tests")
    model.addModelParameter(QgsProcessingParameterRasterLayer("raster", "Raster"), QgsProcessingModelParameter("raster"))
    model.addModelParameter(QgsProcessingParameterFeatureSource("prompts", "Prompts"),
                            QgsProcessingModelParameter("prompts"))
    static = QgsProcessingModelChildParameterSource.fromStaticValue
    segment = QgsProcessingModelChildAlgorithm("geovl:segment")
    segment.setChildId("segment")
    segment.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromModelParameter("raster")])
    segment.addParameterSources("PROMPTS", [QgsProcessingModelChildParameterSource.fromModelParameter("prompts")])
    segment.addParameterSources("MODEL", [static(checkpoint)])
    segment.addParameterSources("REFINE", [static(False)])
    model.addChildAlgorithm(segment)

    return add_centroids(model, "segment", "Centroids of the segments")


def test_segment_model_round_trip_and_run(plugin, whole_tile_sam_ckpt, cache_dir, tmp_path):
    """segment -> centroids as a .model3: a box over tiles 0 and 1 of a 256 x 768 px raster
    (whole-tile masks) is one polygon of 256 x 128 m, whose centroid comes out of the model."""
    import processing

    from ..models.conftest import scene
    from .conftest import ORIGIN_X, ORIGIN_Y, prompt_layer, to_map, write_rgb

    raster = write_rgb(tmp_path / "three_tiles.tif", scene(256, 768, seed=1) | 1)
    box = QgsGeometry.fromRect(QgsRectangle(*to_map(100, 200), *to_map(400, 20)))
    path = str(tmp_path / "geovl_segment_centroids.model3")
    assert build_segment_model(whole_tile_sam_ckpt).toFile(path)
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(path)
    assert set(model.childAlgorithms()) == {"segment", "centroids"}

    out = str(tmp_path / "points.gpkg")
    result = processing.run(model, {"raster": raster, "prompts": prompt_layer("Polygon", [(box, 1, "road")]),
                                    "centroids:points": out})
    assert result["centroids:points"] == out
    points = QgsVectorLayer(out, "points", "ogr")
    assert points.isValid() and points.crs().authid() == "EPSG:32631"
    assert points.geometryType() == QgsWkbTypes.GeometryType.PointGeometry
    features = list(points.getFeatures())
    assert len(features) == 1
    assert (features[0]["class"], features[0]["prompt_id"]) == ("object", 1)
    assert features[0]["area_m2"] == pytest.approx(256 * 128)
    p = features[0].geometry().asPoint()
    assert (p.x(), p.y()) == pytest.approx((ORIGIN_X + 128, ORIGIN_Y - 64))
