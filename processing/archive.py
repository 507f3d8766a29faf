"""What the archive algorithms share: the archive, given as a file, a folder or raster
layers, and where the work runs (Ray)."""
from __future__ import annotations

import os
import uuid

from qgis.core import (QgsProcessing, QgsProcessingException, QgsProcessingParameterFile,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber,
                       QgsProcessingParameterString, QgsProcessingUtils)

from .base import GeoVLAlgorithm, layer_file, tr, with_help
from .runtime_link import chosen_server

IN_PROCESS = "in-process"   # pipelines.archive.IN_PROCESS


class ArchiveAlgorithm(GeoVLAlgorithm):
    FOLDER = "FOLDER"
    LAYERS = "LAYERS"
    ASSET = "ASSET"
    RAY_ADDRESS = "RAY_ADDRESS"
    WORKERS = "WORKERS"
    RASTER_COUNT = "RASTER_COUNT"

    def add_archive_parameters(self) -> None:
        """INPUT (a STAC, VRT or list file), FOLDER or LAYERS: one of them."""
        self.addParameter(with_help(QgsProcessingParameterFile(
            self.INPUT, tr("Archive: STAC ItemCollection, VRT or list of rasters"), optional=True),
            tr("A STAC ItemCollection (or Item) JSON, a VRT, or a text file with one raster path per line. Or give "
               "a folder, or raster layers, below.")))
        self.addParameter(QgsProcessingParameterFile(self.FOLDER, tr("Or a folder of rasters"),
                                                     QgsProcessingParameterFile.Behavior.Folder, optional=True))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.LAYERS, tr("Or raster layers"), QgsProcessing.SourceType.TypeRaster, optional=True))

    def add_archive_options(self) -> None:
        """RAY_ADDRESS, WORKERS, ASSET, BANDS and the tile grid (advanced)."""
        self._advanced(with_help(QgsProcessingParameterString(self.RAY_ADDRESS, tr("Ray address"), optional=True),
                                 tr("ray://host:10001 or auto for a Ray cluster; empty: RAY_ADDRESS, else a local "
                                    "Ray instance on this machine; {}: no Ray, in the GeoVL runtime "
                                    "itself.").format(IN_PROCESS)))
        self._advanced(with_help(QgsProcessingParameterNumber(self.WORKERS, tr("Ray workers"), minValue=0,
                                                              defaultValue=0),
                                 tr("Copies of the model on Ray; 0: one per GPU of the cluster, else one per CPU.")))
        self._advanced(with_help(QgsProcessingParameterString(self.ASSET, tr("STAC asset"), optional=True),
                                 tr("The key of the STAC items' asset to read; default: visual, else the first "
                                    "image asset.")))
        self._advanced(with_help(QgsProcessingParameterString(self.BANDS, tr("Bands"), optional=True),
                                 tr("1 band for grey, or 3 for red, green, blue (1,2,3); default: each raster's "
                                    "RGB colour interpretation, else its first three bands.")))
        self.add_grid_parameters()

    def checkParameterValues(self, parameters, context):
        given = [name for name in (self.INPUT, self.FOLDER, self.LAYERS) if parameters.get(name) not in (None, "", [])]
        if len(given) != 1:
            return False, tr("Give the archive one way: a STAC ItemCollection, VRT or list file (INPUT), a folder "
                             "(FOLDER), or raster layers (LAYERS).")
        return super().checkParameterValues(parameters, context)

    def archive_arguments(self, parameters, context) -> dict:
        """The job's archive, asset, tiling, Ray address and workers. Archive jobs run in
        the local runtime: a GeoVL server is refused with what to do instead."""
        if chosen_server() is not None:
            raise QgsProcessingException(tr(
                "Archive jobs run on Ray, not on a GeoVL server: in Plugins › GeoVL › Runtime… choose Local, and give "
                "the Ray address of a cluster (RAY_ADDRESS) to use more machines."))
        return {"archive": self._archive(parameters, context),
                "asset": self.parameterAsString(parameters, self.ASSET, context).strip(),
                "tiling": {"tile_size": self.parameterAsInt(parameters, self.TILE_SIZE, context),
                           "overlap": self.parameterAsInt(parameters, self.OVERLAP, context),
                           "resolution": self.parameterAsDouble(parameters, self.RESOLUTION, context) or 0.0,
                           "bands": self.band_numbers(parameters, context) or None},
                "cluster": self.parameterAsString(parameters, self.RAY_ADDRESS, context).strip(),
                "workers": self.parameterAsInt(parameters, self.WORKERS, context)}

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
                raise QgsProcessingException(tr(
                    "The layer {} is not a raster file (a web or virtual layer): an archive is made of files. Export "
                    "it (Raster › Conversion › Translate) or run the one-raster algorithm on it.").format(layer.name()))
            files.append(path)
        listing = os.path.join(QgsProcessingUtils.tempFolder(), f"geovl-archive-{uuid.uuid4().hex}.txt")
        with open(listing, "w", encoding="utf-8") as file:
            file.write("\n".join(files) + "\n")
        return listing
