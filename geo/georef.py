"""Pixel <-> map transforms for windows of a raster (affine, rotation allowed)."""
from __future__ import annotations

import math

import numpy as np
from affine import Affine
from rasterio.windows import Window
from shapely.geometry import Polygon

from ..errors import InputError

# Metres per degree of latitude, and of longitude at the equator (WGS84 mean values).
METRES_PER_DEGREE = 111_320.0


def window_transform(transform: Affine, window: Window, scale: float = 1.0) -> Affine:
    """Transform of a window's pixels; `scale` = source pixels per window pixel."""
    return transform * Affine.translation(window.col_off, window.row_off) * Affine.scale(scale)


def window_footprint(transform: Affine, window: Window) -> Polygon:
    """The window's outline in map coordinates (a parallelogram if the raster is rotated)."""
    c0, r0 = window.col_off, window.row_off
    c1, r1 = c0 + window.width, r0 + window.height
    return Polygon([transform * (c, r) for c, r in ((c0, r0), (c1, r0), (c1, r1), (c0, r1))])


def bounds_to_window(transform: Affine, bounds: tuple[float, float, float, float]) -> Window:
    """Smallest whole-pixel window covering map `bounds` (xmin, ymin, xmax, ymax)."""
    xmin, ymin, xmax, ymax = bounds
    inverse = ~transform
    cols, rows = zip(*(inverse * (x, y) for x in (xmin, xmax) for y in (ymin, ymax)))
    c0, r0 = math.floor(min(cols) + 1e-9), math.floor(min(rows) + 1e-9)
    c1, r1 = math.ceil(max(cols) - 1e-9), math.ceil(max(rows) - 1e-9)
    return Window(c0, r0, c1 - c0, r1 - r0)


def intersect_windows(a: Window, b: Window) -> Window | None:
    """Overlap of two windows, or None."""
    c0, r0 = max(a.col_off, b.col_off), max(a.row_off, b.row_off)
    c1 = min(a.col_off + a.width, b.col_off + b.width)
    r1 = min(a.row_off + a.height, b.row_off + b.height)
    if c1 <= c0 or r1 <= r0:
        return None
    return Window(c0, r0, c1 - c0, r1 - r0)


def read_placement(window: Window, bounds: Window,
                   out_size: tuple[int, int]) -> tuple[Window, tuple[int, int, int, int]] | None:
    """For a read of `window` (which may reach past `bounds`, the raster) resampled to
    `out_size` (h, w): the part inside the raster, and where it lands in the output
    array as (row0, row1, col0, col1); None when nothing of the window is inside."""
    inside = intersect_windows(window, bounds)
    if inside is None:
        return None
    fy, fx = out_size[0] / window.height, out_size[1] / window.width
    r0, r1 = round((inside.row_off - window.row_off) * fy), round((inside.row_off + inside.height - window.row_off) * fy)
    c0, c1 = round((inside.col_off - window.col_off) * fx), round((inside.col_off + inside.width - window.col_off) * fx)
    if r1 <= r0 or c1 <= c0:
        return None
    return inside, (r0, r1, c0, c1)


def map_to_pixels(transform: Affine, xy: np.ndarray) -> np.ndarray:
    """(N, 2) map coordinates -> (N, 2) pixel coordinates (column, row) of `transform`."""
    xy = np.asarray(xy, np.float64).reshape(-1, 2)
    inverse = ~transform
    cols = inverse.a * xy[:, 0] + inverse.b * xy[:, 1] + inverse.c
    rows = inverse.d * xy[:, 0] + inverse.e * xy[:, 1] + inverse.f
    return np.stack([cols, rows], axis=1)


def pixels_to_map(transform: Affine, cols_rows: np.ndarray) -> np.ndarray:
    """(N, 2) pixel positions (column, row) -> (N, 2) map coordinates of `transform`."""
    cr = np.asarray(cols_rows, np.float64).reshape(-1, 2)
    t = transform
    return np.stack([t.a * cr[:, 0] + t.b * cr[:, 1] + t.c, t.d * cr[:, 0] + t.e * cr[:, 1] + t.f], axis=1)


def pixel_size(transform: Affine) -> tuple[float, float]:
    """Ground size of one pixel along columns and rows, in CRS units (rotation-safe)."""
    return math.hypot(transform.a, transform.d), math.hypot(transform.b, transform.e)


def check_transform(transform: Affine) -> None:
    """Refuse degenerate geotransforms (no georeferencing, or a singular matrix)."""
    if transform.is_identity or abs(transform.determinant) < 1e-300:
        raise InputError(
            "The raster has no usable georeferencing (identity or singular geotransform). "
            "Georeference it first, e.g. with the QGIS Georeferencer or gdal_translate -a_ullr."
        )


def metres_per_pixel(transform: Affine, is_geographic: bool, linear_units_factor: float,
                     centre_latitude: float) -> float:
    """Mean ground size of a pixel in metres (geographic CRS: at the given latitude)."""
    sx, sy = pixel_size(transform)
    if is_geographic:
        return 0.5 * (sx * math.cos(math.radians(centre_latitude)) + sy) * METRES_PER_DEGREE
    return 0.5 * (sx + sy) * linear_units_factor
