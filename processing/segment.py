"""geovl:segment — prompted Segment Anything over a whole raster layer (GeoSAM-style)."""
from __future__ import annotations

import os

from qgis.core import (QgsCoordinateTransform, QgsCsException, QgsGeometry, QgsProcessing,
                       QgsProcessingException, QgsProcessingParameterBoolean, QgsProcessingParameterEnum,
                       QgsProcessingParameterFeatureSink, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterField, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterString, QgsRasterLayer, QgsWkbTypes)

from .base import GeoVLAlgorithm, ground_metres_per_unit, make_fields, with_help
from .parameter_rules import ENABLED_WHEN, takes_text_prompts
from .render import job_raster, layer_as_file
from .settings import cache_folder
from .styles import style_outputs

ALGORITHM_VERSION = "1"
DEFAULT_MODEL = "sam-vit-b"  # models.presets.DEFAULT_SEGMENTER; not imported so the plugin loads without torch
MODEL_TYPES = ["auto", "vit_b", "vit_l", "vit_h"]
MIN_AREA_PIXELS = 16  # the smallest polygon kept by default: a 4 x 4 pixel square


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

    def group(self):
        return self.tr("Map objects and changes")

    def groupId(self):
        return "mapping"

    def tags(self):
        return self.tr("segment,segmentation,sam,segment anything,geosam,mask,roads,sidewalks,prompts,points,boxes,"
                       "polygons,extraction").split(",")

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
        self.add_prompt_parameters()
        self.addParameter(with_help(QgsProcessingParameterRasterLayer(
            self.PRIOR, self.tr("Prior class raster"), optional=True),
            self.tr("A class raster (an earlier GeoVL result): sparse point prompts are sampled from it per class "
                    "and tile, as GeoSAM does.")))
        self.add_segment_options()
        self.add_tiling_parameters()
        self._advanced(with_help(QgsProcessingParameterNumber(
            self.LINE_SPACING, self.tr("Line prompt spacing (m)"), type=QgsProcessingParameterNumber.Type.Double,
            minValue=0.0, defaultValue=0.0),
            self.tr("Metres between the points sampled along line prompts; 0: every 32 pixels.")))
        self.add_road_class_parameter()
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Segments"),
                                                            QgsProcessing.SourceType.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT_MASK, self.tr("Class raster"), optional=True, createByDefault=True))
        self.add_centerline_output()

    def add_prompt_parameters(self) -> None:
        """PROMPTS with its LABEL_FIELD and CLASS_FIELD."""
        self.addParameter(with_help(QgsProcessingParameterFeatureSource(
            self.PROMPTS, self.tr("Prompts"), [QgsProcessing.SourceType.TypeVectorAnyGeometry], optional=True),
            self.tr("A vector layer: points on the objects, polygons (their bounding boxes) or lines (points along "
                    "them, e.g. road centre lines).")))
        self.addParameter(with_help(QgsProcessingParameterField(
            self.LABEL_FIELD, self.tr("Label field"), parentLayerParameterName=self.PROMPTS, optional=True),
            self.tr("1 for a point on an object, 0 for a background point; default: every prompt is an object.")))
        self.addParameter(with_help(QgsProcessingParameterField(
            self.CLASS_FIELD, self.tr("Class field"), parentLayerParameterName=self.PROMPTS, optional=True),
            self.tr("The class of each prompt (road, sidewalk); default: one class.")))

    def add_segment_options(self) -> None:
        """TEXT, the model, MODEL_TYPE, REFINE, MIN_AREA and SIMPLIFY."""
        # Enabled in the dialog for SAM 3 models only: the others take no text.
        text = with_help(QgsProcessingParameterString(self.TEXT, self.tr("Text concepts (SAM 3)"), optional=True),
                         self.tr("Concepts to segment, separated by ; (\"road; sidewalk\"); a SAM 3 model only."))
        text.setMetadata({ENABLED_WHEN: (self.MODEL, takes_text_prompts)})
        self.addParameter(text)
        self.add_model_parameters(DEFAULT_MODEL, "segmenter")
        self._advanced(QgsProcessingParameterEnum(self.MODEL_TYPE, self.tr("SAM checkpoint type"),
                                                  options=MODEL_TYPES, defaultValue=0))
        self.addParameter(with_help(QgsProcessingParameterBoolean(
            self.REFINE, self.tr("Refine masks (second pass)"), defaultValue=True),
            self.tr("Decode each mask a second time with the first pass's result as a dense prompt (GeoSAM's "
                    "refinement). It doubles the decoding time: for thousands of prompts on a CPU without native "
                    "bf16, turn it off.")))
        self.addParameter(with_help(QgsProcessingParameterNumber(
            self.MIN_AREA, self.tr("Smallest polygon (m²)"), type=QgsProcessingParameterNumber.Type.Double,
            minValue=0.0, optional=True),
            self.tr("Polygons smaller than this are dropped; not set: the area of {} pixels at the raster's "
                    "resolution; 0 keeps them all.").format(MIN_AREA_PIXELS)))
        self.addParameter(with_help(QgsProcessingParameterNumber(
            self.SIMPLIFY, self.tr("Simplify (map units)"), type=QgsProcessingParameterNumber.Type.Double,
            minValue=0.0, defaultValue=0.0),
            self.tr("Simplification tolerance of the polygons, in the raster's map units; 0: none.")))

    def add_road_class_parameter(self) -> None:
        self._advanced(with_help(QgsProcessingParameterString(
            self.ROAD_CLASS, self.tr("Centre-line class"), defaultValue="road"),
            self.tr("The class whose centre lines the optional centre-line output draws.")))

    def add_centerline_output(self) -> None:
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT_CENTERLINES, self.tr("Road centre lines"), QgsProcessing.SourceType.TypeVectorLine,
            optional=True, createByDefault=False))

    def processAlgorithm(self, parameters, context, feedback):
        self.check_destinations(parameters, context)

        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if layer is None:
            raise QgsProcessingException(self.tr("Choose a raster layer (INPUT)."))
        prompts = self.prompts(parameters, context, layer.crs(), feedback)
        texts = self.texts(parameters, context)
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
            "min_area_m2": self._min_area(parameters, context, path, tiling["resolution"]),
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

    def _min_area(self, parameters, context, path: str, resolution_m: float) -> float:
        """MIN_AREA, or when not set the ground area of MIN_AREA_PIXELS pixels of the raster
        the job reads (`path`, at `resolution_m` m/px when resampled): one-pixel specks are
        noise at any resolution."""
        if parameters.get(self.MIN_AREA) not in (None, ""):
            return self.parameterAsDouble(parameters, self.MIN_AREA, context)
        if resolution_m > 0:
            return MIN_AREA_PIXELS * resolution_m * resolution_m
        raster = QgsRasterLayer(path, "pixels", "gdal")
        if not raster.isValid() or not raster.crs().isValid():
            return 0.0
        x_m, y_m = ground_metres_per_unit(raster.crs(), raster.extent().center(), context.transformContext())
        return MIN_AREA_PIXELS * raster.rasterUnitsPerPixelX() * x_m * raster.rasterUnitsPerPixelY() * y_m

    def texts(self, parameters, context) -> list[str]:
        """TEXT's concepts."""
        return [t.strip() for t in self.parameterAsString(parameters, self.TEXT, context).split(";") if t.strip()]

    def prompts(self, parameters, context, crs, feedback) -> list[dict]:
        """The prompt layer's features as the job's prompts (pipelines.segment.MapPrompt's
        fields), in `crs` (the raster's)."""
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
        transform = QgsCoordinateTransform(source.sourceCrs(), crs, context.transformContext())
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
                "Check that the prompt layer's CRS is right.").format(source.sourceCrs().authid(), crs.authid()))
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
