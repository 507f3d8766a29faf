"""Approximate top-k over a tile index's embeddings, for indexes too large to score whole
at each query.

FAISS's inverted file with 8-bit scalar codes (IVF, inner product): k-means cells over a
sample, each tile's code in its cell, and a query scans the `NPROBE` cells nearest to it.
The file sits beside the tile index (`<index>.gpkg.<stamp>.ann`, FAISS's own format, not
a pickle), built from the index's embeddings in batches, so memory holds the codes (one
byte per dimension) and never the whole float matrix. Its stamp names the build of the
tile index it was made from, so an index rebuilt since finds no file of its own.
"""
from __future__ import annotations

import glob
import hashlib
import math
import os
from typing import Iterable, Iterator

import numpy as np

from .files import atomic_path

# Below this many tiles exact search (all scores, one matrix product in memory) is fast
# enough. bench/archive.py on 2 cores: 15 ms at 100,000 tiles, 150-180 ms and 2 GB at 1M;
# the ANN 19 ms at 10M.
DEFAULT_MIN_TILES = 200_000
# Cells scanned per query. bench/archive.py's recall@10 against exact search at 48 cells:
# 0.953 at 200,000 tiles (the threshold), 0.982 at 1M; at 64: 0.972 and 0.987.
NPROBE = 64
# Candidates taken per wanted result, then re-scored exactly from the index.
CANDIDATES_PER_HIT = 4
TRAINING_POINTS_PER_CELL = 40   # FAISS warns below 39


def min_tiles() -> int:
    """Tile count from which retrieval searches approximately (GEOVL_ANN_MIN_TILES)."""
    value = os.environ.get("GEOVL_ANN_MIN_TILES", "").strip()
    return int(value) if value.isdigit() else DEFAULT_MIN_TILES


def ann_path(index_path: str, build_identity: str) -> str:
    """The ANN file of the tile index at `index_path` as built (`build_identity`: its key
    and creation time)."""
    return f"{index_path}.{hashlib.sha256(build_identity.encode()).hexdigest()[:12]}.ann"


def stale_files(index_path: str, keep: str) -> list[str]:
    """ANN files of earlier builds of the tile index at `index_path`."""
    return [path for path in glob.glob(glob.escape(index_path) + ".*.ann") if path != keep]


def cell_count(tiles: int) -> int:
    """IVF cells for `tiles` vectors: about sqrt(n), FAISS's usual choice."""
    return max(1, min(65536, int(math.sqrt(tiles))))


def build(path: str, tiles: int, dim: int, sample: np.ndarray, batches: Iterable[tuple[np.ndarray, np.ndarray]],
          threads: int | None = None) -> None:
    """Write the ANN file `path` for `tiles` vectors of `dim`: cells trained on `sample`
    (rows of unit vectors), then every (ids, vectors) batch added. Temp name, then rename."""
    import faiss

    if threads:
        faiss.omp_set_num_threads(threads)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, cell_count(tiles), faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    index.train(np.ascontiguousarray(sample, np.float32))
    for ids, vectors in batches:
        index.add_with_ids(np.ascontiguousarray(vectors, np.float32), np.ascontiguousarray(ids, np.int64))
    if index.ntotal != tiles:
        raise ValueError(f"the ANN index got {index.ntotal} vectors, the tile index has {tiles}")
    with atomic_path(path) as tmp:
        faiss.write_index(index, tmp)


def training_sample(batches: Iterator[tuple[np.ndarray, np.ndarray]], tiles: int,
                    seed: int = 0) -> np.ndarray:
    """About TRAINING_POINTS_PER_CELL vectors per cell, drawn evenly from the batches."""
    wanted = min(tiles, TRAINING_POINTS_PER_CELL * cell_count(tiles))
    rng = np.random.default_rng(seed)
    kept = [vectors[rng.random(len(vectors)) < wanted / tiles] for _, vectors in batches]
    return np.concatenate(kept) if kept else np.zeros((0, 0), np.float32)


def load(path: str, tiles: int):
    """The ANN index at `path` if it is sound and holds `tiles` vectors; None if it is
    missing or damaged (the caller rebuilds it)."""
    import faiss

    if not os.path.isfile(path):
        return None
    try:
        index = faiss.read_index(path)
    except RuntimeError:   # FAISS says a truncated or foreign file this way
        return None
    if index.ntotal != tiles:
        return None
    index.nprobe = NPROBE
    return index


def search(index, vector: np.ndarray, count: int) -> np.ndarray:
    """Ids of about the `count` best tiles for `vector` (inner product), best first."""
    _, ids = index.search(np.ascontiguousarray(vector.reshape(1, -1), np.float32), count)
    return ids[0][ids[0] >= 0]
