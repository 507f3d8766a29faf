"""Where caches live and how their entries are named."""
from __future__ import annotations

import hashlib
import json
import os


def cache_root() -> str:
    """GEOVL_CACHE_DIR, else the user's cache directory (XDG on Linux)."""
    root = os.environ.get("GEOVL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "geovl")
    return root


def cache_key(settings: dict) -> str:
    """A stable name for everything that determines a cache entry's content."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:24]
