"""The approximate-search index (geo/ann_index.py) on clustered synthetic embeddings:
recall of its top-k against exact search, its ids, that a missing, truncated or
mismatched file is reported as unusable (None) so the caller rebuilds it, and that each
build of a tile index has a file name of its own."""
from __future__ import annotations

import os

import numpy as np
import pytest

from geovl.geo import ann_index


def clustered(count: int, dim: int, seed: int = 0, clusters: int = 200) -> np.ndarray:
    """Unit vectors around random centres, as tile embeddings of one scene cluster."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    vectors = centres[rng.integers(0, clusters, count)] + 0.6 * rng.standard_normal((count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def batches(vectors: np.ndarray, ids: np.ndarray, rows: int = 3000):
    for start in range(0, len(vectors), rows):
        yield ids[start:start + rows], vectors[start:start + rows]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    vectors = clustered(20_000, 64)
    ids = np.arange(20_000, dtype=np.int64) * 3 + 7     # fids need not be 0..n-1
    folder = tmp_path_factory.mktemp("ann")
    index_path = str(folder / "tiles.gpkg")
    path = ann_index.ann_path(index_path, "key|2026-12-03T12:00:00|20000")
    sample = ann_index.training_sample(batches(vectors, ids), len(vectors))
    ann_index.build(path, len(vectors), 64, sample, batches(vectors, ids))
    return vectors, ids, index_path, path


def test_top_k_recall_against_exact_search(built):
    vectors, ids, index_path, path = built
    index = ann_index.load(path, len(vectors))
    queries = clustered(50, 64, seed=1)
    recalls = []
    for query in queries:
        exact = set(ids[np.argsort(-(vectors @ query))[:10]].tolist())
        found = ann_index.search(index, query, 10 * ann_index.CANDIDATES_PER_HIT)
        assert set(found.tolist()) <= set(ids.tolist())
        recalls.append(len(exact & set(found.tolist())) / 10)
    assert np.mean(recalls) >= 0.95


def test_training_sample_is_about_forty_points_per_cell(built):
    vectors, ids, _, _ = built
    sample = ann_index.training_sample(batches(vectors, ids), len(vectors))
    wanted = ann_index.TRAINING_POINTS_PER_CELL * ann_index.cell_count(len(vectors))
    assert 0.8 * wanted < len(sample) < 1.2 * wanted and sample.shape[1] == 64


def test_a_missing_damaged_or_mismatched_file_is_not_used(built, tmp_path):
    vectors, ids, index_path, path = built
    assert ann_index.load(str(tmp_path / "none.ann"), len(vectors)) is None
    assert ann_index.load(path, len(vectors) + 1) is None          # another number of tiles
    truncated = tmp_path / "truncated.ann"
    truncated.write_bytes(open(path, "rb").read()[:1000])
    assert ann_index.load(str(truncated), len(vectors)) is None
    assert ann_index.load(path, len(vectors)).nprobe == ann_index.NPROBE


def test_each_build_of_a_tile_index_names_its_own_file(built):
    vectors, ids, index_path, path = built
    rebuilt = ann_index.ann_path(index_path, "key|2026-12-03T13:00:00|20000")
    assert rebuilt != path and rebuilt.startswith(index_path + ".") and rebuilt.endswith(".ann")
    assert ann_index.stale_files(index_path, rebuilt) == [path]
    assert ann_index.stale_files(index_path, path) == []
