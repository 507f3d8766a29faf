"""Web and virtual layers: an XYZ layer served by a loopback tile server the test starts.

Tiles that cannot be downloaded (HTTP 500, no answer in time) fail the run with a
sentence and leave nothing in the render cache; served tiles render, and a rerun reuses
the rendering. Tiles the server does not have (HTTP 404 or 204) are nodata, and an
extent where it has none is a sentence. RESOLUTION is ground metres per pixel: at 60 N a Web Mercator CRS metre is
half a metre on the ground, and a degree of longitude half a degree of latitude. Layers
without an extent of their own default to the map view, or (qgis_process) ask for EXTENT.
"""
from __future__ import annotations

import math

import pytest
from qgis.core import (QgsCoordinateReferenceSystem, QgsNetworkAccessManager, QgsPointXY, QgsProcessingContext,
                       QgsProcessingException, QgsProcessingFeedback, QgsRasterLayer, QgsRectangle)

from .. import tile_server
from ..tile_server import TILE_COLOUR
from .conftest import partial_files, virtual_raster

pytestmark = pytest.mark.usefixtures("qgis_app")

R = 6378137.0  # Web Mercator's sphere
Y_60N = R * math.log(math.tan(math.radians(45 + 30)))  # northing of 60 N in EPSG:3857
# 1024 x 1024 CRS metres centred on 60 N: 512 x 512 m on the ground.
EXTENT_60N = QgsRectangle(0.0, Y_60N - 512, 1024.0, Y_60N + 512)


class TileServer(tile_server.TileServer):
    """The loopback tile server, with its XYZ layer. The tiles `missing(z, x, y)` says it
    does not have are answered `missing_status` (404 or 204) with no content."""

    def __init__(self):
        super().__init__()
        self.missing, self.missing_status = (lambda z, x, y: False), 404
        server = self

        class Handler(self.http.RequestHandlerClass):
            def do_GET(self):
                z, x, y = (int(part) for part in self.path.removesuffix(".png").split("/")[-3:])
                if not server.missing(z, x, y):
                    super().do_GET()
                    return
                server.requests += 1
                self.send_response(server.missing_status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.http.RequestHandlerClass = Handler

    def layer(self, name: str = "xyz") -> QgsRasterLayer:
        layer = QgsRasterLayer(self.xyz_source, name, "wms")
        assert layer.isValid() and layer.crs().authid() == "EPSG:3857"
        return layer


@pytest.fixture
def tiles():
    server = TileServer()
    yield server
    server.close()


def run_retrieve(layer, model, **extra):
    import processing

    feedback = QgsProcessingFeedback()
    params = {"INPUT": layer, "QUERY": "a roof", "MODEL": model, "TILE_SIZE": 64, "TOP_K": 3, "OUTPUT": "memory:",
              **extra}
    return processing.run("geovl:retrieve", params, feedback=feedback), feedback.textLog()


def extent_parameter(rect: QgsRectangle, crs: str = "EPSG:3857") -> str:
    return f"{rect.xMinimum()!r},{rect.xMaximum()!r},{rect.yMinimum()!r},{rect.yMaximum()!r} [{crs}]"


def rendered_files(cache_dir):
    """The renderings in the cache (GDAL may keep statistics beside them in .aux.xml)."""
    return sorted((cache_dir / "rendered").glob("*.tif"))


@pytest.mark.parametrize("mode", ["error", "slow"])
def test_tiles_not_downloaded_fail_with_a_sentence_and_cache_nothing(plugin, tiny_clip_dir, tiles, cache_dir, mode):
    """HTTP 500 or no answer in time: the run stops with a sentence naming the layer and a
    failed tile, and neither a rendering nor a partial file is left in the cache."""
    tiles.mode = mode
    timeout = QgsNetworkAccessManager.timeout()
    QgsNetworkAccessManager.setTimeout(1000)
    try:
        with pytest.raises(QgsProcessingException) as info:
            run_retrieve(tiles.layer(), tiny_clip_dir, EXTENT=extent_parameter(EXTENT_60N), RESOLUTION=1.0)
    finally:
        QgsNetworkAccessManager.setTimeout(timeout)
    message = str(info.value)
    assert "Rendering layer 'xyz' failed: its data could not be fetched" in message
    assert f"http://127.0.0.1:{tiles.http.server_port}/" in message
    assert ("no answer in time" if mode == "slow" else "server replied: tile server down") in message
    assert "Check the network connection" in message
    assert tiles.requests > 0
    assert rendered_files(cache_dir) == [] and partial_files(cache_dir) == []


@pytest.mark.parametrize("status", [404, 204])
def test_tiles_the_server_does_not_have_are_nodata(plugin, tiny_clip_dir, tiles, cache_dir, status):
    """The server has no tiles east of x = 0 beyond the first column (x > 611 m at zoom
    16): the run succeeds, the rendering is transparent (alpha 0, nodata) there and holds
    the served tiles elsewhere, and only tiles with data are indexed and found."""
    tiles.missing, tiles.missing_status = (lambda z, x, y: x > 2 ** (z - 1)), status
    result, log = run_retrieve(tiles.layer(), tiny_clip_dir, EXTENT=extent_parameter(EXTENT_60N), RESOLUTION=1.0)
    assert "The server of layer 'xyz' has no tile for" in log and "those areas are nodata" in log
    [rendered] = rendered_files(cache_dir)
    check = QgsRasterLayer(str(rendered), "rendered", "gdal")
    assert [check.dataProvider().sample(QgsPointXY(100, Y_60N), band)[0] for band in (1, 2, 3, 4)] == \
        [*TILE_COLOUR, 255]
    assert check.dataProvider().sample(QgsPointXY(900, Y_60N), 4)[0] == 0
    assert "40 tiles in the index" in log   # of 8 x 8 tiles of 128 m, the 3 columns east of 640 m are empty
    assert result["OUTPUT"].featureCount() == 3
    assert all(hit.geometry().boundingBox().xMaximum() <= 640 for hit in result["OUTPUT"].getFeatures())


def test_tiles_qgis_already_holds_are_data_not_coverage_gaps(plugin, tiny_clip_dir, tiles, cache_dir):
    """QGIS draws tiles it already holds (the map was panned there) without a request: a
    rendering whose only requests were answered 404 still has those tiles, so it is a run
    with nodata east, not "no tile over this extent" (CI met this before each server had a URL prefix of its own)."""
    west = QgsRectangle(0.0, EXTENT_60N.yMinimum(), 600.0, EXTENT_60N.yMaximum())  # zoom 16's column x = 2^15 only
    run_retrieve(tiles.layer(), tiny_clip_dir, EXTENT=extent_parameter(west), RESOLUTION=1.0)
    served_before = tiles.requests
    tiles.missing = lambda z, x, y: x > 2 ** (z - 1)
    result, log = run_retrieve(tiles.layer(), tiny_clip_dir, EXTENT=extent_parameter(EXTENT_60N), RESOLUTION=1.0)
    assert tiles.requests > served_before   # the east tiles were asked for, and answered 404
    assert "those areas are nodata" in log and "40 tiles in the index" in log
    assert all(hit.geometry().boundingBox().xMaximum() <= 640 for hit in result["OUTPUT"].getFeatures())


def test_an_extent_outside_the_server_coverage_is_a_sentence(plugin, tiny_clip_dir, tiles, cache_dir):
    """Every tile answered 404: not an all-nodata run, but a sentence saying the extent is
    outside the server's coverage; nothing is cached."""
    tiles.missing = lambda z, x, y: True
    with pytest.raises(QgsProcessingException) as info:
        run_retrieve(tiles.layer(), tiny_clip_dir, EXTENT=extent_parameter(EXTENT_60N), RESOLUTION=1.0)
    message = str(info.value)
    assert "Rendering layer 'xyz' gave nothing: its server has no tile over this extent" in message
    assert f"http://127.0.0.1:{tiles.http.server_port}{tiles.prefix}/16/" in message
    assert "The extent is outside the server's coverage" in message and "(EXTENT)" in message
    assert rendered_files(cache_dir) == [] and partial_files(cache_dir) == []


def test_served_tiles_render_at_ground_resolution_and_are_reused(plugin, tiny_clip_dir, tiles, cache_dir):
    """RESOLUTION 1 on EPSG:3857 at 60 N: 512 m of ground are 512 px (not 1024). The
    rendering holds the served tiles, and a rerun reuses it without asking the server."""
    result, log = run_retrieve(tiles.layer(), tiny_clip_dir, EXTENT=extent_parameter(EXTENT_60N), RESOLUTION=1.0)
    assert "Rendering layer 'xyz' to a 512 x 512 px GeoTIFF." in log
    [rendered] = rendered_files(cache_dir)
    check = QgsRasterLayer(str(rendered), "rendered", "gdal")
    assert (check.width(), check.height()) == (512, 512) and check.crs().authid() == "EPSG:3857"
    centre = check.extent().center()
    assert [check.dataProvider().sample(centre, band)[0] for band in (1, 2, 3)] == list(TILE_COLOUR)
    assert result["OUTPUT"].featureCount() == 3 and result["OUTPUT"].crs().authid() == "EPSG:3857"
    for hit in result["OUTPUT"].getFeatures():  # 64-px tiles of 2 CRS metres
        box = hit.geometry().boundingBox()
        assert box.width() == pytest.approx(128, rel=1e-3) and EXTENT_60N.contains(box.center())

    served = tiles.requests
    _, log = run_retrieve(tiles.layer(), tiny_clip_dir, EXTENT=extent_parameter(EXTENT_60N), RESOLUTION=1.0,
                          QUERY="a field")
    assert "Reusing the rendering of layer 'xyz'" in log and "Rendering layer" not in log
    assert tiles.requests == served and rendered_files(cache_dir) == [rendered]


def test_a_point_example_is_one_tile_of_ground_around_it(plugin, tiny_clip_dir, tiles, cache_dir, monkeypatch):
    """A query point on the XYZ layer at 60 N, TILE_SIZE 64 at RESOLUTION 1: the example
    is 64 m of ground around it, 128 x 128 CRS metres of Web Mercator there (as the
    rendering's tiles), not 64 pixels of the layer's nominal 1-unit pixel size."""
    from qgis.core import QgsFeature, QgsGeometry, QgsVectorLayer

    from geovl.processing.base import GeoVLAlgorithm

    sent = []
    run_job = GeoVLAlgorithm.run_job

    def spy(alg, job, arguments, feedback, activity):
        sent.append(arguments)
        return run_job(alg, job, arguments, feedback, activity)

    monkeypatch.setattr(GeoVLAlgorithm, "run_job", spy)
    centre = EXTENT_60N.center()
    points = QgsVectorLayer("Point?crs=EPSG:3857", "examples", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromPointXY(centre))
    points.dataProvider().addFeatures([feature])
    result, _ = run_retrieve(tiles.layer(), tiny_clip_dir, QUERY="", QUERY_LAYER=points,
                             EXTENT=extent_parameter(EXTENT_60N), RESOLUTION=1.0)
    assert result["OUTPUT"].featureCount() == 3
    [(xmin, ymin, xmax, ymax)] = sent[0]["examples"]
    assert (xmax - xmin, ymax - ymin) == (pytest.approx(128, rel=1e-3), pytest.approx(128, rel=1e-3))
    assert ((xmin + xmax) / 2, (ymin + ymax) / 2) == (pytest.approx(centre.x()), pytest.approx(centre.y()))


def test_a_web_layer_defaults_to_the_map_view(plugin, tiny_clip_dir, tiles, cache_dir, qgis_iface):
    """No EXTENT and no RESOLUTION: the canvas's extent at the canvas's ground resolution
    (a rendering of about as many pixels as the canvas shows)."""
    canvas = qgis_iface.mapCanvas()
    old_crs, old_extent = canvas.mapSettings().destinationCrs(), canvas.extent()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    canvas.setExtent(EXTENT_60N)
    try:
        shown, units_per_px = canvas.extent(), canvas.mapUnitsPerPixel()
        _, log = run_retrieve(tiles.layer(), tiny_clip_dir)
    finally:
        canvas.setDestinationCrs(old_crs)
        canvas.setExtent(old_extent)
    width_px = round(shown.width() / units_per_px)
    assert width_px > 64
    assert "Layer 'xyz' has no extent of its own: using the map view" in log
    # A canvas pixel at 60 N is half as many ground metres as CRS metres.
    assert f"using the map view's, {units_per_px * 0.5:.3g} m per pixel" in log
    [rendered] = rendered_files(cache_dir)
    check = QgsRasterLayer(str(rendered), "rendered", "gdal")
    assert abs(check.width() - width_px) <= 1
    assert check.extent().contains(QgsRectangle(shown.xMinimum() + 1, shown.yMinimum() + 1,
                                                shown.xMaximum() - 1, shown.yMaximum() - 1))


def test_without_a_map_view_a_web_layer_asks_for_an_extent(qgis_app, tiles, cache_dir):
    """qgis_process and scripts have no canvas: a sentence asks for EXTENT, nothing is fetched."""
    from geovl.processing.render import job_raster

    tiling = {"extent": None, "resolution": 1.0}
    with pytest.raises(QgsProcessingException, match=r"Layer 'xyz' is a web map or tile layer with no extent of "
                                                     r"its own: set the extent to work on \(EXTENT"):
        job_raster(tiles.layer(), tiling, QgsProcessingContext(), QgsProcessingFeedback(), map_view=None)
    tiling = {"extent": (EXTENT_60N.xMinimum(), EXTENT_60N.yMinimum(), EXTENT_60N.xMaximum(), EXTENT_60N.yMaximum()),
              "resolution": 0.0}
    with pytest.raises(QgsProcessingException, match=r"Layer 'xyz' has no native resolution .*RESOLUTION"):
        job_raster(tiles.layer(), tiling, QgsProcessingContext(), QgsProcessingFeedback(), map_view=None)
    assert tiles.requests == 0 and rendered_files(cache_dir) == []


@pytest.fixture
def geographic_virtual_layer(qgis_app, tmp_path):
    """A 'virtualraster' layer over a 0.01 x 0.01 degree GeoTIFF centred on 10 E, 60 N."""
    import numpy as np
    from rasterio.transform import from_origin

    from ..conftest import write_raster

    path = write_raster(tmp_path / "geo.tif", np.full((1, 100, 100), 7, np.uint8), crs="EPSG:4326",
                        transform=from_origin(9.995, 60.005, 0.0001, 0.0001))
    return virtual_raster(path, "EPSG:4326", (9.995, 59.995, 10.005, 60.005), 100, 100, "geo")


def test_a_geographic_layer_renders_square_ground_pixels(geographic_virtual_layer, cache_dir):
    """0.01 degree at 60 N: about 558 m east-west and 1117 m north-south on the WGS84
    ellipsoid, so RESOLUTION 2 renders about 279 x 558 px of 2 x 2 m of ground."""
    from geovl.processing.render import job_raster

    feedback = QgsProcessingFeedback()
    path, tiling = job_raster(geographic_virtual_layer, {"extent": None, "resolution": 2.0, "tile_size": 0},
                              QgsProcessingContext(), feedback)
    assert tiling == {"extent": None, "resolution": 0.0, "tile_size": 0}  # the rendering is read as it is
    check = QgsRasterLayer(path, "rendered", "gdal")
    # Ground length of a degree at 60 N on WGS84: 55 800 m of longitude, 111 412 m of latitude.
    assert check.width() == pytest.approx(0.01 * 55_800 / 2, abs=2)
    assert check.height() == pytest.approx(0.01 * 111_412 / 2, abs=2)
    assert check.dataProvider().sample(QgsPointXY(10.0, 60.0), 1)[0] == 7
    assert "Rendering layer 'geo'" in feedback.textLog()


def test_qgis_process_asks_for_an_extent_then_renders(home, tiny_clip_dir, tiles, tmp_path):
    """qgis_process has no map view: a web layer without EXTENT is a sentence (and no tile is
    asked for); with EXTENT and RESOLUTION it renders 512 m of ground at 60 N as 512 px."""
    from .conftest import qgis_process

    source = "wms://" + tiles.xyz_source
    out = tmp_path / "hits.gpkg"
    done = qgis_process(home, "run", "geovl:retrieve", "--", f"INPUT={source}", "QUERY=a roof",
                        f"MODEL={tiny_clip_dir}", "TILE_SIZE=64", f"OUTPUT={out}")
    text = done.stdout + done.stderr
    assert done.returncode != 0, text
    assert "is a web map or tile layer with no extent of its own: set the extent to work on (EXTENT" in text
    assert "Traceback" not in text and tiles.requests == 0 and not out.exists()

    done = qgis_process(home, "run", "geovl:retrieve", "--", f"INPUT={source}", "QUERY=a roof",
                        f"MODEL={tiny_clip_dir}", "TILE_SIZE=64", f"EXTENT={extent_parameter(EXTENT_60N)}",
                        "RESOLUTION=1", f"OUTPUT={out}")
    text = done.stdout + done.stderr
    assert done.returncode == 0, text
    assert "to a 512 x 512 px GeoTIFF." in text and tiles.requests > 0 and out.exists()
