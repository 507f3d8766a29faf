"""plan_grid and TileGrid against hand-computed tile counts and map coordinates."""
import dataclasses
import math

import numpy as np

import pytest
from affine import Affine
from rasterio.windows import Window

from geovl.errors import InputError
from geovl.geo.georef import window_footprint
from geovl.geo.grid import MAX_TILE_SIZE, MAX_TILES, plan_grid, raster_windows

UTM = Affine(0.5, 0, 500000, 0, -0.5, 4650000)        # north-up, 0.5 m pixels
GEO = Affine(0.0001, 0, -10.0, 0, -0.0001, 50.0)      # EPSG:4326, 0.0001 deg pixels


def assert_affine(actual, expected):
    assert tuple(actual)[:6] == pytest.approx(tuple(expected)[:6], abs=1e-9)


def test_tile_counts_for_area():
    """1000x700 px, tile 224, overlap 32: step 192, cols 1+ceil(776/192)=6, rows 1+ceil(476/192)=4."""
    grid = plan_grid(UTM, Window(0, 0, 1000, 700), 224, 32)
    assert (grid.tile_src, grid.step_src) == (224, 192)
    assert (grid.rows, grid.cols, len(grid)) == (4, 6, 24)
    assert len(list(grid.tiles())) == 24
    # the last column starts at 5*192=960 and reaches past the area edge (960+224 > 1000)
    last = grid.tile(3, 5).window
    assert (last.col_off, last.row_off, last.width, last.height) == (960, 576, 224, 224)


def test_exact_fit_has_no_extra_tile():
    """An area of exactly tile + 2 steps gives 3 tiles per side, not 4."""
    grid = plan_grid(UTM, Window(0, 0, 224 + 2 * 192, 224), 224, 32)
    assert (grid.rows, grid.cols) == (1, 3)


def test_area_smaller_than_tile_gives_one_tile():
    """An area smaller than one tile is covered by exactly one tile."""
    grid = plan_grid(UTM, Window(10, 20, 50, 30), 224, 32)
    assert (grid.rows, grid.cols, len(grid)) == (1, 1, 1)
    w = grid.tile(0, 0).window
    assert (w.col_off, w.row_off, w.width, w.height) == (10, 20, 224, 224)


@pytest.mark.parametrize("tile_size, overlap, scale", [
    (224, 224, 1.0), (224, 300, 1.0), (224, -1, 1.0), (8, 0, 1.0), (224, 0, 0.0), (224, 0, -2.0)])
def test_invalid_parameters_raise_input_error(tile_size, overlap, scale):
    """Overlap outside [0, tile), a tile under 16 px or a non-positive scale is refused."""
    with pytest.raises(InputError):
        plan_grid(UTM, Window(0, 0, 1000, 700), tile_size, overlap, scale)


def test_projected_tile_and_cell_transforms():
    """North-up UTM raster: tile (1, 2) starts at px (384, 192) = (500192, 4649904) m."""
    grid = plan_grid(UTM, Window(0, 0, 1000, 700), 224, 32)
    tile = grid.tile(1, 2)
    assert (tile.window.col_off, tile.window.row_off) == (384, 192)
    assert_affine(grid.tile_transform(tile), Affine(0.5, 0, 500192, 0, -0.5, 4649904))
    # cells are step-sized (192 px = 96 m), shifted by half the overlap (16 px = 8 m)
    assert_affine(grid.cell_transform(), Affine(96, 0, 500008, 0, -96, 4649992))


def test_projected_transforms_with_area_offset():
    """A grid over an offset area starts at the area's corner (px 100, 50 -> 500050, 4649975 m)."""
    grid = plan_grid(UTM, Window(100, 50, 600, 400), 224, 32)
    assert_affine(grid.tile_transform(grid.tile(0, 1)), Affine(0.5, 0, 500000 + (100 + 192) * 0.5, 0, -0.5, 4649975))
    assert_affine(grid.cell_transform(), Affine(96, 0, 500058, 0, -96, 4649967))


def test_geographic_tile_and_cell_transforms():
    """EPSG:4326 raster: tile (1, 2) starts at lon -10 + 384e-4, lat 50 - 192e-4."""
    grid = plan_grid(GEO, Window(0, 0, 1000, 700), 224, 32)
    assert_affine(grid.tile_transform(grid.tile(1, 2)), Affine(0.0001, 0, -9.9616, 0, -0.0001, 49.9808))
    assert_affine(grid.cell_transform(), Affine(0.0192, 0, -9.9984, 0, -0.0192, 49.9984))


def test_scale_two_doubles_source_window():
    """With scale 2 a 224 px tile reads 448 source px and its output pixels are 1 m."""
    grid = plan_grid(UTM, Window(0, 0, 1000, 700), 224, 32, scale=2.0)
    assert (grid.tile_src, grid.step_src, grid.scale) == (448, 384, 2.0)
    # cols 1+ceil((1000-448)/384)=3, rows 1+ceil((700-448)/384)=2
    assert (grid.rows, grid.cols) == (2, 3)
    tile = grid.tile(1, 1)
    assert (tile.window.col_off, tile.window.row_off, tile.window.width, tile.window.height) == (384, 384, 448, 448)
    assert_affine(grid.tile_transform(tile), Affine(1.0, 0, 500192, 0, -1.0, 4649808))
    # 224 output px of 1 m cover the 448 source px of 0.5 m: same footprint, 224 m wide
    t = grid.tile_transform(tile)
    assert t * (224, 224) == pytest.approx((500192 + 224, 4649808 - 224))


def test_window_footprint_of_rotated_transform():
    """A 30 deg rotated raster's window outline equals the hand-rotated pixel corners."""
    transform = Affine.translation(1000, 2000) * Affine.rotation(30) * Affine.scale(2, -2)
    cos, sin = math.cos(math.radians(30)), math.sin(math.radians(30))

    def corner(c, r):  # scale (2c, -2r), rotate counter-clockwise by 30 deg, translate
        x, y = 2 * c, -2 * r
        return 1000 + x * cos - y * sin, 2000 + x * sin + y * cos

    footprint = window_footprint(transform, Window(10, 20, 5, 4))
    expected = [corner(10, 20), corner(15, 20), corner(15, 24), corner(10, 24)]
    coords = list(footprint.exterior.coords)[:4]
    for got, want in zip(coords, expected):
        assert got == pytest.approx(want, abs=1e-9)
    assert footprint.area == pytest.approx(5 * 2 * 4 * 2)


@pytest.mark.parametrize("tile_size", [60000, 2147483647, MAX_TILE_SIZE + 1])
def test_tile_size_too_large_is_refused(tile_size):
    """A tile is read whole: sizes past 8192 px are refused with the limit and what 0 means."""
    with pytest.raises(InputError, match="too large") as info:
        plan_grid(UTM, Window(0, 0, 1000, 700), tile_size)
    assert f"{tile_size} px" in str(info.value) and "at most 8192 px" in str(info.value)
    assert "0 for the model's input size" in str(info.value)


def test_largest_and_smallest_tile_sizes_are_accepted():
    """8192 px and 16 px tiles are planned; 15 px is refused."""
    assert plan_grid(UTM, Window(0, 0, 1000, 700), MAX_TILE_SIZE).tile_src == 8192
    assert plan_grid(UTM, Window(0, 0, 100, 70), 16).tile_src == 16
    with pytest.raises(InputError, match="at least 16 px"):
        plan_grid(UTM, Window(0, 0, 100, 70), 15)


def test_overlap_of_tile_minus_one_over_large_area_is_refused():
    """OVERLAP=63 on 64 px tiles steps 1 px: 99937 x 99937 tiles over 100000 px, refused
    before any tile is read, with the count and what to change."""
    with pytest.raises(InputError) as info:
        plan_grid(UTM, Window(0, 0, 100000, 100000), 64, 63)
    message = str(info.value)
    assert "99937 x 99937 = 9,987,403,969 tiles" in message and "10,000,000" in message
    assert "tiles of 64 px start every 1 px at 1 source pixels per output pixel" in message
    assert "OVERLAP" in message and "RESOLUTION" in message


def test_resolution_far_finer_than_the_raster_is_refused():
    """Scale 0.0002 (RESOLUTION=0.0001 on 0.5 m pixels): tiles of 1 source px, 1e8 of them."""
    with pytest.raises(InputError, match="100,000,000 tiles"):
        plan_grid(UTM, Window(0, 0, 10000, 10000), 224, 0, scale=0.0002)


def test_tile_limit_is_inclusive():
    """Tiles of 16 px stepping 1 px: 1000 rows x 10000 cols is exactly the limit and is
    planned; one more column (1000 more tiles) is refused."""
    grid = plan_grid(UTM, Window(0, 0, 10015, 1015), 16, 15)
    assert (grid.rows, grid.cols, len(grid)) == (1000, 10000, MAX_TILES)
    with pytest.raises(InputError, match="1000 x 10001 = 10,001,000 tiles"):
        plan_grid(UTM, Window(0, 0, 10016, 1015), 16, 15)


def test_resolution_coarser_than_extent_is_refused():
    """Scale 800 over a 1000 x 700 px extent: one output pixel is larger than the extent;
    scale 700 (exactly the short side) still gives one output pixel."""
    with pytest.raises(InputError, match="coarser than the extent") as info:
        plan_grid(UTM, Window(0, 0, 1000, 700), 224, 0, scale=800)
    assert "1000 x 700 source pixels" in str(info.value) and "0.5 x 0.5 CRS units" in str(info.value)
    grid = plan_grid(UTM, Window(0, 0, 1000, 700), 224, 0, scale=700)
    assert grid.out_shape == (1, 1)


def as_tuple(w):
    return (w.col_off, w.row_off, w.width, w.height)


def test_default_overlap_is_zero_and_limits_are_accepted():
    """No overlap by default (step = tile); overlap 0 and tile - 1 are the accepted bounds."""
    grid = plan_grid(UTM, Window(0, 0, 1000, 700), 224)
    assert (grid.overlap, grid.tile_src, grid.step_src, grid.rows, grid.cols) == (0, 224, 224, 4, 5)
    assert plan_grid(UTM, Window(0, 0, 1000, 700), 224, 223).step_src == 1
    with pytest.raises(InputError) as info:
        plan_grid(UTM, Window(0, 0, 1000, 700), 224, 224)
    assert str(info.value) == "Overlap must be between 0 and the tile size minus one (223 px), not 224."


def test_tile_and_step_are_at_least_one_source_pixel():
    """Scale 0.001: a 224 px tile covers 0.224 source px, rounded up to 1; so does the step
    (overlap 223 at scale 0.5 is 0.5 px). An area of 10 px then has 10 tiles a side."""
    grid = plan_grid(UTM, Window(0, 0, 10, 10), 224, 0, scale=0.001)
    assert (grid.tile_src, grid.step_src, grid.rows, grid.cols) == (1, 1, 10, 10)
    grid = plan_grid(UTM, Window(0, 0, 300, 300), 224, 223, scale=0.5)
    assert (grid.tile_src, grid.step_src) == (112, 1)


def test_area_smaller_than_tile_with_one_pixel_step_gives_one_tile():
    """Step 1 (tile 16, overlap 15) over a 10 px area: still exactly one tile."""
    grid = plan_grid(UTM, Window(0, 0, 10, 10), 16, 15)
    assert (grid.rows, grid.cols) == (1, 1)


def test_grid_and_tiles_are_frozen():
    """Grids and tiles are values: hashable, not assignable."""
    grid = plan_grid(UTM, Window(0, 0, 1000, 700), 224, 32)
    tile = grid.tile(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        grid.rows = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        tile.row = 0
    assert {tile, grid.tile(1, 2)} == {tile}


def test_out_shape_and_transform_at_scale_two():
    """1000 x 700 source px at 2 source px per output px: 350 rows x 500 cols of 1 m."""
    grid = plan_grid(UTM, Window(0, 0, 1000, 700), 224, 32, scale=2.0)
    assert grid.out_shape == (350, 500)
    assert_affine(grid.out_transform(), Affine(1.0, 0, 500000, 0, -1.0, 4650000))
    offset = plan_grid(UTM, Window(100, 50, 600, 400), 224, 32)
    assert offset.out_shape == (400, 600)
    assert_affine(offset.out_transform(), Affine(0.5, 0, 500050, 0, -0.5, 4649975))


def test_cores_at_native_resolution():
    """Tile 224, overlap 32 (step 192, half overlap 16) over 1000 x 700: the first tile
    keeps rows/cols 0..208, an inner tile 16..208 of its pixels, the last ones reach the
    area's edge (row 592..700, col 976..1000)."""
    grid = plan_grid(UTM, Window(0, 0, 1000, 700), 224, 32)
    assert grid.core(grid.tile(0, 0)) == ((0, 208, 0, 208), (0, 0))
    assert grid.core(grid.tile(1, 2)) == ((16, 208, 16, 208), (208, 400))
    assert grid.core(grid.tile(3, 5)) == ((16, 124, 16, 40), (592, 976))
    assert grid.core(grid.tile(0, 5)) == ((0, 208, 16, 40), (0, 976))


def test_cores_at_scale_two():
    """At scale 2 the step is 384 source px = 192 output px; the output is 350 x 500."""
    grid = plan_grid(UTM, Window(0, 0, 1000, 700), 224, 32, scale=2.0)
    assert grid.core(grid.tile(1, 2)) == ((16, 158, 16, 116), (208, 400))
    assert grid.core(grid.tile(0, 1)) == ((0, 208, 16, 208), (0, 208))


@pytest.mark.parametrize("area, tile_size, overlap, scale", [
    (Window(0, 0, 1000, 700), 224, 32, 1.0), (Window(0, 0, 1000, 700), 224, 33, 1.0),
    (Window(5, 7, 333, 129), 64, 17, 1.5), (Window(0, 0, 100, 40), 224, 0, 1.0),
    # the last tile's core reaches past its share of the overlap: 594 = 2 steps + 210 px
    (Window(0, 0, 594, 594), 224, 32, 1.0)])
def test_cores_cover_the_output_once(area, tile_size, overlap, scale):
    """Writing every tile's core into a raster of out_shape covers each pixel exactly once,
    and each core lies inside its tile."""
    grid = plan_grid(UTM, area, tile_size, overlap, scale)
    count = np.zeros(grid.out_shape, int)
    for tile in grid.tiles():
        (r0, r1, c0, c1), (row, col) = grid.core(tile)
        assert 0 <= r0 < r1 <= tile_size and 0 <= c0 < c1 <= tile_size
        count[row:row + r1 - r0, col:col + c1 - c0] += 1
    assert (count == 1).all()


def test_raster_windows():
    """A 10 x 7 raster in windows of 4: row by row, the last column and row cut short."""
    windows = [as_tuple(w) for w in raster_windows(10, 7, 4)]
    assert windows == [(0, 0, 4, 4), (4, 0, 4, 4), (8, 0, 2, 4), (0, 4, 4, 3), (4, 4, 4, 3), (8, 4, 2, 3)]
    assert [as_tuple(w) for w in raster_windows(3, 2, 4)] == [(0, 0, 3, 2)]
