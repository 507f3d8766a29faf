"""Per-raster radiometric normalisation to 8-bit RGB.

Statistics are computed once per raster from an overview or a decimated read and then
applied to every tile, so neighbouring tiles look alike to a model (a per-tile stretch
would make a dark tile and a bright tile look the same).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Long side of the decimated read used for statistics; GDAL serves it from overviews
# when the raster has them, so the cost does not grow with raster size.
STATS_SAMPLE_SIZE = 1024
PERCENTILES = (2.0, 98.0)


@dataclass(frozen=True)
class Stretch:
    """Linear stretch of each band from [low, high] to [0, 255]."""
    method: str
    low: tuple[float, ...]
    high: tuple[float, ...]

    def apply(self, bands: np.ndarray) -> np.ndarray:
        """(bands, H, W) array of any dtype -> (bands, H, W) uint8."""
        if self.method == "none":
            return bands.astype(np.uint8, copy=False)
        low = np.asarray(self.low, np.float32)[:, None, None]
        gain = 255.0 / (np.asarray(self.high, np.float32)[:, None, None] - low)
        out = (bands.astype(np.float32) - low) * gain + 0.5
        np.clip(out, 0, 255, out=out)
        return np.nan_to_num(out, copy=False).astype(np.uint8)

    def as_dict(self) -> dict:
        return {"method": self.method, "low": list(self.low), "high": list(self.high)}


def identity_stretch(band_count: int) -> Stretch:
    """8-bit imagery is given to the model as it is, like any photograph."""
    return Stretch("none", (0.0,) * band_count, (255.0,) * band_count)


def percentile_stretch(sample: np.ndarray, valid: np.ndarray,
                       percentiles: tuple[float, float] = PERCENTILES) -> Stretch:
    """Stretch from per-band percentiles of the valid pixels of a (bands, H, W) sample."""
    low, high = [], []
    for band in sample:
        values = band[valid & np.isfinite(band)] if band.dtype.kind == "f" else band[valid]
        if values.size == 0:
            lo = hi = 0.0      # no valid pixel: 0..1 from the empty range below
        else:
            lo, hi = (float(v) for v in np.percentile(values, percentiles))
        low.append(lo)
        high.append(hi if hi > lo else lo + 1.0)
    return Stretch(f"percentile {percentiles[0]:g}-{percentiles[1]:g}", tuple(low), tuple(high))
