"""Change vector analysis (CVA) after radiometric normalisation, and the direction of change.

Each band of each raster is normalised to zero mean and unit variance with statistics of
that raster (computed once, from a sample of the overlap), so a global brightness or
contrast change between acquisitions (sun, season, sensor gain) cancels out; what
remains is the length of the per-pixel change vector in units of standard deviations.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from rasterio.enums import ColorInterp

# Direction of change per pixel, one code for the pair (brightness, vegetation):
# code = 1 + 3 * brightness + vegetation, so 1..9 on valid pixels (0: nodata).
BRIGHTNESS = ("similar", "brighter", "darker")
VEGETATION = ("", "gain", "loss")          # "" where the bands have no red and near infrared
BRIGHTNESS_STEP = 0.5                      # mean z-score change that counts as brighter/darker
NDVI_STEP = 0.1                            # NDVI change that counts as vegetation gain/loss
BLOCK_ROWS = 64                            # rows computed at a time (64 x 1024 float32: 256 kB)

_RED = re.compile(r"\bred\b|^b0?4$", re.IGNORECASE)
_NIR = re.compile(r"\bnir\b|near.?infra.?red|^b0?8a?$", re.IGNORECASE)


@dataclass(frozen=True)
class BandStats:
    """Per-band mean and standard deviation of one raster."""
    mean: tuple[float, ...]
    std: tuple[float, ...]


def band_stats(sample: np.ndarray, valid: np.ndarray) -> BandStats:
    """Mean and standard deviation of each band of a (bands, H, W) sample over `valid`
    pixels; a constant band gets std 1 (it then contributes no change)."""
    means, stds = [], []
    for band in sample:
        values = band[valid].astype(np.float64)
        mean = float(values.mean()) if values.size else 0.0
        values -= mean
        std = float(np.sqrt(np.dot(values, values) / values.size)) if values.size else 0.0
        means.append(mean)
        stds.append(std if std > 0 else 1.0)
    return BandStats(tuple(means), tuple(stds))


def zscore_change(before: np.ndarray, after: np.ndarray, before_stats: BandStats,
                  after_stats: BandStats) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel change between z-scored (bands, H, W) images, as float32 (H, W) arrays:
    the length of the change vector (CVA's magnitude) and its mean over the bands
    (positive: brighter after)."""
    magnitude = np.empty(before.shape[1:], np.float32)
    mean = np.empty(before.shape[1:], np.float32)
    # (a - ma) / sa - (b - mb) / sb = a / sa - b / sb + (mb / sb - ma / sa)
    after_gain = [np.float32(1 / s) for s in after_stats.std]
    before_gain = [np.float32(1 / s) for s in before_stats.std]
    offset = [np.float32(mb / sb - ma / sa) for mb, sb, ma, sa in
              zip(before_stats.mean, before_stats.std, after_stats.mean, after_stats.std)]
    difference = np.empty((BLOCK_ROWS, before.shape[2]), np.float32)
    scaled = np.empty_like(difference)
    for rows in _row_blocks(before.shape[1]):
        d, s = difference[:rows.stop - rows.start], scaled[:rows.stop - rows.start]
        block_magnitude, block_mean = magnitude[rows], mean[rows]
        for band in range(len(before)):
            np.multiply(after[band, rows], after_gain[band], out=d, dtype=np.float32)
            np.multiply(before[band, rows], before_gain[band], out=s, dtype=np.float32)
            d -= s
            d += offset[band]
            if band == 0:
                block_mean[...] = d
                np.square(d, out=block_magnitude)
            else:
                block_mean += d
                np.square(d, out=d)
                block_magnitude += d
        block_mean *= np.float32(1 / len(before))
        np.sqrt(block_magnitude, out=block_magnitude)
    return magnitude, mean


def direction_codes(mean_change: np.ndarray, before: np.ndarray, after: np.ndarray,
                    red_nir: tuple[int, int] | None = None) -> np.ndarray:
    """Per-pixel direction code (1..9, see BRIGHTNESS and VEGETATION) as uint8, from the
    mean z-score change and, where `red_nir` (indexes into the bands) is given, the
    change of NDVI between the (bands, H, W) images."""
    codes = np.empty(mean_change.shape, np.uint8)
    flag = np.empty((BLOCK_ROWS, mean_change.shape[1]), bool)
    for rows in _row_blocks(mean_change.shape[0]):
        block, f = codes[rows], flag[:rows.stop - rows.start]
        np.greater(mean_change[rows], BRIGHTNESS_STEP, out=f)
        np.multiply(f.view(np.uint8), np.uint8(3), out=block)
        np.less(mean_change[rows], -BRIGHTNESS_STEP, out=f)
        block += f.view(np.uint8) * np.uint8(6)
        block += np.uint8(1)
        if red_nir is not None:
            change = _ndvi(after[:, rows], *red_nir)
            change -= _ndvi(before[:, rows], *red_nir)
            np.greater(change, NDVI_STEP, out=f)
            block += f.view(np.uint8)
            np.less(change, -NDVI_STEP, out=f)
            block += f.view(np.uint8) * np.uint8(2)
    return codes


def decode_direction(code: int) -> tuple[str, str]:
    """(brightness, vegetation) words of a direction code."""
    return BRIGHTNESS[(code - 1) // 3], VEGETATION[(code - 1) % 3]


def red_and_nir(colour_interpretations: list[ColorInterp], descriptions: list[str | None],
                bands: list[int]) -> tuple[int, int] | None:
    """Indexes into `bands` of the red and near-infrared bands, found by colour
    interpretation or band description ("red", "nir", "B04", "B08"), or None."""
    def is_nir(band: int) -> bool:
        return colour_interpretations[band - 1] == ColorInterp.nir or bool(_NIR.search(descriptions[band - 1] or ""))

    def is_red(band: int) -> bool:  # "near infra red" names no red band
        return colour_interpretations[band - 1] == ColorInterp.red or (
            bool(_RED.search(descriptions[band - 1] or "")) and not is_nir(band))

    red = next((i for i, band in enumerate(bands) if is_red(band)), None)
    nir = next((i for i, band in enumerate(bands) if is_nir(band)), None)
    return (red, nir) if red is not None and nir is not None and red != nir else None


def _row_blocks(height: int):
    """Slices of BLOCK_ROWS rows covering `height`: each step's buffers stay in the CPU's
    cache, where whole-tile arrays would go to memory and back at every operation."""
    for start in range(0, height, BLOCK_ROWS):
        yield slice(start, min(start + BLOCK_ROWS, height))


def _ndvi(image: np.ndarray, red: int, nir: int) -> np.ndarray:
    """(nir - red) / (nir + red) as float32, 0 where the sum is 0."""
    total = np.add(image[nir], image[red], dtype=np.float32)
    difference = np.subtract(image[nir], image[red], dtype=np.float32)
    return np.divide(difference, total, out=np.zeros_like(total), where=total != 0)
