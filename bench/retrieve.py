"""Retrieval benchmark: indexing throughput, peak memory and query latency.

    .venv/bin/python bench/retrieve.py            # full run (~10-15 min on 2 CPU cores)
    .venv/bin/python bench/retrieve.py --quick    # sanity run (small rasters, 10k-tile index)

Real-size CLIP ViT-B/32, random-initialised (compute is what is measured), loaded through
geovl.models.resolver.load_embedder from a save_pretrained folder. Every measurement
that reports memory runs in a fresh subprocess. Results: bench/results/retrieve.json
(--quick: retrieve-quick.json).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (bench/common.py; also sets HF_HUB_OFFLINE before any HF import)

common.setup_path()
os.environ.setdefault("GEOVL_CACHE_DIR", os.path.join(common.CACHE_DIR, "geovl-cache"))

from geovl.pipelines.feedback import QuietFeedback  # noqa: E402  (needs setup_path)

BATCH = 32
TILE = 224
QUERY = "storage tanks"
TOP_K = 10
TARGETS = {"e2e_over_raw_min": 0.85, "rss_growth_max": 0.10, "query_ms_max": 50.0, "repeat_query_s_max": 2.0}


# =========================================================================== child jobs
# Each runs in its own process: `python bench/retrieve.py --child KIND --spec JSON --result PATH`.

def _fresh_index_path(tag: str) -> tuple[str, str]:
    folder = tempfile.mkdtemp(prefix=f"index-{tag}-", dir=os.path.join(common.CACHE_DIR))
    return folder, os.path.join(folder, "index.gpkg")


def _load(spec: dict):
    from geovl.models.device import dtype_name
    from geovl.models.resolver import load_embedder

    t = common.Timer()
    embedder = load_embedder(spec["model"], "cpu", spec["precision"])
    return embedder, {"load_s": round(t.seconds, 3), "dtype": dtype_name(embedder.dtype),
                      "image_processor": type(embedder.image_processor).__name__,
                      "rss_after_load_mb": round(common.current_rss_mb(), 1),
                      "peak_rss_after_load_mb": round(common.peak_rss_mb(), 1)}


class RecordingFeedback(QuietFeedback):
    """Feedback that records when each batch finished (progress is reported per batch)."""

    def __init__(self):
        self.start = time.perf_counter()
        self.marks: list[tuple[float, float]] = []

    def progress(self, percent: float) -> None:
        self.marks.append((time.perf_counter() - self.start, percent))
        self.gdal_cache_used_mb = max(getattr(self, "gdal_cache_used_mb", 0.0),
                                      common.gdal_cache_mb().get("used_mb", 0.0))


def _retrieve(spec: dict, index_path: str, query: str, feedback=None):
    from geovl.pipelines.options import ModelOptions, TilingOptions
    from geovl.pipelines.retrieve import retrieve

    t = common.Timer()
    if feedback is not None:
        feedback.start = t.start  # batch marks relative to the call, not to the imports above
    result = retrieve(spec["raster"], ModelOptions(spec["model"], "cpu", spec["precision"]), query=query,
                      tiling=TilingOptions(tile_size=TILE), top_k=TOP_K, batch_size=BATCH, index_path=index_path,
                      feedback=feedback)
    return result, t.seconds


def _raw(embedder, pixels, batches: int) -> dict:
    cpu0, times = common.cpu_seconds(), []
    for _ in range(batches):
        t = common.Timer()
        embedder.embed_pixels(pixels)
        times.append(t.seconds)
    return {"batch_s": [round(x, 4) for x in times], "seconds": sum(times), "cpu_s": common.cpu_seconds() - cpu0,
            "cpu_utilisation": round((common.cpu_seconds() - cpu0) / sum(times), 2)}


def child_throughput(spec: dict) -> dict:
    """Raw image-tower throughput (measured before and after the indexing run, to bracket
    it in time on a shared machine), end-to-end indexing throughput (model preloaded),
    repeated-query time, and a serial per-stage breakdown of the indexing loop."""
    import torch

    from geovl.geo import tile_index

    embedder, out = _load(spec)
    out["torch_threads"] = torch.get_num_threads()
    out["loadavg_start"] = common.load_average()

    # ---- raw: ready (32, 3, 224, 224) float32 tensors through embed_pixels
    g = torch.Generator().manual_seed(0)
    pixels = (torch.rand((BATCH, 3, TILE, TILE), generator=g) - 0.5) * 4.0
    embedder.embed_pixels(pixels)  # warm-up (oneDNN primitive creation, allocator)
    before = _raw(embedder, pixels, spec["raw_batches"])

    # ---- text tower (what a repeated query pays on top of the ranking)
    embedder.embed_texts(["warm up"])
    t = common.Timer()
    for _ in range(5):
        embedder.embed_texts(["oil refinery"])
    out["text_query_embed_ms"] = round(1000 * t.seconds / 5, 2)

    # ---- end-to-end indexing (model already loaded, fresh index file)
    folder, index_path = _fresh_index_path(spec["precision"])
    try:
        feedback = RecordingFeedback()
        cpu0 = common.cpu_seconds()
        result, seconds = _retrieve(spec, index_path, QUERY, feedback)
        cpu = common.cpu_seconds() - cpu0
        after = _raw(embedder, pixels, spec["raw_batches"])
        out["e2e_variants"] = ({v: _e2e_variant(spec, v) for v in ("no_prefetch", "reader_torch_1_thread")}
                               if spec.get("e2e_variants") else {})
        if out["e2e_variants"]:  # the model's own speed after the variants ran (threads untouched?)
            check = _raw(embedder, pixels, 3)
            out["raw_after_variants_images_per_s"] = round(BATCH * len(check["batch_s"]) / check["seconds"], 2)
        marks = [m for m, _ in feedback.marks]
        full = result.tiles_embedded // BATCH
        out["e2e"] = {"tiles_embedded": result.tiles_embedded, "tile_count": result.tile_count,
                      "seconds": round(seconds, 3), "images_per_s": round(result.tiles_embedded / seconds, 2),
                      "cpu_utilisation": round(cpu / seconds, 2),
                      "images_per_cpu_s": round(result.tiles_embedded / cpu, 2),
                      "gdal_cache_used_max_mb": getattr(feedback, "gdal_cache_used_mb", None),
                      "first_batch_done_s": round(marks[0], 3) if marks else None,
                      "after_last_batch_s": round(seconds - marks[-1], 3) if marks else None,
                      "index_mb": round(os.path.getsize(index_path) / 2**20, 2)}
        if full >= 3:  # steady state: full batches 2..last, without start-up and finishing work
            out["e2e"]["steady_images_per_s"] = round(BATCH * (full - 1) / (marks[full - 1] - marks[0]), 2)

        raw_s = before["seconds"] + after["seconds"]
        n = len(before["batch_s"]) + len(after["batch_s"])
        out["raw"] = {"batches": n, "batch_size": BATCH, "images_per_s": round(BATCH * n / raw_s, 2),
                      "images_per_s_before": round(BATCH * len(before["batch_s"]) / before["seconds"], 2),
                      "images_per_s_after": round(BATCH * len(after["batch_s"]) / after["seconds"], 2),
                      "images_per_s_best_batch": round(BATCH / min(before["batch_s"] + after["batch_s"]), 2),
                      "cpu_utilisation": [before["cpu_utilisation"], after["cpu_utilisation"]],
                      "images_per_cpu_s": round(BATCH * n / (before["cpu_s"] + after["cpu_s"]), 2),
                      "batch_s": before["batch_s"] + after["batch_s"]}
        out["e2e"]["ratio_to_raw"] = round(out["e2e"]["images_per_s"] / out["raw"]["images_per_s"], 3)
        # per CPU-second: insensitive to other processes taking cores; < 1 = extra CPU work per tile
        out["e2e"]["cpu_ratio_to_raw"] = round(out["e2e"]["images_per_cpu_s"] / out["raw"]["images_per_cpu_s"], 3)
        if "steady_images_per_s" in out["e2e"]:
            out["e2e"]["steady_ratio_to_raw"] = round(out["e2e"]["steady_images_per_s"] / out["raw"]["images_per_s"], 3)
        for variant in out["e2e_variants"].values():
            variant["ratio_to_raw"] = round(variant["images_per_s"] / out["raw"]["images_per_s"], 3)

        # ---- repeated query: same raster, new text, model loaded, index in memory
        result2, seconds2 = _retrieve(spec, index_path, "oil refinery")
        # ... and with the in-memory embedding cache dropped (index read back from the file)
        tile_index._cache.clear()
        result3, seconds3 = _retrieve(spec, index_path, "harbour cranes")
        out["repeat_query"] = {"seconds": round(seconds2, 4), "tiles_embedded": result2.tiles_embedded,
                               "hits": len(result2.hits),
                               "seconds_embedding_cache_cleared": round(seconds3, 4),
                               "tiles_embedded_cache_cleared": result3.tiles_embedded}
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    out["stages"] = stage_breakdown(spec, embedder)
    out["loadavg_end"] = common.load_average()
    return out


def _e2e_variant(spec: dict, variant: str) -> dict:
    """Diagnostic: the same indexing with the reader thread changed by a bench-side
    monkeypatch of retrieve's `prefetch` (product code untouched):
    - no_prefetch: tiles read and preprocessed in line, no reader thread;
    - reader_torch_1_thread: the reader thread sets torch.set_num_threads(1) before it
      starts (with the OpenMP backend this is per calling thread: the model keeps 2),
      so its preprocessing does not start a second OpenMP team on the model's cores."""
    import torch

    import geovl.pipelines.retrieve as retrieve_module

    original = retrieve_module.prefetch
    if variant == "no_prefetch":
        retrieve_module.prefetch = lambda items, depth=2: iter(items)
    elif variant == "reader_torch_1_thread":
        def one_thread_reader(items, depth=2):
            def items_in_reader():
                torch.set_num_threads(1)
                yield from items
            return original(items_in_reader(), depth)
        retrieve_module.prefetch = one_thread_reader
    else:
        raise ValueError(variant)
    folder, index_path = _fresh_index_path(variant)
    try:
        cpu0 = common.cpu_seconds()
        result, seconds = _retrieve(spec, index_path, QUERY)
        cpu = common.cpu_seconds() - cpu0
    finally:
        retrieve_module.prefetch = original
        shutil.rmtree(folder, ignore_errors=True)
    return {"tiles_embedded": result.tiles_embedded, "seconds": round(seconds, 3),
            "images_per_s": round(result.tiles_embedded / seconds, 2), "cpu_utilisation": round(cpu / seconds, 2),
            "images_per_cpu_s": round(result.tiles_embedded / cpu, 2), "model_threads_after": torch.get_num_threads()}


def stage_breakdown(spec: dict, embedder) -> dict:
    """The indexing loop's stages timed one after another (no prefetch thread) on the
    first `stage_batches` batches: tile reads, preprocessing, the model, footprints and
    GeoPackage writes. Also a bench-only reference preprocessing (stack + normalise in
    torch, same mean/std) to show what the processor's generality costs."""
    import numpy as np
    import torch

    from geovl.geo import tile_index
    from geovl.geo.files import atomic_path
    from geovl.geo.georef import window_footprint
    from geovl.geo.raster import RasterSource
    from geovl.pipelines.options import TilingOptions
    from geovl.pipelines.tiling import plan

    proc = embedder.image_processor
    mean = torch.tensor(proc.image_mean, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(proc.image_std, dtype=torch.float32).view(1, 3, 1, 1)
    acc = {k: 0.0 for k in ("stretch_stats", "read", "preprocess", "preprocess_reference", "model",
                            "footprints", "write")}
    n_tiles = 0
    folder, index_path = _fresh_index_path("stages")
    try:
        with RasterSource(spec["raster"]) as source:
            t = common.Timer()
            source.stretch  # computed once per raster (decimated read)
            acc["stretch_stats"] = t.seconds
            grid = plan(source, TilingOptions(tile_size=TILE), embedder.input_size)
            tiles_iter = grid.tiles()
            with atomic_path(index_path) as tmp, tile_index.TileIndexWriter(tmp, source.crs_wkt, source.epsg,
                                                                            {"bench": True}) as writer:
                for _ in range(spec["stage_batches"]):
                    tiles = [t for _, t in zip(range(BATCH), tiles_iter)]
                    if not tiles:
                        break
                    t = common.Timer()
                    images = [source.read(tile.window, (grid.tile_size, grid.tile_size))[0] for tile in tiles]
                    acc["read"] += t.seconds
                    t = common.Timer()
                    pixels = embedder.preprocess(images)
                    acc["preprocess"] += t.seconds
                    t = common.Timer()
                    ref = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div_(255.0)
                    ref = (ref - mean) / std
                    acc["preprocess_reference"] += t.seconds
                    t = common.Timer()
                    embeddings = embedder.embed_pixels(pixels)
                    acc["model"] += t.seconds
                    t = common.Timer()
                    footprints = [window_footprint(grid.transform, tile.window) for tile in tiles]
                    acc["footprints"] += t.seconds
                    t = common.Timer()
                    writer.add(footprints, [x.row for x in tiles], [x.col for x in tiles], embeddings)
                    acc["write"] += t.seconds
                    n_tiles += len(tiles)
                max_diff = float((ref - pixels).abs().max())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    per_tile = {k: round(1000 * v / n_tiles, 3) for k, v in acc.items() if k != "stretch_stats"}
    pipeline = ("read", "preprocess", "model", "footprints", "write")
    serial = sum(per_tile[k] for k in pipeline)
    return {"tiles": n_tiles, "ms_per_tile": per_tile, "stretch_stats_s": round(acc["stretch_stats"], 3),
            "share_of_serial": {k: round(per_tile[k] / serial, 3) for k in pipeline},
            "serial_images_per_s": round(1000 / serial, 2),
            "reference_preprocess_max_abs_diff": round(max_diff, 5)}


def child_index(spec: dict) -> dict:
    """Index one raster in this fresh process (model preloaded first); peak RSS at the end."""
    import torch

    embedder, out = _load(spec)
    # weights are mmapped safetensors pages: they become resident on first use, so the
    # baseline for "what indexing adds" is taken after one pass of each tower
    embedder.embed_pixels(torch.zeros((BATCH, 3, TILE, TILE)))
    embedder.embed_texts(["warm up"])
    out["peak_rss_after_warmup_mb"] = round(common.peak_rss_mb(), 1)
    out["loadavg_start"] = common.load_average()
    folder, index_path = _fresh_index_path(f"rss-{spec['size']}")
    feedback = RecordingFeedback()
    try:
        result, seconds = _retrieve(spec, index_path, QUERY, feedback)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out["gdal_cache"] = {**common.gdal_cache_mb(), "used_max_during_run_mb": getattr(feedback, "gdal_cache_used_mb", None)}
    out["loadavg_end"] = common.load_average()
    out.update({"size": spec["size"], "tiles_embedded": result.tiles_embedded, "seconds": round(seconds, 3),
                "images_per_s": round(result.tiles_embedded / seconds, 2),
                "rss_end_mb": round(common.current_rss_mb(), 1), "peak_rss_mb": round(common.peak_rss_mb(), 1)})
    out["peak_rss_growth_during_index_mb"] = round(out["peak_rss_mb"] - out["peak_rss_after_warmup_mb"], 1)
    return out


def child_read(spec: dict) -> dict:
    """Diagnostic, no model: read every tile of a raster the way indexing does, and see
    what the reads alone add to peak RSS and hold in GDAL's block cache."""
    from geovl.geo.raster import RasterSource
    from geovl.pipelines.options import TilingOptions
    from geovl.pipelines.tiling import plan

    base = common.current_rss_mb()
    t = common.Timer()
    with RasterSource(spec["raster"]) as source:
        grid = plan(source, TilingOptions(tile_size=TILE), TILE)
        for tile in grid.tiles():
            source.read(tile.window, (TILE, TILE))
        seconds = t.seconds
        cache, rss = common.gdal_cache_mb(), common.current_rss_mb()
    return {"size": spec["size"], "tiles": len(grid), "seconds": round(seconds, 2),
            "ms_per_tile": round(1000 * seconds / len(grid), 3), "gdal_cache": cache,
            "gdal_cachemax_env": os.environ.get("GDAL_CACHEMAX"), "rss_before_mb": round(base, 1),
            "rss_after_reads_mb": round(rss, 1), "rss_growth_mb": round(rss - base, 1),
            "rss_after_close_mb": round(common.current_rss_mb(), 1)}


def child_query(spec: dict) -> dict:
    """Top-10 latency over a synthetic index of n random 512-d tiles."""
    import numpy as np

    from geovl.geo import tile_index
    from geovl.pipelines.retrieve import top_indices

    n = spec["tiles"]
    path = build_query_index(n)
    rng = np.random.default_rng(7)
    out = {"tiles": n, "dim": 512, "index_mb": round(os.path.getsize(path) / 2**20, 1),
           "rss_before_mb": round(common.current_rss_mb(), 1)}

    def query(v):
        times = {}
        t = common.Timer()
        fids, matrix = tile_index.load_embeddings(path)
        times["load"] = t.seconds
        t = common.Timer()
        scores = matrix @ v
        times["matmul"] = t.seconds
        t = common.Timer()
        order = top_indices(scores, TOP_K)
        times["top_k"] = t.seconds
        t = common.Timer()
        tiles = tile_index.read_tiles(path, [int(fids[i]) for i in order])
        times["read_tiles"] = t.seconds
        assert len(tiles) == TOP_K
        times["total"] = sum(times.values())
        return times

    def unit(v):
        return (v / np.linalg.norm(v)).astype(np.float32)

    tile_index._cache.clear()
    cold = query(unit(rng.normal(size=512)))
    out["cold_ms"] = {k: round(1000 * v, 3) for k, v in cold.items()}
    out["rss_after_load_mb"] = round(common.current_rss_mb(), 1)
    out["cold_load_breakdown_ms"] = cold_load_breakdown(path)
    warm = [query(unit(rng.normal(size=512))) for _ in range(20)]
    out["warm_ms"] = {k: round(1000 * statistics.median(w[k] for w in warm), 3) for k in warm[0]}
    out["warm_total_ms_p90"] = round(1000 * sorted(w["total"] for w in warm)[int(0.9 * len(warm)) - 1], 3)
    out["warm_total_ms_max"] = round(1000 * max(w["total"] for w in warm), 3)
    out["peak_rss_mb"] = round(common.peak_rss_mb(), 1)
    return out


def cold_load_breakdown(path: str) -> dict:
    """tile_index.load_embeddings' steps timed apart (same SQL and numpy calls, bench-side;
    the file is in the OS page cache by now)."""
    import numpy as np

    from geovl.geo import tile_index

    times = {}
    t = common.Timer()
    with tile_index.connect_read_only(path) as con:
        rows = con.execute(f"SELECT fid, embedding FROM {tile_index.TABLE} ORDER BY fid").fetchall()
    times["sql_fetchall"] = t.seconds
    t = common.Timer()
    fids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    joined = b"".join(r[1] for r in rows)
    times["fids_and_join"] = t.seconds
    t = common.Timer()
    matrix = np.frombuffer(joined, np.float16).reshape(len(rows), -1).astype(np.float32)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    times["to_float32_and_normalise"] = t.seconds
    assert len(fids) == len(matrix)
    return {k: round(1000 * v, 1) for k, v in times.items()}


def build_query_index(n: int) -> str:
    """An index of n tiles (square grid of 10 m footprints, random unit embeddings),
    written through TileIndexWriter; cached under the bench folder."""
    import numpy as np
    from shapely.geometry import box

    from geovl.geo import tile_index
    from geovl.geo.files import atomic_path

    path = os.path.join(common.CACHE_DIR, f"query-index-{n}.gpkg")
    if tile_index.read_meta(path):
        return path
    from rasterio.crs import CRS
    wkt = CRS.from_epsg(32633).to_wkt()
    cols = int(np.ceil(np.sqrt(n)))
    rng = np.random.default_rng(3)
    t = common.Timer()
    with atomic_path(path) as tmp, tile_index.TileIndexWriter(tmp, wkt, 32633, {"bench": True, "tile_count": n}) as w:
        for start in range(0, n, 2000):
            idx = np.arange(start, min(n, start + 2000))
            emb = rng.normal(size=(len(idx), 512)).astype(np.float32)
            emb /= np.linalg.norm(emb, axis=1, keepdims=True)
            rows, cs = (idx // cols).tolist(), (idx % cols).tolist()
            x0, y0 = 400_000.0, 5_000_000.0
            w.add([box(x0 + c * 10, y0 - (r + 1) * 10, x0 + (c + 1) * 10, y0 - r * 10) for r, c in zip(rows, cs)],
                  rows, cs, emb)
    print(f"  built a {n}-tile query index in {t.seconds:.1f} s", flush=True)
    return path


CHILDREN = {"throughput": child_throughput, "index": child_index, "read": child_read, "query": child_query}


# =========================================================================== parent

def run_child(kind: str, spec: dict, env: dict | None = None) -> dict:
    out = common.run_child(__file__, kind, spec, env)
    if "error" in out:
        raise SystemExit(out["error"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small rasters (1344, 2688 px) and a 10k-tile index")
    parser.add_argument("--precisions", default="fp32,auto")
    parser.add_argument("--compress", default="none", choices=["none", "deflate"], help="synthetic GeoTIFF compression")
    parser.add_argument("--no-diagnostics", action="store_true",
                        help="skip the diagnostic indexing variants and the read-only memory runs")
    parser.add_argument("--out", help="result JSON (default bench/results/retrieve[-quick].json)")
    common.add_child_arguments(parser)
    args = parser.parse_args()
    if common.run_as_child(args, CHILDREN):
        return

    small, large, n_query = (1344, 2688, 10_000) if args.quick else (6144, 12288, 100_000)
    raw_batches, stage_batches = (3, 2) if args.quick else (10, 6)
    out_path = args.out or os.path.join(common.RESULTS_DIR, "retrieve-quick.json" if args.quick else "retrieve.json")
    os.makedirs(common.CACHE_DIR, exist_ok=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    total = common.Timer()

    print(f"Preparing model and rasters under {common.CACHE_DIR}", flush=True)
    t = common.Timer()
    model = common.ensure_clip_vit_b32()
    rasters = {size: common.ensure_raster(size, args.compress) for size in (small, large)}
    print(f"  ready in {t.seconds:.1f} s", flush=True)

    from geovl.models.device import cpu_has_fast_bf16

    results = {"benchmark": "retrieve", "quick": args.quick, "started": started,
               "machine": common.machine_info(),
               "setup": {"model": "CLIP ViT-B/32 (transformers CLIPConfig defaults), random-initialised",
                         "model_dir": model, "tile_size": TILE, "batch_size": BATCH, "device": "cpu",
                         "rasters": {str(s): {"path": p, "size_px": s, "tiles": (-(-s // TILE)) ** 2,
                                              "file_mb": round(os.path.getsize(p) / 2**20, 1)}
                                     for s, p in rasters.items()},
                         "raster_format": f"3-band uint16 GeoTIFF, tiled 256x256, compress={args.compress}, "
                                          "EPSG:32633, 0.5 m",
                         "query_index_tiles": n_query},
               "precisions": {}, "targets": TARGETS}
    results["machine"]["cpu_has_fast_bf16"] = cpu_has_fast_bf16()
    results["product_revision"] = product_revision()

    for precision in [p.strip() for p in args.precisions.split(",") if p.strip()]:
        base = {"model": model, "precision": precision}
        entry = run_child("throughput", {**base, "raster": rasters[small], "size": small,
                                         "raw_batches": raw_batches, "stage_batches": stage_batches,
                                         "e2e_variants": not args.no_diagnostics})
        entry["rss"] = {str(s): run_child("index", {**base, "raster": rasters[s], "size": s}) for s in (small, large)}
        results["precisions"][precision] = entry
        write_json_partial(out_path, results)

    results["query"] = run_child("query", {"tiles": n_query})
    # where indexing memory goes besides the model: the tile reads alone (GDAL block cache)
    if not args.no_diagnostics:
        results["read_only"] = {str(s): run_child("read", {"raster": rasters[s], "size": s}) for s in (small, large)}
    results["verdict"] = verdict(results, small, large)
    results["total_s"] = round(total.seconds, 1)
    common.write_json(out_path, results)
    print_summary(results, small, large)
    print(f"\nWrote {out_path}")


def product_revision() -> dict:
    """The commit measured, and whether product files (outside bench/) had local changes."""
    def git(*cmd):
        try:
            return subprocess.run(["git", "-C", common.ROOT, *cmd], capture_output=True, text=True,
                                  timeout=10).stdout.rstrip("\n")
        except (OSError, subprocess.SubprocessError):
            return ""
    dirty = [l for l in git("status", "--porcelain").splitlines() if l[3:] and not l[3:].startswith("bench/")]
    return {"commit": git("rev-parse", "HEAD") or None, "product_files_modified": dirty}


def write_json_partial(path: str, results: dict) -> None:
    common.write_json(path, {**results, "partial": True})


def verdict(results: dict, small: int, large: int) -> dict:
    v = {}
    for precision, e in results["precisions"].items():
        rss_s, rss_l = e["rss"][str(small)]["peak_rss_mb"], e["rss"][str(large)]["peak_rss_mb"]
        growth = rss_l / rss_s - 1
        v[precision] = {
            "dtype": e["dtype"],
            "e2e_over_raw": e["e2e"]["ratio_to_raw"],
            "e2e_over_raw_pass": e["e2e"]["ratio_to_raw"] >= TARGETS["e2e_over_raw_min"],
            "rss_growth": round(growth, 4),
            "rss_growth_pass": growth <= TARGETS["rss_growth_max"],
            "repeat_query_s": e["repeat_query"]["seconds"],
            "repeat_query_pass": (e["repeat_query"]["seconds"] < TARGETS["repeat_query_s_max"]
                                  and e["repeat_query"]["tiles_embedded"] == 0),
        }
    q = results["query"]
    v["query"] = {"tiles": q["tiles"], "warm_ms": q["warm_ms"]["total"], "cold_ms": q["cold_ms"]["total"],
                  "warm_pass": q["warm_ms"]["total"] <= TARGETS["query_ms_max"],
                  "note": "target applies to the warm query (embeddings already in memory)"
                          + ("" if q["tiles"] >= 100_000 else f"; --quick measures {q['tiles']} tiles, not 100k")}
    auto = results["precisions"].get("auto")
    if auto:
        v["auto_precision_note"] = (
            f"auto resolved to {auto['dtype']} on this CPU ("
            + ("has" if results["machine"]["cpu_has_fast_bf16"] else "no")
            + " AVX512-BF16/AMX), so the auto rows measure the same dtype as fp32"
            + ("" if auto["dtype"] == "fp32" else " - not the case here: auto ran bf16") + ".")
    v["all_pass"] = all(x for p in v.values() if isinstance(p, dict) for k, x in p.items() if k.endswith("_pass"))
    return v


def print_summary(results: dict, small: int, large: int) -> None:
    m = results["machine"]
    print("\n=== GeoVL retrieval benchmark" + (" (--quick)" if results["quick"] else ""))
    print(f"CPU: {m['cpu_model']}, {m['cpus_available']} cores, torch {m['torch']} ({m['torch_threads']} threads), "
          f"transformers {m['transformers']}")
    v = results["verdict"]
    mark = lambda ok: "PASS" if ok else "FAIL"  # noqa: E731
    for precision, e in results["precisions"].items():
        s, l, raw, e2e = e["rss"][str(small)], e["rss"][str(large)], e["raw"], e["e2e"]
        print(f"\n[{precision}] dtype {e['dtype']}, model load {e['load_s']} s, processor {e['image_processor']}, "
              f"load average {e['loadavg_start']} -> {e['loadavg_end']}")
        print(f"  raw image tower     {raw['images_per_s']:8.2f} img/s (batch {BATCH}; before/after indexing "
              f"{raw['images_per_s_before']}/{raw['images_per_s_after']}, best batch {raw['images_per_s_best_batch']}; "
              f"CPU use {raw['cpu_utilisation']})")
        print(f"  end-to-end indexing {e2e['images_per_s']:8.2f} img/s ({e2e['tiles_embedded']} tiles in "
              f"{e2e['seconds']} s; steady state {e2e.get('steady_images_per_s')}; CPU use {e2e['cpu_utilisation']})")
        print(f"  ratio               {e2e['ratio_to_raw']:8.3f}  (target >= {TARGETS['e2e_over_raw_min']}; steady "
              f"{e2e.get('steady_ratio_to_raw')}; per CPU-second {e2e['cpu_ratio_to_raw']})  "
              f"{mark(v[precision]['e2e_over_raw_pass'])}")
        for name, n in e.get("e2e_variants", {}).items():
            print(f"  diagnostic {name}: {n['images_per_s']:.2f} img/s (ratio {n['ratio_to_raw']}; CPU use "
                  f"{n['cpu_utilisation']})")
        print("  serial stages ms/tile: " + ", ".join(f"{k} {x}" for k, x in e["stages"]["ms_per_tile"].items()))
        for size, r in ((small, s), (large, l)):
            print(f"  peak RSS {size:>5} px  {r['peak_rss_mb']:8.1f} MB (after model warm-up {r['peak_rss_after_warmup_mb']} "
                  f"MB; GDAL block cache up to {r['gdal_cache'].get('used_max_during_run_mb')} MB; "
                  f"{r['images_per_s']} img/s)")
        print(f"  RSS growth          {100 * v[precision]['rss_growth']:7.1f} %  (target <= "
              f"{100 * TARGETS['rss_growth_max']:.0f} %)  {mark(v[precision]['rss_growth_pass'])}")
        r = e["repeat_query"]
        print(f"  repeated query      {r['seconds']:8.3f} s (tiles_embedded {r['tiles_embedded']}; "
              f"{r['seconds_embedding_cache_cleared']} s with the embedding cache dropped)  "
              f"{mark(v[precision]['repeat_query_pass'])}")
    q = results["query"]
    print(f"\n[query] {q['tiles']} tiles: cold {q['cold_ms']['total']:.1f} ms (load {q['cold_ms']['load']:.1f} ms: "
          + ", ".join(f"{k} {x}" for k, x in q["cold_load_breakdown_ms"].items()) + "), "
          f"warm median {q['warm_ms']['total']:.2f} ms (matmul {q['warm_ms']['matmul']:.2f}, top-k "
          f"{q['warm_ms']['top_k']:.2f}, read_tiles {q['warm_ms']['read_tiles']:.2f})  "
          f"{mark(v['query']['warm_pass'])}")
    if results.get("read_only"):
        print("[reads only, no model]")
    for name, r in results.get("read_only", {}).items():
        print(f"  {name:>22}: {r['ms_per_tile']} ms/tile, RSS +{r['rss_growth_mb']} MB after reading every tile, "
              f"GDAL block cache {r['gdal_cache'].get('used_mb')} of {r['gdal_cache'].get('max_mb')} MB")
    if "auto_precision_note" in v:
        print(v["auto_precision_note"])
    print(f"All targets pass: {v['all_pass']}   (total {results['total_s']} s)")


if __name__ == "__main__":
    main()
