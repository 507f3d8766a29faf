"""The retrieval index: a GeoPackage of tile footprints with their embeddings.

Table `tiles` holds one polygon per tile (grid row/col, float16 embedding blob) and
table `geovl_meta` records what the index was built from (raster fingerprint, model,
tiling, normalisation, number of tiles, embedding size), so a later query can tell
whether it may reuse it and whether it is whole. Indexes are written under a temporary
name and renamed when complete.
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
from typing import Iterator

import numpy as np
from shapely.geometry import Polygon

from ..errors import InputError
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
    """Writes a new index file at `path` (use a temporary name, see files.atomic_path).
    The metadata gets the number of tiles and the embedding size when the block ends,
    so a later run can tell a complete index from a damaged one (check_index)."""

    def __init__(self, path: str, crs_wkt: str, epsg: int | None, meta: dict):
        self._con, self._srs_id = gpkg.create(path, crs_wkt, epsg)
        self._count, self._dim = 0, 0
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
        try:
            if exc_type is None:
                self.set_meta("tile_count", self._count)
                self.set_meta("embedding_dim", self._dim)
                gpkg.finish_feature_table(self._con, TABLE)
                self._con.commit()
        finally:
            self._con.close()

    def set_meta(self, key: str, value) -> None:
        set_meta(self._con, key, value)

    def add(self, footprints: list[Polygon], rows: list[int], cols: list[int], embeddings: np.ndarray) -> None:
        if len(embeddings) and self._dim and embeddings.shape[1] != self._dim:
            raise ValueError(f"Embeddings of {embeddings.shape[1]} values in an index of {self._dim}.")
        self._dim = self._dim or (embeddings.shape[1] if len(embeddings) else 0)
        blobs = [e.astype(np.float16).tobytes() for e in embeddings]
        gpkg.insert_features(self._con, TABLE, _COLUMNS, self._srs_id,
                             [(f, (r, c, b)) for f, r, c, b in zip(footprints, rows, cols, blobs)])
        self._count += len(blobs)


def set_meta(con: sqlite3.Connection, key: str, value) -> None:
    """Record `value` (as JSON) under `key` in an index's metadata table."""
    con.execute(f"INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?, ?)", (key, json.dumps(value)))


@dataclass(frozen=True)
class IndexCheck:
    """What lies at an index path. `geovl`: it is a GeoVL index (maybe damaged); `meta`:
    its metadata where readable; `problem`: why it cannot be used as it is ('' if sound)."""
    exists: bool
    geovl: bool
    meta: dict
    problem: str = ""


def check_index(path: str) -> IndexCheck:
    """Look at `path` without changing it: not there, not a GeoVL index, a damaged one
    (tables missing, rows or embedding sizes other than the metadata records), or sound.
    A file another program holds a write lock on raises InputError."""
    if not os.path.isfile(path):
        return IndexCheck(os.path.exists(path), False, {}, "it is a folder" if os.path.exists(path) else "")
    geovl, meta = False, {}
    try:
        with connect_read_only(path) as con:
            tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            # a GeoVL index registers its metadata table; a dropped table leaves the entry
            geovl = META_TABLE in tables or ("gpkg_contents" in tables and con.execute(
                "SELECT count(*) FROM gpkg_contents WHERE table_name = ?", (META_TABLE,)).fetchone()[0] > 0)
            if not geovl or META_TABLE not in tables:
                return IndexCheck(True, geovl, {}, "its metadata table is missing" if geovl else "")
            meta = {k: json.loads(v) for k, v in con.execute(f"SELECT key, value FROM {META_TABLE}")}
            return IndexCheck(True, True, meta, _damage(con, tables, meta))
    except (sqlite3.DatabaseError, ValueError, TypeError) as exc:  # ValueError: bad JSON
        if "locked" in str(exc):
            raise InputError(f"The index '{path}' is in use: another program holds a write lock on it (another "
                             "GeoVL run, or QGIS or a tool editing it). Wait until it is done or close it there, "
                             "or choose another index file name.") from exc
        return IndexCheck(True, geovl or _names_geovl_meta(path), meta, f"it cannot be read: {exc}")


def _names_geovl_meta(path: str) -> bool:
    """Whether an unreadable file is a damaged GeoVL index: SQLite's header, and the
    name of GeoVL's metadata table in the schema's text (in the first pages)."""
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    return head.startswith(b"SQLite format 3\x00") and META_TABLE.encode() in head


def _damage(con: sqlite3.Connection, tables: set[str], meta: dict) -> str:
    """What is wrong with a GeoVL index whose metadata could be read ('' if nothing)."""
    missing = [k for k in ("key", "tile_count", "embedding_dim") if k not in meta]
    if missing:
        return f"its metadata lacks {', '.join(missing)}"
    if TABLE not in tables:
        return "its table of tiles is missing"
    count, wrong = con.execute(f"SELECT count(*), total(embedding IS NULL OR length(embedding) != ?) FROM {TABLE}",
                               (2 * meta["embedding_dim"],)).fetchone()
    if count != meta["tile_count"]:
        return f"it holds {count} tiles where {meta['tile_count']} were written"
    if wrong:
        return f"{int(wrong)} of its {count} embeddings are not {meta['embedding_dim']} float16 values"
    return ""


def read_meta(path: str) -> dict | None:
    """The index's metadata, or None if `path` holds no readable GeoVL metadata."""
    return check_index(path).meta or None


def load_embeddings(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(fids, float32 matrix of unit rows) of all tiles; kept in memory per file version."""
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    with connect_read_only(path) as con:
        rows = con.execute(f"SELECT fid, embedding FROM {TABLE} ORDER BY fid").fetchall()
    fids, matrix = _unit_rows(rows)
    matrix.setflags(write=False)  # shared through the cache
    with _cache_lock:
        _cache[key] = (fids, matrix)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return fids, matrix


def embedding_batches(path: str, rows: int = 100_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(fids, float32 unit rows) of all tiles in fid order, `rows` at a time: for work
    over an index too large to hold as one float matrix."""
    with connect_read_only(path) as con:
        cursor = con.execute(f"SELECT fid, embedding FROM {TABLE} ORDER BY fid")
        while batch := cursor.fetchmany(rows):
            yield _unit_rows(batch)


def read_embeddings(path: str, fids: list[int]) -> np.ndarray:
    """The float32 unit embeddings of the tiles with these fids, in the order given."""
    with connect_read_only(path) as con:
        found = dict(con.execute(f"SELECT fid, embedding FROM {TABLE} WHERE fid IN ({','.join('?' * len(fids))})",
                                 fids).fetchall())
    return _unit_rows([(fid, found[fid]) for fid in fids])[1]


def _unit_rows(rows: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    """(fids, float32 matrix of unit rows) of (fid, float16 blob) rows."""
    fids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    dim = len(rows[0][1]) // 2 if rows else 0
    matrix = np.frombuffer(b"".join(r[1] for r in rows), np.float16).reshape(len(rows), dim).astype(np.float32)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return fids, matrix


def read_tiles(path: str, fids: list[int]) -> list[IndexedTile]:
    """The tiles with these fids, in the order given."""
    with connect_read_only(path) as con:
        found = {fid: IndexedTile(fid, row, col, gpkg.blob_geometry(geom)) for fid, row, col, geom in con.execute(
            f"SELECT fid, grid_row, grid_col, geom FROM {TABLE} WHERE fid IN ({','.join('?' * len(fids))})", fids)}
    return [found[f] for f in fids]


def read_cells(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(grid_row, grid_col) of every tile, in fid order (matches load_embeddings)."""
    with connect_read_only(path) as con:
        cells = np.array(con.execute(f"SELECT grid_row, grid_col FROM {TABLE} ORDER BY fid").fetchall(), np.int64)
    return cells.reshape(-1, 2)[:, 0], cells.reshape(-1, 2)[:, 1]


def connect_read_only(path: str) -> contextlib.closing:
    """Read-only connection that closes on leaving the `with` block."""
    return contextlib.closing(sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True))


_CACHE_SIZE = 4
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()
