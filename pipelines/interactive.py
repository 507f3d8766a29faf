"""Click-to-segment: one object from the points and the box a user places on a raster,
as the segment map tool asks for it after each click.

A session keeps the raster, the model and the tiles it has touched open, so a new click
only decodes: each tile is read and encoded (or loaded from the embedding cache that
geovl:segment uses, so either one fills it for the other) once per session. The
object's prompts go to every tile that holds one of its object points or part of its
box; each such tile decodes them as one SamPredictor prompt, and the central parts of the
tiles' masks are joined, as geovl:segment joins them.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np
from affine import Affine
from rasterio.windows import bounds as window_bounds
from shapely.geometry import Polygon

from ..errors import InputError, ModelError
from ..geo.grid import Tile
from ..geo.morphology import close_mask
from ..geo.raster import RasterSource
from ..geo.vectorise import mask_polygons
from ..models.base import Embedding, SegmentPrompt
from ..models.resolver import load_segmenter
from .feedback import Feedback, QuietFeedback, check_cancelled
from .options import ModelOptions, TilingOptions
from .segment import (CLOSING_RADIUS_PX, MapPrompt, box_by_tile, embedding_cache, map_prompts, points_by_tile,
                      tile_embedding)
from .tiling import plan

OPEN_TILES = 16    # tiles kept in memory per session (image validity and embedding, ~5 MB each for vit_b)


@dataclass
class ObjectMask:
    mask: np.ndarray                 # bool, the object's pixels over the tiles that decoded it
    transform: Affine                # of `mask`, in the raster's CRS
    score: float                     # the model's quality estimate, area-weighted over the tiles
    tiles: list[tuple[int, int]]     # (row, col) of the tiles that decoded it

    @cached_property
    def polygons(self) -> list[Polygon]:
        """The object's areas in the raster's CRS (traced once, when asked: a preview
        shows the mask itself)."""
        return mask_polygons(self.mask, self.transform)


@dataclass
class _OpenTile:
    tile: Tile
    valid: np.ndarray
    embedding: Embedding


class SegmentSession:
    """One raster and one point-promptable segmenter, held open between clicks."""

    def __init__(self, raster_path: str, model: ModelOptions, tiling: TilingOptions = TilingOptions(),
                 model_type: str = "auto", closing_px: int = CLOSING_RADIUS_PX, feedback: Feedback | None = None):
        feedback = feedback or QuietFeedback()
        self.source = RasterSource(raster_path, list(tiling.bands) if tiling.bands else None)
        try:
            self.segmenter = load_segmenter(model.name, model.device, model.precision, model_type, log=feedback.info)
            if not self.segmenter.takes_points:
                raise ModelError(f"The model '{model.name}' takes text concepts only, not clicks. Choose a SAM or "
                                 "SAM 2 model (e.g. the preset sam-vit-b) for the segment tool.")
            self.grid = plan(self.source, tiling, self.segmenter.input_size)
            self.cache = embedding_cache(self.source, model, model_type, self.segmenter, self.grid)
        except BaseException:
            self.source.close()
            raise
        self.closing_px = closing_px
        self._open: OrderedDict[tuple[int, int], _OpenTile] = OrderedDict()
        self._lock = threading.Lock()     # one click at a time: tiles are read and cached once

    def close(self) -> None:
        with self._lock:
            self.source.close()

    def tiles_at(self, x: float, y: float) -> list[tuple[int, int]]:
        """(row, col) of the tiles that hold the map point (x, y)."""
        return sorted(self.object_prompts([MapPrompt("point", ((x, y),), 1)]))

    def tile_bounds(self, keys: Sequence[tuple[int, int]]) -> list[tuple[float, float, float, float]]:
        """(xmin, ymin, xmax, ymax) in the raster's CRS of each tile (row, col): where a
        click only decodes once the tile is open."""
        return [tuple(window_bounds(self.grid.tile(*key).window, self.grid.transform)) for key in keys]

    def open_tiles(self, keys: Sequence[tuple[int, int]], feedback: Feedback | None = None) -> int:
        """open_tile for each (row, col), with progress; returns how many were encoded now."""
        feedback = feedback or QuietFeedback()
        encoded = 0
        with self._lock:
            for done, key in enumerate(keys, 1):
                check_cancelled(feedback)
                encoded += self.open_tile(*key)
                feedback.progress(100.0 * done / len(keys))
        return encoded

    def object_prompts(self, prompts: Sequence[MapPrompt],
                       feedback: Feedback | None = None) -> dict[tuple[int, int], SegmentPrompt]:
        """The object's prompt on each tile that holds one of its object points (label 1)
        or part of its box, in that tile's pixels: every point on the tile in the order
        given, and the box clipped to the tile."""
        boxes = [p for p in prompts if p.kind == "box"]
        if len(boxes) > 1:
            raise InputError(f"An object takes one box, and {len(boxes)} were given: keep the last one drawn.")
        mapped, _ = map_prompts(self.source, self.grid, prompts, 0.0, feedback or QuietFeedback())
        points: dict[tuple[int, int], list[tuple[np.ndarray, int]]] = {}
        box_parts: dict[tuple[int, int], np.ndarray] = {}
        for prompt, pixels in mapped:
            if prompt.kind == "box":
                box_parts = box_by_tile(self.grid, pixels)
            else:
                for key, local in points_by_tile(self.grid, pixels).items():
                    points.setdefault(key, []).append((local, prompt.label))
        keys = set(box_parts) | {key for key, parts in points.items() if any(label for _, label in parts)}
        found = {}
        for key in sorted(keys):
            parts = points.get(key, [])
            coords = np.concatenate([local for local, _ in parts]).astype(np.float32) if parts else np.zeros((0, 2),
                                                                                                             np.float32)
            labels = np.concatenate([np.full(len(local), label, np.int64) for local, label in parts]) if parts \
                else np.zeros(0, np.int64)
            box = box_parts.get(key)
            found[key] = SegmentPrompt(coords, labels, None if box is None else box.astype(np.float32))
        return found

    def open_tile(self, row: int, col: int) -> bool:
        """Read and encode (or load from the cache) tile (row, col) once per session;
        True when it was encoded now."""
        key = (row, col)
        if key in self._open:
            self._open.move_to_end(key)
            return False
        tile = self.grid.tile(row, col)
        size = self.grid.tile_size
        image, valid = self.source.read(tile.window, (size, size))
        embedding, encoded = tile_embedding(self.cache, self.segmenter, tile, image)
        self._open[key] = _OpenTile(tile, valid, embedding)
        if len(self._open) > OPEN_TILES:
            self._open.popitem(last=False)
        return encoded

    def segment(self, prompts: Sequence[MapPrompt], feedback: Feedback | None = None,
                encode: bool = True) -> ObjectMask | None:
        """The object the prompts mark. A single point asks SAM for three masks and keeps
        the best (SamPredictor's advice for an ambiguous click); otherwise one mask. Without
        `encode`, None where a tile the prompts fall on is not open yet (the hover
        preview: a decode only, never a 13 s encode)."""
        feedback = feedback or QuietFeedback()
        with self._lock:
            by_tile = self.object_prompts(prompts, feedback)
            if not by_tile:
                raise InputError("No object point or box lies on the raster: left-click on the object (or drag a "
                                 "box around it); right clicks mark background only.")
            if not encode and any(key not in self._open for key in by_tile):
                return None
            cores = {key: self.grid.core(self.grid.tile(*key)) for key in by_tile}
            top = min(row_off for _, (row_off, _) in cores.values())
            left = min(col_off for _, (_, col_off) in cores.values())
            bottom = max(row_off + r1 - r0 for (r0, r1, _, _), (row_off, _) in cores.values())
            right = max(col_off + c1 - c0 for (_, _, c0, c1), (_, col_off) in cores.values())
            joined = np.zeros((bottom - top, right - left), bool)
            scores, areas = [], []
            for key, prompt in by_tile.items():
                check_cancelled(feedback)
                self.open_tile(*key)
                tile = self._open[key]
                multimask = prompt.box is None and len(prompt.points) == 1
                result = self.segmenter.decode(tile.embedding, tile.valid.shape, prompt, multimask)
                mask = close_mask(result.mask, self.closing_px) & tile.valid
                (r0, r1, c0, c1), (row_off, col_off) = cores[key]
                core = mask[r0:r1, c0:c1]
                joined[row_off - top:row_off - top + r1 - r0, col_off - left:col_off - left + c1 - c0] |= core
                scores.append(result.score)
                areas.append(int(core.sum()))
            transform = self.grid.out_transform() * Affine.translation(left, top)
            score = float(np.average(scores, weights=areas)) if sum(areas) else float(np.mean(scores))
            return ObjectMask(joined, transform, score, sorted(by_tile))
