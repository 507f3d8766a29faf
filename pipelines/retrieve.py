"""Text-to-image retrieval over the tiles of a raster.

Tiles are embedded once into a GeoPackage index (reused while the raster, model and
tiling are unchanged); queries are a cosine ranking against the stored embeddings: all
of them up to ann_index.min_tiles() tiles, above it the candidates of an approximate
(ANN) index built beside the tile index, re-scored exactly.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Polygon

from ..errors import InputError, ModelError
from ..geo import ann_index, tile_index
from ..geo.files import atomic_path, sweep_leftovers
from ..geo.georef import window_footprint
from ..geo.grid import TileGrid
from ..geo.output import write_float_raster
from ..geo.raster import RasterSource
from ..models.base import ImageTextEmbedder
from ..models.device import dtype_name
from ..models.resolver import load_embedder, model_identity
from ..folders import cache_root
from .cache import cache_key
from .feedback import Feedback, PaceReport, QuietFeedback, check_cancelled
from .options import ModelOptions, TilingOptions
from .prefetch import prefetch
from .tiling import grid_settings, plan

INDEX_VERSION = 2  # 2: tile_count and embedding_dim recorded, precision in the key


@dataclass
class Hit:
    rank: int
    score: float
    row: int
    col: int
    footprint: Polygon


@dataclass
class RetrievalResult:
    hits: list[Hit]
    crs_wkt: str
    index_path: str
    tiles_embedded: int          # 0 when an existing index was reused
    tile_count: int              # tiles in the index
    heatmap_path: str | None = None


def retrieve(raster_path: str, model: ModelOptions, query: str = "", negative: str = "",
             examples: list[tuple[float, float, float, float]] = (), tiling: TilingOptions = TilingOptions(),
             top_k: int = 10, index_path: str | None = None, heatmap_path: str | None = None,
             batch_size: int = 32, feedback: Feedback | None = None) -> RetrievalResult:
    """Rank the tiles of `raster_path` against a text `query` (minus `negative`) or
    against example areas (map bounds in the raster's CRS)."""
    feedback = feedback or QuietFeedback()
    query, negative = (query or "").strip(), (negative or "").strip()
    if not query and not examples:
        raise InputError("Give a text query, or a query layer whose features show examples of what to find.")
    if top_k < 1:
        raise InputError("The number of results (top k) must be at least 1.")
    with RasterSource(raster_path, list(tiling.bands) if tiling.bands else None) as source:
        embedder = load_embedder(model.name, model.device, model.precision, log=feedback.info)
        feedback.info(f"Model {model.name} on {embedder.device} ({str(embedder.dtype).replace('torch.', '')}).")
        grid = plan(source, tiling, embedder.input_size)
        index_path, embedded = ensure_index(source, grid, embedder, index_path, batch_size, feedback)
        vector = query_vector(embedder, source, query, negative, examples)
        crs_wkt = source.crs_wkt
    meta = tile_index.read_meta(index_path)
    tile_count = int(meta["tile_count"])
    if heatmap_path:
        fids, matrix = tile_index.load_embeddings(index_path)
        scores = matrix @ vector
        order = top_indices(scores, top_k)
        best, best_scores = [int(fids[i]) for i in order], scores[order]
        write_heatmap(heatmap_path, index_path, grid, scores, crs_wkt)
    else:
        best, best_scores = rank_tiles(index_path, meta, vector, top_k, feedback)
    tiles = tile_index.read_tiles(index_path, best)
    hits = [Hit(rank + 1, float(score), t.row, t.col, t.footprint)
            for rank, (score, t) in enumerate(zip(best_scores, tiles))]
    return RetrievalResult(hits, crs_wkt, index_path, embedded, tile_count, heatmap_path)


def rank_tiles(index_path: str, meta: dict, vector: np.ndarray, top_k: int,
               feedback: Feedback) -> tuple[list[int], np.ndarray]:
    """(fids, scores) of the top-k tiles of the index at `index_path` (`meta`: its
    metadata): exact up to ann_index.min_tiles() tiles, approximate above."""
    if int(meta["tile_count"]) < ann_index.min_tiles():
        fids, matrix = tile_index.load_embeddings(index_path)
        scores = matrix @ vector
        order = top_indices(scores, top_k)
        return [int(fids[i]) for i in order], scores[order]
    return approximate_top(index_path, meta, vector, top_k, feedback)


def approximate_top(index_path: str, meta: dict, vector: np.ndarray, top_k: int,
                    feedback: Feedback) -> tuple[list[int], np.ndarray]:
    """(fids, exact scores) of the top-k tiles by the ANN index beside `index_path`
    (built now if missing or damaged): its candidates re-scored exactly."""
    path, tile_count = ann_file(index_path, meta), int(meta["tile_count"])
    ann = ann_index.load(path, tile_count)
    if ann is None:
        if os.path.exists(path):
            feedback.warning(f"The approximate-search index {path} is damaged; building it again.")
        build_ann(index_path, meta, feedback)
        ann = ann_index.load(path, tile_count)
    candidates = [int(fid) for fid in ann_index.search(ann, vector, top_k * ann_index.CANDIDATES_PER_HIT)]
    scores = tile_index.read_embeddings(index_path, candidates) @ vector
    order = top_indices(scores, top_k)
    return [candidates[i] for i in order], scores[order]


def ann_file(index_path: str, meta: dict) -> str:
    """The ANN file of the tile index at `index_path` as built (`meta`: its metadata)."""
    return ann_index.ann_path(index_path, f"{meta['key']}|{meta['created']}|{meta['tile_count']}")


def build_ann(index_path: str, meta: dict, feedback: Feedback) -> None:
    """The ANN index of the tile index at `index_path`, from its embeddings in batches;
    those of its earlier builds removed."""
    tile_count, path = int(meta["tile_count"]), ann_file(index_path, meta)
    feedback.info(f"Building the approximate-search index of {tile_count} tiles ({ann_index.cell_count(tile_count)} "
                  f"cells), for search above {ann_index.min_tiles()} tiles.")
    for stale in ann_index.stale_files(index_path, path):
        os.remove(stale)
    sample = ann_index.training_sample(tile_index.embedding_batches(index_path), tile_count)
    ann_index.build(path, tile_count, int(meta["embedding_dim"]), sample, tile_index.embedding_batches(index_path))


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first."""
    k = min(k, len(scores))
    best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return best[np.argsort(-scores[best], kind="stable")]


def query_vector(embedder: ImageTextEmbedder, source: RasterSource, query: str, negative: str,
                 examples) -> np.ndarray:
    """Unit query (text and/or mean of example embeddings) minus the negative text's
    direction: tile . v = cos(tile, query) - cos(tile, negative). Texts are embedded as
    the model's authors embed queries (class names through their templates)."""
    parts = []
    if query:
        parts.append(embedder.embed_query(query))
    if examples:
        images = [source.read_bounds(b, embedder.input_size) for b in examples]
        parts.append(embedder.embed_images(images).mean(axis=0))
    positive = np.mean(parts, axis=0)
    positive /= max(np.linalg.norm(positive), 1e-12)
    if negative:
        positive = positive - embedder.embed_query(negative)
    if not np.isfinite(positive).all():
        raise ModelError(f"The query's embedding is non-finite (NaN or infinite) with {embedder.name} in "
                         f"{dtype_name(embedder.dtype)}: nothing can be ranked. Run the model in fp32 (PRECISION), "
                         "and check the example features' area for NaN pixels.")
    return positive.astype(np.float32)


def ensure_index(source: RasterSource, grid: TileGrid, embedder: ImageTextEmbedder, index_path: str | None,
                 batch_size: int, feedback: Feedback) -> tuple[str, int]:
    """Path of an index of this raster/model/tiling, building it unless a sound one
    exists. Returns (path, number of tiles embedded now).

    An index in the cache that is damaged is rebuilt with a warning. At a path the user
    chose, a file that is not a GeoVL index is refused (never overwritten), and a GeoVL
    index of another raster/model/grid/bands is rebuilt."""
    settings = {"version": INDEX_VERSION, "raster": source.fingerprint(), "model": model_identity(embedder.name),
                "dtype": dtype_name(embedder.dtype), "bands": source.bands, "grid": grid_settings(grid)}
    key = cache_key(settings)
    chosen = bool(index_path)
    index_path = index_path or os.path.join(cache_root(), "retrieval", f"{key}.gpkg")
    sweep_leftovers(os.path.dirname(os.path.abspath(index_path)))
    found = tile_index.check_index(index_path)
    if found.geovl and not found.problem and found.meta["key"] == key:
        feedback.info(f"Reusing the tile index {index_path} ({found.meta['tile_count']} tiles).")
        _warn_non_finite(found.meta.get("non_finite_tiles", 0), found.meta["tile_count"], embedder, feedback)
        return index_path, 0
    explain_rebuild(index_path, chosen, found, feedback)
    feedback.info(f"Indexing {len(grid)} tiles of {grid.tile_size} px ({grid.rows} x {grid.cols}) into {index_path}.")
    meta = {"key": key, **settings, "raster_path": source.path, "model_name": embedder.name,
            "crs_wkt": source.crs_wkt, "normalisation": source.stretch.as_dict(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    with atomic_path(index_path) as tmp:
        with tile_index.TileIndexWriter(tmp, source.crs_wkt, source.epsg, meta) as writer:
            count, non_finite = _embed_tiles(source, grid, embedder, writer, batch_size, feedback)
            if count + non_finite == 0:
                raise InputError("Every tile of the raster (within the extent) is nodata: there is nothing to "
                                 "index. Check the extent, the bands and the raster's nodata value.")
            if count == 0:
                raise ModelError(f"Every tile's embedding is non-finite (NaN or infinite) with {embedder.name} in "
                                 f"{dtype_name(embedder.dtype)}: nothing can be ranked. Run the model in fp32 "
                                 "(PRECISION), and check the raster for NaN pixels.")
            writer.set_meta("non_finite_tiles", non_finite)
    _warn_non_finite(non_finite, count, embedder, feedback)
    if count >= ann_index.min_tiles():
        build_ann(index_path, tile_index.read_meta(index_path), feedback)
    return index_path, count


def explain_rebuild(index_path: str, chosen: bool, found: tile_index.IndexCheck, feedback: Feedback) -> None:
    """Refuse to replace a file the user chose that is not a GeoVL index; else say why
    the index at `index_path` (if any) is rebuilt."""
    if not found.exists:
        return
    if chosen and not found.geovl:
        raise InputError(f"'{index_path}' exists and is not a GeoVL index ({found.problem or 'another kind of file'})"
                         ", so GeoVL leaves it as it is. Choose another index file name, or delete that file.")
    if chosen and not found.problem:
        feedback.info(f"The index {index_path} was built for another raster, model, precision, tile grid or bands: "
                      "rebuilding it.")
        return
    reason = found.problem or ("it is not a GeoVL index" if not found.geovl else "its key is not its name")
    feedback.warning(f"The tile index {index_path} is damaged ({reason}): rebuilding it.")


def _warn_non_finite(count: int, kept: int, embedder: ImageTextEmbedder, feedback: Feedback) -> None:
    if count:
        feedback.warning(f"{count} of {count + kept} tiles got non-finite embeddings (NaN or infinite) from "
                         f"{embedder.name} in {dtype_name(embedder.dtype)} and are left out of the ranking. "
                         "Run the model in fp32 (PRECISION) if half precision overflows, and check the raster "
                         "for NaN pixels.")


def _embed_tiles(source: RasterSource, grid: TileGrid, embedder: ImageTextEmbedder,
                 writer: tile_index.TileIndexWriter, batch_size: int, feedback: Feedback) -> tuple[int, int]:
    """Embed every tile that has valid pixels (reading a batch ahead of the model where
    the embedder leaves room for it); tiles whose embedding is not finite are left out.
    Returns (tiles written, tiles left out)."""
    count = non_finite = 0
    pace = PaceReport(feedback, len(grid))
    batches = _read_batches(source, grid, embedder, batch_size)
    for visited, tiles, pixels in prefetch(batches) if embedder.overlaps_reading else batches:
        embeddings = embedder.embed_pixels(pixels)
        finite = np.isfinite(embeddings).all(axis=1)
        kept = [t for t, ok in zip(tiles, finite) if ok]
        writer.add([window_footprint(grid.transform, t.window) for t in kept],
                   [t.row for t in kept], [t.col for t in kept], embeddings[finite])
        count += len(kept)
        non_finite += len(tiles) - len(kept)
        feedback.progress(100.0 * visited / len(grid))
        pace.done(visited)
        check_cancelled(feedback)
    return count, non_finite


def _read_batches(source: RasterSource, grid: TileGrid, embedder: ImageTextEmbedder, batch_size: int):
    """(tiles visited so far, tiles, pixel tensor) per batch; all-nodata tiles skipped."""
    tiles, images = [], []
    for visited, tile in enumerate(grid.tiles(), 1):
        image, valid = source.read(tile.window, (grid.tile_size, grid.tile_size))
        if valid.any():
            tiles.append(tile)
            images.append(image)
        if len(tiles) == batch_size or (visited == len(grid) and tiles):
            yield visited, tiles, embedder.preprocess(images)
            tiles, images = [], []


def write_heatmap(path: str, index_path: str, grid: TileGrid, scores: np.ndarray, crs_wkt: str) -> None:
    """One cell per tile of the grid, holding its score (nodata where no tile was indexed)."""
    rows, cols = tile_index.read_cells(index_path)
    values = np.full((grid.rows, grid.cols), np.nan, np.float32)
    values[rows, cols] = scores
    write_float_raster(path, values, grid.cell_transform(), crs_wkt, description="similarity")
