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
from typing import Iterator, Sequence

import numpy as np
from shapely.geometry import LineString, Polygon

from ..errors import InputError, ModelError
from ..geo.centerlines import raster_centerlines
from ..geo.files import atomic_path
from ..geo.georef import map_to_pixels, pixel_size
from ..geo.gpkg import wkb_2d
from ..geo.grid import Tile, TileGrid
from ..geo.mask_raster import MaskRasterWriter, check_written, class_colours, class_tags
from ..geo.morphology import close_mask, mask_window
from ..geo.prior import PriorReader, prior_class_names
from ..geo.prompts import sample_line
from ..geo.raster import RasterSource
from ..geo.vectorise import polygon_area_m2, raster_regions, simplify_polygon
from ..models.base import Embedding, PromptSegmenter, SegmentPrompt, Segmentation
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
MIN_BOX_PX = 2              # a box (or its part on a tile) narrower than this has no area to segment
MAX_CLASSES = 255           # the class raster is uint8 with a colour table; 0 is no class
FLAT_BOX_ADVICE = (f"A box (a polygon prompt's bounding box) needs two distinct corners at least {MIN_BOX_PX} "
                   "pixels apart, and a polygon of zero area (a point, or collinear vertices) has none: draw the "
                   "polygon around the object, or give the object as a point prompt (label 1).")
# Objects decoded in one pass of the mask decoder. Each object has image-sized activations
# of its own, so a batch saves calls, not work: on 2 CPU cores vit_b's decoder took 50-54
# ms an object alone or in twos, 53-57 in fours and 90 in sixteens (memory traffic).
DECODE_BATCH = 2
DECODE_BATCH_POINTS = 1024  # ... fewer when they carry many points (attention memory grows with points)
# From this many masks on a CPU, the log says what REFINE's second decode of each costs.
REFINE_ADVICE_MASKS = 500


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
        segmenter = load_segmenter(model.name, model.device, model.precision, model_type, log=feedback.info)
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
        if len(classes) > MAX_CLASSES:
            from_prior = f", {len(prior_names)} of them from the prior raster" if prior_names else ""
            raise InputError(f"There are {len(classes)} classes{from_prior}, but the class raster holds at most "
                             f"{MAX_CLASSES} (values 1 to {MAX_CLASSES}, each with its colour). Merge classes (in the "
                             "prior raster or the prompts' class field), or segment them in several runs.")
        mapped, flat = map_prompts(source, grid, prompts, line_spacing_m, feedback)
        routed = _route(grid, mapped, classes)
        if prompts and not routed and not prior_path and not texts:
            raise InputError(_nothing_routed(len(prompts), mapped, flat))
        masks = sum(len(tile_prompts) for tile_prompts in routed.values())
        if refine and masks >= REFINE_ADVICE_MASKS and segmenter.device.type == "cpu":
            feedback.info(f"{masks:,} masks to decode, each twice: REFINE gives SAM its first mask as a dense "
                          "prompt (as GeoSAM does). Without REFINE the decoding takes about half as long.")
        cache = embedding_cache(source, model, model_type, segmenter, grid)
        work_dir = tempfile.mkdtemp(prefix="geovl-segment-")
        try:
            prior_codes = {value: classes.index(name) + 1 for value, name in prior_names.items()}
            run = _TileRun(source, grid, segmenter, cache, classes, prior_codes, refine, closing_px, feedback)
            class_path = mask_path or os.path.join(work_dir, "classes.tif")
            with atomic_path(class_path) as class_tmp, atomic_path(os.path.join(work_dir, "labels.tif")) as label_tmp:
                run.write(routed, prior_path, texts, label_tmp, class_tmp)
            feedback.info(f"{run.tiles_decoded} tile(s) decoded, {run.tiles_encoded} encoded in this run, "
                          f"{run.masks_decoded} mask(s).")
            regions = _regions(run, source, classes, min_area_m2, simplify, os.path.join(work_dir, "labels.tif"))
            lines = _centerlines(class_path, classes, road_class, feedback) if centerlines else []
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
        return SegmentResult(regions, classes, source.crs_wkt, mask_path, lines, run.tiles_encoded,
                             run.tiles_decoded, run.masks_decoded)


def embedding_cache(source: RasterSource, model: ModelOptions, model_type: str, segmenter: PromptSegmenter,
                    grid: TileGrid) -> EmbeddingCache:
    """The tile embeddings of this raster, model and grid (shared by geovl:segment and the
    segment map tool)."""
    return EmbeddingCache({"version": CACHE_VERSION, "raster": source.fingerprint(),
                           "model": model_identity(model.name), "model_type": model_type,
                           "dtype": dtype_name(segmenter.dtype), "bands": source.bands,
                           "normalisation": source.stretch.as_dict(), "grid": grid_settings(grid)})


def tile_embedding(cache: EmbeddingCache, segmenter: PromptSegmenter, tile: Tile,
                   image: np.ndarray) -> tuple[Embedding, bool]:
    """The tile's embedding from the cache, or encoded and cached; and whether it was encoded."""
    embedding = cache.load(tile.row, tile.col)
    if embedding is not None:
        return embedding, False
    embedding = segmenter.encode(image)
    cache.save(tile.row, tile.col, embedding)
    return embedding, True


def map_prompts(source: RasterSource, grid: TileGrid, prompts: Sequence[MapPrompt], line_spacing_m: float,
                feedback: Feedback) -> tuple[list[tuple[MapPrompt, np.ndarray]], list[MapPrompt]]:
    """Each prompt with its coordinates in the output pixels of the grid's area (lines
    sampled into points), and the boxes with no area. Prompts wholly off the area, and
    boxes with no area, are dropped with a warning."""
    area_transform = grid.out_transform()
    width, height = grid.area.width / grid.scale, grid.area.height / grid.scale
    spacing = (line_spacing_m / source.metres_per_unit() if line_spacing_m
               else LINE_SPACING_PX * grid.scale * pixel_size(grid.transform)[0])
    mapped, flat = [], []
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
        if not on_area:
            feedback.warning(f"Prompt {prompt.prompt_id} ({prompt.kind}) lies outside the raster (or the extent) "
                             "and was skipped.")
        elif prompt.kind == "box" and min(x1 - x0, y1 - y0) < MIN_BOX_PX:
            flat.append(prompt)
            feedback.warning(f"Prompt {prompt.prompt_id} is a box with no area and was skipped. {FLAT_BOX_ADVICE}")
        else:
            mapped.append((prompt, pixels))
    return mapped, flat


def _nothing_routed(count: int, mapped: list[tuple[MapPrompt, np.ndarray]], flat: list[MapPrompt]) -> str:
    """Why no prompt reached a tile as an object prompt."""
    if flat and not any(prompt.label for prompt, _ in mapped):
        ids = ", ".join(str(prompt.prompt_id) for prompt in flat[:5]) + (", ..." if len(flat) > 5 else "")
        return (f"The box prompt{'s' if len(flat) > 1 else ''} ({ids}) {'have' if len(flat) > 1 else 'has'} no area "
                f"and no other prompt marks an object. {FLAT_BOX_ADVICE}")
    if not mapped:
        return (f"None of the {count} prompts lies on the raster (within the extent). "
                "Check that the prompt layer covers the raster and that its CRS is right.")
    if any(prompt.label for prompt, _ in mapped):
        return (f"The object prompts only touch the edge of the raster (or the extent): less than {MIN_BOX_PX} "
                "pixels of them lie on it. Move them onto the raster, or widen the extent.")
    return ("Every prompt on the raster is a background point (label 0): add at least one point, "
            "box or line on an object (label 1).")


def _tile_range(grid: TileGrid, low: float, high: float, count: int) -> range:
    """Rows (or columns) of the tiles whose output-pixel span meets [low, high]."""
    step = grid.step_src / grid.scale
    first = max(0, math.floor((low - grid.tile_size) / step) + 1)
    return range(first, min(count - 1, math.floor(high / step)) + 1)


def points_by_tile(grid: TileGrid, pixels: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """The points (output pixels of the grid's area) of each tile that holds some, in that
    tile's pixels and in their order. Tiles are a regular grid, so a point's tiles are
    found arithmetically: at most ceil(tile / step) per axis, from the first that reaches it."""
    step, size = grid.step_src / grid.scale, grid.tile_size
    first = np.maximum(0, np.floor((pixels - size) / step).astype(np.int64) + 1)  # (N, 2): first col, row
    reach = math.ceil(size / step)
    hits = []
    for dc in range(reach):
        for dr in range(reach):
            cols, rows = first[:, 0] + dc, first[:, 1] + dr
            local = pixels - np.stack([cols, rows], axis=1) * step
            inside = ((local >= 0) & (local < size)).all(axis=1) & (cols < grid.cols) & (rows < grid.rows)
            hits.append((rows[inside], cols[inside], np.flatnonzero(inside), local[inside]))
    rows, cols, index, local = (np.concatenate(parts) for parts in zip(*hits))
    if not len(rows):
        return {}
    order = np.lexsort((index, cols, rows))
    rows, cols, local = rows[order], cols[order], local[order]
    starts = np.flatnonzero(np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])])
    ends = np.r_[starts[1:], len(rows)]
    return {(int(rows[a]), int(cols[a])): local[a:b] for a, b in zip(starts, ends)}


def box_by_tile(grid: TileGrid, pixels: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """A box (its two corners) clipped to each tile it covers with at least MIN_BOX_PX a
    side, as (4,) x0, y0, x1, y1 in that tile's pixels."""
    step, size = grid.step_src / grid.scale, grid.tile_size
    (x0, y0), (x1, y1) = pixels.min(axis=0), pixels.max(axis=0)
    found = {}
    for row in _tile_range(grid, y0, y1, grid.rows):
        for col in _tile_range(grid, x0, x1, grid.cols):
            box = np.clip([x0 - col * step, y0 - row * step, x1 - col * step, y1 - row * step], 0, size)
            if box[2] - box[0] >= MIN_BOX_PX and box[3] - box[1] >= MIN_BOX_PX:
                found[(row, col)] = box
    return found


def _route(grid: TileGrid, mapped: list[tuple[MapPrompt, np.ndarray]],
           classes: list[str]) -> dict[tuple[int, int], list[_TilePrompt]]:
    """Tile prompts per tile, in tile pixels, in the order of `mapped`. Background points
    join every object prompt of their class on the tile (SamPredictor's one prompt per
    object, its background clicks with it); a box is clipped to each tile it crosses.
    Linear in the number of prompts: each is placed on its tiles arithmetically, and
    each tile's background points of a class are gathered once."""
    codes = {name: code for code, name in enumerate(classes, start=1)}
    objects: dict[tuple[int, int], list[tuple[MapPrompt, np.ndarray]]] = {}
    background: dict[tuple[int, int], dict[str, list[np.ndarray]]] = {}
    for prompt, pixels in mapped:
        parts = box_by_tile(grid, pixels) if prompt.kind == "box" else points_by_tile(grid, pixels)
        for key, local in parts.items():
            if prompt.label == 0:
                background.setdefault(key, {}).setdefault(prompt.class_name, []).append(local)
            else:
                objects.setdefault(key, []).append((prompt, local))
    routed = {}
    for key, items in objects.items():
        joined = {name: np.concatenate(parts).astype(np.float32) for name, parts in background.get(key, {}).items()}
        tile_prompts = []
        for prompt, local in items:
            bg = joined.get(prompt.class_name, np.zeros((0, 2), np.float32))
            bg_labels = np.zeros(len(bg), np.int64)
            if prompt.kind == "box":
                tile_prompt = SegmentPrompt(bg, bg_labels, local.astype(np.float32))
            else:
                tile_prompt = SegmentPrompt(np.concatenate([local.astype(np.float32), bg]),
                                            np.r_[np.ones(len(local), np.int64), bg_labels])
            single_point = tile_prompt.box is None and len(tile_prompt.points) == 1
            tile_prompts.append(_TilePrompt(prompt.prompt_id, codes[prompt.class_name], tile_prompt, single_point))
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
            tiles_with_data = prior_prompts = 0
            written = np.zeros(len(self.classes) + 1, np.int64)   # pixels of each class value written
            for done, tile in enumerate(tiles, 1):
                check_cancelled(self.feedback)
                image, valid = source.read(tile.window, (grid.tile_size, grid.tile_size))
                from_prior = self._prior_prompts(prior, tile, valid)
                tile_prompts = routed.get((tile.row, tile.col), []) + from_prior
                tiles_with_data += bool(valid.any())
                prior_prompts += len(from_prior)
                if valid.any() and (tile_prompts or texts):
                    label = self._segment_tile(tile, image, valid, tile_prompts, texts)
                    (r0, r1, c0, c1), (row_off, col_off) = grid.core(tile)
                    core = label[r0:r1, c0:c1]
                    if core.any():
                        core_classes = self._class_of_label()[core].astype(np.uint8)
                        labels.write(core, row_off, col_off)
                        class_raster.write(core_classes, row_off, col_off)
                        written += np.bincount(core_classes.ravel(), minlength=len(written))
                self.feedback.progress(90.0 * done / max(1, len(tiles)))
            # Raised inside the writers' block, so neither raster is left behind.
            if not tiles_with_data:
                raise InputError("The raster is nodata everywhere the prompts (or the prior) fall within the extent: "
                                 "there is no image to segment. Check the raster's nodata value and its bands, or "
                                 "put the prompts (or the extent) on imagery.")
            if prior is not None and not prior_prompts and not routed and not texts:
                raise InputError(f"The prior raster '{prior_path}' has no class pixels (values above 0) on the "
                                 "raster's valid pixels within the extent, so it gives no prompts. Check that it "
                                 "covers this raster (and the extent), or give prompts instead.")

        check_written(class_path, {code: int(n) for code, n in enumerate(written[1:], 1)})
        check_written(label_path, {1: int(written[1:].sum())})

    def _segment_tile(self, tile: Tile, image: np.ndarray, valid: np.ndarray, tile_prompts: list[_TilePrompt],
                      texts: Sequence[str]) -> np.ndarray:
        """Label of each pixel: the record of the best-scored mask that covers it (0: none;
        equal scores: the earlier prompt). Masks are laid down as they are decoded, so a
        tile's memory does not grow with its number of prompts."""
        embedding, encoded = tile_embedding(self.cache, self.segmenter, tile, image)
        self.tiles_encoded += encoded
        self.tiles_decoded += 1
        size = image.shape[:2]
        label = np.zeros(size, np.int32)
        best = np.full(size, -np.inf, np.float32)
        winner = np.full(size, np.iinfo(np.int32).max, np.int32)   # order of the mask that holds a pixel

        def lay(order: int, prompt_id: int | None, code: int, result: Segmentation) -> None:
            self.masks_decoded += 1
            window = mask_window(result.mask, self.closing_px + 1)   # all the closed mask can reach
            if window is None:
                return
            score = np.float32(result.score)
            mask = close_mask(result.mask[window], self.closing_px) & valid[window]
            mask &= (score > best[window]) | ((score == best[window]) & (order < winner[window]))
            if mask.any():
                self.records.append(_Record(prompt_id, code, result.score))
                label[window][mask], best[window][mask], winner[window][mask] = len(self.records), score, order

        for order, result in self._decode(embedding, size, tile_prompts):
            lay(order, tile_prompts[order].prompt_id, tile_prompts[order].class_code, result)
        order = len(tile_prompts)
        for text in texts:
            for result in self.segmenter.decode_text(embedding, size, text):
                lay(order, None, self.classes.index(text) + 1, result)
                order += 1
        return label

    def _decode(self, embedding, size: tuple[int, int],
                tile_prompts: list[_TilePrompt]) -> Iterator[tuple[int, Segmentation]]:
        """(index in tile_prompts, mask) of every tile prompt, decoded in batches of one
        prompt shape, as SamPredictor.predict_torch takes several objects at once."""
        for batch in _batches(tile_prompts):
            check_cancelled(self.feedback)
            prompts = [tile_prompts[i].prompt for i in batch]
            results = self.segmenter.decode_batch(embedding, size, prompts, tile_prompts[batch[0]].multimask,
                                                  with_masks=not self.refine)
            if self.refine:  # GeoSAM's dense prompt: the first pass's logits, same sparse prompts
                dense = [replace(prompt, mask_logits=result.logits) for prompt, result in zip(prompts, results)]
                results = self.segmenter.decode_batch(embedding, size, dense)
            yield from zip(batch, results)

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


def _batches(tile_prompts: list[_TilePrompt]) -> list[list[int]]:
    """Indices of the tile prompts grouped by prompt shape (number of points, box or not,
    multimask or not), in chunks small enough for one pass of the mask decoder."""
    groups: dict[tuple[int, bool, bool], list[int]] = {}
    for index, tp in enumerate(tile_prompts):
        groups.setdefault((len(tp.prompt.points), tp.prompt.box is None, tp.multimask), []).append(index)
    batches = []
    for (points, _, _), indices in groups.items():
        size = max(1, min(DECODE_BATCH, DECODE_BATCH_POINTS // (points + 1)))
        batches += [indices[i:i + size] for i in range(0, len(indices), size)]
    return batches


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
