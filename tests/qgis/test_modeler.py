"""geovl:retrieve as a child of a Processing model, saved to .model3 and run headless."""
from __future__ import annotations

import pytest
from qgis.core import (QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                       QgsProcessingModelChildParameterSource, QgsProcessingModelOutput, QgsProcessingModelParameter,
                       QgsProcessingParameterRasterLayer, QgsVectorLayer, QgsWkbTypes)

TOP_K = 6


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

    centroids = QgsProcessingModelChildAlgorithm("native:centroids")
    centroids.setChildId("centroids")
    centroids.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromChildOutput("retrieve", "OUTPUT")])
    centroids.addParameterSources("ALL_PARTS", [static(False)])
    output = QgsProcessingModelOutput("points", "Centroids of the matching tiles")
    output.setChildId("centroids")
    output.setChildOutputName("OUTPUT")
    centroids.setModelOutputs({"points": output})
    model.addChildAlgorithm(centroids)
    model.updateDestinationParameters()
    return model


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
