"""geovl:change — where, how much and what changed between two rasters of the same place."""
from __future__ import annotations

from qgis.core import (QgsProcessing, QgsProcessingException,
                       QgsProcessingOutputString, QgsProcessingParameterEnum,
                       QgsProcessingParameterFeatureSink,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterDestination,
                       QgsProcessingParameterRasterLayer, QgsWkbTypes)

from .base import GeoVLAlgorithm, make_fields, with_help
from .parameter_rules import DISTINCT_FROM, ENABLED_WHEN, chosen, given
from .render import job_raster
from .reports import ReportInResults, add_report_parameter
from .styles import style_outputs

ALGORITHM_VERSION = "1"
METHODS = ["cva", "irmad", "features"]    # pipelines.change.METHODS
DEFAULT_BACKBONE = "clip-rsicd"           # models.presets default; not imported so the plugin loads without torch


class ChangeAlgorithm(ReportInResults, GeoVLAlgorithm):
    BEFORE = "BEFORE"
    AFTER = "AFTER"
    METHOD = "METHOD"
    CAPTION_MODEL = "CAPTION_MODEL"
    THRESHOLD = "THRESHOLD"
    MIN_AREA = "MIN_AREA"
    MAX_CAPTIONS = "MAX_CAPTIONS"
    MAX_NEW_TOKENS = "MAX_NEW_TOKENS"
    OUTPUT_MAGNITUDE = "OUTPUT_MAGNITUDE"
    OUTPUT_MASK = "OUTPUT_MASK"
    OUTPUT_CAPTION = "OUTPUT_CAPTION"
    OUTPUT_REPORT = "OUTPUT_REPORT"

    def name(self):
        return "change"

    def displayName(self):
        return self.tr("Detect and caption changes")

    def group(self):
        return self.tr("Map objects and changes")

    def groupId(self):
        return "mapping"

    def tags(self):
        return self.tr("change,change detection,bi-temporal,before,after,difference,cva,ir-mad,mad,caption,"
                       "monitoring").split(",")

    def shortHelpString(self):
        return self.tr(
            "Compares two acquisitions of the same place (BEFORE, AFTER) and maps where they changed, how much, "
            "and in words what changed, per change region and overall.\n\n"
            "AFTER is warped onto BEFORE's grid when their CRS or resolution differ; only their overlap is "
            "compared. Both rasters are compared band by band (all bands, or the BANDS chosen, read from both).\n\n"
            "Methods: change vector analysis (no model: each band is normalised to its raster's mean and spread, "
            "so a global brightness change does not count, and Otsu's threshold splits the magnitudes); IR-MAD "
            "(no model: iteratively reweighted multivariate alteration detection, threshold at the 99 % chi-square "
            "quantile); deep-feature difference (a backbone such as clip-rsicd, git-rsclip or sam-vit-b compares "
            "patch features). A threshold given overrides the automatic one.\n\n"
            "Every region gets a factual caption (area, where, brighter or darker, vegetation gain or loss where "
            "red and near-infrared bands are named). With a caption model (florence-2-base, qwen2.5-vl-3b, ...), "
            "the largest regions and the whole pair are also described by the model.\n\n"
            "Outputs: change polygons (area in m², mean magnitude, captions), the magnitude raster, the change "
            "mask (1 change, 0 none), the overall caption as a string, and an HTML report with before/after "
            "pictures of the largest regions.")

    def initAlgorithm(self, config=None):
        self.addParameter(with_help(QgsProcessingParameterRasterLayer(self.BEFORE, self.tr("Before")),
                                    self.tr("The earlier raster.")))
        # The dialog opens with two different layers where the project has two.
        after = with_help(QgsProcessingParameterRasterLayer(self.AFTER, self.tr("After")),
                          self.tr("The later raster of the same place; warped onto BEFORE's grid if needed."))
        after.setMetadata({DISTINCT_FROM: self.BEFORE})
        self.addParameter(after)
        self.addParameter(with_help(QgsProcessingParameterEnum(
            self.METHOD, self.tr("Method"),
            options=[self.tr("Change vector analysis (no model)"), self.tr("IR-MAD (no model)"),
                     self.tr("Deep-feature difference")], defaultValue=0),
            self.tr("CVA and IR-MAD need no model; the deep-feature difference compares a backbone model's patch "
                    "features.")))
        self.add_model_parameters(DEFAULT_BACKBONE, "features", self.tr("Backbone"))
        # Enabled in the dialog for the feature method only: the others use no model.
        backbone = self.parameterDefinition(self.MODEL)
        backbone.setMetadata({**backbone.metadata(), ENABLED_WHEN: (self.METHOD, chosen(2))})
        backbone.setHelp(self.tr("The model of the deep-feature method (clip-rsicd, git-rsclip, sam-vit-b, …): ")
                         + backbone.help())
        caption_model = self.model_parameter(self.CAPTION_MODEL, self.tr("Caption model"), "", "vlm",
                                             optional=True)
        caption_model.setHelp(self.tr("A vision-language model that describes the largest regions and the whole "
                                      "pair; empty: factual captions only. ") + caption_model.help())
        self.addParameter(caption_model)
        self.addParameter(with_help(QgsProcessingParameterNumber(
            self.THRESHOLD, self.tr("Threshold"), type=QgsProcessingParameterNumber.Type.Double, minValue=0.0,
            optional=True),
            self.tr("Threshold on the change magnitude; not set: automatic (Otsu for CVA, the 99 % chi-square "
                    "quantile for IR-MAD).")))
        self.addParameter(with_help(QgsProcessingParameterNumber(
            self.MIN_AREA, self.tr("Smallest region (m²)"), type=QgsProcessingParameterNumber.Type.Double,
            minValue=0.0, defaultValue=0.0),
            self.tr("Change regions smaller than this are dropped; specks thinner than 3 pixels are always "
                    "removed.")))
        self.add_tiling_parameters()
        # BANDS are read from both rasters: any number of them, not only RGB
        bands = self.parameterDefinition(self.BANDS)
        bands.setDescription(self.tr("Bands to compare"))
        bands.setHelp(self.tr("Read from both rasters; default: all bands."))
        bands.setParentLayerParameterName(self.BEFORE)
        captions = {ENABLED_WHEN: (self.CAPTION_MODEL, given)}  # enabled in the dialog with a caption model
        max_captions = with_help(QgsProcessingParameterNumber(
            self.MAX_CAPTIONS, self.tr("Regions to caption"), minValue=0, defaultValue=10),
            self.tr("How many regions the caption model describes, largest first."))
        max_captions.setMetadata(captions)
        self._advanced(max_captions)
        max_tokens = with_help(QgsProcessingParameterNumber(
            self.MAX_NEW_TOKENS, self.tr("Longest caption (tokens)"), minValue=1, defaultValue=128),
            self.tr("The most tokens the caption model writes per caption."))
        max_tokens.setMetadata(captions)
        self._advanced(max_tokens)
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Change regions"),
                                                            QgsProcessing.SourceType.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT_MAGNITUDE, self.tr("Change magnitude"), optional=True, createByDefault=True))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT_MASK, self.tr("Change mask"), optional=True, createByDefault=True))
        add_report_parameter(self, self.OUTPUT_REPORT, self.tr("Report"))
        self.addOutput(QgsProcessingOutputString(self.OUTPUT_CAPTION, self.tr("Overall caption")))

    def processAlgorithm(self, parameters, context, feedback):
        self.check_destinations(parameters, context)

        before = self.parameterAsRasterLayer(parameters, self.BEFORE, context)
        after = self.parameterAsRasterLayer(parameters, self.AFTER, context)
        if before is None or after is None:
            raise QgsProcessingException(self.tr("Choose two raster layers: BEFORE and AFTER."))
        method = METHODS[self.parameterAsEnum(parameters, self.METHOD, context)]
        model = self.model_options(parameters, context)
        caption_name = self.parameterAsString(parameters, self.CAPTION_MODEL, context).strip()
        caption_model = self.model_options(parameters, context, self.CAPTION_MODEL) if caption_name else None
        threshold = None
        if parameters.get(self.THRESHOLD) not in (None, ""):
            threshold = self.parameterAsDouble(parameters, self.THRESHOLD, context) or None
        tiling = self.tiling_options(parameters, context, before)
        before_path, job_tiling = job_raster(before, tiling, context, feedback, self.map_view)
        after_path, _ = job_raster(after, tiling, context, feedback, self.map_view, extent_crs=before.crs())
        magnitude_path = self.parameterAsOutputLayer(parameters, self.OUTPUT_MAGNITUDE, context) or None
        mask_path = self.parameterAsOutputLayer(parameters, self.OUTPUT_MASK, context) or None
        report_path = self.parameterAsFileOutput(parameters, self.OUTPUT_REPORT, context) or None

        values = self.run_job("change", {
            "before": before_path, "after": after_path, "method": method,
            "model": model if method == "features" else None, "caption_model": caption_model,
            "threshold": threshold, "min_area_m2": self.parameterAsDouble(parameters, self.MIN_AREA, context),
            "tiling": job_tiling, "magnitude_path": magnitude_path, "mask_path": mask_path, "report_path": report_path,
            "max_captions": self.parameterAsInt(parameters, self.MAX_CAPTIONS, context),
            "max_new_tokens": self.parameterAsInt(parameters, self.MAX_NEW_TOKENS, context)},
            feedback, self.tr("detecting changes"))

        fields = make_fields([("id", "int"), ("area_m2", "double"), ("magnitude", "double"), ("location", "string"),
                              ("facts", "string"), ("caption", "string"), ("before_label", "string"),
                              ("after_label", "string"), ("method", "string"), ("model", "string"),
                              ("source", "string"), ("version", "string")])
        models = [name for name in (model["name"] if method == "features" else "", caption_name) if name]
        provenance = {"method": method, "model": ", ".join(models),
                      "source": f"{before.publicSource()} -> {after.publicSource()}", "version": ALGORITHM_VERSION}
        dest_id = self.copy_features(parameters, self.OUTPUT, context, values, "regions", fields,
                                     QgsWkbTypes.Type.Polygon, before.crs(), provenance)
        self.discard_features(values)
        outputs = {self.OUTPUT: dest_id, self.OUTPUT_CAPTION: values["caption"]}
        for key, path in ((self.OUTPUT_MAGNITUDE, magnitude_path), (self.OUTPUT_MASK, mask_path),
                          (self.OUTPUT_REPORT, report_path)):
            if path:
                outputs[key] = path
        style_outputs(context, {dest_id: "change_regions", magnitude_path: "magnitude", mask_path: "change_mask"})
        feedback.pushInfo(self.tr("Overall caption:") + "\n" + values["caption"])
        self.list_report(self.tr("Overall caption"), values["caption"], report_path)
        return outputs
