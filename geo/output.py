"""Raster outputs, written atomically."""
from __future__ import annotations

import numpy as np
import rasterio
from affine import Affine

from .files import atomic_path


def write_float_raster(path: str, values: np.ndarray, transform: Affine, crs_wkt: str,
                       nodata: float = -9999.0, description: str = "") -> None:
    """Write a single-band float32 GeoTIFF; NaN cells become `nodata`."""
    data = np.where(np.isfinite(values), values, nodata).astype(np.float32)
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                           dtype="float32", crs=crs_wkt, transform=transform, nodata=nodata,
                           compress="deflate") as dst:
            dst.write(data, 1)
            if description:
                dst.set_band_description(1, description)
