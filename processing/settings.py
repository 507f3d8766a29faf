"""GeoVL's user settings (QgsSettings keys under geovl/) and their getters: the cache
folder, the default device and precision, and the default model of each job. The
settings page of Settings › Options › GeoVL writes them; the algorithms read them."""
from __future__ import annotations

import os

from qgis.core import QgsSettings

from ..folders import cache_root

CACHE_DIR_KEY = "geovl/cache_dir"
DEVICE_KEY = "geovl/device"
PRECISION_KEY = "geovl/precision"
MODEL_KEY = "geovl/models/{}"  # .format(job)

DEVICES = ["auto", "cpu", "cuda", "mps"]
PRECISIONS = ["auto", "fp32", "bf16", "fp16"]
# The kinds of cache under the cache folder, by subfolder (the engine names them:
# pipelines/retrieve.py, pipelines/embedding_cache.py, processing/render.py's callers).
CACHE_KINDS = ("retrieval", "segment", "rendered")


def cache_folder() -> str:
    """GEOVL_CACHE_DIR when set (tests and scripts rely on it), else the setting
    geovl/cache_dir, else folders.cache_root()'s default under the user's cache folder."""
    return os.environ.get("GEOVL_CACHE_DIR") or str(QgsSettings().value(CACHE_DIR_KEY, "") or "") or cache_root()


def default_device() -> str:
    """The device a new run starts with (one of DEVICES; "auto" when unset or unknown)."""
    return _choice(DEVICE_KEY, DEVICES)


def default_precision() -> str:
    """The precision a new run starts with (one of PRECISIONS; "auto" when unset or unknown)."""
    return _choice(PRECISION_KEY, PRECISIONS)


def default_model(job: str, fallback: str) -> str:
    """The model a new run of `job` (retrieve, segment, ask or change: the settings page
    offers these) starts with: the user's choice, else `fallback`. A job's secondary model
    takes the default of the job that model serves (ask's retrieval model: "retrieve")."""
    return str(QgsSettings().value(MODEL_KEY.format(job), "") or "").strip() or fallback


def _choice(key: str, choices: list[str]) -> str:
    value = str(QgsSettings().value(key, "") or "")
    return value if value in choices else choices[0]
