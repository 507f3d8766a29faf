"""Remote runtime benchmark: QGIS on a GeoVL server over loopback.

    .venv/bin/python bench/remote.py            # ~4 min on 2 CPU cores
    .venv/bin/python bench/remote.py --quick    # smaller rasters, fewer repeats

The server is `python -m geovl.runtime.serve` on the runtime's interpreter (GEOVL_RUNTIME,
default the checkout's .runtime), on 127.0.0.1, with the model's folder as its only --data
folder: every raster is one it cannot see, so QGIS sends it. This process is a QGIS process (offscreen, the plugin
through classFactory, processing.run with GEOVL_SERVER set). Measured:
- upload: a raster sent to the server (SHA-256, then 8 MiB chunks), MB/s, hashing apart;
- a repeated retrieval query (raster sent, index built and model loaded on the server):
  processing.run end to end, median and p90, and the same query on the local worker;
- the figures' setup: CLIP ViT-B/32 random weights, fp32, 224 px tiles.
Results: bench/results/remote.json (--quick: remote-quick.json).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (bench/common.py; sets HF_HUB_OFFLINE and the offscreen platform)

common.setup_path()
os.environ.setdefault("GEOVL_RUNTIME", os.path.join(common.ROOT, ".runtime"))
os.environ.setdefault("GEOVL_CACHE_DIR", os.path.join(common.CACHE_DIR, "remote-local-cache"))

TARGETS = {"repeat_query_ms_max": 150.0}
BATCH = 32


def child_prepare(spec: dict) -> dict:
    return {"model": common.ensure_clip_vit_b32(), "raster": common.ensure_raster(spec["size"], dtype="uint8"),
            "upload": common.ensure_raster(spec["upload_size"], dtype="uint8"), "machine": common.machine_info()}


CHILDREN = {"prepare": child_prepare}


def start_server(workdir: str, models: str) -> tuple[subprocess.Popen, str, str]:
    """The server on a free port, with a new token, reading models from `models`;
    (process, url, token)."""
    from geovl.processing.runtime_link import runtime_folder
    from geovl.runtime.client import worker_environment
    from geovl.runtime.install import python_executable

    shutil.rmtree(workdir, ignore_errors=True)
    with open(f"{workdir}.log", "w") as log:   # the server keeps its own handle
        process = subprocess.Popen([python_executable(runtime_folder()), "-m", "geovl.runtime.serve", "--port", "0",
                                    "--workdir", workdir, "--data", models], stdout=subprocess.PIPE, stderr=log,
                                   text=True, env=worker_environment())
    token = ""
    for line in process.stdout:
        if "token" in line:
            token = line.rsplit(" ", 1)[-1].strip()
        if "listening on" in line:
            return process, line.rsplit(" ", 1)[-1].strip(), token
    raise RuntimeError(f"the server did not start; see {workdir}.log")


def retrieve(raster: str, model: str, query: str) -> float:
    import processing

    t = common.Timer()
    processing.run("geovl:retrieve", {"INPUT": raster, "QUERY": query, "MODEL": model, "DEVICE": 1, "PRECISION": 1,
                                      "BATCH_SIZE": BATCH, "OUTPUT": "memory:"})
    return t.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="672 px raster, 2048 px upload, 5 repeats")
    parser.add_argument("--out", help="result JSON (default bench/results/remote[-quick].json)")
    common.add_child_arguments(parser)
    args = parser.parse_args()
    if common.run_as_child(args, CHILDREN):
        return
    size, upload_size, repeats = (672, 2048, 5) if args.quick else (1120, 8192, 20)
    out_path = args.out or os.path.join(common.RESULTS_DIR, "remote-quick.json" if args.quick else "remote.json")
    os.makedirs(common.CACHE_DIR, exist_ok=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    files = common.run_child(__file__, "prepare", {"size": size, "upload_size": upload_size})

    app, plugin = common.start_qgis()
    from geovl.runtime.remote import RemoteRuntime, file_sha256

    process, url, token = start_server(os.path.join(common.CACHE_DIR, "remote-server"), files["model"])
    try:
        results = {"benchmark": "remote", "quick": args.quick, "started": started, "machine": files["machine"],
                   "targets": TARGETS,
                   "setup": {"transport": "HTTP on 127.0.0.1, events as JSON lines, files in 8 MiB chunks",
                             "model": "CLIP ViT-B/32 random (save_pretrained folder)", "raster_px": size,
                             "tile_px": 224, "precision": "fp32",
                             "server": "--data: the model folder only, so every raster is sent"}}
        remote = RemoteRuntime(url, token)
        size_mb = os.path.getsize(files["upload"]) / 1e6
        t = common.Timer()
        file_sha256(files["upload"])
        hashing = t.seconds
        t = common.Timer()
        remote._upload(files["upload"], lambda event: None, lambda: False)
        sending = t.seconds
        results["upload"] = {"megabytes": round(size_mb, 1), "seconds": round(sending, 3),
                             "mb_per_s": round(size_mb / sending, 1), "sha256_mb_per_s": round(size_mb / hashing, 1),
                             "mb_per_s_without_hashing": round(size_mb / max(sending - hashing, 1e-9), 1)}

        local = [retrieve(files["raster"], files["model"], "warm up")]
        local += [retrieve(files["raster"], files["model"], f"query {i}") * 1000 for i in range(repeats)]
        os.environ["GEOVL_SERVER"], os.environ["GEOVL_SERVER_TOKEN"] = url, token
        first = retrieve(files["raster"], files["model"], "warm up")
        queries = [retrieve(files["raster"], files["model"], f"query {i}") * 1000 for i in range(repeats)]
        results["first_remote_run_s"] = round(first, 3)   # send, model load, indexing on the server
        results["repeat_query_ms"] = common.spread(queries)
        results["local_repeat_query_ms"] = common.spread(local[1:])
        results["verdict"] = {"repeat_query_pass": results["repeat_query_ms"]["median"] <= TARGETS[
            "repeat_query_ms_max"]}
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        os.environ.pop("GEOVL_SERVER", None)
    common.write_json(out_path, results)
    plugin.unload()
    app.exitQgis()
    print(f"upload {results['upload']['mb_per_s']} MB/s ({results['upload']['megabytes']} MB); repeat query median "
          f"{results['repeat_query_ms']['median']} ms (local {results['local_repeat_query_ms']['median']} ms)")
    print(f"Wrote {out_path}")


if __name__ == "__main__":
    main()
