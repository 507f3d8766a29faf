"""EmbeddingCache under damage: a tile file that cannot be read or does not match the
manifest's tensors is removed, warned about and reported missing (so it is computed
again); a missing or damaged manifest makes the folder start afresh; leftovers of dead
processes are swept; full and read-only disks are sentences with nothing left behind."""
import glob
import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import save_file

from geovl.errors import InputError
from geovl.pipelines.embedding_cache import EmbeddingCache

SETTINGS = {"version": 1, "raster": "abc", "model": "sam-vit-b", "dtype": "fp32", "grid": {"tile_size": 256}}


class Warnings:
    """Pipeline feedback keeping the warnings."""

    def __init__(self):
        self.warnings = []

    def warning(self, message):
        self.warnings.append(message)


def embedding(seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    return {"image_embeddings": torch.randn(1, 32, 16, 16, generator=generator)}


@pytest.fixture
def cache(tmp_path):
    """A cache holding tile (0, 0); returns a function opening it again with a new feedback."""
    EmbeddingCache(SETTINGS, str(tmp_path)).save(0, 0, embedding())

    def reopen():
        feedback = Warnings()
        return EmbeddingCache(SETTINGS, str(tmp_path), feedback), feedback
    return reopen


def tile_file(cache: EmbeddingCache, row: int = 0, col: int = 0) -> str:
    return os.path.join(cache.folder, f"tile_{row}_{col}.safetensors")


def test_round_trip_and_manifest(cache):
    """A saved tile loads back equal; the manifest records the settings and the tensors' layout."""
    reopened, feedback = cache()
    torch.testing.assert_close(reopened.load(0, 0), embedding(), rtol=0, atol=0)
    assert reopened.load(0, 1) is None and not feedback.warnings
    with open(os.path.join(reopened.folder, "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest == {"settings": SETTINGS, "tensors": {"image_embeddings": [[1, 32, 16, 16], "torch.float32"]}}


def _truncate(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


DAMAGES = {
    "random bytes": lambda path: open(path, "wb").write(os.urandom(5000)),
    "truncated": _truncate,
    "wrong shape": lambda path: save_file({"image_embeddings": torch.zeros(1, 32, 8, 8)}, path),
    "wrong dtype": lambda path: save_file({"image_embeddings": torch.zeros(1, 32, 16, 16, dtype=torch.float16)}, path),
    "other tensor": lambda path: save_file({"features": torch.zeros(1, 32, 16, 16)}, path),
}


@pytest.mark.parametrize("how", list(DAMAGES))
def test_damaged_tile_is_removed_warned_and_recomputed(cache, how):
    """A damaged tile file: load gives None (compute it again), one warning, the file removed; a new save loads."""
    reopened, feedback = cache()
    DAMAGES[how](tile_file(reopened))
    assert reopened.load(0, 0) is None
    assert len(feedback.warnings) == 1 and "tile (0, 0)" in feedback.warnings[0] and "damaged" in feedback.warnings[0]
    assert not os.path.exists(tile_file(reopened))
    reopened.save(0, 0, embedding(1))
    torch.testing.assert_close(reopened.load(0, 0), embedding(1), rtol=0, atol=0)


@pytest.mark.parametrize("manifest", [b"\x00garbage", b'{"settings": {"raster": "other"}}', None])
def test_damaged_or_missing_manifest_starts_afresh(cache, manifest):
    """A manifest that is unreadable, for other settings, or gone: the folder's tiles are removed with a warning."""
    reopened, _ = cache()
    path = os.path.join(reopened.folder, "manifest.json")
    if manifest is None:
        os.remove(path)
    else:
        open(path, "wb").write(manifest)
    again, feedback = cache()
    assert again.load(0, 0) is None and not os.path.exists(tile_file(again))
    assert len(feedback.warnings) == 1 and "1 tile(s) are removed" in feedback.warnings[0]
    with open(path) as f:
        assert json.load(f) == {"settings": SETTINGS, "tensors": None}


def test_leftovers_of_a_dead_process_are_swept(cache):
    """A temporary tile file named after a process that has exited is removed when the cache is opened."""
    reopened, _ = cache()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = os.path.join(reopened.folder, f".tile_0_1.{dead.pid}-0123abcd.partial.safetensors")
    open(leftover, "wb").write(b"half")
    cache()
    assert not os.path.exists(leftover) and os.path.exists(tile_file(reopened))


def test_full_disk_while_saving_is_a_sentence(small_disk):
    """A tile bigger than what is left of a 96 KiB disk: InputError naming the folder, no partial file."""
    root = small_disk(96)
    cache = EmbeddingCache(SETTINGS, root)
    with pytest.raises(InputError, match=f"'{cache.folder}'.*the disk is full"):
        cache.save(0, 0, {"image_embeddings": torch.randn(1, 32, 32, 32)})
    assert sorted(os.listdir(cache.folder)) == ["manifest.json"]


def test_read_only_cache_dir_is_a_sentence(small_disk):
    """GEOVL_CACHE_DIR on a read-only disk: InputError naming the cache folder and GEOVL_CACHE_DIR."""
    root = small_disk(64, read_only=True)
    with pytest.raises(InputError, match=f"'{root}/segment/.*read-only.*GEOVL_CACHE_DIR"):
        EmbeddingCache(SETTINGS, root)
    assert glob.glob(os.path.join(root, "**"), recursive=True) == [root + "/"]
