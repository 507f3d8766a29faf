"""Fixtures for the model tests: image-like pictures, a private cache folder and a
feedback that records what a pipeline reports."""
from __future__ import annotations

import numpy as np
import pytest

from geovl.pipelines.feedback import QuietFeedback


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
    """Pipeline feedback that keeps the log and cancels after `cancel_after_progress` reports."""

    def __init__(self, cancel_after_progress: int | None = None):
        self.infos, self.warnings, self.progress_calls = [], [], 0
        self.cancel_after = cancel_after_progress

    def info(self, message):
        self.infos.append(message)

    def warning(self, message):
        self.warnings.append(message)

    def progress(self, percent):
        self.progress_calls += 1

    def cancelled(self):
        return self.cancel_after is not None and self.progress_calls >= self.cancel_after


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A private GEOVL_CACHE_DIR for this test."""
    path = tmp_path / "cache"
    monkeypatch.setenv("GEOVL_CACHE_DIR", str(path))
    return path
