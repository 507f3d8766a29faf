"""Planning a tile grid on a raster from the tiling options."""
from __future__ import annotations

from ..geo.grid import TileGrid, plan_grid
from ..geo.raster import RasterSource
from .options import TilingOptions


def plan(source: RasterSource, options: TilingOptions, model_input_size: int) -> TileGrid:
    area = source.area(options.extent)
    return plan_grid(source.dataset.transform, area, options.tile_size or model_input_size, options.overlap,
                     source.scale_for_resolution(options.resolution, area))


def plan_one_tile(source: RasterSource, options: TilingOptions, model_input_size: int) -> TileGrid:
    """The extent (clipped to the raster) as one tile at the model's input size: what the
    map view shows, as the model sees it. TILE_SIZE, OVERLAP and RESOLUTION do not apply."""
    area = source.area(options.extent)
    side = max(area.width, area.height)
    return plan_grid(source.dataset.transform, area, model_input_size, 0, side / model_input_size)


def grid_settings(grid: TileGrid) -> dict:
    """What of a grid determines cached results (for cache keys and index metadata)."""
    a = grid.area
    return {"tile_size": grid.tile_size, "overlap": grid.overlap, "tile_src": grid.tile_src,
            "step_src": grid.step_src, "area": [a.col_off, a.row_off, a.width, a.height],
            "rows": grid.rows, "cols": grid.cols}
