"""The retrieval index: a GeoPackage of tile footprints with their embeddings.

Table `tiles` holds one polygon per tile (grid row/col, float16 embedding blob) and
table `geovl_meta` records what the index was built from (raster fingerprint, model,
tiling, normalisation), so a later query can tell whether it may reuse it. Indexes are
written under a temporary name and renamed when complete.
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from shapely.geometry import Polygon

from . import gpkg

TABLE = "tiles"
META_TABLE = "geovl_meta"
_COLUMNS = ["grid_row", "grid_col", "embedding"]


@dataclass(frozen=True)
class IndexedTile:
    fid: int
    row: int
    col: int
    footprint: Polygon


class TileIndexWriter:
    """Writes a new index file at `path` (use a temporary name, see files.atomic_path)."""

    def __init__(self, path: str, crs_wkt: str, epsg: int | None, meta: dict):
        self._con, self._srs_id = gpkg.create(path, crs_wkt, epsg)
        try:
            gpkg.add_feature_table(self._con, TABLE, "grid_row INTEGER, grid_col INTEGER, embedding BLOB",
                                   self._srs_id)
            gpkg.add_attribute_table(self._con, META_TABLE, "key TEXT UNIQUE NOT NULL, value TEXT")
            for key, value in meta.items():
                self.set_meta(key, value)
        except BaseException:
            self._con.close()
            raise

    def __enter__(self) -> "TileIndexWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            gpkg.finish_feature_table(self._con, TABLE)
            self._con.commit()
        self._con.close()

    def set_meta(self, key: str, value) -> None:
        self._con.execute(f"INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def add(self, footprints: list[Polygon], rows: list[int], cols: list[int], embeddings: np.ndarray) -> None:
        blobs = [e.astype(np.float16).tobytes() for e in embeddings]
        gpkg.insert_features(self._con, TABLE, _COLUMNS, self._srs_id,
                             [(f, (r, c, b)) for f, r, c, b in zip(footprints, rows, cols, blobs)])


def read_meta(path: str) -> dict | None:
    """The index's metadata, or None if `path` is not a GeoVL index."""
    if not os.path.isfile(path):
        return None
    try:
        with _connect(path) as con:
            return {k: json.loads(v) for k, v in con.execute(f"SELECT key, value FROM {META_TABLE}")}
    except (sqlite3.DatabaseError, json.JSONDecodeError):
        return None


def load_embeddings(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(fids, float32 matrix of unit rows) of all tiles; kept in memory per file version."""
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    with _connect(path) as con:
        rows = con.execute(f"SELECT fid, embedding FROM {TABLE} ORDER BY fid").fetchall()
    fids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    dim = len(rows[0][1]) // 2 if rows else 0
    matrix = np.frombuffer(b"".join(r[1] for r in rows), np.float16).reshape(len(rows), dim).astype(np.float32)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    matrix.setflags(write=False)  # shared through the cache
    with _cache_lock:
        _cache[key] = (fids, matrix)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return fids, matrix


def read_tiles(path: str, fids: list[int]) -> list[IndexedTile]:
    """The tiles with these fids, in the order given."""
    with _connect(path) as con:
        found = {fid: IndexedTile(fid, row, col, gpkg.blob_geometry(geom)) for fid, row, col, geom in con.execute(
            f"SELECT fid, grid_row, grid_col, geom FROM {TABLE} WHERE fid IN ({','.join('?' * len(fids))})", fids)}
    return [found[f] for f in fids]


def read_cells(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(grid_row, grid_col) of every tile, in fid order (matches load_embeddings)."""
    with _connect(path) as con:
        cells = np.array(con.execute(f"SELECT grid_row, grid_col FROM {TABLE} ORDER BY fid").fetchall(), np.int64)
    return cells.reshape(-1, 2)[:, 0], cells.reshape(-1, 2)[:, 1]


def _connect(path: str) -> contextlib.closing:
    """Read-only connection that closes on leaving the `with` block."""
    return contextlib.closing(sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True))


_CACHE_SIZE = 4
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()
