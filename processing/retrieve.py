"""geovl:retrieve — text-to-image retrieval over the tiles of a raster layer."""
from __future__ import annotations

from qgis.core import (QgsFeatureRequest, QgsFields,
                       QgsProcessing, QgsProcessingException, QgsProcessingParameterFeatureSink,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterDestination,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString, QgsRectangle, QgsWkbTypes)

from .base import GeoVLAlgorithm, make_fields, with_help
from .parameter_rules import REQUIRED_LABEL
from .render import ground_resolution, job_raster, pixel_size
from .styles import style_outputs

ALGORITHM_VERSION = "1"
DEFAULT_MODEL = "clip-rsicd"  # models.presets.DEFAULT_EMBEDDER; not imported so the plugin loads without torch


class RetrieveAlgorithm(GeoVLAlgorithm):
    QUERY = "QUERY"
    NEGATIVE = "NEGATIVE"
    QUERY_LAYER = "QUERY_LAYER"
    TOP_K = "TOP_K"
    BATCH_SIZE = "BATCH_SIZE"
    OUTPUT_HEATMAP = "OUTPUT_HEATMAP"
    OUTPUT_INDEX = "OUTPUT_INDEX"

    def name(self):
        return "retrieve"

    def displayName(self):
        return self.tr("Text-to-image retrieval")

    def group(self):
        return self.tr("Search and ask")

    def groupId(self):
        return "search"

    def tags(self):
        return self.tr("search,find,retrieval,query,text,image,clip,siglip,remoteclip,embedding,similarity,"
                       "tiles").split(",")

    def shortHelpString(self):
        return self.tr(
            "Finds the tiles of a raster layer that best match a text query (\"storage tanks next to a harbour\"), "
            "or that look like the features of a query layer.\n\n"
            "The raster is cut into tiles that are embedded once by an image-text model into a tile index "
            "(a GeoPackage); later queries on the same raster, model and tiling reuse it and only embed the text.\n\n"
            "Model presets: clip-rsicd (default, CLIP fine-tuned on RSICD, fast on a CPU), git-rsclip and "
            "git-rsclip-base (SigLIP, Git-10M), remoteclip-vit-b-32 / remoteclip-vit-l-14 / remoteclip-rn50, "
            "georsclip-vit-b-32, clip-vit-b-32. A hub id (org/name) or a local folder or checkpoint file also works; "
            "ARCH:FILE names the open_clip architecture of a checkpoint file "
            "(e.g. ViT-B-32-quickgelu:/models/RS5M_ViT-B-32.pt).\n\n"
            "Outputs: the top-k tile footprints ranked by score (cosine similarity; minus the similarity to the "
            "negative text when one is given), an optional heatmap with one score per tile, and the tile index.")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Raster layer")))
        # A query text or a query layer is required: either one is optional on its own, the
        # other's absence is checked in checkParameterValues, and the dialog labels the text
        # without "[optional]".
        query = with_help(QgsProcessingParameterString(self.QUERY, self.tr("Query text"), optional=True),
                          self.tr("What to find, in a few words (\"storage tanks\") or a sentence. Required "
                                  "unless a query layer is given."))
        query.setMetadata({REQUIRED_LABEL: True})
        self.addParameter(query)
        self.addParameter(with_help(QgsProcessingParameterString(self.NEGATIVE, self.tr("Negative text"),
                                                                 optional=True),
                                    self.tr("What not to find: its similarity is subtracted from the score.")))
        self.addParameter(with_help(QgsProcessingParameterFeatureSource(
            self.QUERY_LAYER, self.tr("Or a query layer"), optional=True),
            self.tr("Features showing examples of what to find: the tiles that look like them are found, instead "
                    "of (or together with) the query text.")))
        self.add_model_parameters(DEFAULT_MODEL, "embedder")
        self.addParameter(QgsProcessingParameterNumber(self.TOP_K, self.tr("Number of results"),
                                                       minValue=1, defaultValue=10))
        self.add_tiling_parameters()
        self._advanced(QgsProcessingParameterNumber(self.BATCH_SIZE, self.tr("Batch size"), minValue=1,
                                                    defaultValue=32))
        self.addParameter(QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Matching tiles"),
                                                            QgsProcessing.SourceType.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT_HEATMAP, self.tr("Similarity heatmap"), optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_INDEX, self.tr("Tile index (default: kept in the GeoVL cache)"),
            self.tr("GeoPackage (*.gpkg)"), optional=True, createByDefault=False))

    def checkParameterValues(self, parameters, context):
        query = self.parameterAsString(parameters, self.QUERY, context).strip()
        if not query and parameters.get(self.QUERY_LAYER) in (None, ""):
            return False, self.tr("Give a query text (QUERY), or a query layer (QUERY_LAYER) with features "
                                  "showing what to find.")
        return super().checkParameterValues(parameters, context)

    def processAlgorithm(self, parameters, context, feedback):
        self.check_destinations(parameters, context)

        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if layer is None:
            raise QgsProcessingException(self.tr("Choose a raster layer (INPUT)."))
        query = self.parameterAsString(parameters, self.QUERY, context).strip()
        negative = self.parameterAsString(parameters, self.NEGATIVE, context).strip()
        tiling = self.tiling_options(parameters, context, layer)
        examples = self._example_bounds(parameters, context, layer, tiling)
        model = self.model_options(parameters, context)
        path, tiling = job_raster(layer, tiling, context, feedback, self.map_view)
        heatmap = self.parameterAsOutputLayer(parameters, self.OUTPUT_HEATMAP, context) or None
        index = self.parameterAsFileOutput(parameters, self.OUTPUT_INDEX, context) or None

        values = self.run_job("retrieve", {
            "raster": path, "model": model, "query": query, "negative": negative, "examples": examples,
            "tiling": tiling, "top_k": self.parameterAsInt(parameters, self.TOP_K, context), "index_path": index,
            "heatmap_path": heatmap, "batch_size": self.parameterAsInt(parameters, self.BATCH_SIZE, context)},
            feedback, self.tr("indexing and searching the tiles"))
        feedback.pushInfo(self.tr("{} tiles in the index ({} embedded in this run).").format(
            values["tile_count"], values["tiles_embedded"]))

        label = query or self.tr("like {} feature(s) of the query layer").format(len(examples))
        dest_id = self.copy_features(parameters, self.OUTPUT, context, values, "hits", self._fields(),
                                     QgsWkbTypes.Type.Polygon, layer.crs(),
                                     {"query": label, "negative": negative or None, "model": model["name"],
                                      "source": layer.publicSource(), "version": ALGORITHM_VERSION})
        self.discard_features(values)
        outputs = {self.OUTPUT: dest_id, self.OUTPUT_INDEX: values["index_path"]}
        if heatmap:
            outputs[self.OUTPUT_HEATMAP] = heatmap
        style_outputs(context, {dest_id: "retrieved_tiles", heatmap: "heatmap"})
        return outputs

    def _example_bounds(self, parameters, context, layer, tiling):
        """Bounding boxes of the query layer's features, in the raster's CRS. A point is
        one tile around it: TILE_SIZE pixels of the resolution the raster is read at."""
        source = self.parameterAsSource(parameters, self.QUERY_LAYER, context)
        if source is None:
            return []
        resolution_m = ground_resolution(layer, tiling["resolution"], self.map_view)
        half_tile = 0.5 * (tiling["tile_size"] or 224)   # TILE_SIZE 0 is the model's input: 224 px for CLIP models
        request = QgsFeatureRequest().setDestinationCrs(layer.crs(), context.transformContext())
        boxes = []
        for feature in source.getFeatures(request):
            if feature.hasGeometry():
                box = feature.geometry().boundingBox()
                if box.width() == 0 or box.height() == 0:
                    centre = box.center()
                    x_size, y_size = pixel_size(layer, centre, resolution_m, context)
                    box = QgsRectangle(centre.x() - half_tile * x_size, centre.y() - half_tile * y_size,
                                       centre.x() + half_tile * x_size, centre.y() + half_tile * y_size)
                boxes.append((box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum()))
        if not boxes:
            raise QgsProcessingException(self.tr("The query layer has no features with a geometry."))
        return boxes

    @staticmethod
    def _fields() -> QgsFields:
        return make_fields([("rank", "int"), ("score", "double"), ("query", "string"), ("negative", "string"),
                            ("model", "string"), ("source", "string"), ("tile_row", "int"), ("tile_col", "int"),
                            ("version", "string")])
