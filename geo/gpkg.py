"""A minimal GeoPackage (OGC 12-128r18) writer and reader on sqlite3.

Enough for one polygon table plus attribute tables, readable by QGIS/GDAL, without
pulling GDAL's Python bindings into the engine.
"""
from __future__ import annotations

import contextlib
import sqlite3
import struct
from dataclasses import dataclass

from shapely import wkb
from shapely.geometry.base import BaseGeometry

from .files import atomic_path

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300         # GeoPackage 1.3
CUSTOM_SRS_ID = 100000       # srs_id for a CRS without an EPSG code

_CORE_TABLES = """
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  PRIMARY KEY (table_name, column_name),
  FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL, UNIQUE (table_name, column_name, extension_name));
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', NULL),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', NULL);
"""

_WGS84_WKT = ('GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
              'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]')


def create(path: str, crs_wkt: str | None, epsg: int | None) -> tuple[sqlite3.Connection, int]:
    """A new, empty GeoPackage with the CRS registered; returns (connection, srs_id).
    With no CRS (crs_wkt None) tables use the spec's undefined cartesian SRS, -1."""
    con = sqlite3.connect(path)
    try:
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {USER_VERSION}")
        con.executescript(_CORE_TABLES)
        con.execute("INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84', 4326, 'EPSG', 4326, ?, NULL)", (_WGS84_WKT,))
        if crs_wkt is None:
            return con, -1
        srs_id = epsg if epsg else CUSTOM_SRS_ID
        if srs_id != 4326:
            org, code = ("EPSG", epsg) if epsg else ("NONE", CUSTOM_SRS_ID)
            con.execute("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, NULL)",
                        (f"{org}:{code}", srs_id, org, code, crs_wkt))
    except BaseException:  # a full disk, say: close, so the caller can remove the file
        con.close()
        raise
    return con, srs_id


def add_feature_table(con: sqlite3.Connection, table: str, columns: str, srs_id: int,
                      geometry_type: str = "POLYGON") -> None:
    """Create a feature table `table` (fid, geom, then `columns` SQL) with an R-tree index."""
    con.execute(f'CREATE TABLE "{table}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom {geometry_type}, {columns})')
    con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES (?, 'features', ?, ?)",
                (table, table, srs_id))
    con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)", (table, geometry_type, srs_id))
    con.execute(f'CREATE VIRTUAL TABLE "rtree_{table}_geom" USING rtree(id, minx, maxx, miny, maxy)')
    con.execute("INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', "
                "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')", (table,))


# The GeoPackage R-tree extension's triggers (spec annex F.3, simplified to the cases of
# non-empty geometries), so edits made later in QGIS keep the spatial index right.
_RTREE_TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS "rtree_{t}_geom_insert" AFTER INSERT ON "{t}"
WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN INSERT OR REPLACE INTO "rtree_{t}_geom" VALUES
  (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER IF NOT EXISTS "rtree_{t}_geom_update1" AFTER UPDATE OF geom ON "{t}"
WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN INSERT OR REPLACE INTO "rtree_{t}_geom" VALUES
  (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER IF NOT EXISTS "rtree_{t}_geom_update2" AFTER UPDATE OF geom ON "{t}"
WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id = OLD.fid; END;
CREATE TRIGGER IF NOT EXISTS "rtree_{t}_geom_update3" AFTER UPDATE ON "{t}"
WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id = OLD.fid; INSERT OR REPLACE INTO "rtree_{t}_geom" VALUES
  (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER IF NOT EXISTS "rtree_{t}_geom_update4" AFTER UPDATE ON "{t}"
WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id IN (OLD.fid, NEW.fid); END;
CREATE TRIGGER IF NOT EXISTS "rtree_{t}_geom_delete" AFTER DELETE ON "{t}"
WHEN old.geom NOT NULL
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id = OLD.fid; END;
"""


def add_attribute_table(con: sqlite3.Connection, table: str, columns: str) -> None:
    """Create a non-spatial table (integer fid first, as the spec asks) registered so QGIS lists it."""
    con.execute(f'CREATE TABLE "{table}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, {columns})')
    con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES (?, 'attributes', ?)",
                (table, table))


def insert_features(con: sqlite3.Connection, table: str, columns: list[str], srs_id: int,
                    rows: list[tuple[BaseGeometry, tuple]]) -> None:
    """Insert (geometry, values) rows and their R-tree entries.

    The R-tree is filled here: its triggers call ST_* functions that only GDAL and QGIS
    register, so they are added by finish_feature_table once writing is done."""
    names = ", ".join(["geom", *columns])
    marks = ", ".join("?" * (len(columns) + 1))
    for geometry, values in rows:
        cur = con.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                          (geometry_blob(geometry, srs_id), *values))
        xmin, ymin, xmax, ymax = geometry.bounds
        con.execute(f'INSERT INTO "rtree_{table}_geom" VALUES (?, ?, ?, ?, ?)', (cur.lastrowid, xmin, xmax, ymin, ymax))


def finish_feature_table(con: sqlite3.Connection, table: str) -> None:
    """Record the table's extent and add the R-tree triggers (for later edits in QGIS)."""
    con.executescript(_RTREE_TRIGGERS.replace("{t}", table))
    con.execute(f'UPDATE gpkg_contents SET (min_x, max_x, min_y, max_y) = '
                f'(SELECT min(minx), max(maxx), min(miny), max(maxy) FROM "rtree_{table}_geom") '
                f'WHERE table_name = ?', (table,))


@dataclass
class FeatureTable:
    geometry_type: str                   # POLYGON, LINESTRING, ...
    columns: list[tuple[str, str]]       # (name, SQL type: INTEGER, REAL or TEXT)
    rows: list[tuple[BaseGeometry, tuple]]


def write_feature_tables(path: str, tables: dict[str, FeatureTable], crs_wkt: str | None = None,
                         epsg: int | None = None) -> None:
    """One GeoPackage with `tables`, written under a temp name and renamed. Without a CRS:
    how results cross from the worker to QGIS, which knows their CRS."""
    with atomic_path(path) as tmp:
        con, srs_id = create(tmp, crs_wkt, epsg)
        with contextlib.closing(con):
            for name, table in tables.items():
                add_feature_table(con, name, ", ".join(f'"{c}" {kind}' for c, kind in table.columns), srs_id,
                                  table.geometry_type)
                insert_features(con, name, [c for c, _ in table.columns], srs_id, table.rows)
                finish_feature_table(con, name)
            con.commit()


def geometry_blob(geometry: BaseGeometry, srs_id: int) -> bytes:
    """GeoPackage binary: header (little-endian, xy envelope) + WKB."""
    xmin, ymin, xmax, ymax = geometry.bounds
    header = b"GP" + bytes([0, 0b0000_0011]) + struct.pack("<i4d", srs_id, xmin, xmax, ymin, ymax)
    return header + wkb_2d(geometry)


def wkb_2d(geometry: BaseGeometry) -> bytes:
    """XY WKB. The output dimension is explicit because inside QGIS shapely may run on
    QGIS's older GEOS, which rejects shapely's default of 4."""
    return wkb.dumps(geometry, output_dimension=2)


def blob_geometry(blob: bytes) -> BaseGeometry:
    """Inverse of geometry_blob for any envelope type."""
    flags = blob[3]
    envelope_doubles = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}[(flags >> 1) & 0b111]
    return wkb.loads(blob[8 + 8 * envelope_doubles:])
