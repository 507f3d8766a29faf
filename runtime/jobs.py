"""The jobs as the worker runs them: JSON arguments in, a pipeline call, and out a
GeoPackage of features (no CRS: QGIS knows it) plus small values. The four algorithms'
jobs, the model list of the model widget, and the segment tool's tiles and objects.

Arguments are what processing/ resolved from the algorithm's parameters: raster paths,
`model` {"name", "device", "precision"}, `tiling` {"tile_size", "overlap", "resolution",
"extent", "bands"}, job-specific values, `features` (the GeoPackage to write) and
`environment` (variables the run must see, such as GEOVL_CACHE_DIR).
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
from collections import OrderedDict
from typing import Callable, Iterator

import numpy as np
import shapely
from affine import Affine

from ..errors import InputError
from ..geo.gpkg import FeatureTable, write_feature_tables
from ..geo.raster import file_fingerprint
from ..pipelines.archive import ArchiveHit, index_archive
from ..pipelines.archive_segment import SegmentJob, segment_archive
from ..pipelines.ask import ask
from ..pipelines.change import detect_changes
from ..pipelines.feedback import Feedback
from ..pipelines.interactive import SegmentSession
from ..pipelines.options import ModelOptions, TilingOptions
from ..pipelines.retrieve import retrieve
from ..pipelines.segment import MapPrompt, segment

# The variables a job may set for itself: the process's environment is shared, so jobs
# that need other values than the running ones wait for those to finish.
JOB_ENVIRONMENT = ("GEOVL_CACHE_DIR",)


class _EnvironmentGate:
    def __init__(self):
        self._changed = threading.Condition()
        self._running = 0
        self._current: dict[str, str | None] = {}

    @contextlib.contextmanager
    def entered(self, environment: dict) -> Iterator[None]:
        wanted = {name: environment.get(name) for name in JOB_ENVIRONMENT}
        with self._changed:
            self._changed.wait_for(lambda: self._running == 0 or wanted == self._current)
            if wanted != self._current:
                for name, value in wanted.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
                self._current = wanted
            self._running += 1
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()


_ENVIRONMENT = _EnvironmentGate()


def run_job(name: str, arguments: dict, feedback: Feedback) -> dict:
    """Run job `name`; returns the result's values (the features file among them)."""
    job = JOBS.get(name)
    if job is None:
        raise InputError(f"The GeoVL runtime has no job '{name}' (it has {', '.join(JOBS)}): the plugin and its "
                         "runtime are of different versions. Open Plugins › GeoVL › Runtime… and press Repair.")
    with _ENVIRONMENT.entered(arguments.get("environment") or {}):
        return job(arguments, feedback)


def _model(arguments: dict | None) -> ModelOptions | None:
    if not arguments:
        return None
    return ModelOptions(arguments["name"], arguments.get("device", "auto"), arguments.get("precision", "auto"))


def _tiling(arguments: dict) -> TilingOptions:
    extent, bands = arguments.get("extent"), arguments.get("bands")
    return TilingOptions(tile_size=int(arguments.get("tile_size", 0)), overlap=int(arguments.get("overlap", 0)),
                         resolution=float(arguments.get("resolution", 0.0)),
                         extent=tuple(extent) if extent else None, bands=tuple(bands) if bands else None)


def _retrieve(a: dict, feedback: Feedback) -> dict:
    result = retrieve(a["raster"], _model(a["model"]), query=a.get("query", ""), negative=a.get("negative", ""),
                      examples=[tuple(box) for box in a.get("examples", [])], tiling=_tiling(a["tiling"]),
                      top_k=int(a["top_k"]), index_path=a.get("index_path"), heatmap_path=a.get("heatmap_path"),
                      batch_size=int(a["batch_size"]), feedback=feedback)
    write_feature_tables(a["features"], {"hits": FeatureTable(
        "POLYGON", [("rank", "INTEGER"), ("score", "REAL"), ("tile_row", "INTEGER"), ("tile_col", "INTEGER")],
        [(hit.footprint, (hit.rank, hit.score, hit.row, hit.col)) for hit in result.hits])})
    return {"features": a["features"], "tile_count": result.tile_count, "tiles_embedded": result.tiles_embedded,
            "index_path": result.index_path}


def _index_archive(a: dict, feedback: Feedback) -> dict:
    result = index_archive(a["archive"], _model(a["model"]), tiling=_tiling(a["tiling"]), asset=a.get("asset", ""),
                           index_path=a.get("index_path"), query=a.get("query", ""), negative=a.get("negative", ""),
                           top_k=int(a.get("top_k", 10)), batch_size=int(a["batch_size"]),
                           cluster=a.get("cluster", ""), workers=int(a.get("workers", 0)), feedback=feedback)
    write_feature_tables(a["features"], {"hits": hits_table(result.hits)})
    return {"features": a["features"], "index_path": result.index_path, "crs_wkt": result.crs_wkt,
            "tile_count": result.tile_count, "raster_count": result.raster_count,
            "tiles_embedded": result.tiles_embedded, "tiles_resumed": result.tiles_resumed}


def _segment_archive(a: dict, feedback: Feedback) -> dict:
    job = SegmentJob(_model(a["model"]), tuple(_prompts(a)), a.get("prompts_crs", "EPSG:4326"),
                     tuple(a.get("texts", [])), _tiling(a["tiling"]), a.get("model_type", "auto"),
                     bool(a.get("refine", True)), float(a.get("min_area_m2", 0.0)), int(a.get("min_area_pixels", 0)),
                     float(a.get("simplify", 0.0)), bool(a.get("centerlines")), a.get("road_class", "road"))
    result = segment_archive(a["archive"], job, asset=a.get("asset", ""), cluster=a.get("cluster", ""),
                             workers=int(a.get("workers", 0)), feedback=feedback)
    return {"features": result.output_path, "crs_wkt": result.crs_wkt, "raster_count": result.raster_count,
            "rasters_segmented": result.rasters_segmented, "rasters_resumed": result.rasters_resumed,
            "region_count": result.region_count}


def hits_table(hits: list[ArchiveHit]) -> FeatureTable:
    """An archive query's hits as a feature table: rank, score, source raster and its
    name, tile cell."""
    return FeatureTable("POLYGON", [("rank", "INTEGER"), ("score", "REAL"), ("raster", "TEXT"), ("name", "TEXT"),
                                    ("tile_row", "INTEGER"), ("tile_col", "INTEGER")],
                        [(h.footprint, (h.rank, h.score, h.raster, h.name, h.row, h.col)) for h in hits])


def _prompts(a: dict) -> list[MapPrompt]:
    return [MapPrompt(p["kind"], tuple(tuple(xy) for xy in p["coords"]), int(p.get("label", 1)),
                      p.get("class_name", ""), int(p.get("prompt_id", 0))) for p in a.get("prompts", [])]


def _segment(a: dict, feedback: Feedback) -> dict:
    prompts = _prompts(a)
    result = segment(a["raster"], _model(a["model"]), prompts=prompts, prior_path=a.get("prior"),
                     texts=a.get("texts", []), tiling=_tiling(a["tiling"]), model_type=a.get("model_type", "auto"),
                     refine=bool(a.get("refine", True)), min_area_m2=float(a.get("min_area_m2", 0.0)),
                     simplify=float(a.get("simplify", 0.0)), line_spacing_m=float(a.get("line_spacing_m", 0.0)),
                     mask_path=a.get("mask_path"), centerlines=bool(a.get("centerlines")),
                     road_class=a.get("road_class", "road"), feedback=feedback)
    write_feature_tables(a["features"], {
        "regions": FeatureTable("POLYGON", [("class", "TEXT"), ("score", "REAL"), ("area_m2", "REAL"),
                                            ("prompt_id", "INTEGER")],
                                [(r.polygon, (r.class_name, r.score, r.area_m2, r.prompt_id)) for r in result.regions]),
        "centerlines": FeatureTable("LINESTRING", [("class", "TEXT"), ("length", "REAL")],
                                    [(c.line, (c.class_name, c.line.length)) for c in result.centerlines])})
    return {"features": a["features"], "tiles_encoded": result.tiles_encoded, "masks_decoded": result.masks_decoded}


class _Sessions:
    """The segment tool's open sessions, by raster (as it is on disk), model and grid: a
    click finds its model loaded and its tiles read. Beyond a few, the least recently
    used is closed."""

    def __init__(self, size: int = 4):
        self._size = size
        self._open: OrderedDict[str, SegmentSession] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, a: dict, feedback: Feedback) -> SegmentSession:
        try:
            raster = file_fingerprint(a["raster"])
        except OSError:     # the session's raster reader says what is wrong with the path
            raster = a["raster"]
        key = json.dumps([raster, a["model"], a["tiling"], a.get("model_type", "auto")], sort_keys=True)
        with self._lock:
            if key in self._open:
                self._open.move_to_end(key)
                return self._open[key]
            session = SegmentSession(a["raster"], _model(a["model"]), _tiling(a["tiling"]),
                                     a.get("model_type", "auto"), feedback=feedback)
            self._open[key] = session
            if len(self._open) > self._size:
                self._open.popitem(last=False)[1].close()
            return session


_SESSIONS = _Sessions()


def _segment_tiles(a: dict, feedback: Feedback) -> dict:
    """Encode (or load) the tiles under the map point `at` before the first click there."""
    session = _SESSIONS.get(a, feedback)
    tiles = session.tiles_at(*a["at"])
    return {"tiles": tiles, "bounds": session.tile_bounds(tiles), "encoded": session.open_tiles(tiles, feedback)}


def _segment_object(a: dict, feedback: Feedback) -> dict:
    """One object from the tool's clicks, in the result itself (a GeoPackage would cost
    more than the decode): with `"as": "mask"` (the preview) the mask's pixels, else its
    polygons as hex WKB (the object accepted). With `"encode": false` (the hover preview)
    no mask and no tiles where a tile is not open yet."""
    result = _SESSIONS.get(a, feedback).segment(_prompts(a), feedback, encode=a.get("encode", True))
    if result is None:
        return {"score": 0.0, "tiles": [], **NO_MASK}
    values = {"score": result.score, "tiles": result.tiles}
    if a.get("as") == "mask":
        return {**values, **mask_bits(result.mask, result.transform)}
    return {**values, "polygons": [shapely.to_wkb(polygon, hex=True) for polygon in result.polygons]}


NO_MASK = {"bits": "", "size": [0, 0], "bounds": None}   # mask_bits of an empty mask


def mask_bits(mask: np.ndarray, transform: Affine) -> dict:
    """A bool mask cropped to the pixels it holds, for a picture of it: `bits` (base64 of
    rows of bits, most significant first, each row padded to 32 bits as QImage's 1-bit
    format wants), `size` [width, height] and `bounds` [xmin, ymin, xmax, ymax] in map
    units; size [0, 0] and no bounds for an empty mask."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return dict(NO_MASK)
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    cropped = mask[top:bottom, left:right]
    padded = np.zeros((cropped.shape[0], -(-cropped.shape[1] // 32) * 32), bool)
    padded[:, :cropped.shape[1]] = cropped
    x0, y0 = transform * (left, top)
    x1, y1 = transform * (right, bottom)
    return {"bits": base64.b64encode(np.packbits(padded, axis=1).tobytes()).decode("ascii"),
            "size": [right - left, bottom - top], "bounds": [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]}


def _ask(a: dict, feedback: Feedback) -> dict:
    result = ask(a["raster"], _model(a["model"]), a["question"], mode=a.get("mode", "boxes"),
                 select=a.get("select", "all"), retrieval_model=_model(a.get("retrieval_model")),
                 top_k=int(a.get("top_k", 5)), segment_model=_model(a.get("segment_model")),
                 tiling=_tiling(a["tiling"]), max_new_tokens=int(a.get("max_new_tokens", 256)),
                 report_path=a.get("report_path"), one_tile=bool(a.get("one_tile")), feedback=feedback)
    write_feature_tables(a["features"], {
        "objects": FeatureTable("POLYGON", [("label", "TEXT"), ("score", "REAL"), ("angle", "REAL"), ("tile", "TEXT")],
                                [(o.polygon, (o.label, o.score, o.angle, o.tile)) for o in result.objects]),
        "tiles": FeatureTable("POLYGON", [("tile", "TEXT"), ("row", "INTEGER"), ("col", "INTEGER"),
                                          ("answer", "TEXT"), ("boxes", "INTEGER"), ("retrieval_score", "REAL")],
                              [(t.footprint, (t.label, t.row, t.col, t.text, t.boxes, t.retrieval_score))
                               for t in result.tiles])})
    return {"features": a["features"], "answer": result.answer}


def _change(a: dict, feedback: Feedback) -> dict:
    result = detect_changes(a["before"], a["after"], method=a.get("method", "cva"), model=_model(a.get("model")),
                            caption_model=_model(a.get("caption_model")), threshold=a.get("threshold"),
                            min_area_m2=float(a.get("min_area_m2", 0.0)), tiling=_tiling(a["tiling"]),
                            magnitude_path=a.get("magnitude_path"), mask_path=a.get("mask_path"),
                            report_path=a.get("report_path"), max_captions=int(a.get("max_captions", 10)),
                            max_new_tokens=int(a.get("max_new_tokens", 128)), feedback=feedback)
    write_feature_tables(a["features"], {"regions": FeatureTable(
        "POLYGON", [("id", "INTEGER"), ("area_m2", "REAL"), ("magnitude", "REAL"), ("location", "TEXT"),
                    ("facts", "TEXT"), ("caption", "TEXT"), ("before_label", "TEXT"), ("after_label", "TEXT")],
        [(r.polygon, (r.id, r.area_m2, r.magnitude, r.location, r.facts, r.caption or r.facts,
                      r.before_label or None, r.after_label or None)) for r in result.regions])})
    return {"features": a["features"], "caption": result.caption}


def _models(a: dict, feedback: Feedback) -> dict:
    """The presets of a kind of model and whether each is in the local cache (the model
    widget asks this when a dialog opens); reads the cache only, never the network."""
    from ..models.model_sources import preset_status
    try:
        return {"presets": preset_status(a["kind"])}
    except ValueError as exc:
        raise InputError(str(exc)) from exc


JOBS: dict[str, Callable[[dict, Feedback], dict]] = {
    "retrieve": _retrieve, "index_archive": _index_archive, "segment": _segment, "segment_archive": _segment_archive,
    "ask": _ask, "change": _change, "models": _models,
    "segment_tiles": _segment_tiles, "segment_object": _segment_object}
