"""Which job arguments name files, for a runtime on another machine (runtime/serve.py and
runtime/remote.py): the client sends the inputs the server cannot see and fetches the
outputs back; the server refuses any other path outside the folders it may use.

A file argument crosses as a reference: `upload:<bundle>/<name>` (a file the client sent,
runtime/serve.py's upload store) or `output:<name>` (a file the job writes in its own
folder on the server). Standard library only: both sides import it.
"""
from __future__ import annotations

import hashlib
import os

SAMPLE_BYTES = 1 << 20
UPLOAD = "upload:"
OUTPUT = "output:"

# Files a job reads.
INPUTS: dict[str, tuple[str, ...]] = {
    "retrieve": ("raster",), "segment": ("raster", "prior"), "ask": ("raster",), "change": ("before", "after"),
    "segment_tiles": ("raster",), "segment_object": ("raster",), "models": ()}
# Files a job writes. An output the job also reuses when it exists (a chosen tile index)
# is sent first when the client has it, named in the job's `start_from` {key: upload}.
OUTPUTS: dict[str, tuple[str, ...]] = {
    "retrieve": ("features", "heatmap_path", "index_path"), "segment": ("features", "mask_path"),
    "ask": ("features", "report_path"), "change": ("features", "magnitude_path", "mask_path", "report_path"),
    "segment_tiles": (), "segment_object": (), "models": ()}
REUSED_OUTPUTS = ("index_path",)
# The arguments that name models ({"name": preset, hub id or path, ...}).
MODELS = ("model", "retrieval_model", "segment_model", "caption_model")


def is_reference(value: object) -> bool:
    return isinstance(value, str) and value.startswith((UPLOAD, OUTPUT))


def looks_like_path(name: str) -> bool:
    """Whether a model name is a path (a hub id is `org/name`, a preset a bare word)."""
    return name.startswith(("/", "\\", "~", ".")) or (len(name) > 1 and name[1] == ":")


def sample_hash(path: str) -> str:
    """SHA-256 of a file's size, first and last MiB: whether two machines see one file,
    without reading all of it."""
    size = os.path.getsize(path)
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as file:
        digest.update(file.read(SAMPLE_BYTES))
        file.seek(max(0, size - SAMPLE_BYTES))
        digest.update(file.read(SAMPLE_BYTES))
    return digest.hexdigest()
