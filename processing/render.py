"""Turn any QGIS raster layer into a file path the engine can read.

Local GDAL files are used in place. Other layers (WMS/XYZ/WCS, virtual rasters, ...)
are rendered through their data provider to a GeoTIFF at the requested extent and
ground resolution, kept in the cache so a repeated run on the same layer and extent
reuses it (and with it the tile index built from it). A rendering whose provider failed
to fetch data (tiles not downloaded) is an error, never a cached blank raster. A tile the
server says it does not have (HTTP 404 or 204, outside its coverage) is nodata there.
"""
from __future__ import annotations

import contextlib
import hashlib
import math
import os

from qgis.core import (QgsCoordinateTransform, QgsNetworkAccessManager, QgsNetworkReplyContent,
                       QgsNetworkRequestParameters, QgsPointXY, QgsProcessingException, QgsRasterBandStats,
                       QgsRasterBlockFeedback, QgsRasterDataProvider, QgsRasterFileWriter, QgsRasterLayer,
                       QgsRasterPipe, QgsRectangle)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtNetwork import QNetworkReply, QNetworkRequest

from .base import MapView, ground_metres_per_unit, writable_folder_problem
from .settings import cache_folder

# Largest raster rendered from a non-file layer (pixels); beyond it the user should
# narrow the extent or coarsen the resolution.
MAX_RENDER_PIXELS = 400_000_000
# What XYZ and WMS servers answer for a tile where they have no data: no tile there (the
# provider leaves it transparent, nodata in the rendering), not a failed download.
NO_TILE_STATUSES = (204, 404)


def tr(text: str) -> str:
    # pylupdate5 files module-level tr() calls under the "@default" context.
    return QCoreApplication.translate("@default", text)


def local_path(layer: QgsRasterLayer) -> str | None:
    """The file behind a GDAL layer, if it is a plain local file."""
    if layer.providerType() != "gdal":
        return None
    path = layer.source().split("|")[0]
    return path if os.path.isfile(path) else None


def has_own_grid(layer: QgsRasterLayer) -> bool:
    """Whether the layer has pixels of its own (a size); web map and tile layers have
    none: they render at whatever extent and resolution they are asked for."""
    return bool(layer.dataProvider().capabilities() & QgsRasterDataProvider.Capability.Size) and layer.width() > 0


def job_raster(layer: QgsRasterLayer, tiling: dict, context, feedback, map_view: MapView | None = None,
               extent_crs=None) -> tuple[str, dict]:
    """The file a job reads `layer` from, and the job's tiling options for that file.
    `tiling["extent"]` is in `extent_crs` (default: the layer's CRS). A rendering already
    is the extent at the resolution, so the job reads all of it at its own pixels (the
    worker resampling it again would blur it and shift the grid)."""
    extent = QgsRectangle(*tiling["extent"]) if tiling["extent"] else None
    if extent is not None and extent_crs is not None and extent_crs != layer.crs():
        extent = QgsCoordinateTransform(extent_crs, layer.crs(), context.transformContext()).transformBoundingBox(
            extent)
    path = layer_as_file(layer, extent, tiling["resolution"], os.path.join(cache_folder(), "rendered"), context,
                         feedback, map_view)
    if path == local_path(layer):
        return path, tiling
    return path, {**tiling, "extent": None, "resolution": 0.0}


def layer_as_file(layer: QgsRasterLayer, extent: QgsRectangle | None, resolution_m: float,
                  folder: str, context, feedback, map_view: MapView | None = None) -> str:
    """A path to read `layer` from: the layer's own file, or a GeoTIFF rendered from it over
    `extent` (layer CRS) at `resolution_m` ground metres per pixel. A layer without a grid of
    its own defaults to the desktop's `map_view` for both."""
    if not layer.crs().isValid():
        raise QgsProcessingException(tr(
            "The raster layer '{}' has no coordinate reference system. Assign one "
            "(Layer Properties > Source) and run again.").format(layer.name()))
    path = local_path(layer)
    if path:
        return path
    extent, resolution_m = _render_request(layer, extent, resolution_m, context, feedback, map_view)
    x_size, y_size = pixel_size(layer, extent.center(), resolution_m, context)  # one grid: the centre's pixels
    cols, rows = max(1, math.ceil(extent.width() / x_size)), max(1, math.ceil(extent.height() / y_size))
    if cols * rows > MAX_RENDER_PIXELS:
        raise QgsProcessingException(tr(
            "Rendering layer '{}' over this extent at this resolution would make a {} x {} px raster, more than "
            "{} Mpx. Choose a smaller extent or a coarser resolution (RESOLUTION, metres per pixel).").format(
                layer.name(), cols, rows, MAX_RENDER_PIXELS // 1_000_000))
    key = hashlib.sha256("|".join([layer.providerType(), layer.source(), layer.crs().authid() or layer.crs().toWkt(),
                                   extent.toString(12), repr(x_size), repr(y_size)]).encode()).hexdigest()[:24]
    target = os.path.join(folder, f"{key}.tif")
    if os.path.isfile(target):
        if _readable_raster(target, cols, rows):
            feedback.pushInfo(tr("Reusing the rendering of layer '{}' in {}.").format(layer.name(), target))
            return target
        feedback.pushWarning(tr("The cached rendering {} is damaged; rendering layer '{}' again.").format(
            target, layer.name()))
        os.remove(target)
    feedback.pushInfo(tr("Rendering layer '{}' to a {} x {} px GeoTIFF.").format(layer.name(), cols, rows))
    try:
        os.makedirs(folder, exist_ok=True)
        problem = writable_folder_problem(folder)
    except OSError as exc:
        problem = tr("GeoVL cannot make the folder {} ({})").format(folder, exc.strerror or exc)
    if problem:
        raise QgsProcessingException(tr(
            "Cannot render layer '{}' into GeoVL's cache: {}. Set GEOVL_CACHE_DIR to a folder you can write "
            "to.").format(layer.name(), problem))
    partial = f"{target}.{os.getpid()}.partial.tif"
    writer = QgsRasterFileWriter(partial)
    writer.setOutputFormat("GTiff")
    writer.setCreateOptions(["COMPRESS=DEFLATE", "TILED=YES", "BIGTIFF=IF_SAFER"])
    provider = layer.dataProvider().clone()
    pipe = QgsRasterPipe()
    pipe.set(provider)
    render_extent = QgsRectangle(extent.xMinimum(), extent.yMaximum() - rows * y_size,
                                 extent.xMinimum() + cols * x_size, extent.yMaximum())
    # writeRaster takes a QgsRasterBlockFeedback, relayed to the algorithm's feedback.
    block_feedback = QgsRasterBlockFeedback()
    if feedback:
        feedback.canceled.connect(block_feedback.cancel)
        block_feedback.progressChanged.connect(feedback.setProgress)
    with _watched_requests() as requests:
        error = writer.writeRaster(pipe, cols, rows, render_extent, layer.crs(), context.transformContext(),
                                   block_feedback)
    # QGIS 3.22's WMS/XYZ provider fills a tile it could not download with transparency and
    # reports nothing to the writer: the failed requests are what tells.
    provider_errors = list(requests.failed.values()) + list(block_feedback.errors())
    if not provider.error().isEmpty():
        provider_errors.append(provider.error().summary())
    # Tiles QGIS already holds (panned over before) are drawn without a request, so only
    # the rendering itself can say that nothing came back.
    outside = bool(requests.no_tile) and not requests.served and _all_transparent(partial)
    written = error == QgsRasterFileWriter.WriterError.NoError and _readable_raster(partial, cols, rows)
    if not written or block_feedback.isCanceled() or provider_errors or outside:
        for leftover in (partial, partial + ".aux.xml"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(leftover)
        if block_feedback.isCanceled():
            raise QgsProcessingException(tr("The run was cancelled; no output was written."))
        if provider_errors:
            raise QgsProcessingException(tr(
                "Rendering layer '{}' failed: its data could not be fetched ({} error(s); the first: {}). The "
                "rendering would have blank areas, so nothing was kept. Check the network connection and that "
                "the service answers (open the layer on the map), then run again.").format(
                    layer.name(), len(provider_errors), provider_errors[0]))
        if outside:
            raise QgsProcessingException(tr(
                "Rendering layer '{}' gave nothing: its server has no tile over this extent (it answered \"no tile "
                "here\", HTTP 404 or 204, to all {} tile request(s), e.g. {}). The extent is outside the server's "
                "coverage: choose an extent where the layer shows data on the map (EXTENT), then run again.").format(
                    layer.name(), len(requests.no_tile), min(requests.no_tile)))
        raise QgsProcessingException(tr(
            "Rendering layer '{}' into {} failed (QGIS writer error {}). Is the disk full? Free some space, or set "
            "GEOVL_CACHE_DIR to a folder on another disk.").format(layer.name(), folder, int(error)))
    if requests.no_tile:
        feedback.pushInfo(tr("The server of layer '{}' has no tile for {} of the {} tile request(s) (HTTP 404 or 204): "
                             "those areas are nodata.").format(layer.name(), len(requests.no_tile),
                                                               len(requests.no_tile) + len(requests.served)))
    os.replace(partial, target)
    with contextlib.suppress(FileNotFoundError):  # GDAL's statistics of the check, under the old name
        os.remove(partial + ".aux.xml")
    return target


def _render_request(layer: QgsRasterLayer, extent: QgsRectangle | None, resolution_m: float, context, feedback,
                    map_view: MapView | None) -> tuple[QgsRectangle, float]:
    """The extent (layer CRS) and ground resolution to render `layer` at: the given ones,
    else the layer's own extent and pixels, else (web layers) the map view's."""
    own_grid = has_own_grid(layer)
    if extent is None or extent.isNull():
        if own_grid:
            extent = layer.extent()
        elif map_view is not None:
            to_layer = QgsCoordinateTransform(map_view.crs, layer.crs(), context.transformContext())
            extent = to_layer.transformBoundingBox(map_view.extent)
            feedback.pushInfo(tr("Layer '{}' has no extent of its own: using the map view ({}).").format(
                layer.name(), extent.toString(3)))
        else:
            raise QgsProcessingException(tr(
                "Layer '{}' is a web map or tile layer with no extent of its own: set the extent to work on "
                "(EXTENT, e.g. xmin,xmax,ymin,ymax [EPSG:code]).").format(layer.name()))
    if not layer.extent().isEmpty():
        extent = extent.intersect(layer.extent())
    if extent.isEmpty():
        raise QgsProcessingException(tr("The extent does not overlap the layer '{}'.").format(layer.name()))
    resolved = ground_resolution(layer, resolution_m, map_view)
    if resolved != resolution_m:
        feedback.pushInfo(tr("Layer '{}' has no resolution of its own: using the map view's, {:.3g} m per "
                             "pixel.").format(layer.name(), resolved))
    return extent, resolved


def ground_resolution(layer: QgsRasterLayer, resolution_m: float, map_view: MapView | None) -> float:
    """The ground metres per pixel `layer` is read at: `resolution_m` (RESOLUTION), else
    for a layer without pixels of its own the map view's; 0: the layer's own pixels."""
    if resolution_m or has_own_grid(layer):
        return resolution_m
    if map_view is None:
        raise QgsProcessingException(tr(
            "Layer '{}' has no native resolution (web map/tile layer): set the resolution "
            "(RESOLUTION, metres per pixel) to render it at.").format(layer.name()))
    return map_view.metres_per_pixel


def pixel_size(layer: QgsRasterLayer, point: QgsPointXY, resolution_m: float, context) -> tuple[float, float]:
    """Pixel size (x, y) in layer CRS units at `point` (layer CRS): `resolution_m` ground
    metres (square on the ground), else the layer's own pixels."""
    if resolution_m:
        x_factor, y_factor = ground_metres_per_unit(layer.crs(), point, context.transformContext())
        return resolution_m / x_factor, resolution_m / y_factor
    return layer.rasterUnitsPerPixelX(), layer.rasterUnitsPerPixelY()


class _Requests:
    """The network requests of a rendering, by URL: failed or timed out (one sentence a
    URL), answered "no tile here" (NO_TILE_STATUSES), and served."""

    def __init__(self):
        self.failed: dict[str, str] = {}
        self.no_tile: set[str] = set()
        self.served: set[str] = set()


@contextlib.contextmanager
def _watched_requests():
    """The network requests of this thread meanwhile, as _Requests. Each thread has its
    own network manager, so a rendering in a Processing task sees its own requests only."""
    requests = _Requests()
    manager = QgsNetworkAccessManager.instance()

    def finished(reply: QgsNetworkReplyContent) -> None:
        url = reply.request().url().toString()
        if reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute) in NO_TILE_STATUSES:
            requests.no_tile.add(url)
        elif reply.error() != QNetworkReply.NetworkError.NoError:
            requests.failed.setdefault(url, f"{url}: {reply.errorString()}")
        else:
            requests.served.add(url)

    def timed_out(request: QgsNetworkRequestParameters) -> None:
        # A request that timed out also finishes, as "Operation canceled": this says why.
        url = request.request().url().toString()
        requests.failed[url] = tr("{}: no answer in time").format(url)

    manager.finished[QgsNetworkReplyContent].connect(finished)
    manager.requestTimedOut[QgsNetworkRequestParameters].connect(timed_out)
    try:
        yield requests
    finally:
        manager.finished[QgsNetworkReplyContent].disconnect(finished)
        manager.requestTimedOut[QgsNetworkRequestParameters].disconnect(timed_out)


def _all_transparent(path: str) -> bool:
    """Whether the rendering at `path` has no visible pixel (its alpha band, the last of
    four, is 0 everywhere)."""
    layer = QgsRasterLayer(path, "check", "gdal")
    if not layer.isValid() or layer.bandCount() != 4:
        return False
    return layer.dataProvider().bandStatistics(4, QgsRasterBandStats.Stats.Max).maximumValue == 0


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
