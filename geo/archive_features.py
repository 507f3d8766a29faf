"""What segmentation finds over an archive, written raster by raster.

One GeoPackage with table `regions` (polygons: class, score, area, prompt) and table
`centerlines` (lines), every feature with its source raster. Until complete it is the
resume file beside the output (archive_index.resume_path), and each raster's features
go in as one commit together with its row in `geovl_done`: a run killed half-way leaves
the rasters it finished, and the next run with the same key does the others.
"""
from __future__ import annotations

import sqlite3

from shapely.geometry import LineString, Polygon

from . import gpkg
from .archive_index import open_resume_file

REGIONS, CENTERLINES, DONE = "regions", "centerlines", "geovl_done"
_REGION_COLUMNS = ["source_id", "raster", "name", "class", "score", "area_m2", "prompt_id"]
_LINE_COLUMNS = ["source_id", "raster", "name", "class", "length"]


class ArchiveFeaturesWriter:
    """Writes the features of an archive at `path` (a resume file): created with `meta`,
    or opened to go on when it is there (the caller removes one of another key)."""

    def __init__(self, path: str, crs_wkt: str, epsg: int | None, meta: dict):
        def create(con: sqlite3.Connection, srs_id: int) -> None:
            gpkg.add_feature_table(con, REGIONS, 'source_id INTEGER, raster TEXT, name TEXT, "class" TEXT, '
                                   'score REAL, area_m2 REAL, prompt_id INTEGER', srs_id)
            gpkg.add_feature_table(con, CENTERLINES, 'source_id INTEGER, raster TEXT, name TEXT, "class" TEXT, '
                                   'length REAL', srs_id, "LINESTRING")
            gpkg.add_attribute_table(con, DONE, "source_id INTEGER UNIQUE NOT NULL")

        self._con, self._srs_id = open_resume_file(path, crs_wkt, epsg, meta, REGIONS, create)

    def __enter__(self) -> "ArchiveFeaturesWriter":
        return self

    def __exit__(self, *exc) -> None:
        self._con.close()

    def done(self) -> set[int]:
        """The source ids of the rasters finished so far."""
        return {source_id for (source_id,) in self._con.execute(f'SELECT source_id FROM "{DONE}"')}

    def add_raster(self, source_id: int, raster: str, name: str,
                   regions: list[tuple[Polygon, str, float, float, int | None]],
                   lines: list[tuple[LineString, str, float]]) -> None:
        """One raster's regions (polygon, class, score, area in m², prompt id) and centre
        lines (line, class, length in the raster's units), committed with the raster's end."""
        gpkg.insert_features(self._con, REGIONS, _REGION_COLUMNS, self._srs_id,
                             [(polygon, (source_id, raster, name, *values)) for polygon, *values in regions])
        gpkg.insert_features(self._con, CENTERLINES, _LINE_COLUMNS, self._srs_id,
                             [(line, (source_id, raster, name, *values)) for line, *values in lines])
        self._con.execute(f'INSERT INTO "{DONE}" (source_id) VALUES (?)', (source_id,))
        self._con.commit()

    def finish(self) -> tuple[int, int]:
        """The spatial indexes' triggers and extents; returns (regions, centre lines)."""
        for table in (REGIONS, CENTERLINES):
            gpkg.finish_feature_table(self._con, table)
        self._con.commit()
        return tuple(self._con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                     for table in (REGIONS, CENTERLINES))
