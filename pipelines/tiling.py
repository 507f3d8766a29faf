"""Tiling options shared by every job, and planning them on a raster."""
from __future__ import annotations

from dataclasses import dataclass

from ..geo.grid import TileGrid, plan_grid
from ..geo.raster import RasterSource


@dataclass(frozen=True)
class TilingOptions:
    tile_size: int = 0           # output pixels per tile side; 0 = the model's input size
    overlap: int = 0             # output pixels shared by neighbouring tiles
    resolution: float = 0.0      # target ground resolution in m/px; 0 = native
    extent: tuple[float, float, float, float] | None = None  # raster CRS; None = whole raster
    bands: tuple[int, ...] | None = None                      # None = RGB by colour interpretation


def plan(source: RasterSource, options: TilingOptions, model_input_size: int) -> TileGrid:
    return plan_grid(source.dataset.transform, source.area(options.extent),
                     options.tile_size or model_input_size, options.overlap,
                     source.scale_for_resolution(options.resolution))


def grid_settings(grid: TileGrid) -> dict:
    """What of a grid determines cached results (for cache keys and index metadata)."""
    a = grid.area
    return {"tile_size": grid.tile_size, "overlap": grid.overlap, "tile_src": grid.tile_src,
            "step_src": grid.step_src, "area": [a.col_off, a.row_off, a.width, a.height],
            "rows": grid.rows, "cols": grid.cols}
