"""geovl:segment — prompted Segment Anything over a whole raster layer (GeoSAM-style)."""
from __future__ import annotations

import os

from qgis.core import (QgsCoordinateTransform, QgsCsException, QgsGeometry, QgsProcessing,
                       QgsProcessingException, QgsProcessingParameterBoolean, QgsProcessingParameterEnum,
                       QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterField, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterString, QgsWkbTypes)

from .base import GeoVLAlgorithm, make_fields
from .render import job_raster, layer_as_file
from .settings import cache_folder
from .styles import style_outputs

ALGORITHM_VERSION = "1"
DEFAULT_MODEL = "sam-vit-b"  # models.presets.DEFAULT_SEGMENTER; not imported so the plugin loads without torch
MODEL_TYPES = ["auto", "vit_b", "vit_l", "vit_h"]


class SegmentAlgorithm(GeoVLAlgorithm):
    PROMPTS = "PROMPTS"
    LABEL_FIELD = "LABEL_FIELD"
    CLASS_FIELD = "CLASS_FIELD"
    PRIOR = "PRIOR"
    TEXT = "TEXT"
    MODEL_TYPE = "MODEL_TYPE"
    REFINE = "REFINE"
    LINE_SPACING = "LINE_SPACING"
    MIN_AREA = "MIN_AREA"
    SIMPLIFY = "SIMPLIFY"
    OUTPUT_MASK = "OUTPUT_MASK"
    ROAD_CLASS = "ROAD_CLASS"
    OUTPUT_CENTERLINES = "OUTPUT_CENTERLINES"

    def name(self):
        return "segment"

    def displayName(self):
        return self.tr("Prompted segmentation (SAM)")

    def shortHelpString(self):
        return self.tr(
            "Segments objects such as roads and sidewalks with Segment Anything, over a whole raster layer.\n\n"
            "Prompts: a vector layer of points (click on the object; a label field with 0 marks background "
            "points), polygons (their bounding boxes) or lines (points sampled along them, e.g. road centrelines "
            "from OpenStreetMap); a class field names the class of each prompt (road, sidewalk). A prior class "
            "raster gives sparse points per class and tile, as GeoSAM does. Text concepts (\"road; sidewalk\") "
            "need a SAM 3 model.\n\n"
            "The raster is cut into tiles of the model's input size. Each tile is encoded once and its embedding "
            "cached, so running again with new prompts on the same raster only decodes them (fast). Objects that "
            "cross tile borders come out as one polygon.\n\n"
            "Models: sam-vit-b (default), sam-vit-l, sam-vit-h, sam2.1-hiera-tiny, sam2.1-hiera-large, sam3, a "
            "transformers SAM folder or hub id, or a segment-anything checkpoint file (.pth) of any size, such as "
            "GeoSAM's: its architecture is read from the file.\n\n"
            "Outputs: polygons with class, score (the model's predicted IoU), area in m² and the prompt that made "
            "them; a class raster (0 = nothing); optionally the centre lines of the road class.")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Raster layer")))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.PROMPTS, self.tr("Prompts (points, boxes from polygons, lines)"),
            [QgsProcessing.SourceType.TypeVectorAnyGeometry], optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.LABEL_FIELD, self.tr("Label field (1 object, 0 background)"), parentLayerParameterName=self.PROMPTS,
            optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.CLASS_FIELD, self.tr("Class field (e.g. road, sidewalk)"), parentLayerParameterName=self.PROMPTS,
            optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.PRIOR, self.tr("Prior class raster (sparse prompts sampled per class)"), optional=True))
        self.addParameter(QgsProcessingParameterString(
            self.TEXT, self.tr("Text concepts, separated by ; (SAM 3 models)"), optional=True))
        self.add_model_parameters(DEFAULT_MODEL)
        self._advanced(QgsProcessingParameterEnum(self.MODEL_TYPE, self.tr("SAM checkpoint type"),
                                                  options=MODEL_TYPES, defaultValue=0))
        self.addParameter(QgsProcessingParameterBoolean(
            self.REFINE, self.tr("Refine each mask with a second, dense-prompt pass"), defaultValue=True))
        self.addParameter(QgsProcessingParameterNumber(
            self.MIN_AREA, self.tr("Minimum polygon area (m²)"), type=QgsProcessingParameterNumber.Type.Double,
            minValue=0.0, defaultValue=0.0))
        self.addParameter(QgsProcessingParameterNumber(
            self.SIMPLIFY, self.tr("Simplification tolerance (map units, 0: none)"),
            type=QgsProcessingParameterNumber.Type.Double, minValue=0.0, defaultValue=0.0))
        self.add_tiling_parameters()
        self._advanced(QgsProcessingParameterNumber(
            self.LINE_SPACING, self.tr("Spacing of points along line prompts (m, 0: every 32 pixels)"),
            type=QgsProcessingParameterNumber.Type.Double, minValue=0.0, defaultValue=0.0))
        self._advanced(QgsProcessingParameterString(
            self.ROAD_CLASS, self.tr("Class to draw centre lines of"), defaultValue="road"))
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Segments"),
                                                            QgsProcessing.SourceType.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT_MASK, self.tr("Class raster"), optional=True, createByDefault=True))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT_CENTERLINES, self.tr("Road centre lines"), QgsProcessing.SourceType.TypeVectorLine,
            optional=True, createByDefault=False))

    def processAlgorithm(self, parameters, context, feedback):
        self.check_destinations(parameters, context)

        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if layer is None:
            raise QgsProcessingException(self.tr("Choose a raster layer (INPUT)."))
        prompts = self._prompts(parameters, context, layer, feedback)
        texts = [t.strip() for t in self.parameterAsString(parameters, self.TEXT, context).split(";") if t.strip()]
        prior_layer = self.parameterAsRasterLayer(parameters, self.PRIOR, context)
        if not prompts and not texts and prior_layer is None:
            if parameters.get(self.PROMPTS):
                raise QgsProcessingException(self.tr(
                    "The prompt layer (PROMPTS) has no features with a geometry: add points, polygons or lines "
                    "on what to segment, or give a prior class raster (PRIOR) or text concepts (TEXT)."))
            raise QgsProcessingException(self.tr(
                "Give something to segment: a prompt layer (PROMPTS), a prior class raster (PRIOR) or text "
                "concepts (TEXT, with a SAM 3 model)."))
        model = self.model_options(parameters, context)
        tiling = self.tiling_options(parameters, context, layer)
        rendered = os.path.join(cache_folder(), "rendered")
        path, tiling = job_raster(layer, tiling, context, feedback, self.map_view)
        prior = layer_as_file(prior_layer, None, 0.0, rendered, context, feedback) if prior_layer else None
        mask_path = self.parameterAsOutputLayer(parameters, self.OUTPUT_MASK, context) or None
        want_lines = parameters.get(self.OUTPUT_CENTERLINES) not in (None, "")

        values = self.run_job("segment", {
            "raster": path, "model": model, "prompts": prompts, "prior": prior, "texts": texts, "tiling": tiling,
            "model_type": MODEL_TYPES[self.parameterAsEnum(parameters, self.MODEL_TYPE, context)],
            "refine": self.parameterAsBool(parameters, self.REFINE, context),
            "min_area_m2": self.parameterAsDouble(parameters, self.MIN_AREA, context),
            "simplify": self.parameterAsDouble(parameters, self.SIMPLIFY, context),
            "line_spacing_m": self.parameterAsDouble(parameters, self.LINE_SPACING, context),
            "mask_path": mask_path, "centerlines": want_lines,
            "road_class": self.parameterAsString(parameters, self.ROAD_CLASS, context).strip() or "road"},
            feedback, self.tr("segmenting"))

        provenance = {"model": model["name"], "source": layer.publicSource(), "version": ALGORITHM_VERSION}
        fields = make_fields([("class", "string"), ("score", "double"), ("area_m2", "double"),
                              ("prompt_id", "int"), ("model", "string"), ("source", "string"),
                              ("version", "string")])
        outputs = {self.OUTPUT: self.copy_features(parameters, self.OUTPUT, context, values, "regions", fields,
                                                   QgsWkbTypes.Type.Polygon, layer.crs(), provenance)}
        if mask_path:
            outputs[self.OUTPUT_MASK] = mask_path
        if want_lines:
            line_fields = make_fields([("class", "string"), ("length", "double"), ("model", "string"),
                                       ("source", "string")])
            outputs[self.OUTPUT_CENTERLINES] = self.copy_features(
                parameters, self.OUTPUT_CENTERLINES, context, values, "centerlines", line_fields,
                QgsWkbTypes.Type.LineString, layer.crs(), provenance)
        self.discard_features(values)
        style_outputs(context, {outputs[self.OUTPUT]: "segments", mask_path: "segment_classes",
                                outputs.get(self.OUTPUT_CENTERLINES): "centerlines"}, class_raster=mask_path)
        return outputs

    def _prompts(self, parameters, context, layer, feedback):
        """The prompt layer's features as the job's prompts (pipelines.segment.MapPrompt's
        fields), in the raster's CRS."""
        source = self.parameterAsSource(parameters, self.PROMPTS, context)
        if source is None:
            return []
        if source.featureCount() == 0:  # said before the CRS: an empty GeoJSON layer has none either
            feedback.pushWarning(self.tr("The prompt layer has no features."))
            return []
        if not source.sourceCrs().isValid():
            raise QgsProcessingException(self.tr(
                "The prompt layer has no coordinate reference system. Set it (Layer Properties > Source) and run "
                "again."))
        label_field = self.parameterAsString(parameters, self.LABEL_FIELD, context)
        class_field = self.parameterAsString(parameters, self.CLASS_FIELD, context)
        for name, field in ((self.LABEL_FIELD, label_field), (self.CLASS_FIELD, class_field)):
            if field and source.fields().lookupField(field) < 0:
                raise QgsProcessingException(self.tr(
                    "The prompt layer has no field '{}' ({}); its fields are: {}.").format(
                    field, name, ", ".join(source.fields().names())))
        # Transformed here, not by the request: a feature the request cannot transform comes
        # back without its geometry, and would be skipped as if it had none.
        transform = QgsCoordinateTransform(source.sourceCrs(), layer.crs(), context.transformContext())
        prompts, unprojectable = [], []
        for feature in source.getFeatures():
            if not feature.hasGeometry():
                continue
            geometry = feature.geometry()
            try:
                geometry.transform(transform)
            except QgsCsException:
                unprojectable.append(str(feature.id()))
                continue
            label = _label(feature[label_field]) if label_field else 1
            if label is None:
                raise QgsProcessingException(self.tr(
                    "Feature {} has label {!r} in the field {}; use 1 for the object and 0 for background.").format(
                    feature.id(), feature[label_field], label_field))
            class_name = str(feature[class_field]).strip() if class_field and feature[class_field] else ""
            kind = {QgsWkbTypes.GeometryType.PointGeometry: "point", QgsWkbTypes.GeometryType.LineGeometry: "line",
                    QgsWkbTypes.GeometryType.PolygonGeometry: "box"}.get(geometry.type())
            for part in geometry.constParts():
                part_geometry = QgsGeometry(part.clone())
                if kind == "point":
                    point = part_geometry.asPoint()
                    coords = ((point.x(), point.y()),)
                elif kind == "line":
                    coords = tuple((v.x(), v.y()) for v in part.vertices())
                else:
                    box = part_geometry.boundingBox()
                    coords = ((box.xMinimum(), box.yMinimum()), (box.xMaximum(), box.yMaximum()))
                prompts.append({"kind": kind, "coords": coords, "label": label, "class_name": class_name,
                                "prompt_id": feature.id()})
        if unprojectable and not prompts:
            raise QgsProcessingException(self.tr(
                "None of the prompts can be transformed from the prompt layer's CRS ({}) to the raster's ({}). "
                "Check that the prompt layer's CRS is right.").format(source.sourceCrs().authid(),
                                                                      layer.crs().authid()))
        if unprojectable:
            feedback.pushWarning(self.tr(
                "Features {} of the prompt layer cannot be transformed to the raster's CRS and were skipped.").format(
                ", ".join(unprojectable)))
        if not prompts:
            feedback.pushWarning(self.tr("The prompt layer has no features with a geometry."))
        return prompts


def _label(value) -> int | None:
    """1 or 0 from a label field's value (numbers, or text such as "1", "0", "true", "false")."""
    text = str(value).strip().lower()
    if text in ("1", "1.0", "true", "yes", "fg", "foreground"):
        return 1
    if text in ("0", "0.0", "false", "no", "bg", "background"):
        return 0
    return None
