"""Archive-scale benchmark, in two parts.

`--part ann`: top-k query latency over a very large tile index, exact and approximate
(geo/ann_index.py), and the ANN's recall@10 against exact search.
`--part ray`: indexing an archive of rasters (pipelines/archive.py) with CLIP ViT-B/32
(random weights) in one process and on a local Ray instance with 1 and 2 workers.

    .venv/bin/python bench/archive.py            # both: 10 million tiles, ~20 min on 2 cores, ~16 GB of RAM
    .venv/bin/python bench/archive.py --quick    # 1 million tiles, ~5 min
    .venv/bin/python bench/archive.py --part ray # the Ray part only, into the same JSON

Ray part: the same rasters (copies of one synthetic 0.5 m orthophoto sheet) indexed
anew by each path; the wall time of the job, and the steady rate (tiles per second from
the first batch written to the last: without Ray's start and the workers' model load).
The three runs are repeated RAY_REPEATS times in turn and the medians reported: on a shared
2-core machine one run alone can be 20 % off.
Each part replaces its own keys of the result JSON and keeps the other's.

Synthetic embeddings stand in for a model's (compute and memory are what is measured):
512-d unit vectors around 10,000 random centres (one per kind of scene; within a cluster
cosine about 0.74), float16 as the tile index stores them, in a memory-mapped file under
the bench cache (kept between runs). Queries are 100 vectors near random centres, as a
text query that matches some scenes. Measured:
- exact search as the product does it below the threshold (all scores, one matrix
  product in memory), at 100,000 and 1,000,000 tiles: where the threshold goes;
- exact search over all N tiles, streamed from the float16 file in chunks;
- the ANN index: build time, its size in memory, query latency (search plus exact
  re-scoring of the candidates, as pipelines/retrieve.approximate_top does), recall@10
  against exact search, for several numbers of cells scanned (NPROBE).
Results: bench/results/archive.json (--quick: archive-quick.json).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

common.setup_path()

DIM = 512
CLUSTERS = 10_000
NOISE = 0.6
CHUNK = 250_000
QUERIES = 100
K = 10
NPROBES = (16, 32, 48, 64, 96)
RAY_REPEATS = 3     # each of the three Ray-part runs, in turn


def centres() -> np.ndarray:
    return np.random.default_rng(12345).standard_normal((CLUSTERS, DIM)).astype(np.float32)


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def embeddings(count: int) -> np.ndarray:
    """The float16 (count, DIM) memory map, written once (chunk i from seed i)."""
    path = os.path.join(common.CACHE_DIR, f"embeddings-{count}x{DIM}.f16")
    if os.path.isfile(path) and os.path.getsize(path) == count * DIM * 2:
        return np.memmap(path, np.float16, "r", shape=(count, DIM))
    os.makedirs(common.CACHE_DIR, exist_ok=True)
    partial = path + ".partial"
    out = np.memmap(partial, np.float16, "w+", shape=(count, DIM))
    means = centres()
    for start in range(0, count, CHUNK):
        rng = np.random.default_rng(start // CHUNK)
        rows = min(CHUNK, count - start)
        chunk = means[rng.integers(0, CLUSTERS, rows)] + NOISE * rng.standard_normal((rows, DIM), np.float32)
        out[start:start + rows] = unit(chunk)
    out.flush()
    del out
    os.replace(partial, path)
    return np.memmap(path, np.float16, "r", shape=(count, DIM))


def queries() -> np.ndarray:
    rng = np.random.default_rng(999)
    return unit(centres()[rng.integers(0, CLUSTERS, QUERIES)] + NOISE * rng.standard_normal((QUERIES, DIM),
                                                                                            np.float32))


def chunk_f32(matrix: np.ndarray, start: int) -> np.ndarray:
    return np.asarray(matrix[start:start + CHUNK], np.float32)


def exact_top(matrix: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Exact top-K rows for each of `vectors`, one streamed pass over `matrix`."""
    best_ids = np.zeros((len(vectors), 0), np.int64)
    best_scores = np.zeros((len(vectors), 0), np.float32)
    for start in range(0, len(matrix), CHUNK):
        scores = vectors @ chunk_f32(matrix, start).T
        ids = np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)
        scores, ids = np.concatenate([best_scores, scores], 1), np.concatenate([best_ids, ids], 1)
        keep = np.argpartition(-scores, K - 1, axis=1)[:, :K]
        best_scores, best_ids = np.take_along_axis(scores, keep, 1), np.take_along_axis(ids, keep, 1)
    order = np.argsort(-best_scores, axis=1)
    return np.take_along_axis(best_ids, order, 1)


def in_memory_exact(matrix: np.ndarray, count: int, vectors: np.ndarray) -> dict:
    """The product's exact path (pipelines/retrieve: all scores of a float32 matrix in
    memory, then the top k) over the first `count` rows."""
    from geovl.pipelines.retrieve import top_indices

    dense = np.asarray(matrix[:count], np.float32)
    times = []
    for vector in vectors[:20]:
        t = common.Timer()
        top_indices(dense @ vector, K)
        times.append(1000 * t.seconds)
    return {"tiles": count, "ms": common.spread(times, digits=2), "matrix_mb": round(dense.nbytes / 1e6)}


class Pace:
    """Pipeline feedback that keeps the time of each batch written, and the log."""

    def __init__(self):
        self.times, self.infos = [], []

    def progress(self, percent: float) -> None:
        self.times.append(time.perf_counter())

    def info(self, message: str) -> None:
        self.infos.append(message)

    def warning(self, message: str) -> None:
        self.infos.append(message)

    def cancelled(self) -> bool:
        return False


def ray_part(quick: bool) -> dict:
    """Index the same archive in one process, then on Ray with 1 and 2 workers."""
    import shutil

    import ray
    import torch

    from geovl.pipelines.archive import IN_PROCESS, index_archive
    from geovl.pipelines.archive_ray import connect
    from geovl.pipelines.options import ModelOptions, TilingOptions

    sheets, size, batch = (4, 1344, 16) if quick else (8, 1344, 16)
    folder = os.path.join(common.CACHE_DIR, f"archive-{sheets}x{size}")
    os.makedirs(folder, exist_ok=True)
    sheet = common.ensure_raster(size, dtype="uint8")
    for i in range(sheets):
        if not os.path.isfile(os.path.join(folder, f"sheet{i}.tif")):
            shutil.copyfile(sheet, os.path.join(folder, f"sheet{i}.tif"))
    model = ModelOptions(common.ensure_clip_vit_b32(), "cpu", "fp32")
    out = os.path.join(common.CACHE_DIR, "archive-ray-runs")
    shutil.rmtree(out, ignore_errors=True)
    os.environ["GEOVL_CACHE_DIR"] = os.path.join(out, "cache")
    t = common.Timer()
    connect("", Pace())
    runs = {"ray_start_s": round(t.seconds, 1)}
    configs = (("in_process", IN_PROCESS, 0), ("ray_1_worker", "", 1), ("ray_2_workers", "", 2))
    rounds: dict[str, list[dict]] = {name: [] for name, _, _ in configs}
    for repeat in range(RAY_REPEATS):   # in turn, so a slow spell of this shared machine hits all three
        for name, cluster, workers in configs:
            pace = Pace()
            t = common.Timer()
            result = index_archive(folder, model, TilingOptions(), index_path=os.path.join(out, f"{name}-{repeat}.gpkg"),
                                   batch_size=batch, cluster=cluster, workers=workers, feedback=pace)
            wall = t.seconds
            steady = (result.tile_count - batch) / (pace.times[-1] - pace.times[0])
            rounds[name].append({"wall_s": round(wall, 1), "tiles_per_s": round(result.tile_count / wall, 2),
                                 "steady_tiles_per_s": round(steady, 2),
                                 "first_batch_s": round(pace.times[0] - t.start, 1), "tiles": result.tile_count})
            print(f"{name} #{repeat + 1}: {result.tile_count} tiles in {wall:.1f} s "
                  f"({rounds[name][-1]['tiles_per_s']} tiles/s; steady {steady:.2f})", flush=True)
    ray.shutdown()
    for name, measured in rounds.items():
        runs[name] = {key: float(np.median([m[key] for m in measured]))
                      for key in ("wall_s", "tiles_per_s", "steady_tiles_per_s", "first_batch_s")}
        runs[name].update(tiles=measured[0]["tiles"], rounds=measured)
    one, two, single = runs["ray_1_worker"], runs["ray_2_workers"], runs["in_process"]
    return {"setup": {"rasters": sheets, "raster_px": size, "tile_px": 224, "batch_size": batch,
                      "model": "CLIP ViT-B/32, random weights, fp32", "ray": ray.__version__,
                      "torch_threads_in_process": torch.get_num_threads(), "repeats": RAY_REPEATS,
                      "figures": "medians over the repeats, run in turn"},
            "runs": runs,
            "verdict": {"throughput_2_over_1_worker": round(two["steady_tiles_per_s"] / one["steady_tiles_per_s"], 3),
                        "throughput_2_over_1_worker_wall": round(two["tiles_per_s"] / one["tiles_per_s"], 3),
                        "ray_overhead_steady": round(1 - max(one["steady_tiles_per_s"], two["steady_tiles_per_s"])
                                                     / single["steady_tiles_per_s"], 3),
                        "ray_overhead_wall": round(1 - max(one["tiles_per_s"], two["tiles_per_s"])
                                                   / single["tiles_per_s"], 3),
                        "ray_1_worker_overhead_steady": round(1 - one["steady_tiles_per_s"]
                                                              / single["steady_tiles_per_s"], 3)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 million tiles; 4 rasters for Ray")
    parser.add_argument("--part", choices=("all", "ann", "ray"), default="all")
    parser.add_argument("--tiles", type=int, help="number of tiles (default 10,000,000; --quick 1,000,000)")
    parser.add_argument("--out", help="result JSON (default bench/results/archive[-quick].json)")
    args = parser.parse_args()
    out_path = args.out or os.path.join(common.RESULTS_DIR, "archive-quick.json" if args.quick else "archive.json")
    results = {}
    if os.path.isfile(out_path):
        with open(out_path) as f:
            results = json.load(f)
    if args.part in ("all", "ann"):
        results.update(ann_part(args.tiles or (1_000_000 if args.quick else 10_000_000), args.quick))
        common.write_json(out_path, results)
    if args.part in ("all", "ray"):
        results["ray"] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": common.machine_info(),
                          **ray_part(args.quick)}
        common.write_json(out_path, results)
    print(f"Wrote {out_path}")


def ann_part(count: int, quick: bool) -> dict:
    """The ANN part's results (see the module's docstring)."""
    import faiss

    from geovl.geo import ann_index
    from geovl.pipelines.retrieve import top_indices

    results = {"benchmark": "archive", "quick": quick, "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
               "machine": common.machine_info(), "targets": {"ann_median_ms_max": 50.0, "recall_at_10_min": 0.95},
               "setup": {"tiles": count, "dim": DIM, "clusters": CLUSTERS, "noise": NOISE, "queries": QUERIES,
                         "k": K, "storage": "float16", "faiss": faiss.__version__,
                         "ann": "IVF (sqrt(n) cells), 8-bit scalar codes, inner product; candidates "
                                f"{ann_index.CANDIDATES_PER_HIT} x k re-scored exactly"}}
    t = common.Timer()
    matrix = embeddings(count)
    results["embeddings_ready_s"] = round(t.seconds, 1)
    vectors = queries()

    results["exact_in_memory"] = [in_memory_exact(matrix, n, vectors) for n in (100_000, 1_000_000) if n <= count]
    t = common.Timer()
    truth = exact_top(matrix, vectors)
    results["exact_ground_truth_s"] = round(t.seconds, 1)
    streamed = []
    for vector in vectors[:3]:
        t = common.Timer()
        exact_top(matrix, vector[None])
        streamed.append(1000 * t.seconds)
    results["exact_streamed_ms"] = common.spread(streamed, digits=2)

    rss_before = common.current_rss_mb()
    t = common.Timer()
    rng = np.random.default_rng(0)
    wanted = min(count, ann_index.TRAINING_POINTS_PER_CELL * ann_index.cell_count(count))
    sample = np.asarray(matrix[np.sort(rng.choice(count, wanted, replace=False))], np.float32)
    path = os.path.join(common.CACHE_DIR, f"archive-{count}.ann")
    ann_index.build(path, count, DIM, sample, ((np.arange(s, min(s + CHUNK, count)), chunk_f32(matrix, s))
                                               for s in range(0, count, CHUNK)))
    build_s = t.seconds
    index = ann_index.load(path, count)
    results["ann_build"] = {"seconds": round(build_s, 1), "cells": ann_index.cell_count(count),
                            "training_points": wanted, "file_mb": round(os.path.getsize(path) / 1e6),
                            "rss_growth_mb": round(common.current_rss_mb() - rss_before)}
    results["ann"] = {}
    for nprobe in NPROBES:
        index.nprobe = nprobe
        times, recalls = [], []
        for vector, exact in zip(vectors, truth):
            t = common.Timer()
            candidates = ann_index.search(index, vector, K * ann_index.CANDIDATES_PER_HIT)
            rows = np.sort(candidates)
            scores = np.asarray(matrix[rows], np.float32) @ vector      # the exact re-scoring
            found = rows[top_indices(scores, K)]
            times.append(1000 * t.seconds)
            recalls.append(len(set(found.tolist()) & set(exact.tolist())) / K)
        results["ann"][str(nprobe)] = {"ms": common.spread(times, digits=2),
                                       "recall_at_10": round(float(np.mean(recalls)), 4),
                                       "recall_at_10_min": round(float(np.min(recalls)), 2)}
        print(f"nprobe {nprobe}: median {results['ann'][str(nprobe)]['ms']['median']} ms, recall@10 "
              f"{results['ann'][str(nprobe)]['recall_at_10']}", flush=True)
    chosen = results["ann"][str(ann_index.NPROBE)]
    results["verdict"] = {"nprobe": ann_index.NPROBE, "ann_median_ms": chosen["ms"]["median"],
                          "recall_at_10": chosen["recall_at_10"],
                          "ann_median_pass": chosen["ms"]["median"] <= 50.0,
                          "recall_pass": chosen["recall_at_10"] >= 0.95}
    os.remove(path)
    print(f"exact streamed {results['exact_streamed_ms']['median']} ms; ANN (nprobe {ann_index.NPROBE}) "
          f"{chosen['ms']['median']} ms, recall@10 {chosen['recall_at_10']}; build {build_s:.0f} s")
    return results


if __name__ == "__main__":
    main()
