"""SAM image embeddings of a raster's tiles, kept on disk so later runs only decode.

One folder per (raster, model, precision, bands, normalisation, tile grid): a
manifest.json saying what it holds, and one safetensors file per tile (no pickles).
Each file is written under a temporary name and renamed, so a cancelled or failed run
leaves only complete tiles.
"""
from __future__ import annotations

import json
import os

from safetensors.torch import load_file, save_file

from ..geo.files import atomic_path
from ..models.base import Embedding
from .cache import cache_key, cache_root


class EmbeddingCache:
    def __init__(self, settings: dict, root: str | None = None):
        self.folder = os.path.join(root or cache_root(), "segment", cache_key(settings))
        manifest = os.path.join(self.folder, "manifest.json")
        if not os.path.exists(manifest):
            with atomic_path(manifest) as tmp, open(tmp, "w") as f:
                json.dump(settings, f, indent=1, sort_keys=True, default=str)

    def _path(self, row: int, col: int) -> str:
        return os.path.join(self.folder, f"tile_{row}_{col}.safetensors")

    def load(self, row: int, col: int) -> Embedding | None:
        path = self._path(row, col)
        return load_file(path) if os.path.exists(path) else None

    def save(self, row: int, col: int, embedding: Embedding) -> None:
        with atomic_path(self._path(row, col)) as tmp:
            save_file({k: v.contiguous() for k, v in embedding.items()}, tmp)
