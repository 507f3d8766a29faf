"""How cache entries are named (where caches live: folders.cache_root)."""
from __future__ import annotations

import hashlib
import json


def cache_key(settings: dict) -> str:
    """A stable name for everything that determines a cache entry's content."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:24]
