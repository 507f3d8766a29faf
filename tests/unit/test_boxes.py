"""Rotated boxes on the map and duplicate merging across tiles, against hand-computed
coordinates."""
from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from shapely.geometry import box

from geovl.geo.boxes import box_corners, box_polygon, merge_duplicates
from geovl.geo.georef import map_to_pixels, pixels_to_map


def test_axis_aligned_corners():
    assert box_corners(10, 20, 30, 60).tolist() == [[10, 20], [30, 20], [30, 60], [10, 60]]


def test_quarter_turn_clockwise_on_screen():
    # 20 wide, 40 high about (20, 40); +90 deg clockwise on screen (y down) makes it 40 wide,
    # 20 high, and the top-left corner goes to the top-right.
    corners = box_corners(10, 20, 30, 60, angle=90)
    np.testing.assert_allclose(corners, [[40, 30], [40, 50], [0, 50], [0, 30]], atol=1e-9)


def test_thirty_degrees():
    corners = box_corners(-1, -1, 1, 1, angle=30)
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    # the corner (1, -1) turned clockwise on screen: (c + s, s - c)
    np.testing.assert_allclose(corners[1], [c + s, s - c], atol=1e-12)


def test_box_polygon_on_the_map():
    transform = Affine(0.5, 0, 500_000, 0, -0.5, 4_650_000)  # 0.5 m pixels, north up
    polygon = box_polygon(transform, 10, 20, 30, 60)
    assert polygon.bounds == (500_005.0, 4_649_970.0, 500_015.0, 4_649_990.0)
    assert polygon.area == pytest.approx(10 * 20)


def test_pixels_to_map_inverts_map_to_pixels():
    transform = Affine(0.3, 0.1, 100.0, 0.05, -0.4, 200.0)  # rotated and sheared
    pixels = np.array([[0, 0], [12.5, 7.25], [-3, 400]])
    np.testing.assert_allclose(map_to_pixels(transform, pixels_to_map(transform, pixels)), pixels, atol=1e-9)
    assert tuple(pixels_to_map(transform, [[2, 3]])[0]) == pytest.approx(transform * (2, 3))


def test_overlapping_same_label_keeps_the_best():
    polygons = [box(0, 0, 10, 10), box(1, 1, 11, 11), box(1, 1, 11, 11), box(50, 50, 60, 60)]
    kept = merge_duplicates(polygons, ["plane", "Plane ", "ship", "plane"], [(0.5,), (0.9,), (0.1,), (0.2,)],
                            tiles=[0, 0, 0, 0])
    assert kept == [1, 3, 2]  # best first; the ship is another label; the far plane stays


def test_partial_box_at_a_tile_edge_goes_to_the_whole_one():
    whole = box(90, 0, 110, 20)      # seen whole by the tile to the right
    cut = box(90, 0, 100, 20)        # cut by the edge of the tile to the left: IoU 0.5 - epsilon
    kept = merge_duplicates([cut, whole], ["car", "car"], [(1.0, 0), (1.0, 5)], tiles=[(0, 0), (0, 1)],
                            iou=0.6)
    assert kept == [1]
    # within one tile, the same pair is two objects (a car beside a bigger car box)
    assert sorted(merge_duplicates([cut, whole], ["car", "car"], [(1.0, 0), (1.0, 5)], tiles=[0, 0],
                                   iou=0.6)) == [0, 1]


def test_a_kept_box_is_never_suppressed_later():
    a, b, c = box(0, 0, 10, 10), box(4, 0, 14, 10), box(8, 0, 18, 10)
    # a beats b; b would suppress c but b is gone, and c overlaps a too little
    assert merge_duplicates([a, b, c], ["x"] * 3, [(3,), (2,), (1,)], tiles=[0, 0, 0], iou=0.4) == [0, 2]
