"""geovl:index_archive — one retrieval index over the tiles of many rasters, on Ray."""
from __future__ import annotations

from qgis.core import (QgsCoordinateReferenceSystem, QgsProcessing, QgsProcessingOutputNumber,
                       QgsProcessingParameterFeatureSink, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterNumber, QgsProcessingParameterString, QgsWkbTypes)

from .archive import ArchiveAlgorithm
from .base import make_fields, with_help
from .retrieve import DEFAULT_MODEL
from .styles import style_outputs

ALGORITHM_VERSION = "1"


class IndexArchiveAlgorithm(ArchiveAlgorithm):
    QUERY = "QUERY"
    NEGATIVE = "NEGATIVE"
    TOP_K = "TOP_K"
    BATCH_SIZE = "BATCH_SIZE"
    OUTPUT_INDEX = "OUTPUT_INDEX"
    TILE_COUNT = "TILE_COUNT"

    def name(self):
        return "index_archive"

    def displayName(self):
        return self.tr("Index an archive of rasters")

    def group(self):
        return self.tr("Search and ask")

    def groupId(self):
        return "search"

    def tags(self):
        return self.tr("archive,index,retrieval,search,query,stac,vrt,mosaic,scenes,ray,cluster,batch,clip,"
                       "embedding").split(",")

    def shortHelpString(self):
        return self.tr(
            "Builds one retrieval index over the tiles of many rasters (an archive of scenes, the sheets of an "
            "orthophoto mosaic), and finds the tiles of all of them that best match a text query.\n\n"
            "The archive is a STAC ItemCollection JSON of COGs, a VRT (its source files), a text list of raster "
            "paths (one per line), a folder of rasters, or raster layers. Each tile of the index records its source "
            "raster: the index's layer archive_tiles shows it with the raster's path.\n\n"
            "The tiles are embedded on Ray: a local Ray instance on this machine, or the cluster at the Ray "
            "address (ray://host:10001; default RAY_ADDRESS), with one copy of the model per worker (per GPU where "
            "the cluster has GPUs). A run that is cancelled or stopped goes on, when run again, from the tiles it "
            "wrote; a finished index is reused while the rasters, model and tiling are unchanged.\n\n"
            "Outputs: the top-k tiles for the query (when one is given) with their raster, and the index "
            "(a GeoPackage).")

    def initAlgorithm(self, config=None):
        self.add_archive_parameters()
        self.addParameter(with_help(QgsProcessingParameterString(self.QUERY, self.tr("Query text"), optional=True),
                                    self.tr("What to find across the archive; leave empty to build the index only.")))
        self.addParameter(QgsProcessingParameterString(self.NEGATIVE, self.tr("Negative text"), optional=True))
        self.add_model_parameters(DEFAULT_MODEL, "embedder")
        self.addParameter(QgsProcessingParameterNumber(self.TOP_K, self.tr("Number of results"), minValue=1,
                                                       defaultValue=10))
        self.add_archive_options()
        self._advanced(QgsProcessingParameterNumber(self.BATCH_SIZE, self.tr("Batch size"), minValue=1,
                                                    defaultValue=32))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, self.tr("Matching tiles"), QgsProcessing.SourceType.TypeVectorPolygon, optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_INDEX, self.tr("Archive index (default: kept in the GeoVL cache)"),
            self.tr("GeoPackage (*.gpkg)"), optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber(self.TILE_COUNT, self.tr("Tiles in the index")))
        self.addOutput(QgsProcessingOutputNumber(self.RASTER_COUNT, self.tr("Rasters in the index")))

    def processAlgorithm(self, parameters, context, feedback):
        self.check_destinations(parameters, context)
        archive = self.archive_arguments(parameters, context)
        index = self.parameterAsFileOutput(parameters, self.OUTPUT_INDEX, context) or None
        query = self.parameterAsString(parameters, self.QUERY, context).strip()
        negative = self.parameterAsString(parameters, self.NEGATIVE, context).strip()
        model = self.model_options(parameters, context)
        values = self.run_job("index_archive", {
            **archive, "model": model, "query": query, "negative": negative,
            "top_k": self.parameterAsInt(parameters, self.TOP_K, context), "index_path": index,
            "batch_size": self.parameterAsInt(parameters, self.BATCH_SIZE, context)},
            feedback, self.tr("indexing the archive"))
        feedback.pushInfo(self.tr("{} tiles of {} rasters in the index ({} embedded in this run, {} by an earlier "
                                  "one).").format(values["tile_count"], values["raster_count"],
                                                  values["tiles_embedded"], values["tiles_resumed"]))
        outputs = {self.OUTPUT_INDEX: values["index_path"], self.TILE_COUNT: values["tile_count"],
                   self.RASTER_COUNT: values["raster_count"]}
        if query:
            dest_id = self.copy_features(parameters, self.OUTPUT, context, values, "hits", self._fields(),
                                         QgsWkbTypes.Type.Polygon, QgsCoordinateReferenceSystem.fromWkt(
                                             values["crs_wkt"]),
                                         {"query": query, "negative": negative or None, "model": model["name"],
                                          "version": ALGORITHM_VERSION})
            outputs[self.OUTPUT] = dest_id
            style_outputs(context, {dest_id: "retrieved_tiles"})
        self.discard_features(values)
        return outputs

    @staticmethod
    def _fields():
        return make_fields([("rank", "int"), ("score", "double"), ("raster", "string"), ("name", "string"),
                            ("tile_row", "int"), ("tile_col", "int"), ("query", "string"), ("negative", "string"),
                            ("model", "string"), ("version", "string")])
