"""Grounded questions over the tiles of a raster (GeoChat / GeoPixel-style, retrieval-guided).

Every tile asked gets the question; grounded objects come back in the tile's pixels and
are put on the map through the tile's transform. Boxes of neighbouring tiles that see
the same object are merged (non-maximum suppression per label on map geometries), and
the tiles' answers are combined into one. With SELECT top-k, the tiles are first ranked
by an image-text retrieval index (ImageRAG's idea: a VLM on every tile of a large raster
is too slow) and only the best k are asked. Masks (GeoPixel-style) come from SAM,
prompted with the merged boxes.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Iterable

from shapely.geometry import Polygon

from ..errors import InputError
from ..geo import tile_index
from ..geo.boxes import box_polygon, merge_duplicates
from ..geo.georef import window_footprint
from ..geo.gpkg import wkb_2d
from ..geo.grid import Tile, TileGrid
from ..geo.raster import RasterSource
from ..models.base import Answer, GroundedVLM
from ..models.device import dtype_name
from ..models.resolver import load_embedder, load_vlm
from .answers import TileReply, combine
from .ask_report import AskReport
from .feedback import Feedback, PaceReport, ProgressRange, QuietFeedback, check_cancelled
from .options import ModelOptions, TilingOptions
from .retrieve import ensure_index, query_vector, top_indices
from .segment import MapPrompt, segment
from .tiling import plan, plan_one_tile

MODES = ("answer", "boxes", "masks")
SELECTIONS = ("all", "top-k")
NMS_IOU = 0.5          # boxes of one label overlapping this much are one object
EDGE_COVER = 0.8       # ... or, from two tiles, when one covers this much of the other
MAX_QUESTION_CHARS = 2000
MANY_TILES = 1000      # asking every tile of more than this is announced with the top-k alternative


@dataclass
class GroundedObject:
    """An object the model grounded, on the map (the raster's CRS)."""
    label: str
    score: float | None
    angle: float
    tile: str                  # "row,col" of the tile that saw it
    polygon: Polygon

    @property
    def wkb(self) -> bytes:
        return wkb_2d(self.polygon)


@dataclass
class AskedTile:
    row: int
    col: int
    footprint: Polygon
    text: str
    boxes: int                 # boxes the model gave on this tile (before merging)
    retrieval_score: float | None = None

    @property
    def label(self) -> str:
        return f"{self.row},{self.col}"

    @property
    def wkb(self) -> bytes:
        return wkb_2d(self.footprint)


@dataclass
class AskResult:
    answer: str
    mode: str                  # what was done: "answer" where a model that cannot ground was asked for boxes
    tiles: list[AskedTile]
    objects: list[GroundedObject]
    crs_wkt: str
    tile_count: int            # tiles in the grid
    dropped: int = 0           # malformed boxes the parsers left out
    index_path: str | None = None
    notes: list[str] = field(default_factory=list)


def ask(raster_path: str, model: ModelOptions, question: str, mode: str = "boxes", select: str = "all",
        retrieval_model: ModelOptions | None = None, top_k: int = 8, segment_model: ModelOptions | None = None,
        tiling: TilingOptions = TilingOptions(), max_new_tokens: int = 256, report_path: str | None = None,
        one_tile: bool = False, feedback: Feedback | None = None) -> AskResult:
    """Ask `question` about the tiles of `raster_path` (all, or the top k by retrieval);
    return the combined answer and every grounded object (boxes, or SAM masks).
    `one_tile`: ask about the extent as one tile at the model's input size (the map view)."""
    feedback = feedback or QuietFeedback()
    question = (question or "").strip()
    _check_request(question, mode, select, retrieval_model, top_k, segment_model, max_new_tokens)
    with RasterSource(raster_path, list(tiling.bands) if tiling.bands else None) as source:
        vlm = load_vlm(model.name, model.device, model.precision, log=feedback.info)
        feedback.info(f"Model {model.name} on {vlm.device} ({dtype_name(vlm.dtype)}).")
        grid = (plan_one_tile if one_tile else plan)(source, tiling, vlm.input_size)
        if select == "all" and len(grid) > MANY_TILES:
            feedback.warning(f"Asking every one of the {len(grid):,} tiles: a VLM answers a few tiles a second at "
                             f"best. To ask only the tiles most like the question, choose SELECT top-k.")
        count, selected, index_path = _select_tiles(source, grid, question, select, retrieval_model, top_k,
                                                    feedback)
        asking = ProgressRange(feedback, 30 if select == "top-k" else 0, 90 if mode == "masks" else 100)
        with AskReport(report_path, question, model.name, raster_path) if report_path else \
                contextlib.nullcontext() as report:
            tiles, objects, replies, dropped = _ask_tiles(source, grid, vlm, question, mode != "answer", selected,
                                                          count, max_new_tokens, report, asking)
            if not tiles:
                raise InputError("Every tile of the raster (within the extent) is nodata: there is nothing to ask "
                                 "about. Check the extent, the bands and the raster's nodata value.")
            answer = combine(question, replies)
            notes = _notes(tiles, len(grid), objects, dropped, feedback)
            if report:
                report.finish(answer, notes)
        crs_wkt = source.crs_wkt
    if mode == "masks" and objects:
        objects = _masks(raster_path, objects, segment_model, tiling, ProgressRange(feedback, 90, 100))
    return AskResult(answer, mode, tiles, objects, crs_wkt, len(grid), dropped, index_path, notes)


def _check_request(question, mode, select, retrieval_model, top_k, segment_model, max_new_tokens) -> None:
    if not question:
        raise InputError("The question is empty. Type a question about the raster, e.g. \"Where are the "
                         "airplanes parked?\" or \"How many storage tanks are there?\".")
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(f"The question is {len(question):,} characters long; ask in at most {MAX_QUESTION_CHARS:,} "
                         "characters (a question about the raster, not a document).")
    if mode not in MODES:
        raise InputError(f"Unknown mode '{mode}'; use one of {', '.join(MODES)}.")
    if select not in SELECTIONS:
        raise InputError(f"Unknown tile selection '{select}'; use one of {', '.join(SELECTIONS)}.")
    if select == "top-k" and (retrieval_model is None or not retrieval_model.name):
        raise InputError("Selecting the top-k tiles needs a retrieval model (RETRIEVAL_MODEL), e.g. clip-rsicd.")
    if top_k < 1:
        raise InputError("The number of tiles to ask (top k) must be at least 1.")
    if mode == "masks" and (segment_model is None or not segment_model.name):
        raise InputError("Masks need a segmentation model (SEGMENT_MODEL), e.g. sam-vit-b; or ask for boxes.")
    if max_new_tokens < 1:
        raise InputError("The answer length (maximum new tokens) must be at least 1.")


def _select_tiles(source: RasterSource, grid: TileGrid, question: str, select: str,
                  retrieval_model: ModelOptions | None, top_k: int,
                  feedback: Feedback) -> tuple[int, Iterable[tuple[Tile, float | None]], str | None]:
    """How many tiles to ask, the tiles with their retrieval scores (None for SELECT all;
    streamed, never a list of the whole grid), and the index used."""
    if select == "all":
        return len(grid), ((tile, None) for tile in grid.tiles()), None
    embedder = load_embedder(retrieval_model.name, retrieval_model.device, retrieval_model.precision,
                             log=feedback.info)
    feedback.info(f"Ranking tiles with {retrieval_model.name} on {embedder.device}.")
    index_path, _ = ensure_index(source, grid, embedder, None, 32, ProgressRange(feedback, 0, 30))
    fids, matrix = tile_index.load_embeddings(index_path)
    scores = matrix @ query_vector(embedder, source, question, "", [])
    order = top_indices(scores, top_k)
    ranked = tile_index.read_tiles(index_path, [int(fids[i]) for i in order])
    return len(ranked), [(grid.tile(t.row, t.col), float(scores[i])) for i, t in zip(order, ranked)], index_path


def _ask_tiles(source: RasterSource, grid: TileGrid, vlm: GroundedVLM, question: str, grounded: bool,
               selected: Iterable[tuple[Tile, float | None]], count: int, max_new_tokens: int,
               report: AskReport | None, feedback: Feedback):
    """Ask each of the `count` selected tiles that has valid pixels; objects merged across tiles."""
    tiles: list[AskedTile] = []
    candidates: list[tuple[GroundedObject, tuple]] = []
    dropped = 0
    area = window_footprint(grid.transform, grid.area)
    pace = PaceReport(feedback, count)
    for done, (tile, score) in enumerate(selected, 1):
        image, valid = source.read(tile.window, (grid.tile_size, grid.tile_size))
        if valid.any():
            answer = vlm.ask(image, question, grounded, max_new_tokens)
            asked = AskedTile(tile.row, tile.col, window_footprint(grid.transform, tile.window), answer.text,
                              len(answer.boxes), score)
            tiles.append(asked)
            candidates += _objects(grid, tile, asked.label, answer, area)
            dropped += answer.dropped
            if report:
                report.add_tile(_reply(asked, None, source), image, answer.boxes, score)
        feedback.progress(100.0 * done / count)
        pace.done(done)
        check_cancelled(feedback)
    kept = merge_duplicates([o.polygon for o, _ in candidates], [o.label for o, _ in candidates],
                            [p for _, p in candidates], [o.tile for o, _ in candidates], NMS_IOU, EDGE_COVER)
    objects = [candidates[i][0] for i in kept]
    counts = {t.label: 0 for t in tiles}
    for obj in objects:
        counts[obj.tile] += 1
    replies = [_reply(t, counts[t.label] if grounded else None, source) for t in tiles]
    return tiles, objects, replies, dropped


def _objects(grid: TileGrid, tile: Tile, label: str, answer: Answer, area: Polygon) -> list[tuple[GroundedObject, tuple]]:
    """The answer's boxes on the map (clipped to the grid's area), each with its merge
    priority: the model's score, then how far the box is from the tile's edge (a box cut
    by the edge is the weaker view of an object its neighbour sees whole)."""
    transform = grid.tile_transform(tile)
    found = []
    for box in answer.boxes:
        polygon = box_polygon(transform, box.x0, box.y0, box.x1, box.y1, box.angle).intersection(area)
        if polygon.is_empty or polygon.geom_type != "Polygon":   # touching the area only: a line or a point
            continue
        margin = min(box.x0, box.y0, grid.tile_size - box.x1, grid.tile_size - box.y1)
        priority = (box.score if box.score is not None else 0.0, margin)
        found.append((GroundedObject(box.label, box.score, box.angle, label, polygon), priority))
    return found


def _reply(tile: AskedTile, count: int | None, source: RasterSource) -> TileReply:
    centre = tile.footprint.centroid  # .x/.y: under QGIS, coords may carry a z from QGIS's own GEOS
    x, y = centre.x, centre.y
    digits = 6 if source.dataset.crs.is_geographic else 1
    return TileReply(tile.label, f"({x:.{digits}f}, {y:.{digits}f})", tile.text, count)


def _notes(tiles: list[AskedTile], grid_size: int, objects: list[GroundedObject], dropped: int,
           feedback: Feedback) -> list[str]:
    """What the log and the report say about the run."""
    notes = [f"Asked {len(tiles)} of {grid_size} tile(s); {len(objects)} object(s) after merging duplicates "
             f"across tile overlaps."]
    if dropped:
        notes.append(f"{dropped} malformed or degenerate box(es) in the model's output were left out.")
        feedback.warning(notes[-1])
    feedback.info(notes[0])
    return notes


def _masks(raster_path: str, objects: list[GroundedObject], segment_model: ModelOptions, tiling: TilingOptions,
           feedback: Feedback) -> list[GroundedObject]:
    """GeoPixel-style masks: SAM prompted with each object's box; each mask polygon keeps
    the label, score and tile of the box that covers most of it."""
    prompts = []
    for number, obj in enumerate(objects, 1):
        xmin, ymin, xmax, ymax = obj.polygon.bounds
        prompts.append(MapPrompt("box", ((xmin, ymin), (xmax, ymax)), 1, obj.label, number))
    result = segment(raster_path, segment_model, prompts,
                     tiling=TilingOptions(resolution=tiling.resolution, extent=tiling.extent, bands=tiling.bands),
                     feedback=feedback)
    masks = []
    for region in result.regions:
        if region.prompt_id is None:
            continue
        source = objects[region.prompt_id - 1]
        masks.append(GroundedObject(source.label, source.score, 0.0, source.tile, region.polygon))
    return masks
