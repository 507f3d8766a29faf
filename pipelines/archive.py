"""Retrieval over an archive: one index over the tiles of many rasters, and queries
across all of them.

The rasters come from a folder, a list, a VRT or a STAC ItemCollection (geo/archive_inputs).
Each is tiled as geovl:retrieve tiles one raster; the tiles are embedded on Ray (a
local instance, or the cluster at an address; pipelines/archive_ray) or in this process,
and written batch by batch into a resume file (geo/archive_index), so a run that is
killed goes on later from what it wrote. Footprints are in the rasters' CRS when they
share one, else in WGS 84.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterator

import numpy as np
from rasterio.crs import CRS
from rasterio.warp import transform_geom
from rasterio.windows import Window
from shapely.geometry import Polygon, mapping, shape

from ..errors import InputError, ModelError
from ..folders import cache_root
from ..geo import ann_index, archive_index, tile_index
from ..geo.archive_inputs import ArchiveRaster, list_rasters
from ..geo.georef import window_footprint
from ..geo.grid import TileGrid
from ..geo.raster import RasterSource, file_fingerprint
from ..models.base import ImageTextEmbedder
from ..models.device import dtype_name
from ..models.resolver import load_embedder, model_identity
from .cache import cache_key
from .feedback import Feedback, PaceReport, QuietFeedback, check_cancelled
from .options import ModelOptions, TilingOptions
from .prefetch import prefetch
from .retrieve import build_ann, explain_rebuild, query_vector, rank_tiles
from .tiling import grid_settings, plan

ARCHIVE_VERSION = 1
IN_PROCESS = "in-process"   # the `cluster` that means: no Ray, embed in this process
# bytes an index needs per tile beside its embedding (footprint, R-tree, keys), measured
TILE_OVERHEAD_BYTES = 400


@dataclass(frozen=True)
class PlannedRaster:
    """One raster of the archive and its tile grid."""
    path: str
    name: str
    fingerprint: str
    crs: CRS
    grid: TileGrid


@dataclass(frozen=True)
class Execution:
    """How the tiles are embedded: the model, the bands read, and where (see index_archive)."""
    model: ModelOptions
    bands: list[int] | None
    batch_size: int
    cluster: str
    workers: int


@dataclass
class ArchiveHit:
    rank: int
    score: float
    raster: str          # the tile's source raster
    name: str            # its short name (the STAC item id, else the file name)
    row: int
    col: int
    footprint: Polygon   # in the index's CRS


@dataclass
class ArchiveResult:
    index_path: str
    crs_wkt: str
    raster_count: int
    tile_count: int       # tiles in the index
    tiles_embedded: int   # by this run (0 when the index was reused)
    tiles_resumed: int    # found in the resume file of an earlier run
    hits: list[ArchiveHit]


def index_archive(source: str, model: ModelOptions, tiling: TilingOptions = TilingOptions(), asset: str = "",
                  index_path: str | None = None, query: str = "", negative: str = "", top_k: int = 10,
                  batch_size: int = 32, cluster: str = "", workers: int = 0,
                  feedback: Feedback | None = None) -> ArchiveResult:
    """Index the tiles of every raster of `source` into one index (reused while the
    rasters, model and tiling are unchanged), then rank them against `query` if given.

    `cluster`: '' for RAY_ADDRESS or else a local Ray instance, a Ray address
    ('ray://host:10001', 'auto'), or IN_PROCESS. `workers`: model replicas on Ray (0: one
    per GPU, else per CPU)."""
    feedback = feedback or QuietFeedback()
    if tiling.extent:
        raise InputError("An archive is indexed whole: an extent does not apply. Clip the rasters, or list only "
                         "those you want.")
    rasters = list_rasters(source, asset)
    embedder = load_embedder(model.name, model.device, model.precision, log=feedback.info)
    feedback.info(f"Model {model.name} on {embedder.device} ({dtype_name(embedder.dtype)}).")
    planned = [plan_raster(r, tiling, embedder.input_size) for r in rasters]
    crs = index_crs([p.crs for p in planned])
    settings = {"version": ARCHIVE_VERSION, "kind": "archive", "model": model_identity(embedder.name),
                "dtype": dtype_name(embedder.dtype), "bands": list(tiling.bands or []),
                "rasters": [[p.fingerprint, grid_settings(p.grid)] for p in planned]}
    key = cache_key(settings)
    chosen = bool(index_path)
    index_path = os.path.abspath(index_path or os.path.join(cache_root(), "archives", f"{key}.gpkg"))
    if index_path in {p.path for p in planned}:
        raise InputError(f"The index file {index_path} is one of the archive's rasters: choose another file name.")
    os.makedirs(os.path.dirname(index_path), exist_ok=True)
    found = tile_index.check_index(index_path)
    if found.geovl and not found.problem and found.meta.get("key") == key:
        feedback.info(f"Reusing the archive index {index_path} ({found.meta['tile_count']} tiles of "
                      f"{len(planned)} rasters).")
        embedded = resumed = 0
    else:
        explain_rebuild(index_path, chosen, found, feedback)
        meta = {"key": key, **settings, "model_name": embedder.name, "crs_wkt": crs.to_wkt(), "epsg": crs.to_epsg(),
                "source": source, "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
        execution = Execution(model, list(tiling.bands) if tiling.bands else None, batch_size, cluster, workers)
        embedded, resumed = _build(index_path, planned, crs, meta, embedder, execution, feedback)
    meta = tile_index.read_meta(index_path)
    hits = rank_archive(index_path, meta, embedder, query, negative, top_k, feedback) if query else []
    return ArchiveResult(index_path, crs.to_wkt(), len(planned), int(meta["tile_count"]), embedded, resumed, hits)


def plan_raster(raster: ArchiveRaster, tiling: TilingOptions, model_input_size: int) -> PlannedRaster:
    with RasterSource(raster.path, list(tiling.bands) if tiling.bands else None) as source:
        grid = plan(source, tiling, model_input_size)
        return PlannedRaster(raster.path, raster.name, raster_fingerprint(raster.path), source.dataset.crs, grid)


def raster_fingerprint(path: str) -> str:
    """A local file's content identity (path, size, mtime); a /vsi address stands for
    itself (an archive's remote scenes do not change under their address)."""
    return path if path.startswith("/vsi") else file_fingerprint(path)


def index_crs(crss: list[CRS]) -> CRS:
    """The rasters' CRS if they share one, else WGS 84 (scenes of an archive often lie in
    several UTM zones)."""
    return crss[0] if all(c == crss[0] for c in crss) else CRS.from_epsg(4326)


def _build(index_path: str, planned: list[PlannedRaster], crs: CRS, meta: dict, embedder: ImageTextEmbedder,
           execution: Execution, feedback: Feedback) -> tuple[int, int]:
    """Write the archive index at `index_path`, going on from its resume file when one
    of the same key is there. Returns (tiles embedded now, tiles found written)."""
    partial = archive_index.resume_path(index_path)
    if os.path.exists(partial) and archive_index.read_meta(partial).get("key") != meta["key"]:
        feedback.info(f"Starting {index_path} afresh: the unfinished index beside it was made from other rasters, "
                      "model or tiling.")
        os.remove(partial)
    sources = [{"path": p.path, "name": p.name, "fingerprint": p.fingerprint} for p in planned]
    try:
        with archive_index.ArchiveIndexWriter(partial, crs.to_wkt(), crs.to_epsg(), meta, sources) as writer:
            done = writer.done()
            tasks = pending_tiles(planned, done)
            total = sum(len(p.grid) for p in planned)
            _announce(index_path, planned, total, len(done), len(tasks["source"]), embedder, feedback)
            embedded = _write_tiles(writer, tasks, planned, crs, embedder, execution, len(done), total, feedback)
            if embedded + len(done) == 0:
                raise InputError("Every tile of every raster of the archive is nodata, or has a non-finite "
                                 "embedding: there is nothing to index. Check the rasters, their nodata values and "
                                 "the bands.")
            tile_count = writer.finish({})
    except sqlite3.OperationalError as exc:
        if "full" not in str(exc):
            raise
        raise InputError(f"The disk holding {os.path.dirname(index_path)} is full. Free some space and run again: "
                         "the job goes on from the tiles already written.") from exc
    os.replace(partial, index_path)
    if tile_count >= ann_index.min_tiles():
        build_ann(index_path, tile_index.read_meta(index_path), feedback)
    return embedded, len(done)


def pending_tiles(planned: list[PlannedRaster], done: set[tuple[int, int, int]]) -> dict[str, np.ndarray]:
    """The tiles still to embed, as columns: source (index into `planned`), row, col and
    the source-pixel window (col_off, row_off, width, height)."""
    columns: dict[str, list[int]] = {name: [] for name in ("source", "row", "col", "col_off", "row_off", "width",
                                                           "height")}
    for source_id, raster in enumerate(planned):
        for tile in raster.grid.tiles():
            if (source_id, tile.row, tile.col) in done:
                continue
            w = tile.window
            for name, value in zip(columns, (source_id, tile.row, tile.col, w.col_off, w.row_off, w.width, w.height)):
                columns[name].append(int(value))
    return {name: np.asarray(values, np.int64) for name, values in columns.items()}


def _announce(index_path: str, planned: list[PlannedRaster], total: int, done: int, pending: int,
              embedder: ImageTextEmbedder, feedback: Feedback) -> None:
    """Say what the run will do, and refuse it when the disk cannot hold the index."""
    if done:
        feedback.info(f"Going on with the unfinished index {index_path}: {done:,} tiles are written, {pending:,} of "
                      f"{total:,} to go.")
    else:
        feedback.info(f"Indexing {total:,} tiles of {len(planned)} rasters into {index_path}.")
    need = pending * (2 * embedding_dim(embedder) + TILE_OVERHEAD_BYTES)
    free = shutil.disk_usage(os.path.dirname(index_path)).free
    if need > free:
        raise InputError(f"The archive index needs about {need / 2**30:.1f} GiB and the disk holding "
                         f"{os.path.dirname(index_path)} has {free / 2**30:.1f} GiB free. Free some space or "
                         "choose an index file on another disk.")


def _write_tiles(writer: archive_index.ArchiveIndexWriter, tasks: dict[str, np.ndarray],
                 planned: list[PlannedRaster], crs: CRS, embedder: ImageTextEmbedder, execution: Execution,
                 done: int, total: int, feedback: Feedback) -> int:
    """Embed the tiles of `tasks` and write each batch as it comes; returns the number
    written (all-nodata tiles and non-finite embeddings are left out)."""
    rasters, tile_size = [p.path for p in planned], planned[0].grid.tile_size
    if execution.cluster == IN_PROCESS:
        batches = embed_in_process(embedder, tasks, rasters, execution.bands, tile_size, execution.batch_size)
    else:
        from .archive_ray import map_on_ray
        batches = map_on_ray(tasks, TileEmbedder, {"model": execution.model, "rasters": rasters,
                                                   "bands": execution.bands, "tile_size": tile_size},
                             execution.batch_size, execution.cluster, execution.workers, execution.model.name, feedback)
    written = non_finite = visited = 0
    pace, first = None, 0
    try:
        for batch in batches:
            if pace is None:   # timed from the first batch: Ray's start and its workers' model loads are not the pace
                pace, first = PaceReport(feedback, len(tasks["source"]) - len(batch["source"])), len(batch["source"])
            visited += len(batch["source"])
            valid = batch["valid"] & np.isfinite(batch["embedding"].astype(np.float32)).all(axis=1)
            non_finite += int((batch["valid"] & ~valid).sum())
            keep = np.flatnonzero(valid)
            footprints = [tile_footprint(planned[s], r, c, crs) for s, r, c in
                          zip(batch["source"][keep], batch["row"][keep], batch["col"][keep])]
            writer.add(footprints, batch["source"][keep], batch["row"][keep], batch["col"][keep],
                       batch["embedding"][keep])
            written += len(keep)
            feedback.progress(100.0 * (done + visited) / max(total, 1))
            pace.done(visited - first)
            check_cancelled(feedback)
    finally:
        batches.close()  # a cancelled run stops the workers now
    if non_finite:
        feedback.warning(f"{non_finite} tiles got non-finite embeddings (NaN or infinite) from {embedder.name} in "
                         f"{dtype_name(embedder.dtype)} and are left out of the index. Run the model in fp32 "
                         "(PRECISION) if half precision overflows, and check the rasters for NaN pixels.")
    return written


def tile_footprint(raster: PlannedRaster, row: int, col: int, crs: CRS) -> Polygon:
    """The tile's outline in the index's CRS."""
    footprint = window_footprint(raster.grid.transform, raster.grid.tile(int(row), int(col)).window)
    if raster.crs == crs:
        return footprint
    return shape(transform_geom(raster.crs, crs, mapping(footprint)))


def embedding_dim(embedder: ImageTextEmbedder) -> int:
    """How many values the embedder's embeddings have."""
    return len(embedder.embed_texts(["tile"])[0])


class TileEmbedder:
    """Reads and embeds batches of archive tiles: what each Ray worker holds (with its
    own copy of the model), and what the in-process path runs. A batch is the columns of
    pending_tiles; the answer adds `valid` (the tile had valid pixels) and `embedding`
    (float16; zeros where not valid)."""

    def __init__(self, model: ModelOptions | None, rasters: list[str], bands: list[int] | None, tile_size: int,
                 embedder: ImageTextEmbedder | None = None, open_rasters: int = 8):
        self.embedder = embedder or load_embedder(model.name, model.device, model.precision)
        self._dim = embedding_dim(self.embedder)
        self._rasters, self._bands, self._tile_size, self._open_limit = rasters, bands, tile_size, open_rasters
        self._open: OrderedDict[int, RasterSource] = OrderedDict()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.embed(self.read(batch))

    def read(self, batch: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
        """The batch with `valid` set, and the images of its valid tiles."""
        images, valid = [], np.zeros(len(batch["source"]), bool)
        size = (self._tile_size, self._tile_size)
        for i, (s, c0, r0, w, h) in enumerate(zip(*(batch[k] for k in ("source", "col_off", "row_off", "width",
                                                                        "height")))):
            image, pixels_valid = self._source(int(s)).read(Window(int(c0), int(r0), int(w), int(h)), size)
            if pixels_valid.any():
                valid[i] = True
                images.append(image)
        return {**batch, "valid": valid}, images

    def embed(self, read: tuple[dict[str, np.ndarray], list[np.ndarray]]) -> dict[str, np.ndarray]:
        batch, images = read
        embeddings = np.zeros((len(batch["valid"]), self._dim), np.float16)
        if images:
            embeddings[batch["valid"]] = self.embedder.embed_pixels(self.embedder.preprocess(images))
        return {**batch, "embedding": embeddings}

    def _source(self, source_id: int) -> RasterSource:
        """The raster, kept open (its normalisation computed once) for the next tiles."""
        if source_id in self._open:
            self._open.move_to_end(source_id)
            return self._open[source_id]
        source = self._open[source_id] = RasterSource(self._rasters[source_id], self._bands)
        if len(self._open) > self._open_limit:
            self._open.popitem(last=False)[1].close()
        return source


def embed_in_process(embedder: ImageTextEmbedder, tasks: dict[str, np.ndarray], rasters: list[str],
                     bands: list[int] | None, tile_size: int, batch_size: int) -> Iterator[dict[str, np.ndarray]]:
    """The batches embedded here, one at a time, the next batch read while the model runs."""
    worker = TileEmbedder(None, rasters, bands, tile_size, embedder)
    starts = range(0, len(tasks["source"]), batch_size)
    reads = (worker.read({k: v[i:i + batch_size] for k, v in tasks.items()}) for i in starts)
    for read in prefetch(reads) if embedder.overlaps_reading else reads:
        yield worker.embed(read)


def rank_archive(index_path: str, meta: dict, embedder: ImageTextEmbedder, query: str, negative: str,
                 top_k: int, feedback: Feedback) -> list[ArchiveHit]:
    """The top-k tiles of the archive index against the text `query` (minus `negative`)."""
    if top_k < 1:
        raise InputError("The number of results (top k) must be at least 1.")
    if meta.get("model") != model_identity(embedder.name):
        raise ModelError(f"The archive index {index_path} was made with {meta.get('model_name')}, not "
                         f"{embedder.name}: query it with the model it was made with.")
    vector = query_vector(embedder, None, query.strip(), (negative or "").strip(), [])
    fids, scores = rank_tiles(index_path, meta, vector, top_k, feedback)
    tiles = tile_index.read_tiles(index_path, fids)
    sources = archive_index.read_sources(index_path, fids)
    return [ArchiveHit(rank + 1, float(score), raster, name, t.row, t.col, t.footprint)
            for rank, (score, t, (raster, name)) in enumerate(zip(scores, tiles, sources))]
