"""Fixtures for the model tests: image-like pictures, a private cache folder and a
feedback that records what a pipeline reports."""
from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box

from geovl.pipelines.feedback import QuietFeedback
from tests.conftest import write_raster


def scene(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A uint8 RGB image that looks like imagery: smooth gradients, a few shapes, mild noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    image = np.stack([90 + 80 * xx, 60 + 100 * yy, 120 + 60 * np.sin(6 * xx + 3 * yy)], axis=-1)
    for _ in range(4):
        r, c = rng.integers(0, height), rng.integers(0, width)
        h, w = rng.integers(height // 8 + 1, height // 3 + 2), rng.integers(width // 8 + 1, width // 3 + 2)
        image[r:r + h, c:c + w] = rng.integers(0, 255, 3)
    image += rng.normal(0, 4, image.shape)
    return image.clip(0, 255).astype(np.uint8)


class Recorder(QuietFeedback):
    """Pipeline feedback that keeps the log and the progress reported, and cancels after
    `cancel_after_progress` reports."""

    def __init__(self, cancel_after_progress: int | None = None):
        self.infos, self.warnings, self.percents, self.progress_calls = [], [], [], 0
        self.cancel_after = cancel_after_progress

    def info(self, message):
        self.infos.append(message)

    def warning(self, message):
        self.warnings.append(message)

    def progress(self, percent):
        self.percents.append(percent)
        self.progress_calls += 1

    def cancelled(self):
        return self.cancel_after is not None and self.progress_calls >= self.cancel_after


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A private GEOVL_CACHE_DIR for this test."""
    path = tmp_path / "cache"
    monkeypatch.setenv("GEOVL_CACHE_DIR", str(path))
    return path


# A before/after pair with planted changes (geovl:change): UTM 31N, 0.5 m pixels.
SIZE = 400
PIXEL = 0.5
ORIGIN = (448_000.0, 5_412_000.0)
TRANSFORM = from_origin(*ORIGIN, PIXEL, PIXEL)
# Planted changes (row0, col0, row1, col1) in pixels: two new buildings, one removed.
BUILT = [(40, 60, 100, 160), (250, 300, 330, 360)]
REMOVED = (200, 40, 260, 120)      # a roof in BEFORE, grass in AFTER
GRASS = np.array([600, 900, 500, 3500], np.float64)
ROOF = np.array([2600, 2500, 2400, 2800], np.float64)


def planted_mask() -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), bool)
    for r0, c0, r1, c1 in BUILT + [REMOVED]:
        mask[r0:r1, c0:c1] = True
    return mask


def to_map(r0, c0, r1, c1):
    """Map rectangle of a pixel rectangle of the change pair's grid (hand-written affine)."""
    x0, y0 = ORIGIN[0] + c0 * PIXEL, ORIGIN[1] - r1 * PIXEL
    return box(x0, y0, x0 + (c1 - c0) * PIXEL, y0 + (r1 - r0) * PIXEL)


def pair_arrays(seed: int = 0, gain: float = 1.3, offset: float = 200.0):
    """BEFORE and AFTER (4, SIZE, SIZE) uint16 red, green, blue, nir: grass fields with
    texture and a roof; AFTER seen with another gain and offset (a global brightness
    change that is not a change), fresh noise, and the planted changes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    texture = 1 + 0.15 * np.sin(xx / 23.0) * np.cos(yy / 31.0)
    scene = GRASS[:, None, None] * texture
    r0, c0, r1, c1 = REMOVED
    scene[:, r0:r1, c0:c1] = ROOF[:, None, None]
    changed = scene.copy()
    for r0, c0, r1, c1 in BUILT:
        changed[:, r0:r1, c0:c1] = ROOF[:, None, None]
    r0, c0, r1, c1 = REMOVED
    changed[:, r0:r1, c0:c1] = GRASS[:, None, None] * texture[r0:r1, c0:c1]
    before = scene + rng.normal(0, 40, scene.shape)
    after = gain * changed + offset + rng.normal(0, 40, scene.shape)
    return before.clip(0, 65535).astype(np.uint16), after.clip(0, 65535).astype(np.uint16)


def write_pair(folder, before, after, **after_profile):
    kwargs = dict(crs="EPSG:32631", transform=TRANSFORM)
    b = write_raster(folder / "before.tif", before, **kwargs)
    a = write_raster(folder / "after.tif", after, **{**kwargs, **after_profile})
    for path in (b, a):
        with rasterio.open(path, "r+") as dataset:
            for band, name in zip(range(1, dataset.count + 1), ("red", "green", "blue", "nir")):
                dataset.set_band_description(band, name)
    return b, a
