"""Turn any QGIS raster layer into a file path the engine can read.

Local GDAL files are used in place. Other layers (WMS/XYZ/WCS, virtual rasters, ...)
are rendered through their data provider to a GeoTIFF at the requested extent and
resolution, kept in the cache so a repeated run on the same layer and extent reuses it
(and with it the tile index built from it).
"""
from __future__ import annotations

import contextlib
import hashlib
import math
import os

from qgis.core import (QgsDistanceArea, QgsPointXY, QgsProcessingException, QgsRasterBlockFeedback,
                       QgsRasterDataProvider, QgsRasterFileWriter, QgsRasterLayer, QgsRasterPipe, QgsRectangle,
                       QgsUnitTypes)
from qgis.PyQt.QtCore import QCoreApplication

from .base import writable_folder_problem

# Largest raster rendered from a non-file layer (pixels); beyond it the user should
# narrow the extent or coarsen the resolution.
MAX_RENDER_PIXELS = 400_000_000


def tr(text: str) -> str:
    # pylupdate5 files module-level tr() calls under the "@default" context.
    return QCoreApplication.translate("@default", text)


def local_path(layer: QgsRasterLayer) -> str | None:
    """The file behind a GDAL layer, if it is a plain local file."""
    if layer.providerType() != "gdal":
        return None
    path = layer.source().split("|")[0]
    return path if os.path.isfile(path) else None


def layer_as_file(layer: QgsRasterLayer, extent: QgsRectangle | None, resolution_m: float,
                  cache_folder: str, context, feedback) -> str:
    """A path to read `layer` from: the layer's own file, or a GeoTIFF rendered from it."""
    if not layer.crs().isValid():
        raise QgsProcessingException(tr(
            "The raster layer '{}' has no coordinate reference system. Assign one "
            "(Layer Properties > Source) and run again.").format(layer.name()))
    path = local_path(layer)
    if path:
        return path
    extent = extent if extent is not None and not extent.isNull() else layer.extent()
    extent = extent.intersect(layer.extent()) if not layer.extent().isEmpty() else extent
    if extent.isEmpty():
        raise QgsProcessingException(tr("The extent does not overlap the layer '{}'.").format(layer.name()))
    size = _pixel_size(layer, extent, resolution_m, context)
    cols, rows = math.ceil(extent.width() / size), math.ceil(extent.height() / size)
    if cols * rows > MAX_RENDER_PIXELS:
        raise QgsProcessingException(tr(
            "Rendering layer '{}' over this extent at this resolution would make a {} x {} px raster, more than "
            "{} Mpx. Choose a smaller extent or a coarser resolution (RESOLUTION, metres per pixel).").format(
                layer.name(), cols, rows, MAX_RENDER_PIXELS // 1_000_000))
    key = hashlib.sha256("|".join([layer.providerType(), layer.source(), layer.crs().authid() or layer.crs().toWkt(),
                                   extent.toString(12), repr(size)]).encode()).hexdigest()[:24]
    target = os.path.join(cache_folder, f"{key}.tif")
    if os.path.isfile(target):
        if _readable_raster(target, cols, rows):
            feedback.pushInfo(tr("Reusing the rendering of layer '{}' in {}.").format(layer.name(), target))
            return target
        feedback.pushWarning(tr("The cached rendering {} is damaged; rendering layer '{}' again.").format(
            target, layer.name()))
        os.remove(target)
    feedback.pushInfo(tr("Rendering layer '{}' to a {} x {} px GeoTIFF.").format(layer.name(), cols, rows))
    try:
        os.makedirs(cache_folder, exist_ok=True)
        problem = writable_folder_problem(cache_folder)
    except OSError as exc:
        problem = tr("GeoVL cannot make the folder {} ({})").format(cache_folder, exc.strerror or exc)
    if problem:
        raise QgsProcessingException(tr(
            "Cannot render layer '{}' into GeoVL's cache: {}. Set GEOVL_CACHE_DIR to a folder you can write "
            "to.").format(layer.name(), problem))
    partial = f"{target}.{os.getpid()}.partial.tif"
    writer = QgsRasterFileWriter(partial)
    writer.setOutputFormat("GTiff")
    writer.setCreateOptions(["COMPRESS=DEFLATE", "TILED=YES", "BIGTIFF=IF_SAFER"])
    pipe = QgsRasterPipe()
    pipe.set(layer.dataProvider().clone())
    render_extent = QgsRectangle(extent.xMinimum(), extent.yMaximum() - rows * size,
                                 extent.xMinimum() + cols * size, extent.yMaximum())
    # writeRaster takes a QgsRasterBlockFeedback, relayed to the algorithm's feedback.
    block_feedback = QgsRasterBlockFeedback()
    if feedback:
        feedback.canceled.connect(block_feedback.cancel)
        block_feedback.progressChanged.connect(feedback.setProgress)
    error = writer.writeRaster(pipe, cols, rows, render_extent, layer.crs(), context.transformContext(),
                               block_feedback)
    written = error == QgsRasterFileWriter.WriterError.NoError and _readable_raster(partial, cols, rows)
    if not written or block_feedback.isCanceled():
        for leftover in (partial, partial + ".aux.xml"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(leftover)
        if block_feedback.isCanceled():
            raise QgsProcessingException(tr("The run was cancelled; no output was written."))
        raise QgsProcessingException(tr(
            "Rendering layer '{}' into {} failed (QGIS writer error {}). Is the disk full? Free some space, or set "
            "GEOVL_CACHE_DIR to a folder on another disk.").format(layer.name(), cache_folder, int(error)))
    os.replace(partial, target)
    with contextlib.suppress(FileNotFoundError):  # GDAL's statistics of the check, under the old name
        os.remove(partial + ".aux.xml")
    return target


def _readable_raster(path: str, cols: int, rows: int) -> bool:
    """Whether `path` opens as a `cols` x `rows` raster whose last row reads (a file cut
    short by a full disk or a killed run opens, but fails there)."""
    layer = QgsRasterLayer(path, "check", "gdal")
    if not layer.isValid() or (layer.width(), layer.height()) != (cols, rows):
        return False
    provider = layer.dataProvider()
    extent = layer.extent()
    last_row = QgsRectangle(extent.xMinimum(), extent.yMinimum(), extent.xMaximum(),
                            extent.yMinimum() + extent.height() / rows)
    return all(provider.block(band, last_row, cols, 1).isValid() for band in range(1, layer.bandCount() + 1))


def _pixel_size(layer: QgsRasterLayer, extent: QgsRectangle, resolution_m: float, context) -> float:
    """Render pixel size in layer CRS units: RESOLUTION if given, else the layer's own."""
    crs = layer.crs()
    if resolution_m and crs.isGeographic():
        # Ground length of one degree of longitude at the extent's centre.
        area = QgsDistanceArea()
        area.setSourceCrs(crs, context.transformContext())
        area.setEllipsoid(crs.ellipsoidAcronym() or "EPSG:7030")
        c = extent.center()
        return resolution_m / area.measureLine(QgsPointXY(c.x() - 0.5, c.y()), QgsPointXY(c.x() + 0.5, c.y()))
    if resolution_m:
        return resolution_m * QgsUnitTypes.fromUnitToUnitFactor(QgsUnitTypes.DistanceUnit.DistanceMeters, crs.mapUnits())
    if layer.dataProvider().capabilities() & QgsRasterDataProvider.Capability.Size and layer.width() > 0:
        return layer.rasterUnitsPerPixelX()
    raise QgsProcessingException(tr(
        "Layer '{}' has no native resolution (web map/tile layer): set the resolution "
        "(RESOLUTION, metres per pixel) to render it at.").format(layer.name()))
