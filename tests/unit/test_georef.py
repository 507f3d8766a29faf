"""Pixel <-> map helpers in geo.georef against hand-computed windows and sizes."""

import pytest
from affine import Affine
from rasterio.windows import Window

from geovl.errors import InputError
from geovl.geo.georef import (METRES_PER_DEGREE, bounds_to_window, check_transform, intersect_windows,
                              metres_per_pixel, pixel_size, read_placement, window_transform)

UTM = Affine(0.5, 0, 500000, 0, -0.5, 4650000)


def as_tuple(w):
    return (w.col_off, w.row_off, w.width, w.height)


def test_bounds_to_window_covers_fractional_bounds():
    """x 500001.2..500003 -> cols 2.4..6 -> 2..6; y 4649999..4649990.1 -> rows 2..19.8 -> 2..20."""
    window = bounds_to_window(UTM, (500001.2, 4649990.1, 500003.0, 4649999.0))
    assert as_tuple(window) == (2, 2, 4, 18)


def test_bounds_to_window_exact_pixel_edges():
    """Bounds on pixel edges give exactly those pixels, no extra row or column."""
    window = bounds_to_window(UTM, (500005.0, 4649990.0, 500010.0, 4649995.0))
    assert as_tuple(window) == (10, 10, 10, 10)


def test_bounds_to_window_partly_outside_is_not_clipped():
    """Bounds left of and above the origin give negative offsets (clipping is the caller's job)."""
    window = bounds_to_window(UTM, (499990.0, 4649995.0, 500005.0, 4650010.0))
    assert as_tuple(window) == (-20, -20, 30, 30)


def test_intersect_windows():
    """Overlap of two windows, None when disjoint or only touching."""
    assert as_tuple(intersect_windows(Window(0, 0, 10, 10), Window(5, 3, 10, 10))) == (5, 3, 5, 7)
    assert as_tuple(intersect_windows(Window(-20, -20, 30, 30), Window(0, 0, 40, 30))) == (0, 0, 10, 10)
    assert intersect_windows(Window(0, 0, 10, 10), Window(10, 0, 5, 5)) is None
    assert intersect_windows(Window(0, 0, 10, 10), Window(20, 20, 5, 5)) is None
    assert intersect_windows(Window(0, 0, 10, 10), Window(0, 10, 5, 5)) is None
    assert as_tuple(intersect_windows(Window(0, 0, 10, 10), Window(9, 9, 5, 5))) == (9, 9, 1, 1)


def test_pixel_size_north_up_and_rotated():
    """Pixel size is the length of the column and row vectors, rotation or not."""
    assert pixel_size(UTM) == pytest.approx((0.5, 0.5))
    rotated = Affine.rotation(37) * Affine.scale(3, -2)
    assert pixel_size(rotated) == pytest.approx((3.0, 2.0))


def test_metres_per_pixel_projected():
    """Projected CRS: mean pixel size times the linear unit factor (US survey foot here)."""
    assert metres_per_pixel(UTM, False, 1.0, 0.0) == pytest.approx(0.5)
    feet = Affine(2, 0, 0, 0, -2, 0)
    assert metres_per_pixel(feet, False, 0.3048006096, 0.0) == pytest.approx(2 * 0.3048006096)


def test_metres_per_pixel_geographic_at_latitude_60():
    """0.0001 deg px at 60 N: x shrinks by cos 60 = 0.5, so mean (0.5+1)/2 * 1e-4 deg * 111320 m."""
    geo = Affine(0.0001, 0, -10, 0, -0.0001, 61)
    assert METRES_PER_DEGREE == 111320.0
    assert metres_per_pixel(geo, True, 1.0, 60.0) == pytest.approx(0.75 * 1e-4 * 111320)
    assert metres_per_pixel(geo, True, 1.0, 0.0) == pytest.approx(1e-4 * 111320)


@pytest.mark.parametrize("transform", [Affine.identity(), Affine(1, 0, 0, 0, 0, 0), Affine(2, 4, 10, 1, 2, 20)])
def test_check_transform_refuses_identity_and_singular(transform):
    """No georeferencing (identity) or a singular matrix is an InputError telling how to fix it."""
    with pytest.raises(InputError, match="georeferenc"):
        check_transform(transform)


def test_check_transform_accepts_real_geotransforms():
    """North-up and rotated geotransforms pass."""
    check_transform(UTM)
    check_transform(Affine.translation(5, 5) * Affine.rotation(10) * Affine.scale(1, -1))


def test_check_transform_threshold_of_singular():
    """A determinant below 1e-300 is singular; 1e-300 itself still inverts."""
    check_transform(Affine(1e-300, 0, 0, 0, 1, 0))
    with pytest.raises(InputError):
        check_transform(Affine(1e-301, 0, 0, 0, 1, 0))


def test_window_transform_with_scale():
    """Window at col 10, row 4, 3 source px per window px: origin 500005, 4649998; 1.5 m px.
    Without a scale the window keeps the raster's 0.5 m pixels."""
    t = window_transform(UTM, Window(10, 4, 30, 30), 3.0)
    assert tuple(t)[:6] == pytest.approx((1.5, 0, 500005, 0, -1.5, 4649998))
    assert tuple(window_transform(UTM, Window(10, 4, 30, 30)))[:6] == pytest.approx((0.5, 0, 500005, 0, -0.5, 4649998))


def test_read_placement_past_the_top_left_edge_at_twice_the_size():
    """Window (-5, -3, 20, 20) on a 40 x 30 raster read at 40 x 40 (2 output px per source
    px): inside is (0, 0, 15, 17), landing at rows 6..40, cols 10..40."""
    inside, rows_cols = read_placement(Window(-5, -3, 20, 20), Window(0, 0, 40, 30), (40, 40))
    assert as_tuple(inside) == (0, 0, 15, 17) and rows_cols == (6, 40, 10, 40)


def test_read_placement_past_the_bottom_right_edge_non_square():
    """Window (30, 20, 20, 40) at (10, 20): fy = 0.25, fx = 1; inside (30, 20, 10, 10)."""
    inside, rows_cols = read_placement(Window(30, 20, 20, 40), Window(0, 0, 40, 30), (10, 20))
    assert as_tuple(inside) == (30, 20, 10, 10) and rows_cols == (0, 2, 0, 10)


def test_read_placement_outside_or_below_one_output_pixel():
    """No overlap gives None, and so does an overlap that rounds to no output row or column
    (one source pixel of a 1000 px window read at 10 px)."""
    assert read_placement(Window(50, 0, 10, 10), Window(0, 0, 40, 30), (10, 10)) is None
    assert read_placement(Window(-999, -999, 1000, 1000), Window(0, 0, 10, 10), (10, 10)) is None
    assert read_placement(Window(-999, 0, 1000, 10), Window(0, 0, 10, 10), (10, 10)) is None
    assert read_placement(Window(0, -999, 10, 1000), Window(0, 0, 10, 10), (10, 10)) is None
