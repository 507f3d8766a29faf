"""Shared bench set-up: `geovl` importable through a symlink folder (like conftest.py),
offline Hugging Face, a random-initialised real-size CLIP ViT-B/32 saved the way users
have models (save_pretrained folder), synthetic GeoTIFFs, machine facts and RSS.

Caches (model folder, rasters) live under /tmp/geovl-bench and are reused across runs.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.path.join(ROOT, "bench")
RESULTS_DIR = os.path.join(BENCH_DIR, "results")
CACHE_DIR = os.environ.get("GEOVL_BENCH_CACHE") or os.path.join(tempfile.gettempdir(), "geovl-bench")
MODEL_DIR = os.path.join(CACHE_DIR, "clip-vit-b32-random")
MODEL_DONE = ".geovl-bench-complete"


def _load_file(path: str, name: str):
    """Import a file of the repository as a module of its own name."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def setup_path() -> None:
    """Make the repository importable as `geovl` exactly as the tests do: the root
    conftest.py links it from a folder outside the checkout (its processing/ package
    would shadow QGIS's if the root itself were on sys.path)."""
    _load_file(os.path.join(ROOT, "conftest.py"), "geovl_root_conftest")


# --------------------------------------------------------------------------- model

def test_fixtures():
    """tests/conftest.py as a module (its tokenizer builders and processor configs), loaded once."""
    if "geovl_test_fixtures" not in sys.modules:
        sys.modules["geovl_test_fixtures"] = _load_file(os.path.join(ROOT, "tests", "conftest.py"),
                                                        "geovl_test_fixtures")
    return sys.modules["geovl_test_fixtures"]


def char_tokenizer(bos: str, eos: str, pad: str, max_length: int):
    """The tests' character-level tokenizer (no vocabulary download)."""
    return test_fixtures().char_tokenizer(bos, eos, pad, max_length)


def ensure_clip_vit_b32(path: str = MODEL_DIR) -> str:
    """A save_pretrained folder of CLIP ViT-B/32 (CLIPConfig defaults: vision 768 x 12
    layers, patch 32, 224 px; text 512 x 12 layers, 77 positions; projection 512),
    random-initialised, with CLIPImageProcessor (224) and a char tokenizer."""
    if os.path.isfile(os.path.join(path, MODEL_DONE)):
        return path
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    tokenizer, vocab = char_tokenizer("<|startoftext|>", "<|endoftext|>", "<pad>", 77)
    config = CLIPConfig(text_config=dict(bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
                                         pad_token_id=vocab["<pad>"]))
    assert (config.vision_config.hidden_size, config.vision_config.num_hidden_layers, config.vision_config.patch_size,
            config.vision_config.image_size, config.text_config.hidden_size, config.text_config.num_hidden_layers,
            config.projection_dim) == (768, 12, 32, 224, 512, 12, 512), "CLIPConfig defaults are not ViT-B/32"
    torch.manual_seed(0)
    os.makedirs(path, exist_ok=True)
    CLIPModel(config).eval().save_pretrained(path)
    CLIPImageProcessor(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}).save_pretrained(path)
    tokenizer.save_pretrained(path)
    open(os.path.join(path, MODEL_DONE), "w").close()
    return path


# --------------------------------------------------------------------------- rasters

def ensure_raster(size: int, compress: str = "none", folder: str = CACHE_DIR, dtype: str = "uint16") -> str:
    """A size x size 3-band uint16 (or uint8: the same scene scaled by 1/14) GeoTIFF
    (tiled 256, EPSG:32633, 0.5 m) with structure: smooth fields, a street grid,
    rectangular 'roofs', round 'tanks' and noise. Written in block-row strips so
    generation memory stays ~20 MB whatever the size."""
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    assert dtype in ("uint16", "uint8"), dtype
    path = os.path.join(folder, f"synthetic-{size}-{compress}{'' if dtype == 'uint16' else '-' + dtype}.tif")
    if os.path.isfile(path):
        return path
    os.makedirs(folder, exist_ok=True)
    tmp = path + f".{os.getpid()}.partial.tif"
    profile = dict(driver="GTiff", width=size, height=size, count=3, dtype=dtype, crs="EPSG:32633",
                   transform=from_origin(400_000.0, 5_000_000.0, 0.5, 0.5), tiled=True, blockxsize=256,
                   blockysize=256, interleave="pixel", photometric="RGB", BIGTIFF="IF_SAFER")
    if compress != "none":
        profile.update(compress=compress, predictor=2)
    rng = np.random.default_rng(42)
    x = np.arange(size, dtype=np.float32)
    fx = (np.sin(x / 97.0) * 0.6 + np.sin(x / 13.0) * 0.4).astype(np.float32)
    street_x = (x % 180) < 10
    band_gain = np.array([1.0, 0.9, 0.75], np.float32)[:, None, None]
    with rasterio.open(tmp, "w", **profile) as dst:
        for row0 in range(0, size, 256):
            h = min(256, size - row0)
            y = np.arange(row0, row0 + h, dtype=np.float32)
            fy = np.cos(y / 131.0) * 0.7 + np.cos(y / 17.0) * 0.3
            base = 1200.0 + 700.0 * fy[:, None] * fx[None, :]
            street = street_x[None, :] | ((y % 180) < 10)[:, None]
            base = np.where(street, 400.0, base)
            # roofs: a rectangle in most 60 px cells, brightness by cell
            cy, cx = (y // 60).astype(np.int64)[:, None], (x // 60).astype(np.int64)[None, :]
            inner = ((y % 60) > 12)[:, None] & ((y % 60) < 48)[:, None] & ((x % 60) > 8)[None, :] & ((x % 60) < 50)[None, :]
            roof = inner & (((cy * 7919 + cx * 104729) % 5) < 3) & ~street
            base = np.where(roof, 2200.0 + ((cy * 31 + cx * 17) % 7) * 150.0, base)
            # tanks: discs on a coarse lattice
            dy, dx = (y % 420 - 210)[:, None], (x % 420 - 210)[None, :]
            base = np.where(dy * dy + dx * dx < 40.0 ** 2, 3300.0, base)
            data = base[None] * band_gain + rng.normal(0, 60, (3, h, size)).astype(np.float32)
            if dtype == "uint8":
                data /= 14.0
            dst.write(np.clip(data, 0, np.iinfo(dtype).max).astype(dtype), window=Window(0, row0, size, h))
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- machine, memory

def peak_rss_mb() -> float:
    """Peak resident set size of this process: VmHWM, which exec resets (ru_maxrss keeps
    the parent's peak across fork and exec, so a child started by a large parent would
    report the parent's size); ru_maxrss (KiB) where /proc is missing."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


_LIBGDAL = []


def _libgdal():
    """The libgdal rasterio loaded (its bundled copy in wheels), via ctypes; None if not found."""
    import ctypes
    if _LIBGDAL:
        return _LIBGDAL[0]
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({l.split()[-1] for l in f if "libgdal" in os.path.basename(l.split()[-1])})
        lib = ctypes.CDLL(libs[0])
        lib.GDALGetCacheMax64.restype = lib.GDALGetCacheUsed64.restype = ctypes.c_int64
        _LIBGDAL.append(lib)
        return lib
    except (OSError, IndexError, AttributeError):
        return None


def gdal_cache_mb() -> dict:
    """GDAL block cache limit and use in MB (rasterio exposes neither); {} if unknown.
    Call after rasterio has opened a dataset (so libgdal is loaded)."""
    lib = _libgdal()
    if lib is None:
        return {}
    return {"max_mb": round(lib.GDALGetCacheMax64() / 2**20, 1), "used_mb": round(lib.GDALGetCacheUsed64() / 2**20, 1)}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def machine_info() -> dict:
    import numpy as np
    import rasterio
    import torch
    import transformers

    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), model)
    except OSError:
        pass
    flags = cpu_flags()
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem_gb = None
    return {
        "cpu_model": model,
        "logical_cpus": os.cpu_count(),
        "cpus_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": round(mem_gb, 1) if mem_gb else None,
        "cpu_bf16_flags": sorted(flags & {"avx512_bf16", "amx_bf16", "amx_tile", "avx512f"}),
        "avx2": "avx2" in flags,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "transformers": transformers.__version__,
        "numpy": np.__version__,
        "rasterio": rasterio.__version__,
        "gdal": rasterio.__gdal_version__,
        "gdal_cachemax_env": os.environ.get("GDAL_CACHEMAX"),
        "platform": platform.platform(),
    }


class Timer:
    def __init__(self):
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


def write_json(path: str, data: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


def add_child_arguments(parser) -> None:
    """The hidden options a benchmark uses to run one of its measurements in a child process."""
    for name in ("--child", "--spec", "--result"):
        parser.add_argument(name, help=argparse.SUPPRESS)


def run_as_child(args, children: dict) -> bool:
    """In a child process: run the requested measurement, write its JSON, return True."""
    if not args.child:
        return False
    write_json(args.result, children[args.child](json.loads(args.spec)))
    return True


def run_child(script: str, kind: str, spec: dict, env: dict | None = None) -> dict:
    """Run `script --child kind` in a fresh process (clean memory figures); its JSON result,
    or {"error": ...} if it failed."""
    fd, result_path = tempfile.mkstemp(prefix=f"child-{kind}-", suffix=".json", dir=CACHE_DIR)
    os.close(fd)
    shown = {**spec, **(env or {})}
    print(f"-> {kind} " + " ".join(f"{k}={shown[k]}" for k in ("precision", "size", "tiles", "GDAL_CACHEMAX")
                                   if k in shown), flush=True)
    t = Timer()
    try:
        rc = subprocess.run([sys.executable, os.path.abspath(script), "--child", kind, "--spec", json.dumps(spec),
                             "--result", result_path], env={**os.environ, **(env or {})}).returncode
        if rc != 0:
            return {"error": f"child '{kind}' exited with status {rc} (see the console output)"}
        with open(result_path) as f:
            return json.load(f)
    finally:
        os.remove(result_path)
        print(f"   done in {t.seconds:.1f} s", flush=True)


def spread(values_ms: list[float], digits: int = 1) -> dict:
    """Median, p90 and max of latencies in ms, and how many."""
    ordered = sorted(values_ms)
    return {"median": round(statistics.median(ordered), digits),
            "p90": round(ordered[int(0.9 * (len(ordered) - 1))], digits), "max": round(ordered[-1], digits),
            "count": len(ordered)}


def start_qgis():
    """An offscreen QGIS application with Processing and the GeoVL plugin (classFactory):
    what a user's QGIS process runs; returns (app, plugin)."""
    sys.path.append("/usr/share/qgis/python/plugins")
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    import geovl

    plugin = geovl.classFactory(None)
    plugin.initProcessing()
    return app, plugin
