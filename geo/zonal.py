"""Polygons burnt into a raster's pixels one by one, for zonal statistics read by windows."""
from __future__ import annotations

from typing import Iterator

import numpy as np
import rasterio.features
import shapely
from rasterio.windows import Window
from rasterio.windows import transform as window_transform
from shapely.geometry import Polygon

from .georef import bounds_to_window, intersect_windows
from .grid import raster_windows


def polygon_pixels(dataset, polygon: Polygon, window_size: int = 4096) -> Iterator[tuple[Window, np.ndarray]]:
    """The pixels of an open raster `dataset` whose centres `polygon` (in its CRS) holds:
    per window of the polygon's bounding box (at most `window_size` a side), the window
    and a bool mask of its shape. Cost follows the polygon's size, not the raster's."""
    full = Window(0, 0, dataset.width, dataset.height)
    box = intersect_windows(bounds_to_window(dataset.transform, polygon.bounds), full)
    if box is None:
        return
    for part in raster_windows(box.width, box.height, window_size):
        window = Window(box.col_off + part.col_off, box.row_off + part.row_off, part.width, part.height)
        yield window, rasterio.features.geometry_mask([_geojson_xy(polygon)], (window.height, window.width),
                                                      window_transform(window, dataset.transform), invert=True)


def _geojson_xy(polygon: Polygon) -> dict:
    """The polygon as a GeoJSON mapping of x, y only. Its own __geo_interface__ is not safe
    where shapely was loaded in QGIS's process before own_libraries could bind it (another
    plugin imported it first): running partly on QGIS's GEOS, it reads 2-D rings back with
    a NaN z, which rasterio cannot burn."""
    rings = [polygon.exterior, *polygon.interiors]
    return {"type": "Polygon", "coordinates": [shapely.get_coordinates(ring).tolist() for ring in rings]}
