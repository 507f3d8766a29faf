"""Prompted segmentation over the tiles of a raster (the GeoSAM recipe).

Prompts (points, boxes, lines sampled into points, points sampled from a prior class
raster, or text concepts) are routed to every tile whose window holds them. Each tile is
encoded once per raster/model/grid and its embedding cached, so new prompts only decode.
Each tile writes the central, non-overlapping part of its result into a label raster;
vectorising that raster in windows and dissolving per class makes an object that
crosses tile borders one polygon.
"""
from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
from shapely.geometry import LineString, Polygon

from ..errors import InputError, ModelError
from ..geo.centerlines import raster_centerlines
from ..geo.georef import map_to_pixels, pixel_size
from ..geo.gpkg import wkb_2d
from ..geo.grid import Tile, TileGrid
from ..geo.mask_raster import MaskRasterWriter, class_colours, class_tags
from ..geo.morphology import close_mask
from ..geo.prior import PriorReader, prior_class_names
from ..geo.prompts import sample_line
from ..geo.raster import RasterSource
from ..geo.vectorise import polygon_area_m2, raster_regions, simplify_polygon
from ..models.base import PromptSegmenter, SegmentPrompt, Segmentation
from ..models.device import dtype_name
from ..models.resolver import load_segmenter, model_identity
from .embedding_cache import EmbeddingCache
from .feedback import Feedback, QuietFeedback, check_cancelled
from .options import ModelOptions, TilingOptions
from .tiling import grid_settings, plan

CACHE_VERSION = 1
PRIOR_POINTS = (32, 16)     # foreground, background points sampled per class and tile from a prior
LINE_SPACING_PX = 32        # default spacing of points along line prompts, in output pixels
CLOSING_RADIUS_PX = 2       # morphological close of each mask (GeoSAM's clean-up)


@dataclass(frozen=True)
class MapPrompt:
    """A prompt in the raster's CRS: a point (one coordinate), a box (two corners) or a
    line (its vertices); label 1 marks the object, 0 the background."""
    kind: str
    coords: tuple[tuple[float, float], ...]
    label: int = 1
    class_name: str = ""
    prompt_id: int = 0


@dataclass
class SegmentedRegion:
    class_name: str
    score: float
    area_m2: float
    prompt_id: int | None     # the prompt that covers most of the region (None: prior or text)
    polygon: Polygon

    @property
    def wkb(self) -> bytes:
        return wkb_2d(self.polygon)


@dataclass
class Centerline:
    class_name: str
    line: LineString

    @property
    def wkb(self) -> bytes:
        return wkb_2d(self.line)


@dataclass
class SegmentResult:
    regions: list[SegmentedRegion]
    classes: list[str]
    crs_wkt: str
    mask_path: str | None
    centerlines: list[Centerline] = field(default_factory=list)
    tiles_encoded: int = 0
    tiles_decoded: int = 0
    masks_decoded: int = 0


@dataclass
class _TilePrompt:
    prompt_id: int | None
    class_code: int
    prompt: SegmentPrompt
    multimask: bool


@dataclass
class _Record:
    prompt_id: int | None
    class_code: int
    score: float


def segment(raster_path: str, model: ModelOptions, prompts: Sequence[MapPrompt] = (),
            prior_path: str | None = None, texts: Sequence[str] = (), tiling: TilingOptions = TilingOptions(),
            model_type: str = "auto", refine: bool = True, min_area_m2: float = 0.0, simplify: float = 0.0,
            line_spacing_m: float = 0.0, closing_px: int = CLOSING_RADIUS_PX, default_class: str = "object",
            mask_path: str | None = None, centerlines: bool = False, road_class: str = "road",
            feedback: Feedback | None = None) -> SegmentResult:
    """Segment the objects that `prompts`, a prior class raster and/or text concepts
    point at. Polygons come back in the raster's CRS; `mask_path` receives the class
    raster (uint8, 0 = none)."""
    feedback = feedback or QuietFeedback()
    texts = [t.strip() for t in texts if t.strip()]
    if not prompts and not prior_path and not texts:
        raise InputError("Give prompts (a point, box or line layer), a prior class raster, or text concepts: "
                         "there is nothing to segment.")
    with RasterSource(raster_path, list(tiling.bands) if tiling.bands else None) as source:
        segmenter = load_segmenter(model.name, model.device, model.precision, model_type)
        feedback.info(f"Model {model.name} on {segmenter.device} ({dtype_name(segmenter.dtype)}).")
        if texts and not segmenter.takes_text:
            raise ModelError(f"The model '{model.name}' cannot take text prompts. Use a SAM 3 model (preset sam3) "
                             "for text, or give point, box or line prompts instead.")
        if prompts and not segmenter.takes_points:
            raise ModelError(f"The model '{model.name}' takes text concepts only (TEXT), not point, box or line "
                             "prompts. Use a SAM or SAM 2 model for those (e.g. the preset sam-vit-b).")
        grid = plan(source, tiling, segmenter.input_size)
        prompts = [replace(p, class_name=p.class_name or default_class) for p in prompts]
        prior_names = prior_class_names(prior_path) if prior_path else {}
        classes = list(dict.fromkeys([*(p.class_name for p in prompts), *prior_names.values(), *texts]))
        mapped = _map_prompts(source, grid, prompts, line_spacing_m, feedback)
        routed = _route(grid, mapped, classes)
        if prompts and not routed and not prior_path and not texts:
            if not mapped:
                raise InputError(f"None of the {len(prompts)} prompts lies on the raster (within the extent). "
                                 "Check that the prompt layer covers the raster and that its CRS is right.")
            raise InputError("Every prompt on the raster is a background point (label 0): add at least one point, "
                             "box or line on an object (label 1).")
        cache = EmbeddingCache({"version": CACHE_VERSION, "raster": source.fingerprint(),
                                "model": model_identity(model.name), "model_type": model_type,
                                "dtype": dtype_name(segmenter.dtype), "bands": source.bands,
                                "normalisation": source.stretch.as_dict(), "grid": grid_settings(grid)})
        work_dir = tempfile.mkdtemp(prefix="geovl-segment-")
        try:
            prior_codes = {value: classes.index(name) + 1 for value, name in prior_names.items()}
            run = _TileRun(source, grid, segmenter, cache, classes, prior_codes, refine, closing_px, feedback)
            class_path = mask_path or os.path.join(work_dir, "classes.tif")
            run.write(routed, prior_path, texts, os.path.join(work_dir, "labels.tif"), class_path)
            feedback.info(f"{run.tiles_decoded} tile(s) decoded, {run.tiles_encoded} encoded in this run, "
                          f"{run.masks_decoded} mask(s).")
            regions = _regions(run, source, classes, min_area_m2, simplify, os.path.join(work_dir, "labels.tif"))
            lines = _centerlines(class_path, classes, road_class, feedback) if centerlines else []
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
        return SegmentResult(regions, classes, source.crs_wkt, mask_path, lines, run.tiles_encoded,
                             run.tiles_decoded, run.masks_decoded)


def _map_prompts(source: RasterSource, grid: TileGrid, prompts: Sequence[MapPrompt], line_spacing_m: float,
                 feedback: Feedback) -> list[tuple[MapPrompt, np.ndarray]]:
    """Each prompt with its coordinates in the output pixels of the grid's area (lines
    sampled into points); prompts wholly off the area are dropped with a warning."""
    area_transform = grid.out_transform()
    width, height = grid.area.width / grid.scale, grid.area.height / grid.scale
    spacing = (line_spacing_m / source.metres_per_unit() if line_spacing_m
               else LINE_SPACING_PX * grid.scale * pixel_size(grid.transform)[0])
    mapped = []
    for prompt in prompts:
        if prompt.kind == "box" and prompt.label == 0:
            feedback.warning(f"Prompt {prompt.prompt_id} is a box with label 0: a box cannot mark background, so it "
                             "was skipped. Mark background with points (label 0).")
            continue
        coords = sample_line(prompt.coords, spacing) if prompt.kind == "line" else np.asarray(prompt.coords)
        pixels = map_to_pixels(area_transform, coords)
        if prompt.kind == "box":
            (x0, y0), (x1, y1) = pixels.min(axis=0), pixels.max(axis=0)
            on_area = x1 > 0 and y1 > 0 and x0 < width and y0 < height
        else:
            inside = (pixels[:, 0] >= 0) & (pixels[:, 1] >= 0) & (pixels[:, 0] < width) & (pixels[:, 1] < height)
            pixels, on_area = pixels[inside], bool(inside.any())
        if on_area:
            mapped.append((prompt, pixels))
        else:
            feedback.warning(f"Prompt {prompt.prompt_id} ({prompt.kind}) lies outside the raster (or the extent) "
                             "and was skipped.")
    return mapped


def _tile_range(grid: TileGrid, low: float, high: float, count: int) -> range:
    """Rows (or columns) of the tiles whose output-pixel span meets [low, high]."""
    step = grid.step_src / grid.scale
    first = max(0, math.floor((low - grid.tile_size) / step) + 1)
    return range(first, min(count - 1, math.floor(high / step)) + 1)


def _route(grid: TileGrid, mapped: list[tuple[MapPrompt, np.ndarray]],
           classes: list[str]) -> dict[tuple[int, int], list[_TilePrompt]]:
    """Tile prompts per tile, in tile pixels. Background points join every object prompt
    of their class on the tile; a box is clipped to each tile it crosses."""
    step = grid.step_src / grid.scale
    size = grid.tile_size
    per_tile: dict[tuple[int, int], list[tuple[MapPrompt, np.ndarray]]] = {}
    for prompt, pixels in mapped:
        (x0, y0), (x1, y1) = pixels.min(axis=0), pixels.max(axis=0)
        for row in _tile_range(grid, y0, y1, grid.rows):
            for col in _tile_range(grid, x0, x1, grid.cols):
                local = pixels - (col * step, row * step)
                if prompt.kind != "box":
                    local = local[((local >= 0) & (local < size)).all(axis=1)]
                if len(local):
                    per_tile.setdefault((row, col), []).append((prompt, local))
    routed = {}
    for key, items in per_tile.items():
        tile_prompts = []
        for prompt, local in items:
            if prompt.label == 0:
                continue
            code = classes.index(prompt.class_name) + 1
            background = np.concatenate([pts for p, pts in items if p.label == 0 and p.class_name == prompt.class_name]
                                        or [np.zeros((0, 2))])
            if prompt.kind == "box":
                box = np.clip([*local.min(axis=0), *local.max(axis=0)], 0, size)
                if box[2] - box[0] < 2 or box[3] - box[1] < 2:
                    continue
                tile_prompt = SegmentPrompt(background.astype(np.float32), np.zeros(len(background), np.int64),
                                            box.astype(np.float32))
            else:
                points = np.concatenate([local, background]).astype(np.float32)
                labels = np.r_[np.ones(len(local), np.int64), np.zeros(len(background), np.int64)]
                tile_prompt = SegmentPrompt(points, labels)
            single_point = tile_prompt.box is None and len(tile_prompt.points) == 1
            tile_prompts.append(_TilePrompt(prompt.prompt_id, code, tile_prompt, single_point))
        if tile_prompts:
            routed[key] = tile_prompts
    return routed


class _TileRun:
    """Encodes (or loads) each tile with work, decodes its prompts, and writes the
    central part of the result into the label and class rasters."""

    def __init__(self, source: RasterSource, grid: TileGrid, segmenter: PromptSegmenter, cache: EmbeddingCache,
                 classes: list[str], prior_codes: dict[int, int], refine: bool, closing_px: int, feedback: Feedback):
        self.source, self.grid, self.segmenter, self.cache = source, grid, segmenter, cache
        self.classes, self.prior_codes, self.refine, self.feedback = classes, prior_codes, refine, feedback
        self.closing_px = closing_px
        self.records: list[_Record] = []
        self.tiles_encoded = self.tiles_decoded = self.masks_decoded = 0

    def write(self, routed, prior_path, texts, label_path: str, class_path: str) -> None:
        grid, source = self.grid, self.source
        height, width = grid.out_shape
        transform = grid.out_transform()
        tiles = [t for t in grid.tiles() if (t.row, t.col) in routed or prior_path or texts]
        classes_text = ", ".join(f"{i + 1} = {name}" for i, name in enumerate(self.classes))
        with MaskRasterWriter(label_path, width, height, transform, source.crs_wkt, dtype="int32") as labels, \
                MaskRasterWriter(class_path, width, height, transform, source.crs_wkt,
                                 colormap=class_colours(len(self.classes)), tags=class_tags(self.classes),
                                 description=f"GeoVL classes: {classes_text}") as class_raster, \
                (PriorReader(prior_path, source.dataset) if prior_path else contextlib.nullcontext()) as prior:
            for done, tile in enumerate(tiles, 1):
                check_cancelled(self.feedback)
                image, valid = source.read(tile.window, (grid.tile_size, grid.tile_size))
                tile_prompts = routed.get((tile.row, tile.col), []) + self._prior_prompts(prior, tile, valid)
                if valid.any() and (tile_prompts or texts):
                    label = self._segment_tile(tile, image, valid, tile_prompts, texts)
                    (r0, r1, c0, c1), (row_off, col_off) = grid.core(tile)
                    core = label[r0:r1, c0:c1]
                    if core.any():
                        labels.write(core, row_off, col_off)
                        class_raster.write(self._class_of_label()[core].astype(np.uint8), row_off, col_off)
                self.feedback.progress(90.0 * done / max(1, len(tiles)))

    def _segment_tile(self, tile: Tile, image: np.ndarray, valid: np.ndarray, tile_prompts: list[_TilePrompt],
                      texts: Sequence[str]) -> np.ndarray:
        """Label of each pixel: the record of the best-scored mask that covers it (0: none)."""
        embedding = self.cache.load(tile.row, tile.col)
        if embedding is None:
            embedding = self.segmenter.encode(image)
            self.cache.save(tile.row, tile.col, embedding)
            self.tiles_encoded += 1
        self.tiles_decoded += 1
        size = image.shape[:2]
        results: list[tuple[int | None, int, Segmentation]] = []
        for tp in tile_prompts:
            check_cancelled(self.feedback)
            result = self.segmenter.decode(embedding, size, tp.prompt, tp.multimask)
            if self.refine:  # GeoSAM's dense prompt: the first pass's logits, same sparse prompts
                dense = SegmentPrompt(tp.prompt.points, tp.prompt.labels, tp.prompt.box, result.logits)
                result = self.segmenter.decode(embedding, size, dense)
            results.append((tp.prompt_id, tp.class_code, result))
        for text in texts:
            code = self.classes.index(text) + 1
            results += [(None, code, result) for result in self.segmenter.decode_text(embedding, size, text)]
        self.masks_decoded += len(results)
        label = np.zeros(size, np.int32)
        best = np.full(size, -np.inf, np.float32)
        for prompt_id, code, result in results:
            mask = close_mask(result.mask, self.closing_px) & valid & (result.score > best)
            if mask.any():
                self.records.append(_Record(prompt_id, code, result.score))
                label[mask] = len(self.records)
                best[mask] = result.score
        return label

    def _prior_prompts(self, prior: PriorReader | None, tile: Tile, valid: np.ndarray) -> list[_TilePrompt]:
        """GeoSAM's sparse prompts: per prior class on the tile, foreground points from its
        pixels and background points from the other valid pixels (seeded per tile)."""
        if prior is None:
            return []
        values = prior.read(tile.window, valid.shape)
        rng = np.random.default_rng([tile.row, tile.col])
        prompts = []
        for value in np.unique(values[valid & (values > 0)]):
            fg = _sample_pixels(valid & (values == value), PRIOR_POINTS[0], rng)
            bg = _sample_pixels(valid & (values != value), PRIOR_POINTS[1], rng)
            points = np.concatenate([fg, bg]).astype(np.float32)
            labels = np.r_[np.ones(len(fg), np.int64), np.zeros(len(bg), np.int64)]
            prompts.append(_TilePrompt(None, self.prior_codes[int(value)], SegmentPrompt(points, labels), False))
        return prompts

    def _class_of_label(self) -> np.ndarray:
        return np.array([0] + [r.class_code for r in self.records], np.int64)


def _sample_pixels(mask: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Up to `count` (x, y) pixel centres drawn without replacement from `mask`."""
    rows, cols = np.nonzero(mask)
    pick = rng.choice(len(rows), size=min(count, len(rows)), replace=False)
    return np.stack([cols[pick] + 0.5, rows[pick] + 0.5], axis=1)


def _regions(run: _TileRun, source: RasterSource, classes: list[str], min_area_m2: float, simplify: float,
             label_path: str) -> list[SegmentedRegion]:
    """Polygons of the label raster, one per connected area of a class, with the score
    (area-weighted over the masks that made it) and the prompt covering most of it."""
    if not run.records:
        return []
    geographic = source.dataset.crs.is_geographic
    unit = 1.0 if geographic else source.dataset.crs.linear_units_factor[1]
    regions = []
    for region in raster_regions(label_path, {i + 1: r.class_code for i, r in enumerate(run.records)}):
        polygon = simplify_polygon(region.polygon, simplify)
        if polygon is None:
            continue
        area = polygon_area_m2(polygon, geographic, unit)
        if area < min_area_m2:
            continue
        total = sum(region.label_areas.values())
        score = sum(run.records[label - 1].score * a for label, a in region.label_areas.items()) / total
        main = run.records[max(region.label_areas, key=region.label_areas.get) - 1]
        regions.append(SegmentedRegion(classes[region.class_code - 1], score, area, main.prompt_id, polygon))
    run.feedback.progress(100.0)
    return regions


def _centerlines(class_path: str, classes: list[str], road_class: str, feedback: Feedback) -> list[Centerline]:
    """Skeleton lines of the class named `road_class` (any case), or of the only class."""
    names = [name.lower() for name in classes]
    code = names.index(road_class.lower()) + 1 if road_class.lower() in names else 1 if len(classes) == 1 else 0
    if not code:
        feedback.warning(f"There is no class '{road_class}' among {', '.join(classes)}: no centre lines were made. "
                         "Name the road class to draw centre lines of.")
        return []
    return [Centerline(classes[code - 1], line) for line in raster_centerlines(class_path, code)]
