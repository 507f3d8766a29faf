"""Fixtures for the model tests.

`tiny_open_clip_ckpt` is overridden here: the shared one in tests/conftest.py leaves the
vision `head_width` at open_clip's default of 64, so a 32-wide tower gets 32 // 64 = 0
attention heads and open_clip.create_model raises ValueError.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

TINY_OPEN_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 32, "patch_size": 16, "head_width": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}


def register_tiny_open_clip(folder) -> None:
    import open_clip
    config = folder / "tiny-ViT-16.json"
    config.write_text(json.dumps(TINY_OPEN_CLIP))
    open_clip.add_model_config(str(config))


@pytest.fixture(scope="session")
def tiny_open_clip_ckpt(tmp_path_factory):
    """An open_clip state dict file of a tiny ViT registered as architecture 'tiny-ViT-16'."""
    import open_clip
    import torch

    folder = tmp_path_factory.mktemp("tiny-open-clip")
    register_tiny_open_clip(folder)
    torch.manual_seed(0)
    model = open_clip.create_model("tiny-ViT-16", pretrained=None)
    path = folder / "tiny-checkpoint.pt"
    torch.save(model.state_dict(), path)
    return str(path)


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
