"""A synthetic before/after pair with planted changes, for `make demo` and the benchmark.

BEFORE is a 0.5 m scene of fields, a road grid and buildings in red, green, blue and
near-infrared bands. AFTER is the same scene seen with another gain and offset per band
(sun, season, sensor) and fresh noise, plus planted changes: buildings built on fields
(bright, no vegetation), a cleared wood (vegetation lost to bare soil) and a demolished
building (back to grass). Written in strips of rows, so memory stays small at any size.
"""
from __future__ import annotations

import os

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

PIXEL_M = 0.5
ORIGIN = (448_000.0, 5_412_000.0)
CRS = "EPSG:32631"
BAND_NAMES = ("red", "green", "blue", "nir")
# Reflectance x 10000 of each cover in red, green, blue, near infrared.
GRASS = (600, 900, 500, 3500)
ROAD = (1400, 1400, 1350, 1700)
ROOF = (2600, 2500, 2400, 2800)
NEW_ROOF = (3200, 3000, 2900, 3300)
SOIL = (1800, 1500, 1200, 2200)
GAIN = np.array([1.15, 1.1, 1.2, 0.95], np.float32)      # AFTER = GAIN * BEFORE + OFFSET (+ changes)
OFFSET = np.array([150, 120, 180, -100], np.float32)
STRIP = 512


def planted_changes(size: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    """(kind, (row0, col0, row1, col1)) of each planted change, in pixels: a few per
    1024 px block, away from the block's roads."""
    changes = []
    for r in range(0, size - 1023, 1024):
        for c in range(0, size - 1023, 1024):
            changes += [("built", (r + 150, c + 150, r + 230, c + 330)),      # a row of new buildings
                        ("built", (r + 600, c + 700, r + 660, c + 760)),
                        ("cleared", (r + 400, c + 120, r + 520, c + 260)),    # wood cleared to soil
                        ("demolished", (r + 760, c + 420, r + 820, c + 500))]  # a building gone
    return changes


def _scene(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """BEFORE's covers, (4, len(rows), len(cols)) float32, without noise."""
    rr, cc = rows[:, None], cols[None, :]
    image = np.empty((4, len(rows), len(cols)), np.float32)
    image[:] = np.asarray(GRASS, np.float32)[:, None, None]
    fields = (np.sin(rr / 90.0) * np.cos(cc / 70.0)).astype(np.float32)
    image *= 1 + 0.15 * fields
    road = ((rr % 1024) < 24) | ((cc % 1024) < 24)
    image[:, road] = np.asarray(ROAD, np.float32)[:, None]
    building = ((rr % 1024 >= 760) & (rr % 1024 < 820) & (cc % 1024 >= 420) & (cc % 1024 < 500)) | \
               ((rr % 256 >= 40) & (rr % 256 < 80) & (cc % 256 >= 180) & (cc % 256 < 230) & (rr % 1024 < 768))
    image[:, building] = np.asarray(ROOF, np.float32)[:, None]
    return image


def _plant(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, size: int) -> None:
    cover = {"built": NEW_ROOF, "cleared": SOIL, "demolished": GRASS}
    for kind, (r0, c0, r1, c1) in planted_changes(size):
        rs = slice(max(r0, rows[0]) - rows[0], min(r1, rows[-1] + 1) - rows[0])
        cs = slice(max(c0, cols[0]) - cols[0], min(c1, cols[-1] + 1) - cols[0])
        if rs.stop > rs.start and cs.stop > cs.start:
            image[:, rs, cs] = np.asarray(cover[kind], np.float32)[:, None, None]


def write_pair(before_path: str, after_path: str, size: int, dtype: str = "uint16", compress: str | None = None) -> None:
    """Write the pair as size x size 4-band GeoTIFFs (uint16 reflectance x 10000, or
    uint8 at 1/16 of it), tiled, with band descriptions red, green, blue, nir."""
    scale = 1.0 if dtype == "uint16" else 1 / 16
    profile = dict(driver="GTiff", width=size, height=size, count=4, dtype=dtype, crs=CRS,
                   transform=from_origin(*ORIGIN, PIXEL_M, PIXEL_M), tiled=True, blockxsize=256, blockysize=256,
                   BIGTIFF="IF_SAFER")
    if compress:
        profile.update(compress=compress, predictor=2)
    rng = np.random.default_rng(11)
    cols = np.arange(size)
    top = np.iinfo(dtype).max
    with rasterio.open(before_path + ".partial.tif", "w", **profile) as before, \
            rasterio.open(after_path + ".partial.tif", "w", **profile) as after:
        for dataset in (before, after):
            for band, name in enumerate(BAND_NAMES, 1):
                dataset.set_band_description(band, name)
        for row0 in range(0, size, STRIP):
            rows = np.arange(row0, min(size, row0 + STRIP))
            scene = _scene(rows, cols)
            window = Window(0, row0, size, len(rows))
            noisy = scene + rng.normal(0, 60, scene.shape).astype(np.float32)
            before.write(np.clip(noisy * scale, 0, top).astype(dtype), window=window)
            _plant(scene, rows, cols, size)
            changed = GAIN[:, None, None] * scene + OFFSET[:, None, None]
            changed += rng.normal(0, 60, scene.shape).astype(np.float32)
            after.write(np.clip(changed * scale, 0, top).astype(dtype), window=window)
    os.replace(before_path + ".partial.tif", before_path)
    os.replace(after_path + ".partial.tif", after_path)
