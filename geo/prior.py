"""A class raster used as a prior (GeoSAM's pseudo-labels), read on another raster's grid."""
from __future__ import annotations

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from ..errors import InputError
from .georef import read_placement
from .mask_raster import read_class_table


def prior_class_names(path: str) -> dict[int, str]:
    """Class value -> name of a prior raster: its GeoVL class table (a class raster that
    geovl:segment wrote), else "class N" for every value found in a block-by-block scan."""
    with _open(path) as dataset:
        table = read_class_table(path)
        if table:
            return table
        values: set[int] = set()
        for _, window in dataset.block_windows(1):
            values.update(int(v) for v in np.unique(dataset.read(1, window=window)) if v > 0)
    return {value: f"class {value}" for value in sorted(values)}


class PriorReader:
    """Windows of a prior class raster (band 1, 0 = no class) warped onto a target
    raster's grid, so tile windows of the target read the matching prior pixels."""

    def __init__(self, path: str, like):
        self._dataset = _open(path)
        if self._dataset.crs is None:
            self._dataset.close()
            raise InputError(f"The prior raster '{path}' has no coordinate reference system; assign one.")
        bounds = transform_bounds(self._dataset.crs, like.crs, *self._dataset.bounds)
        if not _overlap(bounds, tuple(like.bounds)):
            self._dataset.close()
            raise InputError(f"The prior raster '{path}' does not overlap the raster: its extent "
                             f"{_rounded(bounds)} lies outside the raster's {_rounded(like.bounds)} (in the raster's "
                             "CRS). Give a prior class raster of the same area, e.g. a class raster geovl:segment "
                             "wrote for this raster.")
        self._vrt = WarpedVRT(self._dataset, crs=like.crs, transform=like.transform, width=like.width,
                              height=like.height, resampling=Resampling.nearest, nodata=0)
        self._full = Window(0, 0, like.width, like.height)

    def __enter__(self) -> "PriorReader":
        return self

    def __exit__(self, *exc) -> None:
        self._vrt.close()
        self._dataset.close()

    def read(self, window: Window, out_size: tuple[int, int]) -> np.ndarray:
        """Class values of `window` (may reach past the raster, padded with 0) at `out_size`."""
        classes = np.zeros(out_size, np.int64)
        placement = read_placement(window, self._full, out_size)
        if placement is not None:
            inside, (r0, r1, c0, c1) = placement
            data = self._vrt.read(1, window=inside, out_shape=(r1 - r0, c1 - c0), resampling=Resampling.nearest)
            classes[r0:r1, c0:c1] = np.nan_to_num(data, nan=0).astype(np.int64)
        return classes


def _open(path: str):
    try:
        return rasterio.open(path)
    except rasterio.RasterioIOError as exc:
        raise InputError(f"Cannot open the prior raster '{path}': {exc}. Check the path and that GDAL can "
                         "read it.") from exc


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether two (left, bottom, right, top) bounds share some area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _rounded(bounds) -> tuple[float, ...]:
    return tuple(round(v, 3) for v in bounds)
