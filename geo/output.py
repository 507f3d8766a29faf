"""Raster outputs, written atomically and read back."""
from __future__ import annotations

import errno

import numpy as np
import rasterio
from affine import Affine
from rasterio.errors import RasterioError

from .files import atomic_path


def write_float_raster(path: str, values: np.ndarray, transform: Affine, crs_wkt: str,
                       nodata: float = -9999.0, description: str = "") -> None:
    """Write a single-band float32 GeoTIFF; NaN cells become `nodata`. A full disk or a
    folder that cannot be written raises InputError (see atomic_path)."""
    data = np.where(np.isfinite(values), values, nodata).astype(np.float32)
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                           dtype="float32", crs=crs_wkt, transform=transform, nodata=nodata,
                           compress="deflate") as dst:
            dst.write(data, 1)
            if description:
                dst.set_band_description(1, description)
        _check_written(tmp, data)


def _check_written(path: str, data: np.ndarray) -> None:
    """GDAL closes a GeoTIFF whose last blocks it could not flush (a disk that fills up
    at close) without raising, so read it back."""
    try:
        with rasterio.open(path) as written:
            whole = np.array_equal(written.read(1), data)
    except RasterioError:
        whole = False
    if not whole:
        raise OSError(errno.EIO, "the GeoTIFF could not be written completely", path)
