"""Fixtures for the model tests: image-like pictures and a private cache folder."""
from __future__ import annotations

import numpy as np
import pytest

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


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A private GEOVL_CACHE_DIR for this test."""
    path = tmp_path / "cache"
    monkeypatch.setenv("GEOVL_CACHE_DIR", str(path))
    return path
