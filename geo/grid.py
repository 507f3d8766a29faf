"""A regular tile grid over a window of a raster.

Sizes are planned in two units: output pixels (what the model sees: `tile_size`,
`overlap`) and source pixels (what is read). With a target resolution the two differ by
`scale` = source pixels per output pixel; tiles are whole source-pixel windows so their
footprints are exact, and the read resamples each window to `tile_size`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

from affine import Affine
from rasterio.windows import Window

from ..errors import InputError
from .georef import pixel_size, window_transform


@dataclass(frozen=True)
class Tile:
    row: int
    col: int
    window: Window  # source pixels; may reach past the raster edge (read pads it)


@dataclass(frozen=True)
class TileGrid:
    transform: Affine      # source raster's geotransform
    area: Window           # source-pixel window the grid covers (the extent)
    tile_size: int         # output pixels per tile side
    overlap: int           # output pixels shared by neighbouring tiles
    tile_src: int          # source pixels per tile side
    step_src: int          # source pixels between tile origins
    rows: int
    cols: int

    @property
    def scale(self) -> float:
        """Source pixels per output pixel."""
        return self.tile_src / self.tile_size

    def __len__(self) -> int:
        return self.rows * self.cols

    def tile(self, row: int, col: int) -> Tile:
        window = Window(self.area.col_off + col * self.step_src, self.area.row_off + row * self.step_src,
                        self.tile_src, self.tile_src)
        return Tile(row, col, window)

    def tiles(self) -> Iterator[Tile]:
        for row in range(self.rows):
            for col in range(self.cols):
                yield self.tile(row, col)

    @property
    def out_shape(self) -> tuple[int, int]:
        """(rows, cols) of the grid's area in output pixels."""
        return round(self.area.height / self.scale), round(self.area.width / self.scale)

    def out_transform(self) -> Affine:
        """Map transform of the grid's area in output pixels (a raster of `out_shape`)."""
        return window_transform(self.transform, self.area, self.scale)

    def core(self, tile: Tile) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
        """The tile's share of a raster of the whole area (neighbours split their overlap
        in half, so results written tile by tile are seamless): (r0, r1, c0, c1) in tile
        pixels, and its (row, col) offset in the output raster."""
        step = self.step_src / self.scale
        half = (self.tile_size - step) / 2
        height, width = self.out_shape

        def span(index: int, count: int, extent: int) -> tuple[int, int, int]:
            start = 0 if index == 0 else round(index * step + half)
            end = extent if index == count - 1 else round((index + 1) * step + half)
            origin = round(index * step)
            return start - origin, min(end, extent) - origin, start

        r0, r1, row_off = span(tile.row, self.rows, height)
        c0, c1, col_off = span(tile.col, self.cols, width)
        return (r0, r1, c0, c1), (row_off, col_off)

    def tile_transform(self, tile: Tile) -> Affine:
        """Map transform of the tile's output pixels."""
        return window_transform(self.transform, tile.window, self.scale)

    def cell_transform(self) -> Affine:
        """Transform of a raster with one cell per tile, each cell the tile's central
        step-sized part (so cells tile the plane even when tiles overlap)."""
        half_overlap_src = (self.tile_src - self.step_src) / 2
        origin = Window(self.area.col_off + half_overlap_src, self.area.row_off + half_overlap_src, 0, 0)
        return window_transform(self.transform, origin, self.step_src)


def raster_windows(width: int, height: int, size: int) -> Iterator[Window]:
    """Windows of at most `size` pixels a side covering a `width` x `height` raster, row by row."""
    for row in range(0, height, size):
        for col in range(0, width, size):
            yield Window(col, row, min(size, width - col), min(size, height - row))


# A tile is read whole into memory and resized for the model: 8192 px a side is already
# 200 MB of RGB (more than any model's input); larger sizes only exhaust memory.
MAX_TILE_SIZE = 8192
# A grid planned past this many tiles is a mistake (an overlap close to the tile size, a
# target resolution far finer than the raster): at a few tiles per second it would run
# for weeks. Refused before anything is read.
MAX_TILES = 10_000_000


def plan_grid(transform: Affine, area: Window, tile_size: int, overlap: int = 0,
              scale: float = 1.0) -> TileGrid:
    """Tiles of `tile_size` output pixels, `overlap` shared, covering `area`.

    `scale` is source pixels per output pixel (1 = native resolution). The last row and
    column may reach past `area`; an area smaller than one tile gives one tile.
    """
    if tile_size < 16:
        raise InputError(f"Tile size {tile_size} px is too small; use at least 16 px (models expect 224 px or more), "
                         "or 0 for the model's input size.")
    if tile_size > MAX_TILE_SIZE:
        raise InputError(f"Tile size {tile_size} px is too large: a tile is read whole into memory. Use at most "
                         f"{MAX_TILE_SIZE} px, or 0 for the model's input size.")
    if not 0 <= overlap < tile_size:
        raise InputError(f"Overlap must be between 0 and the tile size minus one ({tile_size - 1} px), not {overlap}.")
    if scale <= 0:
        raise InputError("The target resolution must be a positive number of metres per pixel.")
    if min(area.width, area.height) < scale:
        own = "%.4g x %.4g" % pixel_size(transform)
        raise InputError(
            f"The target resolution is coarser than the extent: one output pixel would span {scale:.4g} source "
            f"pixels, more than the extent's {area.width} x {area.height} source pixels. Choose a finer resolution "
            f"(the raster's own pixels are {own} CRS units, a resolution of 0 keeps them) or a larger extent.")
    tile_src = max(1, round(tile_size * scale))
    step_src = max(1, round((tile_size - overlap) * scale))
    rows = 1 + math.ceil(max(0, area.height - tile_src) / step_src)
    cols = 1 + math.ceil(max(0, area.width - tile_src) / step_src)
    if rows * cols > MAX_TILES:
        raise InputError(
            f"The tile grid would have {rows} x {cols} = {rows * cols:,} tiles, more than the {MAX_TILES:,} a run "
            f"can process in reasonable time (tiles of {tile_size} px start every {tile_size - overlap} px at "
            f"{scale:.4g} source pixels per output pixel). Use a smaller OVERLAP, a larger TILE_SIZE, a coarser "
            "RESOLUTION (0 keeps the raster's own) or a smaller EXTENT.")
    return TileGrid(transform, area, tile_size, overlap, tile_src, step_src, rows, cols)
