"""SAM image embeddings of a raster's tiles, kept on disk so later runs only decode.

One folder per (raster, model, precision, bands, normalisation, tile grid): a
manifest.json saying what it holds (the settings, and the names, shapes and dtypes of
each tile's tensors once a tile is saved), and one safetensors file per tile (no
pickles). Each file is written under a temporary name and renamed, so a cancelled or
failed run leaves only complete tiles. A cache is a cache: a tile file that cannot be
read or does not match the manifest is removed, warned about and computed again, and a
folder whose manifest is missing or damaged starts afresh.
"""
from __future__ import annotations

import glob
import json
import os

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..geo.files import atomic_path, sweep_leftovers
from ..models.base import Embedding
from ..folders import cache_root
from .cache import cache_key
from .feedback import Feedback, QuietFeedback


class EmbeddingCache:
    def __init__(self, settings: dict, root: str | None = None, feedback: Feedback | None = None):
        self.folder = os.path.join(root or cache_root(), "segment", cache_key(settings))
        self._feedback = feedback or QuietFeedback()
        self._settings = json.loads(json.dumps(settings, sort_keys=True, default=str))  # as the manifest holds it
        self._manifest = os.path.join(self.folder, "manifest.json")
        sweep_leftovers(self.folder)
        self._layout = self._read_layout()

    def _path(self, row: int, col: int) -> str:
        return os.path.join(self.folder, f"tile_{row}_{col}.safetensors")

    def load(self, row: int, col: int) -> Embedding | None:
        """The tile's cached embedding; None if there is none or it was damaged (then removed)."""
        path = self._path(row, col)
        if not os.path.exists(path):
            return None
        try:
            embedding = load_file(path)
            problem = _mismatch(_layout_of(embedding), self._layout)
        except (SafetensorError, OSError) as exc:
            embedding, problem = None, f"it cannot be read: {exc}"
        if not problem:
            return embedding
        self._feedback.warning(f"The cached embedding of tile ({row}, {col}) in {self.folder} is damaged "
                               f"({problem}): it is removed and computed again.")
        _remove(path)
        return None

    def save(self, row: int, col: int, embedding: Embedding) -> None:
        if self._layout is None:  # the first tile saved tells what every tile holds
            self._layout = _layout_of(embedding)
            self._write_manifest(self._layout)
        with atomic_path(self._path(row, col), sweep=False) as tmp:  # swept when opened
            save_file({k: v.contiguous() for k, v in embedding.items()}, tmp)

    def _read_layout(self) -> dict | None:
        """The tensors' layout from the manifest (None until a tile is saved); a missing or
        damaged manifest makes the folder's tiles untrusted: they are removed."""
        tiles = glob.glob(os.path.join(glob.escape(self.folder), "tile_*.safetensors"))
        try:
            with open(self._manifest) as f:
                manifest = json.load(f)
            if manifest.get("settings") == self._settings:
                return manifest.get("tensors")
            problem = "its manifest is for other settings"
        except FileNotFoundError:
            problem = "it has no manifest"
        except (OSError, ValueError, AttributeError) as exc:  # unreadable, not JSON, not an object
            problem = f"its manifest cannot be read: {exc}"
        if tiles:
            self._feedback.warning(f"The embedding cache {self.folder} is damaged ({problem}): its {len(tiles)} "
                                   "tile(s) are removed and computed again.")
            for tile in tiles:
                _remove(tile)
        self._write_manifest(None)
        return None

    def _write_manifest(self, layout: dict | None) -> None:
        with atomic_path(self._manifest) as tmp, open(tmp, "w") as f:
            json.dump({"settings": self._settings, "tensors": layout}, f, indent=1, sort_keys=True)


def _layout_of(embedding: Embedding) -> dict:
    """{name: [shape, dtype]} as the manifest stores it."""
    return {name: [list(tensor.shape), str(tensor.dtype)] for name, tensor in embedding.items()}


def _mismatch(layout: dict, expected: dict | None) -> str:
    if expected is None or layout == expected:
        return ""
    return f"its tensors {layout} are not the {expected} of this cache"


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:  # another run removed it first
        pass
