"""RESOLUTION is ground metres per pixel in every CRS: on Web Mercator a CRS metre is
cos(latitude) metres on the ground, measured at the latitude of the area read."""
import math

import numpy as np
import pytest
from rasterio.transform import from_origin
from rasterio.windows import Window

from geovl.geo.raster import RasterSource
from geovl.pipelines.options import TilingOptions
from geovl.pipelines.tiling import plan

from ..conftest import write_raster

R = 6378137.0  # Web Mercator's sphere


def mercator_y(lat: float) -> float:
    return R * math.log(math.tan(math.radians(45 + lat / 2)))


def test_web_mercator_pixels_are_measured_on_the_ground(tmp_path):
    """1024 x 1024 px of 1 CRS metre at 60 N are 512 m of ground a side: RESOLUTION 1
    reads 2 source pixels per output pixel, one 512-px tile for the whole raster."""
    top = mercator_y(60.0) + 512
    path = write_raster(tmp_path / "merc.tif", np.zeros((3, 1024, 1024), np.uint8), crs="EPSG:3857",
                        transform=from_origin(0.0, top, 1.0, 1.0))
    with RasterSource(path) as src:
        assert src.metres_per_pixel() == pytest.approx(0.5, rel=1e-3)
        assert src.metres_per_unit() == pytest.approx(0.5, rel=1e-3)
        assert src.scale_for_resolution(1.0) == pytest.approx(2.0, rel=1e-3)
        grid = plan(src, TilingOptions(tile_size=512, resolution=1.0), 224)
        assert (grid.rows, grid.cols) == (1, 1) and grid.tile_src == pytest.approx(1024, rel=1e-3)


def test_the_latitude_is_the_area_read(tmp_path):
    """A tall Web Mercator raster from about 45 N to 70 N: the scale is taken where the
    extent is, not at the raster's centre."""
    bottom, top = mercator_y(45.0), mercator_y(70.0)
    pixel = 1000.0
    rows = round((top - bottom) / pixel)
    path = write_raster(tmp_path / "tall.tif", np.zeros((3, rows, 40), np.uint8), crs="EPSG:3857",
                        transform=from_origin(0.0, top, pixel, pixel))
    with RasterSource(path) as src:
        near_top = Window(0, 0, 40, 40)
        ground = pixel * math.cos(math.atan(math.sinh((top - 20 * pixel) / R)))  # at the window's centre
        assert src.metres_per_pixel(near_top) == pytest.approx(ground, rel=1e-6)
        assert src.scale_for_resolution(100.0, near_top) == pytest.approx(100.0 / ground, rel=1e-6)
        grid = plan(src, TilingOptions(tile_size=64, resolution=100.0, extent=(0.0, top - 40 * pixel, 40 * pixel, top)),
                    224)
        assert grid.scale == pytest.approx(100.0 / ground, rel=0.03)  # tile_src is whole source pixels
        assert src.metres_per_pixel() > ground * 1.3  # at the raster's centre, near 58 N


def test_projected_metres_are_unchanged(tmp_path):
    """UTM metres stay metres (no scale factor applied): a 0.5 m raster at 1 m reads 2 px."""
    path = write_raster(tmp_path / "utm.tif", np.zeros((3, 10, 10), np.uint8),
                        transform=from_origin(500_000.0, 4_650_000.0, 0.5, 0.5))
    with RasterSource(path) as src:
        assert src.scale_for_resolution(1.0) == 2.0
