"""plan_grid and TileGrid against hand-computed tile counts and map coordinates."""
import math

import pytest
from affine import Affine
from rasterio.windows import Window

from geovl.errors import InputError
from geovl.geo.georef import window_footprint
from geovl.geo.grid import plan_grid

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
