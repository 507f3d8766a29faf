"""The archive index: one retrieval index (a GeoPackage) over the tiles of many rasters.

It is a tile index (tile_index.py) whose table `tiles` also records each tile's source
raster (`source_id`, a row of table `geovl_sources`), so every reader of tile indexes
(embeddings, ANN, footprints) works on it. A view, `archive_tiles`, shows each tile with
its raster's path and name, for QGIS.

An archive job can take hours, so it is written batch by batch into a resume file
beside the index, each batch committed: a run killed half-way leaves every committed
batch, and the next run with the same key goes on from there. A unique key on (source,
row, col) means no tile is ever in the index twice. When complete the resume file is
renamed to the index.
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from typing import Callable

import numpy as np
from shapely.geometry import Polygon

from . import gpkg
from .tile_index import META_TABLE, TABLE, connect_read_only, set_meta

SOURCES_TABLE = "geovl_sources"
VIEW = "archive_tiles"
_COLUMNS = ["source_id", "grid_row", "grid_col", "embedding"]


def resume_path(index_path: str) -> str:
    """Where the archive index at `index_path` is written until it is complete (hidden,
    and not a temp name that a sweep of leftovers would remove)."""
    folder, name = os.path.split(os.path.abspath(index_path))
    return os.path.join(folder, f".{name}.resume")


def open_resume_file(path: str, crs_wkt: str, epsg: int | None, meta: dict, table: str,
                     create: Callable[[sqlite3.Connection, int], None]) -> tuple[sqlite3.Connection, int]:
    """(connection, srs_id) of the resume file at `path`: opened as it is when it is there,
    else created with the tables `create(connection, srs_id)` adds and `meta`. `table` is
    one of its feature tables (its SRS is the file's)."""
    if os.path.exists(path):
        con = sqlite3.connect(path)
        return con, con.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?",
                                (table,)).fetchone()[0]
    con, srs_id = gpkg.create(path, crs_wkt, epsg)
    try:
        create(con, srs_id)
        gpkg.add_attribute_table(con, META_TABLE, "key TEXT UNIQUE NOT NULL, value TEXT")
        for key, value in meta.items():
            set_meta(con, key, value)
        con.commit()
    except BaseException:
        con.close()
        raise
    return con, srs_id


class ArchiveIndexWriter:
    """Writes the archive index at `path` (a resume file), created with `meta` and the
    `sources` (dicts of path, name, fingerprint) or, when it holds the same meta key,
    opened to go on. `done()` says which tiles it holds."""

    def __init__(self, path: str, crs_wkt: str, epsg: int | None, meta: dict, sources: list[dict]):
        def create(con: sqlite3.Connection, srs_id: int) -> None:
            gpkg.add_feature_table(con, TABLE, "source_id INTEGER NOT NULL, grid_row INTEGER, grid_col INTEGER, "
                                   "embedding BLOB", srs_id)
            con.execute(f'CREATE UNIQUE INDEX "{TABLE}_cell" ON "{TABLE}" (source_id, grid_row, grid_col)')
            gpkg.add_attribute_table(con, SOURCES_TABLE, "path TEXT NOT NULL, name TEXT, fingerprint TEXT")
            con.executemany(f'INSERT INTO "{SOURCES_TABLE}" (fid, path, name, fingerprint) VALUES (?, ?, ?, ?)',
                            [(i, s["path"], s["name"], s["fingerprint"]) for i, s in enumerate(sources)])

        self._con, self._srs_id = open_resume_file(path, crs_wkt, epsg, meta, TABLE, create)

    def __enter__(self) -> "ArchiveIndexWriter":
        return self

    def __exit__(self, *exc) -> None:
        self._con.close()

    def done(self) -> set[tuple[int, int, int]]:
        """(source_id, row, col) of every tile committed so far."""
        return set(self._con.execute(f'SELECT source_id, grid_row, grid_col FROM "{TABLE}"'))

    def add(self, footprints: list[Polygon], sources: np.ndarray, rows: np.ndarray, cols: np.ndarray,
            embeddings: np.ndarray) -> None:
        """Write one batch of tiles and commit it."""
        blobs = [e.astype(np.float16).tobytes() for e in embeddings]
        gpkg.insert_features(self._con, TABLE, _COLUMNS, self._srs_id,
                             [(f, (int(s), int(r), int(c), b)) for f, s, r, c, b in
                              zip(footprints, sources, rows, cols, blobs)])
        self._con.commit()

    def finish(self, extra_meta: dict) -> int:
        """Record the tile count and embedding size (what makes the index whole, see
        tile_index.check_index), `extra_meta`, the R-tree triggers and the view; returns
        the tile count. Again on a finished file (killed before its rename) it changes nothing."""
        count, length = self._con.execute(f'SELECT count(*), max(length(embedding)) FROM "{TABLE}"').fetchone()
        for key, value in {**extra_meta, "tile_count": count, "embedding_dim": (length or 0) // 2}.items():
            set_meta(self._con, key, value)
        gpkg.finish_feature_table(self._con, TABLE)
        self._add_view()
        self._con.commit()
        return count

    def _add_view(self) -> None:
        self._con.execute(f'CREATE VIEW IF NOT EXISTS "{VIEW}" AS SELECT t.fid AS fid, t.geom AS geom, s.path AS raster, '
                          f's.name AS name, t.grid_row AS grid_row, t.grid_col AS grid_col '
                          f'FROM "{TABLE}" t JOIN "{SOURCES_TABLE}" s ON s.fid = t.source_id')
        self._con.execute("INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                          "VALUES (?, 'features', ?, ?)", (VIEW, VIEW, self._srs_id))
        self._con.execute("INSERT OR REPLACE INTO gpkg_geometry_columns VALUES (?, 'geom', 'POLYGON', ?, 0, 0)",
                          (VIEW, self._srs_id))


def read_meta(path: str) -> dict:
    """The metadata of the (possibly unfinished) archive index at `path`; {} if it is not
    readable as one (a damaged resume file is started again, never trusted)."""
    try:
        with connect_read_only(path) as con:
            return {k: json.loads(v) for k, v in con.execute(f"SELECT key, value FROM {META_TABLE}")}
    except (sqlite3.DatabaseError, ValueError, TypeError):
        return {}


def read_sources(path: str, fids: list[int]) -> list[tuple[str, str]]:
    """(raster path, name) of the source of each tile with these fids, in the order given."""
    with connect_read_only(path) as con:
        found = dict((fid, (p, n)) for fid, p, n in con.execute(
            f'SELECT t.fid, s.path, s.name FROM "{TABLE}" t JOIN "{SOURCES_TABLE}" s ON s.fid = t.source_id '
            f'WHERE t.fid IN ({",".join("?" * len(fids))})', fids))
    return [found[f] for f in fids]


def is_archive(path: str) -> bool:
    """Whether the GeoVL index at `path` is an archive index (has the sources table)."""
    with contextlib.suppress(sqlite3.DatabaseError), connect_read_only(path) as con:
        return con.execute("SELECT count(*) FROM sqlite_master WHERE name = ?", (SOURCES_TABLE,)).fetchone()[0] > 0
    return False
