"""Segmentation over an archive: one job's prompts and text concepts on every raster of a
folder, list, VRT or STAC ItemCollection, and one GeoPackage of what was found, every
feature with its source raster.

Each raster is segmented as geovl:segment segments one raster (pipelines/segment.py),
with the prompts that fall on it, on Ray (one raster per task; pipelines/archive_ray) or
in this process. What each raster gives is committed as one (geo/archive_features), so a
run killed half-way goes on with the rasters not yet done. Features are in the rasters'
CRS when they share one, else in WGS 84.
"""
from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np
from rasterio.crs import CRS
from rasterio.warp import transform as transform_coords
from rasterio.warp import transform_geom
from shapely import wkb
from shapely.geometry import LineString, Point, box, mapping, shape
from shapely.geometry.base import BaseGeometry

from ..errors import InputError
from ..folders import cache_root
from ..geo import archive_index
from ..geo.archive_features import ArchiveFeaturesWriter
from ..geo.archive_inputs import ArchiveRaster, list_rasters
from ..geo.raster import RasterSource
from ..models.resolver import model_identity
from .archive import IN_PROCESS, index_crs, raster_fingerprint
from .cache import cache_key
from .feedback import Feedback, QuietFeedback, check_cancelled
from .options import ModelOptions, TilingOptions
from .segment import MapPrompt, segment

SEGMENT_ARCHIVE_VERSION = 1


@dataclass(frozen=True)
class SegmentJob:
    """What every raster of the archive gets: segment()'s options, and the prompts in
    `prompts_crs` (each raster gets those that fall on it, in its own CRS)."""
    model: ModelOptions
    prompts: tuple[MapPrompt, ...] = ()
    prompts_crs: str = "EPSG:4326"
    texts: tuple[str, ...] = ()
    tiling: TilingOptions = TilingOptions()
    model_type: str = "auto"
    refine: bool = True
    min_area_m2: float = 0.0
    min_area_pixels: int = 0       # or, if larger, this many pixels of each raster
    simplify: float = 0.0
    centerlines: bool = False
    road_class: str = "road"


@dataclass
class ArchiveSegmentResult:
    output_path: str
    crs_wkt: str
    raster_count: int
    rasters_segmented: int     # by this run
    rasters_resumed: int       # found done in the resume file of an earlier run
    region_count: int
    centerline_count: int


def segment_archive(source: str, job: SegmentJob, output_path: str | None = None, asset: str = "",
                    cluster: str = "", workers: int = 0, feedback: Feedback | None = None) -> ArchiveSegmentResult:
    """Segment every raster of `source` with `job`, into the GeoPackage `output_path`
    (default: named by the job in the GeoVL cache, so a run that stops goes on there).
    `cluster` and `workers` as for archive.index_archive."""
    feedback = feedback or QuietFeedback()
    if not job.prompts and not job.texts:
        raise InputError("Give prompts (points, boxes or lines) or text concepts: there is nothing to segment.")
    if job.tiling.extent:
        raise InputError("An archive is segmented whole: an extent does not apply. Clip the rasters, or list only "
                         "those you want.")
    rasters = list_rasters(source, asset)
    crss = []
    for raster in rasters:
        with RasterSource(raster.path) as opened:
            crss.append(opened.dataset.crs)
    crs = index_crs(crss)
    settings = {"version": SEGMENT_ARCHIVE_VERSION, "kind": "segment-archive", "job": _job_settings(job),
                "rasters": [raster_fingerprint(r.path) for r in rasters]}
    meta = {"key": cache_key(settings), **settings, "crs_wkt": crs.to_wkt(), "source": source}
    output_path = os.path.abspath(output_path or os.path.join(cache_root(), "archives", f"segments-{meta['key']}.gpkg"))
    if output_path in {r.path for r in rasters}:
        raise InputError(f"The output {output_path} is one of the archive's rasters: choose another file name.")
    os.makedirs(os.path.dirname(output_path), exist_ok=True)
    partial = archive_index.resume_path(output_path)
    if os.path.exists(partial) and archive_index.read_meta(partial).get("key") != meta["key"]:
        feedback.info(f"Starting {output_path} afresh: the unfinished output beside it was made from other rasters "
                      "or another job.")
        os.remove(partial)
    with ArchiveFeaturesWriter(partial, crs.to_wkt(), crs.to_epsg(), meta) as writer:
        done = writer.done()
        pending = [i for i in range(len(rasters)) if i not in done]
        feedback.info(f"Segmenting {len(pending)} of {len(rasters)} rasters"
                      f"{f' ({len(done)} done by an earlier run)' if done else ''} into {output_path}.")
        paths = [r.path for r in rasters]
        tasks = {"source": np.asarray(pending, np.int64)}
        if cluster == IN_PROCESS:
            segmenter = RasterSegmenter(job, paths)
            batches = (segmenter({"source": tasks["source"][i:i + 1]}) for i in range(len(pending)))
        else:
            from .archive_ray import map_on_ray
            batches = map_on_ray(tasks, RasterSegmenter, {"job": job, "rasters": paths}, 1, cluster, workers,
                                 job.model.name, feedback)
        rows: dict[int, list[dict]] = defaultdict(list)
        finished = 0
        try:
            for batch in batches:
                for row in _rows(batch):
                    if row["kind"] != "done":
                        rows[row["source"]].append(row)
                        continue
                    source_id = row["source"]
                    _write_raster(writer, source_id, rasters[source_id], crss[source_id], crs,
                                  rows.pop(source_id, []))
                    finished += 1
                    feedback.progress(100.0 * (len(done) + finished) / len(rasters))
                check_cancelled(feedback)
        finally:
            batches.close()
        regions, lines = writer.finish()
    os.replace(partial, output_path)
    return ArchiveSegmentResult(output_path, crs.to_wkt(), len(rasters), finished, len(done), regions, lines)


def _job_settings(job: SegmentJob) -> dict:
    """What of the job decides its results (the key of its resume file)."""
    return {"model": model_identity(job.model.name), "device": job.model.device, "precision": job.model.precision,
            "prompts": [[p.kind, p.coords, p.label, p.class_name, p.prompt_id] for p in job.prompts],
            "prompts_crs": job.prompts_crs, "texts": list(job.texts), "tiling": [
                job.tiling.tile_size, job.tiling.overlap, job.tiling.resolution, job.tiling.bands],
            "options": [job.model_type, job.refine, job.min_area_m2, job.min_area_pixels, job.simplify, job.centerlines,
                        job.road_class]}


def _rows(batch: dict[str, np.ndarray]) -> list[dict]:
    return [dict(zip(batch, values)) for values in zip(*batch.values())]


def _write_raster(writer: ArchiveFeaturesWriter, source_id: int, raster: ArchiveRaster, raster_crs: CRS, crs: CRS,
                  rows: list[dict]) -> None:
    """One raster's features, in the output's CRS."""
    def outward(geometry: BaseGeometry) -> BaseGeometry:
        return geometry if raster_crs == crs else shape(transform_geom(raster_crs, crs, mapping(geometry)))

    regions = [(outward(wkb.loads(r["wkb"])), r["class"], float(r["score"]), float(r["area_m2"]),
                None if r["prompt_id"] < 0 else int(r["prompt_id"])) for r in rows if r["kind"] == "region"]
    lines = [(outward(wkb.loads(r["wkb"])), r["class"], float(r["length"])) for r in rows if r["kind"] == "line"]
    writer.add_raster(int(source_id), raster.path, raster.name, regions, lines)


class RasterSegmenter:
    """Segments whole rasters of the archive, one per call: what each Ray worker runs
    (the segmenter model stays loaded in it between rasters). Answers one row per region
    and centre line, then a `done` row for the raster."""

    def __init__(self, job: SegmentJob, rasters: list[str]):
        self._job, self._rasters = job, rasters

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows: dict[str, list] = {k: [] for k in ("source", "kind", "wkb", "class", "score", "area_m2", "prompt_id",
                                                 "length")}

        def add(source_id, kind, geometry=None, class_name="", score=0.0, area=0.0, prompt_id=-1, length=0.0):
            for key, value in zip(rows, (source_id, kind, geometry.wkb if geometry is not None else b"", class_name,
                                         score, area, prompt_id, length)):
                rows[key].append(value)

        for source_id in batch["source"]:
            result = self.segment(int(source_id))
            for region in result.regions if result else []:
                add(int(source_id), "region", region.polygon, region.class_name, region.score, region.area_m2,
                    -1 if region.prompt_id is None else region.prompt_id)
            for line in result.centerlines if result else []:
                add(int(source_id), "line", line.line, line.class_name, length=line.line.length)
            add(int(source_id), "done")
        return {key: np.asarray(values, object if key in ("kind", "wkb", "class") else None)
                for key, values in rows.items()}

    def segment(self, source_id: int):
        """The raster's SegmentResult; None when none of the prompts falls on it and the
        job has no text concepts."""
        job, path = self._job, self._rasters[source_id]
        prompts = prompts_on(path, job.prompts, job.prompts_crs)
        if not prompts and not job.texts:
            return None
        min_area = job.min_area_m2
        if job.min_area_pixels:
            with RasterSource(path) as source:
                resolution = job.tiling.resolution or source.metres_per_pixel()
            min_area = max(min_area, job.min_area_pixels * resolution ** 2)
        return segment(path, job.model, prompts=prompts, texts=job.texts, tiling=job.tiling, model_type=job.model_type,
                       refine=job.refine, min_area_m2=min_area, simplify=job.simplify,
                       centerlines=job.centerlines, road_class=job.road_class)


def prompts_on(path: str, prompts: tuple[MapPrompt, ...], prompts_crs: str) -> list[MapPrompt]:
    """The prompts that fall on the raster at `path`, in its CRS."""
    if not prompts:
        return []
    with RasterSource(path) as source:
        crs, bounds = source.dataset.crs, box(*source.dataset.bounds)
    given_crs, found = CRS.from_user_input(prompts_crs), []
    for prompt in prompts:
        xs, ys = transform_coords(given_crs, crs, *zip(*prompt.coords))
        coords = tuple(zip(xs, ys))
        geometry = {"point": lambda: Point(coords[0]), "line": lambda: LineString(coords),
                    "box": lambda: box(*coords[0], *coords[1])}[prompt.kind]()
        if geometry.intersects(bounds):
            found.append(replace(prompt, coords=coords))
    return found


def read_prompts(path: str) -> tuple[list[MapPrompt], str]:
    """The prompts of a GeoJSON file and their CRS: points, lines (vertices) and polygons
    (their bounding boxes), with properties `label` (1 object, 0 background; default 1)
    and `class`. The CRS is WGS 84 (RFC 7946), or the file's legacy `crs` member."""
    try:
        with open(path, encoding="utf-8") as file:
            collection = json.load(file)
    except (OSError, ValueError) as exc:
        raise InputError(f"Cannot read the prompts {path} as GeoJSON ({exc}).") from exc
    features = collection.get("features", [collection] if collection.get("type") == "Feature" else [])
    crs = ((collection.get("crs") or {}).get("properties") or {}).get("name", "EPSG:4326")
    prompts = []
    for number, feature in enumerate(features, 1):
        properties = feature.get("properties") or {}
        geometry = shape(feature["geometry"]) if feature.get("geometry") else None
        for part in getattr(geometry, "geoms", [geometry] if geometry is not None else []):
            kind = {"Point": "point", "LineString": "line", "Polygon": "box"}.get(part.geom_type)
            if kind is None:
                raise InputError(f"Feature {number} of {path} is a {part.geom_type}: prompts are points, lines or "
                                 "polygons.")
            coords = (tuple(part.coords) if kind != "box" else
                      ((part.bounds[0], part.bounds[1]), (part.bounds[2], part.bounds[3])))
            prompts.append(MapPrompt(kind, tuple((x, y) for x, y, *_ in coords), int(properties.get("label", 1)),
                                     str(properties.get("class", "") or ""), int(feature.get("id", number))
                                     if str(feature.get("id", number)).isdigit() else number))
    if not prompts:
        raise InputError(f"The prompts {path} hold no point, line or polygon.")
    return prompts, crs
