"""How geovl:segment reads a label field's values (numbers or words) as object or background."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("value", [1, 1.0, "1", " 1.0 ", "true", "True", "yes", "fg", "Foreground", True])
def test_object_labels(value):
    from geovl.processing.segment import _label

    assert _label(value) == 1


@pytest.mark.parametrize("value", [0, 0.0, "0", "0.0", "false", "FALSE", "no", "bg", "background", False])
def test_background_labels(value):
    from geovl.processing.segment import _label

    assert _label(value) == 0


@pytest.mark.parametrize("value", [2, -1, "", "road", "0.5", None, "11"])
def test_anything_else_is_no_label(value):
    from geovl.processing.segment import _label

    assert _label(value) is None


def prompt_layer(kind: str, wkts: list[str | None], crs: str = "EPSG:32631", label: bool = False):
    """A memory layer of `kind` prompts (None: a feature without a geometry), with a `label`
    field of 1s if asked."""
    from qgis.core import QgsFeature, QgsGeometry, QgsVectorLayer

    layer = QgsVectorLayer(f"{kind}?crs={crs}" + ("&field=label:integer" if label else ""), "prompts", "memory")
    assert layer.isValid()
    features = []
    for wkt in wkts:
        feature = QgsFeature(layer.fields())
        if wkt:
            feature.setGeometry(QgsGeometry.fromWkt(wkt))
        if label:
            feature.setAttributes([1])
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    return layer


def read_prompts(layer, **parameters):
    """SegmentAlgorithm.prompts on `layer`, in the layer's CRS; (prompts, warnings)."""
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProject

    from geovl.processing.segment import SegmentAlgorithm

    class Warnings(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.warnings = []

        def pushWarning(self, text):
            self.warnings.append(text)

    context, feedback = QgsProcessingContext(), Warnings()
    context.setProject(QgsProject.instance())
    algorithm = SegmentAlgorithm()
    algorithm.initAlgorithm()
    prompts = algorithm.prompts({"PROMPTS": layer, **parameters}, context, layer.crs(), feedback)
    return prompts, feedback.warnings


def test_a_feature_without_geometry_is_skipped_and_the_rest_read(qgis_app):
    layer = prompt_layer("Point", [None, "POINT (10 20)", "POINT (30 40)"])
    prompts, warnings = read_prompts(layer)
    assert [(p["kind"], p["coords"], p["label"]) for p in prompts] == [
        ("point", ((10.0, 20.0),), 1), ("point", ((30.0, 40.0),), 1)]
    assert warnings == []
    layer = None


def test_a_line_is_its_vertices(qgis_app):
    layer = prompt_layer("LineString", ["LINESTRING (0 0, 5 5, 9 1)"])
    prompts, _ = read_prompts(layer)
    assert [(p["kind"], p["coords"]) for p in prompts] == [("line", ((0.0, 0.0), (5.0, 5.0), (9.0, 1.0)))]
    layer = None


def test_a_polygon_is_its_bounding_box(qgis_app):
    # its first two vertices do not span the box
    layer = prompt_layer("Polygon", ["POLYGON ((4 0, 6 0, 10 5, 6 9, 0 5, 4 0))"])
    prompts, _ = read_prompts(layer)
    assert [(p["kind"], p["coords"]) for p in prompts] == [("box", ((0.0, 0.0), (10.0, 9.0)))]
    layer = None


def test_the_parameters_users_get_by_default(qgis_app):
    """What the dialog and processing.run start from: refine on, the class raster made,
    centre lines not, spacing and simplification 0, and nothing below 0 accepted."""
    from geovl.processing.segment import SegmentAlgorithm

    algorithm = SegmentAlgorithm()
    algorithm.initAlgorithm()
    definition = algorithm.parameterDefinition
    assert definition("REFINE").defaultValue() is True
    assert definition("OUTPUT_MASK").createByDefault() and not definition("OUTPUT_CENTERLINES").createByDefault()
    assert definition("LINE_SPACING").defaultValue() == 0.0 and definition("SIMPLIFY").defaultValue() == 0.0
    for name in ("MIN_AREA", "SIMPLIFY", "LINE_SPACING"):
        assert definition(name).minimum() == 0.0, name
    assert definition("ROAD_CLASS").defaultValue() == "road"
