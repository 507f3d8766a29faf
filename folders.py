"""Where GeoVL keeps its files. Standard library only: the QGIS side and the engine
(in the worker) both ask, and must agree."""
from __future__ import annotations

import os


def cache_root() -> str:
    """GEOVL_CACHE_DIR, else the user's cache directory (XDG on Linux)."""
    return os.environ.get("GEOVL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "geovl")
