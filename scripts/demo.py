"""make demo: a sample raster, then geovl:retrieve through qgis_process, outputs in demo_out/.

With no network and no cached model it stops with one message saying which model,
where it was looked for and how to provide one.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import rasterio
from rasterio.transform import from_origin

from sample_pair import write_pair

QGIS_PROCESS = "/usr/bin/qgis_process.bin"  # Debian's qgis_process wrapper passes an unknown flag


def write_sample(path: str, size: int = 1024) -> None:
    """A synthetic 0.5 m RGB scene: fields, a road grid, buildings, round tanks, water."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:size, 0:size]
    rgb = np.zeros((3, size, size), np.float32)
    rgb[:] = np.array([95, 120, 70], np.float32)[:, None, None]          # vegetation
    rgb += rng.normal(0, 8, rgb.shape)
    for c in range(64, size, 256):                                          # roads
        rgb[:, :, c:c + 14] = 128
        rgb[:, c:c + 14, :] = 128
    water = yy > 0.75 * size + 30 * np.sin(xx / 60)
    rgb[:, water] = np.array([40, 70, 110], np.float32)[:, None]
    for _ in range(60):                                                     # buildings
        r, c = rng.integers(0, int(0.7 * size), 2)
        h, w = rng.integers(12, 40, 2)
        rgb[:, r:r + h, c:c + w] = rng.integers(150, 220)
    for cx in range(600, 900, 70):                                          # storage tanks by the water
        tank = (yy - 700) ** 2 + (xx - cx) ** 2 < 28 ** 2
        rgb[:, tank] = 235
    data = np.clip(rgb, 0, 255).astype(np.uint8)
    with rasterio.open(path, "w", driver="GTiff", width=size, height=size, count=3, dtype="uint8",
                       crs="EPSG:32631", transform=from_origin(448_000, 5_412_000, 0.5, 0.5),
                       photometric="RGB", compress="deflate", tiled=True) as dst:
        dst.write(data)


def run_algorithm(algorithm: str, params: dict) -> subprocess.CompletedProcess:
    args = [QGIS_PROCESS, "--json", "run", algorithm, "--"] + [f"{k}={v}" for k, v in params.items()]
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    return subprocess.run(args, capture_output=True, text=True, env=env)


def error_message(output: str) -> str:
    """The algorithm's own error sentence: qgis_process prints it after "ERROR:"."""
    errors = [line.split(":", 1)[1].strip() for line in output.splitlines() if line.startswith("ERROR:")]
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return errors[-1] if errors else (lines[-1] if lines else "qgis_process failed without a message")


def run_change(out: str) -> bool:
    """geovl:change on the sample pair, model-free; prints the caption and the outputs."""
    before, after = os.path.join(out, "sample_before.tif"), os.path.join(out, "sample_after.tif")
    if not (os.path.exists(before) and os.path.exists(after)):
        write_pair(before, after, 1024)
    print(f"Sample pair: {before}, {after}")
    outputs = {"OUTPUT": os.path.join(out, "change_regions.gpkg"),
               "OUTPUT_MAGNITUDE": os.path.join(out, "change_magnitude.tif"),
               "OUTPUT_MASK": os.path.join(out, "change_mask.tif"),
               "OUTPUT_REPORT": os.path.join(out, "change_report.html")}
    result = run_algorithm("geovl:change", {"BEFORE": before, "AFTER": after, "METHOD": 0, **outputs})
    if result.returncode != 0:
        print(f"\ngeovl:change failed: {error_message(result.stdout + result.stderr)}", file=sys.stderr)
        return False
    caption = os.path.join(out, "change_caption.txt")
    with open(caption, "w", encoding="utf-8") as file:
        file.write(json.loads(result.stdout)["results"]["OUTPUT_CAPTION"] + "\n")
    print("geovl:change wrote:\n  " + "\n  ".join([*outputs.values(), caption]))
    with open(caption, encoding="utf-8") as file:
        print("Caption: " + file.read())
    return True


def run_retrieve(out: str, model: str) -> bool:
    sample = os.path.join(out, "sample.tif")
    if not os.path.exists(sample):
        write_sample(sample)
    print(f"Sample raster: {sample}")
    outputs = {"OUTPUT": os.path.join(out, "retrieve_tiles.gpkg"),
               "OUTPUT_HEATMAP": os.path.join(out, "retrieve_heatmap.tif")}
    result = run_algorithm("geovl:retrieve", {"INPUT": sample, "QUERY": "storage tanks next to a harbour",
                                              "MODEL": model, "TOP_K": 5, **outputs})
    if result.returncode != 0:
        print(f"\ngeovl:retrieve did not run: {error_message(result.stdout + result.stderr)}\n"
              f"Provide a model with: make demo MODEL=/path/to/model-or-checkpoint (or a hub id on a "
              f"connected machine).", file=sys.stderr)
        return False
    print("geovl:retrieve wrote:\n  " + "\n  ".join(outputs.values()))
    return True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="clip-rsicd")
    parser.add_argument("--out", default="demo_out")
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    changed = run_change(out)
    run_retrieve(out, args.model)
    # The model-free part must always work; retrieval may lack a model offline (said above).
    return 0 if changed else 1


if __name__ == "__main__":
    sys.exit(main())
