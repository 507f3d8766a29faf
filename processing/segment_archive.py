"""geovl:segment_archive — prompted Segment Anything over every raster of an archive, on Ray."""
from __future__ import annotations

from qgis.core import (QgsCoordinateReferenceSystem, QgsProcessing, QgsProcessingException,
                       QgsProcessingOutputNumber, QgsProcessingParameterFeatureSink, QgsWkbTypes)

from .archive import ArchiveAlgorithm
from .base import make_fields
from .segment import ALGORITHM_VERSION, MIN_AREA_PIXELS, MODEL_TYPES, SegmentAlgorithm
from .styles import style_outputs

PROMPTS_CRS = "EPSG:4326"   # the prompts cross to the runtime in WGS 84; each raster gets them in its CRS


class SegmentArchiveAlgorithm(ArchiveAlgorithm, SegmentAlgorithm):

    def name(self):
        return "segment_archive"

    def displayName(self):
        return self.tr("Prompted segmentation of an archive (SAM)")

    def tags(self):
        return self.tr("segment,segmentation,sam,archive,mosaic,sheets,stac,vrt,roads,ray,cluster,batch").split(",")

    def shortHelpString(self):
        return self.tr(
            "Segments objects such as roads with Segment Anything over every raster of an archive (the sheets of "
            "an orthophoto mosaic, the scenes of a STAC ItemCollection), into one layer.\n\n"
            "Each raster is segmented as Prompted segmentation (SAM) segments one raster, with the prompts that "
            "fall on it: points, polygons (their bounding boxes) or lines of the prompt layer, or text concepts "
            "for a SAM 3 model. Every polygon records its raster.\n\n"
            "The rasters are segmented on Ray: a local Ray instance on this machine, or the cluster at the Ray "
            "address (ray://host:10001; default RAY_ADDRESS), one raster per task and one copy of the model per "
            "worker. A run that is cancelled or stopped goes on, when run again, with the rasters it had not "
            "finished.\n\n"
            "Outputs: polygons with their raster, class, score, area in m² and prompt; optionally the centre lines "
            "of the road class.")

    def initAlgorithm(self, config=None):
        self.add_archive_parameters()
        self.add_prompt_parameters()
        self.add_segment_options()
        self.add_archive_options()
        self.add_road_class_parameter()
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Segments"),
                                                            QgsProcessing.SourceType.TypeVectorPolygon))
        self.add_centerline_output()
        self.addOutput(QgsProcessingOutputNumber(self.RASTER_COUNT, self.tr("Rasters segmented")))

    def processAlgorithm(self, parameters, context, feedback):
        self.check_destinations(parameters, context)
        archive = self.archive_arguments(parameters, context)
        prompts = self.prompts(parameters, context, QgsCoordinateReferenceSystem(PROMPTS_CRS), feedback)
        texts = self.texts(parameters, context)
        if not prompts and not texts:
            raise QgsProcessingException(self.tr(
                "Give something to segment: a prompt layer (PROMPTS) or text concepts (TEXT, with a SAM 3 model)."))
        model = self.model_options(parameters, context)
        min_area_set = parameters.get(self.MIN_AREA) not in (None, "")
        want_lines = parameters.get(self.OUTPUT_CENTERLINES) not in (None, "")
        values = self.run_job("segment_archive", {
            **archive, "model": model, "prompts": prompts, "prompts_crs": PROMPTS_CRS, "texts": texts,
            "model_type": MODEL_TYPES[self.parameterAsEnum(parameters, self.MODEL_TYPE, context)],
            "refine": self.parameterAsBool(parameters, self.REFINE, context),
            "min_area_m2": self.parameterAsDouble(parameters, self.MIN_AREA, context) if min_area_set else 0.0,
            "min_area_pixels": 0 if min_area_set else MIN_AREA_PIXELS,
            "simplify": self.parameterAsDouble(parameters, self.SIMPLIFY, context), "centerlines": want_lines,
            "road_class": self.parameterAsString(parameters, self.ROAD_CLASS, context).strip() or "road"},
            feedback, self.tr("segmenting the archive"))
        feedback.pushInfo(self.tr("{} regions from {} rasters ({} segmented in this run, {} by an earlier "
                                  "one).").format(values["region_count"], values["raster_count"],
                                                  values["rasters_segmented"], values["rasters_resumed"]))
        crs = QgsCoordinateReferenceSystem.fromWkt(values["crs_wkt"])
        provenance = {"model": model["name"], "version": ALGORITHM_VERSION}
        fields = make_fields([("raster", "string"), ("name", "string"), ("class", "string"), ("score", "double"),
                              ("area_m2", "double"), ("prompt_id", "int"), ("model", "string"),
                              ("version", "string")])
        outputs = {self.OUTPUT: self.copy_features(parameters, self.OUTPUT, context, values, "regions", fields,
                                                   QgsWkbTypes.Type.Polygon, crs, provenance),
                   self.RASTER_COUNT: values["raster_count"]}
        if want_lines:
            line_fields = make_fields([("raster", "string"), ("name", "string"), ("class", "string"),
                                       ("length", "double"), ("model", "string")])
            outputs[self.OUTPUT_CENTERLINES] = self.copy_features(
                parameters, self.OUTPUT_CENTERLINES, context, values, "centerlines", line_fields,
                QgsWkbTypes.Type.LineString, crs, provenance)
        self.discard_features(values)
        style_outputs(context, {outputs[self.OUTPUT]: "segments",
                                outputs.get(self.OUTPUT_CENTERLINES): "centerlines"})
        return outputs
