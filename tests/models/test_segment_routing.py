"""Routing prompts to tiles: the arithmetic placement against a search over every tile,
and which background points join an object prompt."""
from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from rasterio.windows import Window

from geovl.geo.grid import plan_grid
from geovl.pipelines.segment import MIN_BOX_PX, MapPrompt, box_by_tile, points_by_tile, _route


def every_tile(grid, points: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """The oracle: for every tile of the grid, the points inside its span, in tile pixels."""
    step, size = grid.step_src / grid.scale, grid.tile_size
    found = {}
    for row in range(grid.rows):
        for col in range(grid.cols):
            local = points - (col * step, row * step)
            inside = ((local >= 0) & (local < size)).all(axis=1)
            if inside.any():
                found[(row, col)] = local[inside]
    return found


GRIDS = {"no overlap": (64, 0, 1.0), "overlap": (64, 24, 1.0), "overlap past half": (64, 40, 1.0),
         "resampled": (64, 16, 2.5)}


@pytest.mark.parametrize("name", list(GRIDS))
def test_points_reach_exactly_the_tiles_that_hold_them(name):
    tile, overlap, scale = GRIDS[name]
    grid = plan_grid(Affine.identity(), Window(0, 0, 700, 430), tile, overlap, scale)
    width, height = 700 / grid.scale, 430 / grid.scale
    rng = np.random.default_rng(1)
    points = np.concatenate([rng.uniform(0, 1, (400, 2)) * (width, height),
                             np.floor(rng.uniform(0, 1, (100, 2)) * (width, height) / 8) * 8])  # on tile edges too
    expected = every_tile(grid, points)
    found = points_by_tile(grid, points)
    assert found.keys() == expected.keys()
    for key in expected:
        np.testing.assert_array_equal(found[key], expected[key])  # same points, same order


def test_box_is_clipped_to_each_tile_it_covers():
    grid = plan_grid(Affine.identity(), Window(0, 0, 300, 200), 64, 16)   # step 48
    corners = np.array([[40.0, 30.0], [130.0, 95.0]])
    found = box_by_tile(grid, corners)
    for row in range(grid.rows):
        for col in range(grid.cols):
            x0, y0 = col * 48, row * 48
            box = np.clip([40 - x0, 30 - y0, 130 - x0, 95 - y0], 0, 64)
            if box[2] - box[0] >= MIN_BOX_PX and box[3] - box[1] >= MIN_BOX_PX:
                np.testing.assert_array_equal(found.pop((row, col)), box)
    assert found == {}


@pytest.mark.parametrize("corners", [[[10.0, 20.0], [200.0, 21.0]], [[10.0, 20.0], [11.0, 150.0]]],
                         ids=["1 px high", "1 px wide"])
def test_box_thinner_than_the_least_side_has_no_parts(corners):
    grid = plan_grid(Affine.identity(), Window(0, 0, 300, 200), 64, 16)
    assert box_by_tile(grid, np.array(corners)) == {}


def test_background_points_join_the_objects_of_their_class_on_their_tile():
    grid = plan_grid(Affine.identity(), Window(0, 0, 128, 64), 64)   # two tiles side by side
    classes = ["road", "sidewalk"]
    mapped = [(MapPrompt("point", ((0, 0),), 1, "road", 1), np.array([[10.5, 10.5]])),
              (MapPrompt("point", ((0, 0),), 0, "road", 2), np.array([[20.5, 30.5]])),
              (MapPrompt("point", ((0, 0),), 0, "sidewalk", 3), np.array([[40.5, 30.5]])),
              (MapPrompt("point", ((0, 0),), 0, "road", 4), np.array([[100.5, 5.5]])),     # the other tile
              (MapPrompt("box", ((0, 0), (0, 0)), 1, "road", 5), np.array([[5.0, 5.0], [50.0, 60.0]])),
              (MapPrompt("point", ((0, 0),), 1, "sidewalk", 6), np.array([[30.5, 50.5]])),
              (MapPrompt("point", ((0, 0),), 0, "road", 7), np.array([[60.5, 60.5]]))]
    routed = _route(grid, mapped, classes)
    assert list(routed) == [(0, 0)]   # tile (0, 1) has only a background point
    road_point, road_box, sidewalk_point = routed[(0, 0)]
    assert [tp.prompt_id for tp in routed[(0, 0)]] == [1, 5, 6]
    assert [tp.class_code for tp in routed[(0, 0)]] == [1, 1, 2]
    np.testing.assert_array_equal(road_point.prompt.points, [[10.5, 10.5], [20.5, 30.5], [60.5, 60.5]])
    np.testing.assert_array_equal(road_point.prompt.labels, [1, 0, 0])
    assert road_point.multimask is False and road_point.prompt.box is None
    np.testing.assert_array_equal(road_box.prompt.points, [[20.5, 30.5], [60.5, 60.5]])
    np.testing.assert_array_equal(road_box.prompt.box, [5, 5, 50, 60])
    np.testing.assert_array_equal(sidewalk_point.prompt.points, [[30.5, 50.5], [40.5, 30.5]])
    np.testing.assert_array_equal(sidewalk_point.prompt.labels, [1, 0])
    # A lone point is ambiguous: SAM's multimask output, best of three.
    alone = _route(grid, mapped[:1], classes)[(0, 0)][0]
    assert alone.multimask is True and len(alone.prompt.points) == 1
