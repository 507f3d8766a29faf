"""geovl:ask — a grounded question about a raster layer (GeoChat / GeoPixel-style),
optionally asked only of the tiles a retrieval model ranks best."""
from __future__ import annotations

from qgis.core import (QgsProcessing, QgsProcessingException,
                       QgsProcessingOutputString, QgsProcessingParameterEnum, QgsProcessingParameterFeatureSink,
                       QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString, QgsWkbTypes)

from .base import GeoVLAlgorithm, make_fields, with_help
from .parameter_rules import ENABLED_WHEN, chosen
from .render import job_raster
from .reports import ReportInResults, add_report_parameter
from .settings import default_model
from .styles import style_outputs

ALGORITHM_VERSION = "1"
# models.presets defaults; not imported so the plugin loads without torch
DEFAULT_MODEL = "florence-2-base"
DEFAULT_RETRIEVAL_MODEL = "clip-rsicd"
DEFAULT_SEGMENT_MODEL = "sam-vit-b"
MODES = ["answer", "boxes", "masks"]      # pipelines.ask.MODES
SELECTIONS = ["all", "top-k"]             # pipelines.ask.SELECTIONS


class AskAlgorithm(ReportInResults, GeoVLAlgorithm):
    QUESTION = "QUESTION"
    MODE = "MODE"
    SELECT = "SELECT"
    RETRIEVAL_MODEL = "RETRIEVAL_MODEL"
    TOP_K = "TOP_K"
    SEGMENT_MODEL = "SEGMENT_MODEL"
    MAX_NEW_TOKENS = "MAX_NEW_TOKENS"
    OUTPUT_TILES = "OUTPUT_TILES"
    OUTPUT_REPORT = "OUTPUT_REPORT"
    OUTPUT_ANSWER = "OUTPUT_ANSWER"

    def name(self):
        return "ask"

    def displayName(self):
        return self.tr("Ask a grounded question")

    def group(self):
        return self.tr("Search and ask")

    def groupId(self):
        return "search"

    def tags(self):
        return self.tr("ask,question,answer,vlm,vision-language,grounding,detection,boxes,florence,qwen,kosmos,"
                       "geochat,geopixel,count").split(",")

    def shortHelpString(self):
        return self.tr(
            "Asks a vision-language model a question about a raster layer (\"Where are the airplanes parked?\", "
            "\"How many storage tanks are in this port?\") and puts every object it names on the map.\n\n"
            "The raster is cut into tiles of the model's input size and each tile is asked. For a large raster, "
            "select the top-k tiles: a retrieval model ranks all tiles against the question first (its tile index "
            "is cached, as in Text-to-image retrieval) and only the k best are asked, which is much faster.\n\n"
            "Modes: answer only (text); boxes (each grounded object as a polygon; rotated boxes of GeoChat stay "
            "rotated; the same object seen by two overlapping tiles is kept once); masks (the boxes prompt a "
            "Segment Anything model, GeoPixel-style, and the masks become polygons).\n\n"
            "Models: florence-2-base (default, runs on a CPU), florence-2-large, qwen2.5-vl-3b, qwen2.5-vl-7b, "
            "qwen3-vl-2b, qwen3-vl-8b, kosmos-2, a hub id or a local folder of one of these families, or a GeoChat "
            "checkpoint converted with scripts/convert_geochat.py.\n\n"
            "Outputs: the objects (label, score where the model gives one, tile, question, model, source); the "
            "tiles asked with their answers; the combined answer as a string for the next step of a model (counts "
            "are summed for \"how many\" questions, otherwise one line per tile with its location); an HTML report "
            "with a thumbnail of each asked tile and its boxes.")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Raster layer")))
        self.addParameter(with_help(QgsProcessingParameterString(self.QUESTION, self.tr("Question")),
                                    self.tr("A question about the raster, e.g. \"Where are the airplanes parked?\" "
                                            "or \"How many storage tanks are there?\".")))
        self.add_model_parameters(DEFAULT_MODEL, "vlm")
        self.addParameter(with_help(QgsProcessingParameterEnum(
            self.MODE, self.tr("Output"), options=[self.tr("Answer only"), self.tr("Boxes"),
                                                   self.tr("Masks (SAM from the boxes)")], defaultValue=1),
            self.tr("Answer only: text; boxes: each object the model names as a polygon; masks: the boxes prompt "
                    "a Segment Anything model.")))
        self.addParameter(with_help(QgsProcessingParameterEnum(
            self.SELECT, self.tr("Tiles to ask"), options=[self.tr("All tiles"), self.tr("Top tiles by retrieval")],
            defaultValue=0),
            self.tr("All tiles, or only the best-ranked tiles: a retrieval model ranks every tile against the "
                    "question first (much faster on a large raster).")))
        # Enabled in the dialog only for the choices that use them.
        top_tiles = {ENABLED_WHEN: (self.SELECT, chosen(1))}
        retrieval_model = self.model_parameter(self.RETRIEVAL_MODEL, self.tr("Retrieval model"),
                                               default_model("retrieve", DEFAULT_RETRIEVAL_MODEL), "embedder",
                                               optional=True)
        retrieval_model.setMetadata({**retrieval_model.metadata(), **top_tiles})
        self.addParameter(retrieval_model)
        top_k = with_help(QgsProcessingParameterNumber(self.TOP_K, self.tr("Number of tiles to ask"), minValue=1,
                                                       defaultValue=8),
                          self.tr("How many of the best-ranked tiles are asked."))
        top_k.setMetadata(top_tiles)
        self.addParameter(top_k)
        segment_model = self.model_parameter(self.SEGMENT_MODEL, self.tr("Segmentation model"),
                                             default_model("segment", DEFAULT_SEGMENT_MODEL), "segmenter",
                                             optional=True)
        segment_model.setMetadata({**segment_model.metadata(), ENABLED_WHEN: (self.MODE, chosen(2))})
        self.addParameter(segment_model)
        self.add_tiling_parameters()
        self._advanced(with_help(QgsProcessingParameterNumber(
            self.MAX_NEW_TOKENS, self.tr("Longest answer (tokens)"), minValue=1, defaultValue=256),
            self.tr("The most tokens the model writes per tile.")))
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Grounded objects"),
                                                            QgsProcessing.SourceType.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT_TILES, self.tr("Tiles asked"), QgsProcessing.SourceType.TypeVectorPolygon, optional=True,
            createByDefault=True))
        add_report_parameter(self, self.OUTPUT_REPORT, self.tr("Report"))
        self.addOutput(QgsProcessingOutputString(self.OUTPUT_ANSWER, self.tr("Answer")))

    def processAlgorithm(self, parameters, context, feedback):
        self.check_destinations(parameters, context)

        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if layer is None:
            raise QgsProcessingException(self.tr("Choose a raster layer (INPUT)."))
        question = self.parameterAsString(parameters, self.QUESTION, context).strip()
        if not question:
            raise QgsProcessingException(self.tr(
                "The question is empty. Type a question about the raster, e.g. \"Where are the airplanes parked?\"."))
        mode = MODES[self.parameterAsEnum(parameters, self.MODE, context)]
        select = SELECTIONS[self.parameterAsEnum(parameters, self.SELECT, context)]
        model = self.model_options(parameters, context)

        tiling = self.tiling_options(parameters, context, layer)
        path, tiling = job_raster(layer, tiling, context, feedback, self.map_view)
        report = self.parameterAsFileOutput(parameters, self.OUTPUT_REPORT, context) or None

        values = self.run_job("ask", {
            "raster": path, "model": model, "question": question, "mode": mode, "select": select,
            "retrieval_model": self.model_options(parameters, context, self.RETRIEVAL_MODEL),  # on the VLM's device
            "top_k": self.parameterAsInt(parameters, self.TOP_K, context),
            "segment_model": self.model_options(parameters, context, self.SEGMENT_MODEL), "tiling": tiling,
            "max_new_tokens": self.parameterAsInt(parameters, self.MAX_NEW_TOKENS, context), "report_path": report},
            feedback, self.tr("asking the model"))
        feedback.pushInfo(self.tr("Answer:") + "\n" + values["answer"])

        provenance = {"question": question, "model": model["name"], "source": layer.publicSource(),
                      "version": ALGORITHM_VERSION}
        fields = make_fields([("label", "string"), ("score", "double"), ("angle", "double"), ("tile", "string"),
                              ("question", "string"), ("model", "string"), ("source", "string"),
                              ("version", "string")])
        outputs = {self.OUTPUT: self.copy_features(parameters, self.OUTPUT, context, values, "objects", fields,
                                                   QgsWkbTypes.Type.Polygon, layer.crs(), provenance),
                   self.OUTPUT_ANSWER: values["answer"]}
        tile_fields = make_fields([("tile", "string"), ("row", "int"), ("col", "int"), ("answer", "string"),
                                   ("boxes", "int"), ("retrieval_score", "double"), ("question", "string"),
                                   ("model", "string"), ("source", "string")])
        tiles_id = self.copy_features(parameters, self.OUTPUT_TILES, context, values, "tiles", tile_fields,
                                      QgsWkbTypes.Type.Polygon, layer.crs(), provenance)
        self.discard_features(values)
        if tiles_id:
            outputs[self.OUTPUT_TILES] = tiles_id
        if report:
            outputs[self.OUTPUT_REPORT] = report
        style_outputs(context, {outputs[self.OUTPUT]: "ask_objects", tiles_id: "ask_tiles"})
        self.list_report(self.tr("Answer"), values["answer"], report)
        return outputs
