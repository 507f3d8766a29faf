"""Change detection benchmark: the model-free methods end to end on large synthetic pairs.

    .venv/bin/python bench/change.py            # 8192 px (CVA, IR-MAD) and 16384 px (CVA) pairs
    .venv/bin/python bench/change.py --quick    # 4096 and 8192 px

A 4-band uint16 before/after pair with planted changes (scripts/sample_pair.py: tiled,
uncompressed, AFTER seen with another gain and offset per band) is compared by
geovl.pipelines.change.detect_changes, writing every output (regions, magnitude and mask
GeoTIFFs, report), each run in a fresh process for clean memory figures. Figures: wall
time, megapixels per second (pixels of one raster / wall time), peak RSS, and the RSS
growth from the smaller to the larger pair. Results: bench/results/change.json.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
import common  # noqa: E402  (bench/common.py)
import retrieve  # noqa: E402  (RecordingFeedback, product_revision, write_json_partial)
from sample_pair import PIXEL_M, planted_changes, write_pair  # noqa: E402  (scripts/sample_pair.py)

common.setup_path()

TARGETS = {"megapixels_per_second_min": 20.0, "rss_growth_max": 0.10}


def ensure_pair(size: int, compress: str | None = None) -> tuple[str, str]:
    """The synthetic pair of `size` px, written once under the bench cache."""
    tag = f"{size}-{compress or 'none'}"
    before = os.path.join(common.CACHE_DIR, f"change-before-{tag}.tif")
    after = os.path.join(common.CACHE_DIR, f"change-after-{tag}.tif")
    if not (os.path.isfile(before) and os.path.isfile(after)):
        os.makedirs(common.CACHE_DIR, exist_ok=True)
        t = common.Timer()
        write_pair(before, after, size, compress=compress)
        print(f"   wrote the {size} px pair in {t.seconds:.1f} s", flush=True)
    return before, after


# =========================================================================== child

def child_run(spec: dict) -> dict:
    """detect_changes on the pair, every output written, timed from the call to its return."""
    from geovl.pipelines.change import detect_changes

    before, after = spec["before"], spec["after"]
    out = tempfile.mkdtemp(prefix="change-", dir=common.CACHE_DIR)
    feedback = PlanFeedback()
    try:
        cpu0, loadavg = common.cpu_seconds(), common.load_average()
        t = common.Timer()
        result = detect_changes(before, after, method=spec["method"],
                                magnitude_path=os.path.join(out, "magnitude.tif"),
                                mask_path=os.path.join(out, "mask.tif"), report_path=os.path.join(out, "report.html"),
                                feedback=feedback)
        seconds, cpu = t.seconds, common.cpu_seconds() - cpu0
        pass1 = next((s for s, p in feedback.marks if p >= 70), None)  # the tile pass ends at 70 %
        megapixels = spec["size"] ** 2 / 1e6
        planted = planted_changes(spec["size"])
        return {"method": spec["method"], "size": spec["size"], "seconds": round(seconds, 3),
                "megapixels_per_second": round(megapixels / seconds, 2),
                "tile_pass_s": round(pass1, 3) if pass1 else None,
                "regions": len(result.regions), "planted_changes": len(planted),
                "changed_m2": round(sum(r.area_m2 for r in result.regions), 1),
                "planted_m2": sum((r1 - r0) * (c1 - c0) for _, (r0, c0, r1, c1) in planted) * PIXEL_M ** 2,
                "threshold": round(result.threshold, 4), "caption": result.caption,
                "cpu_s": round(cpu, 2), "cpu_utilisation": round(cpu / seconds, 2),
                "loadavg_start": loadavg, "loadavg_end": common.load_average(),
                "peak_rss_mb": round(common.peak_rss_mb(), 1),
                "magnitude_bytes_per_px": round(os.path.getsize(os.path.join(out, "magnitude.tif")) / spec["size"] ** 2, 3),
                "mask_bytes_per_px": round(os.path.getsize(os.path.join(out, "mask.tif")) / spec["size"] ** 2, 4),
                "plan": feedback.plan}
    finally:
        shutil.rmtree(out, ignore_errors=True)


class PlanFeedback(retrieve.RecordingFeedback):
    """RecordingFeedback that also keeps the plan the run logs first (pixels, tiles, disk, time)."""
    plan: str | None = None

    def info(self, message: str) -> None:
        if self.plan is None and message.startswith("Comparing "):
            self.plan = message


CHILDREN = {"run": child_run}


# =========================================================================== parent

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="4096 and 8192 px pairs")
    parser.add_argument("--out", help="result JSON (default bench/results/change[-quick].json)")
    common.add_child_arguments(parser)
    args = parser.parse_args()
    if common.run_as_child(args, CHILDREN):
        return
    small, large = (4096, 8192) if args.quick else (8192, 16384)
    out_path = args.out or os.path.join(common.RESULTS_DIR, "change-quick.json" if args.quick else "change.json")
    total = common.Timer()
    print(f"Preparing pairs under {common.CACHE_DIR}", flush=True)
    pairs = {size: ensure_pair(size) for size in (small, large)}
    results = {"benchmark": "change", "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
               "revision": retrieve.product_revision(), "machine": common.machine_info(), "targets": TARGETS,
               "pair": {"bands": 4, "dtype": "uint16", "pixel_m": 0.5, "layout": "tiled 256, uncompressed",
                        "generator": "scripts/sample_pair.py"}, "runs": {}}
    # CVA on the smaller pair three times: the figure is their median (disk write-back of the
    # outputs makes single runs vary); IR-MAD and the larger pair once.
    for name, size, method in ((f"cva_{small}_1", small, "cva"), (f"cva_{small}_2", small, "cva"),
                               (f"cva_{small}_3", small, "cva"), (f"irmad_{small}", small, "irmad"),
                               (f"cva_{large}", large, "cva")):
        before, after = pairs[size]
        results["runs"][name] = common.run_child(__file__, "run", {"before": before, "after": after, "size": size,
                                                                   "method": method})
        retrieve.write_json_partial(out_path, results)
    results["verdict"] = verdict(results, small, large)
    results["total_s"] = round(total.seconds, 1)
    common.write_json(out_path, results)
    for name, run in results["runs"].items():
        print(f"{name}: {run.get('seconds')} s, {run.get('megapixels_per_second')} Mpx/s, "
              f"{run.get('peak_rss_mb')} MB, {run.get('regions')} regions")
    print(results["verdict"])
    print(f"\nWrote {out_path}")


def verdict(results: dict, small: int, large: int) -> dict:
    runs = results["runs"]
    if any("error" in run for run in runs.values()):
        return {"error": "a run failed"}
    cva = sorted((runs[f"cva_{small}_{i}"] for i in (1, 2, 3)), key=lambda run: run["seconds"])[1]   # the median
    big = runs[f"cva_{large}"]
    growth = big["peak_rss_mb"] / cva["peak_rss_mb"] - 1
    return {"cva_seconds": cva["seconds"], "cva_megapixels_per_second": cva["megapixels_per_second"],
            "cva_pass": cva["megapixels_per_second"] >= TARGETS["megapixels_per_second_min"],
            "irmad_megapixels_per_second": runs[f"irmad_{small}"].get("megapixels_per_second"),
            "rss_growth": round(growth, 3), "rss_pass": growth <= TARGETS["rss_growth_max"]}


if __name__ == "__main__":
    main()
