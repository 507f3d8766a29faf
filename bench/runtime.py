"""Runtime benchmark: what the process boundary costs a QGIS user.

    .venv/bin/python bench/runtime.py            # ~5 min on 2 CPU cores
    .venv/bin/python bench/runtime.py --quick    # fewer tiles and repeats

This process is a QGIS process (offscreen QgsApplication, the plugin through its
classFactory, processing.run), so what it measures is what a user's QGIS pays; the
models run in the runtime's worker (GEOVL_RUNTIME, default the checkout's .runtime).
Real-size CLIP ViT-B/32, random-initialised, as in bench/retrieve.py. Measured:
- cold start: worker spawn to `ready` (the engine's imports, before any model load);
- indexing through processing.run (model already loaded in the worker) against the raw
  image tower's throughput on the same batches (a child process, in-process torch);
- a repeated query (index built, model loaded): processing.run end to end, median, p90;
- this QGIS process's RSS before and after, its peak, and that it imported no engine.
Results: bench/results/runtime.json (--quick: runtime-quick.json).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (bench/common.py; sets HF_HUB_OFFLINE and the offscreen platform)

common.setup_path()
os.environ.setdefault("GEOVL_RUNTIME", os.path.join(common.ROOT, ".runtime"))
os.environ.setdefault("GEOVL_CACHE_DIR", os.path.join(common.CACHE_DIR, "runtime-cache"))

BATCH = 32
TILE = 224
TARGETS = {"repeat_query_ms_max": 100.0, "e2e_over_raw_min": 0.85}
ENGINE_MODULES = ("torch", "transformers", "rasterio", "shapely", "open_clip", "segment_anything")


# =========================================================================== child jobs

def child_prepare(spec: dict) -> dict:
    """The model folder, the rasters and the machine's facts (which need torch and rasterio,
    so not in the parent)."""
    return {"model": common.ensure_clip_vit_b32(), "raster": common.ensure_raster(spec["size"], dtype="uint8"),
            "small": common.ensure_raster(TILE, dtype="uint8"), "machine": common.machine_info()}


def child_raw(spec: dict) -> dict:
    """The image tower alone on ready (32, 3, 224, 224) tensors, images per second."""
    import torch

    from geovl.models.resolver import load_embedder

    embedder = load_embedder(spec["model"], "cpu", "fp32")
    pixels = (torch.rand((BATCH, 3, TILE, TILE), generator=torch.Generator().manual_seed(0)) - 0.5) * 4.0
    embedder.embed_pixels(pixels)  # warm-up
    t = common.Timer()
    for _ in range(spec["batches"]):
        embedder.embed_pixels(pixels)
    return {"images_per_s": round(spec["batches"] * BATCH / t.seconds, 2), "batches": spec["batches"]}


CHILDREN = {"prepare": child_prepare, "raw": child_raw}


# =========================================================================== parent (a QGIS process)

def retrieve(raster: str, model: str, query: str, index: str) -> float:
    import processing

    t = common.Timer()
    processing.run("geovl:retrieve", {"INPUT": raster, "QUERY": query, "MODEL": model, "DEVICE": 1, "PRECISION": 1,
                                      "BATCH_SIZE": BATCH, "OUTPUT": "memory:", "OUTPUT_INDEX": index})
    return t.seconds


def cold_starts(count: int) -> list[float]:
    """Seconds from spawning a worker to its `ready` (imports done), each a fresh worker."""
    from geovl.processing.runtime_link import runtime_folder
    from geovl.runtime.client import Runtime
    from geovl.runtime.install import python_executable

    seconds = []
    for _ in range(count):
        fresh = Runtime(python_executable(runtime_folder()), log=lambda line: None)
        t = common.Timer()
        worker = fresh.worker()
        worker.ready.wait(300)
        seconds.append(round(t.seconds, 3))
        fresh.stop()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1120 px raster (25 tiles), 5 repeats")
    parser.add_argument("--out", help="result JSON (default bench/results/runtime[-quick].json)")
    common.add_child_arguments(parser)
    args = parser.parse_args()
    if common.run_as_child(args, CHILDREN):
        return
    size, repeats = (1120, 5) if args.quick else (2240, 20)
    out_path = args.out or os.path.join(common.RESULTS_DIR, "runtime-quick.json" if args.quick else "runtime.json")
    os.makedirs(common.CACHE_DIR, exist_ok=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    files = common.run_child(__file__, "prepare", {"size": size})
    results = {"benchmark": "runtime", "quick": args.quick, "started": started, "machine": files["machine"],
               "targets": TARGETS}
    raw = common.run_child(__file__, "raw", {"model": files["model"], "batches": 4 if args.quick else 8})

    rss_start = common.current_rss_mb()
    app, plugin = common.start_qgis()
    rss_qgis = common.current_rss_mb()
    from geovl.processing.runtime_link import runtime, runtime_folder

    results["setup"] = {"runtime": runtime_folder(), "model": "CLIP ViT-B/32 random (save_pretrained folder)",
                        "raster_px": size, "tiles": (size // TILE) ** 2, "tile_px": TILE, "batch": BATCH,
                        "precision": "fp32", "transport": "stdin/stdout JSON lines, features as GeoPackage"}
    results["cold_start_s"] = cold_starts(3)
    index_folder = os.path.join(common.CACHE_DIR, "runtime-indexes")
    os.makedirs(index_folder, exist_ok=True)
    for name in os.listdir(index_folder):
        os.remove(os.path.join(index_folder, name))

    # The model loaded once in the warm worker (on a one-tile raster), then the timed indexing.
    first = retrieve(files["small"], files["model"], "warm up", os.path.join(index_folder, "small.gpkg"))
    index = os.path.join(index_folder, "big.gpkg")
    indexing = retrieve(files["raster"], files["model"], "storage tanks", index)
    tiles = results["setup"]["tiles"]
    e2e = tiles / indexing
    results["indexing"] = {"first_run_with_model_load_s": round(first, 3), "seconds": round(indexing, 3),
                           "images_per_s": round(e2e, 2), "raw_images_per_s": raw.get("images_per_s"),
                           "e2e_over_raw": round(e2e / raw["images_per_s"], 3) if "images_per_s" in raw else None}
    queries = [retrieve(files["raster"], files["model"], f"query number {i}", index) * 1000 for i in range(repeats)]
    queries.sort()
    results["repeat_query_ms"] = {"median": round(statistics.median(queries), 1),
                                  "p90": round(queries[int(0.9 * (len(queries) - 1))], 1),
                                  "min": round(queries[0], 1), "max": round(queries[-1], 1), "repeats": repeats,
                                  "worker_pid_stayed": runtime().worker().alive}
    results["qgis_process"] = {"rss_before_qgis_mb": round(rss_start, 1), "rss_after_init_mb": round(rss_qgis, 1),
                               "rss_end_mb": round(common.current_rss_mb(), 1),
                               "peak_rss_mb": round(common.peak_rss_mb(), 1),
                               "engine_modules_imported": sorted(m for m in sys.modules
                                                                 if m.split(".")[0] in ENGINE_MODULES)}
    results["verdict"] = {
        "repeat_query_pass": results["repeat_query_ms"]["median"] <= TARGETS["repeat_query_ms_max"],
        "e2e_over_raw_pass": (results["indexing"]["e2e_over_raw"] or 0) >= TARGETS["e2e_over_raw_min"],
        "no_engine_in_qgis": not results["qgis_process"]["engine_modules_imported"]}
    common.write_json(out_path, results)
    plugin.unload()
    app.exitQgis()
    print(f"cold start {results['cold_start_s']} s; indexing {e2e:.1f} img/s (raw {raw.get('images_per_s')}); "
          f"repeat query median {results['repeat_query_ms']['median']} ms; QGIS RSS "
          f"{results['qgis_process']['rss_after_init_mb']} -> {results['qgis_process']['rss_end_mb']} MB")
    print(f"Wrote {out_path}")


if __name__ == "__main__":
    main()
