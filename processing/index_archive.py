"""geovl:index_archive — one retrieval index over the tiles of many rasters, on Ray."""
from __future__ import annotations

import os
import uuid

from qgis.core import (QgsCoordinateReferenceSystem, QgsProcessing, QgsProcessingException,
                       QgsProcessingOutputNumber, QgsProcessingParameterFeatureSink, QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterMultipleLayers,
                       QgsProcessingParameterNumber, QgsProcessingParameterString, QgsProcessingUtils, QgsWkbTypes)

from .base import GeoVLAlgorithm, layer_file, make_fields, with_help
from .retrieve import DEFAULT_MODEL
from .runtime_link import chosen_server
from .styles import style_outputs

ALGORITHM_VERSION = "1"
IN_PROCESS = "in-process"   # pipelines.archive.IN_PROCESS


class IndexArchiveAlgorithm(GeoVLAlgorithm):
    FOLDER = "FOLDER"
    LAYERS = "LAYERS"
    ASSET = "ASSET"
    QUERY = "QUERY"
    NEGATIVE = "NEGATIVE"
    TOP_K = "TOP_K"
    BATCH_SIZE = "BATCH_SIZE"
    RAY_ADDRESS = "RAY_ADDRESS"
    WORKERS = "WORKERS"
    OUTPUT_INDEX = "OUTPUT_INDEX"
    TILE_COUNT = "TILE_COUNT"
    RASTER_COUNT = "RASTER_COUNT"

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
        self.addParameter(with_help(QgsProcessingParameterFile(
            self.INPUT, self.tr("Archive: STAC ItemCollection, VRT or list of rasters"), optional=True),
            self.tr("A STAC ItemCollection (or Item) JSON, a VRT, or a text file with one raster path per line. "
                    "Or give a folder, or raster layers, below.")))
        self.addParameter(QgsProcessingParameterFile(self.FOLDER, self.tr("Or a folder of rasters"),
                                                     QgsProcessingParameterFile.Behavior.Folder, optional=True))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.LAYERS, self.tr("Or raster layers"), QgsProcessing.SourceType.TypeRaster, optional=True))
        self.addParameter(with_help(QgsProcessingParameterString(self.QUERY, self.tr("Query text"), optional=True),
                                    self.tr("What to find across the archive; leave empty to build the index only.")))
        self.addParameter(QgsProcessingParameterString(self.NEGATIVE, self.tr("Negative text"), optional=True))
        self.add_model_parameters(DEFAULT_MODEL, "embedder")
        self.addParameter(QgsProcessingParameterNumber(self.TOP_K, self.tr("Number of results"), minValue=1,
                                                       defaultValue=10))
        self._advanced(with_help(QgsProcessingParameterString(self.RAY_ADDRESS, self.tr("Ray address"),
                                                              optional=True),
                                 self.tr("ray://host:10001 or auto for a Ray cluster; empty: RAY_ADDRESS, else a "
                                         "local Ray instance on this machine; {}: no Ray, in the GeoVL runtime "
                                         "itself.").format(IN_PROCESS)))
        self._advanced(with_help(QgsProcessingParameterNumber(self.WORKERS, self.tr("Ray workers"), minValue=0,
                                                              defaultValue=0),
                                 self.tr("Copies of the model on Ray; 0: one per GPU of the cluster, else one per "
                                         "CPU.")))
        self._advanced(with_help(QgsProcessingParameterString(self.ASSET, self.tr("STAC asset"), optional=True),
                                 self.tr("The key of the STAC items' asset to read; default: visual, else the "
                                         "first image asset.")))
        self._advanced(with_help(QgsProcessingParameterString(self.BANDS, self.tr("Bands"), optional=True),
                                 self.tr("1 band for grey, or 3 for red, green, blue (1,2,3); default: each "
                                         "raster's RGB colour interpretation, else its first three bands.")))
        self.add_grid_parameters()
        self._advanced(QgsProcessingParameterNumber(self.BATCH_SIZE, self.tr("Batch size"), minValue=1,
                                                    defaultValue=32))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, self.tr("Matching tiles"), QgsProcessing.SourceType.TypeVectorPolygon, optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_INDEX, self.tr("Archive index (default: kept in the GeoVL cache)"),
            self.tr("GeoPackage (*.gpkg)"), optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber(self.TILE_COUNT, self.tr("Tiles in the index")))
        self.addOutput(QgsProcessingOutputNumber(self.RASTER_COUNT, self.tr("Rasters in the index")))

    def checkParameterValues(self, parameters, context):
        given = [name for name in (self.INPUT, self.FOLDER, self.LAYERS) if parameters.get(name) not in (None, "", [])]
        if len(given) != 1:
            return False, self.tr("Give the archive one way: a STAC ItemCollection, VRT or list file (INPUT), a "
                                  "folder (FOLDER), or raster layers (LAYERS).")
        return super().checkParameterValues(parameters, context)

    def processAlgorithm(self, parameters, context, feedback):
        self.check_destinations(parameters, context)
        if chosen_server() is not None:
            raise QgsProcessingException(self.tr(
                "Archive jobs run on Ray, not on a GeoVL server: in Plugins › GeoVL › Runtime… choose Local, and give "
                "the Ray address of a cluster (RAY_ADDRESS) to use more machines."))
        archive = self._archive(parameters, context)
        index = self.parameterAsFileOutput(parameters, self.OUTPUT_INDEX, context) or None
        query = self.parameterAsString(parameters, self.QUERY, context).strip()
        negative = self.parameterAsString(parameters, self.NEGATIVE, context).strip()
        model = self.model_options(parameters, context)
        values = self.run_job("index_archive", {
            "archive": archive, "asset": self.parameterAsString(parameters, self.ASSET, context).strip(),
            "model": model, "query": query, "negative": negative,
            "top_k": self.parameterAsInt(parameters, self.TOP_K, context), "index_path": index,
            "tiling": {"tile_size": self.parameterAsInt(parameters, self.TILE_SIZE, context),
                       "overlap": self.parameterAsInt(parameters, self.OVERLAP, context),
                       "resolution": self.parameterAsDouble(parameters, self.RESOLUTION, context) or 0.0,
                       "bands": self.band_numbers(parameters, context) or None},
            "batch_size": self.parameterAsInt(parameters, self.BATCH_SIZE, context),
            "cluster": self.parameterAsString(parameters, self.RAY_ADDRESS, context).strip(),
            "workers": self.parameterAsInt(parameters, self.WORKERS, context)},
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

    def _archive(self, parameters, context) -> str:
        """The archive as a path the runtime reads: the file or folder given, or a list
        file of the raster layers' files."""
        layers = self.parameterAsLayerList(parameters, self.LAYERS, context)
        if not layers:
            return (self.parameterAsFile(parameters, self.INPUT, context)
                    or self.parameterAsFile(parameters, self.FOLDER, context))
        files = []
        for layer in layers:
            path = layer_file(layer)
            if not path:
                raise QgsProcessingException(self.tr(
                    "The layer {} is not a raster file (a web or virtual layer): an archive is made of files. "
                    "Export it (Raster › Conversion › Translate) or index it with geovl:retrieve.").format(
                    layer.name()))
            files.append(path)
        listing = os.path.join(QgsProcessingUtils.tempFolder(), f"geovl-archive-{uuid.uuid4().hex}.txt")
        with open(listing, "w", encoding="utf-8") as file:
            file.write("\n".join(files) + "\n")
        return listing

    @staticmethod
    def _fields():
        return make_fields([("rank", "int"), ("score", "double"), ("raster", "string"), ("name", "string"),
                            ("tile_row", "int"), ("tile_col", "int"), ("query", "string"), ("negative", "string"),
                            ("model", "string"), ("version", "string")])
