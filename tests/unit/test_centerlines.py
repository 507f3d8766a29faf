"""thin, skeleton_lines and raster_centerlines against hand-computed pixel centres.

Rasters are in EPSG:32631 with origin (500000, 4500000) and 0.5 m pixels: the centre of
pixel (row, col) is x = 500000 + (col + 0.5) / 2, y = 4500000 - (row + 0.5) / 2.
"""
import numpy as np
import pytest
from rasterio.transform import from_origin
from scipy import ndimage
from shapely.geometry import Point

from geovl.geo.centerlines import raster_centerlines, skeleton_lines, thin

from ..conftest import write_raster

X0, Y0, PX = 500000.0, 4500000.0, 0.5
TRANSFORM = from_origin(X0, Y0, PX, PX)


def centre(row, col):
    return X0 + (col + 0.5) * PX, Y0 - (row + 0.5) * PX


def class_raster(tmp_path, data, name="classes.tif"):
    return write_raster(tmp_path / name, data[None].astype(np.uint8), crs="EPSG:32631", transform=TRANSFORM)


def zhang_suen_reference(mask):
    """Zhang and Suen (1984) pixel by pixel, as written in the paper."""
    image = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (1, 2):
            delete = []
            for i in range(1, image.shape[0] - 1):
                for j in range(1, image.shape[1] - 1):
                    if not image[i, j]:
                        continue
                    p = [image[i - 1, j], image[i - 1, j + 1], image[i, j + 1], image[i + 1, j + 1],
                         image[i + 1, j], image[i + 1, j - 1], image[i, j - 1], image[i - 1, j - 1]]
                    p2, p3, p4, p5, p6, p7, p8, p9 = p
                    b = sum(p)
                    a = sum(p[k] == 0 and p[(k + 1) % 8] == 1 for k in range(8))
                    if step == 1:
                        ok = p2 * p4 * p6 == 0 and p4 * p6 * p8 == 0
                    else:
                        ok = p2 * p4 * p8 == 0 and p2 * p6 * p8 == 0
                    if 2 <= b <= 6 and a == 1 and ok:
                        delete.append((i, j))
            for i, j in delete:
                image[i, j] = 0
            changed |= bool(delete)
        if not changed:
            return image[1:-1, 1:-1].astype(bool)


def test_thin_matches_the_paper_on_blobs():
    """Random blobs touching the edges, with holes: same skeleton as the loop version."""
    rng = np.random.default_rng(3)
    for _ in range(3):
        mask = ndimage.zoom(rng.random((8, 10)), 5, order=1) > 0.5
        mask[rng.random(mask.shape) > 0.97] = False
        np.testing.assert_array_equal(thin(mask), zhang_suen_reference(mask))


def test_thin_bar_to_centre_row_and_keeps_input():
    """A 5 x 20 bar thins to its centre row, shortened by about the half width at each end."""
    mask = np.zeros((9, 26), bool)
    mask[2:7, 3:23] = True
    before = mask.copy()
    skeleton = thin(mask)
    np.testing.assert_array_equal(mask, before)
    rows, cols = np.nonzero(skeleton)
    assert set(rows) == {4}
    assert cols.min() in (4, 5, 6) and cols.max() in (19, 20, 21)
    assert len(cols) == cols.max() - cols.min() + 1


def test_skeleton_line_in_map_coordinates():
    """Pixels (2, 1)..(2, 5) -> one line from (500000.75, 4499998.75) to (500002.75, 4499998.75)."""
    skeleton = np.zeros((5, 8), bool)
    skeleton[2, 1:6] = True
    (line,) = skeleton_lines(skeleton, TRANSFORM)
    assert sorted([line.coords[0], line.coords[-1]]) == [(500000.75, 4499998.75), (500002.75, 4499998.75)]
    assert line.length == 2.0


def test_staircase_is_one_line_and_lone_pixels_are_dropped():
    """A diagonal with 4-connected steps (each corner pixel has 3 8-neighbours) is one line
    through all 10 pixels, not split at every step; isolated pixels give nothing."""
    skeleton = np.zeros((10, 12), bool)
    pixels = [(1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 4), (4, 4), (4, 5), (5, 5), (5, 6)]
    for p in pixels:
        skeleton[p] = True
    skeleton[8, 1] = skeleton[8, 10] = True
    (line,) = skeleton_lines(skeleton, TRANSFORM)
    assert len(line.coords) == 10
    assert {line.coords[0], line.coords[-1]} == {centre(1, 1), centre(5, 6)}
    assert skeleton_lines(np.zeros((4, 4), bool), TRANSFORM) == []


def test_junction_splits_lines():
    """A T: three lines meeting at the junction pixel (3, 5)."""
    skeleton = np.zeros((10, 11), bool)
    skeleton[3, 1:10] = True
    skeleton[4:9, 5] = True
    lines = skeleton_lines(skeleton, TRANSFORM)
    assert len(lines) == 3
    ends = sorted(tuple(sorted([line.coords[0], line.coords[-1]])) for line in lines)
    assert ends == sorted(tuple(sorted([centre(3, 5), other])) for other in
                          (centre(3, 1), centre(3, 9), centre(8, 5)))


def test_loop_is_a_closed_line():
    """An 8-connected diamond outline with no ends or junctions: one closed line of 12 pixels."""
    skeleton = np.zeros((9, 9), bool)
    for k in range(4):
        for r, c in ((1 + k, 4 + k), (4 + k, 7 - k), (7 - k, 4 - k), (4 - k, 1 + k)):
            skeleton[r, c] = True
    (line,) = skeleton_lines(skeleton, TRANSFORM)
    assert line.is_closed and len(line.coords) == 13
    assert line.length == pytest.approx(12 * np.sqrt(2) * PX)


def test_bar_gives_its_centre_line(tmp_path):
    """A bar 9 px thick (rows 20..28) and 60 px long (cols 10..69): one line on row 24
    (y = 4499987.75), about 60 - 9 = 51 px = 25.5 m long; other classes are ignored."""
    data = np.zeros((50, 100), np.uint8)
    data[20:29, 10:70] = 1
    data[35:45, 10:90] = 2
    (line,) = raster_centerlines(class_raster(tmp_path, data), 1)
    ys = np.array(line.coords)[:, 1]
    assert np.abs(ys - centre(24, 0)[1]).max() <= PX / 2
    assert line.length == pytest.approx(51 * PX, abs=2 * PX)
    xs = np.array(line.coords)[:, 0]
    assert centre(0, 10)[0] < xs.min() < centre(0, 16)[0] and centre(0, 63)[0] < xs.max() < centre(0, 69)[0]


def test_l_shape_is_one_line_turning_at_the_corner(tmp_path):
    """Arms 7 px wide: vertical on cols 5..11 (centre col 8), horizontal on rows 28..34
    (centre row 31): one line, its ends on the arms' centre lines."""
    data = np.zeros((40, 40), np.uint8)
    data[5:35, 5:12] = 1
    data[28:35, 5:35] = 1
    (line,) = raster_centerlines(class_raster(tmp_path, data), 1)
    ends = sorted([line.coords[0], line.coords[-1]], key=lambda p: p[0])
    assert ends[0][0] == centre(0, 8)[0] and ends[0][1] > centre(10, 0)[1]
    assert ends[1][1] == centre(31, 0)[1] and ends[1][0] > centre(0, 29)[0]
    assert line.distance(Point(centre(31, 8))) <= PX


def test_plus_shape_gives_four_lines_at_the_junction(tmp_path):
    """Two 7 px bars crossing at pixel (20, 20): four lines sharing that end."""
    data = np.zeros((41, 41), np.uint8)
    data[17:24, 3:38] = 1
    data[3:38, 17:24] = 1
    lines = raster_centerlines(class_raster(tmp_path, data), 1)
    assert len(lines) == 4
    junction = centre(20, 20)
    assert all(junction in (line.coords[0], line.coords[-1]) for line in lines)
    assert all(line.length == pytest.approx(13.5 * PX, abs=1.5 * PX) for line in lines)


def test_lines_merge_across_windows(tmp_path):
    """With 32 px windows and 8 px margins, a horizontal bar crossing 4 windows and an L
    crossing window corners each come out as one line, the same as from one window."""
    data = np.zeros((80, 130), np.uint8)
    data[12:21, 5:125] = 1            # bar, centre row 16
    data[30:75, 60:67] = 2            # L: vertical arm, centre col 63
    data[68:75, 60:120] = 2           # horizontal arm, centre row 71
    path = class_raster(tmp_path, data)
    for value in (1, 2):
        windowed = raster_centerlines(path, value, window_size=32, margin=8)
        whole = raster_centerlines(path, value)
        assert len(windowed) == 1 and len(whole) == 1
        assert windowed[0].equals(whole[0])
    (bar,) = raster_centerlines(path, 1, window_size=32, margin=8)
    assert set(np.array(bar.coords)[:, 1]) == {centre(16, 0)[1]}
    assert bar.length == pytest.approx((120 - 9) * PX, abs=2 * PX)


def test_min_length_and_empty(tmp_path):
    """A 5 x 12 px blob (centre line ~3.5 m) goes at min_length 5 m; a 60 px bar stays."""
    data = np.zeros((40, 80), np.uint8)
    data[5:10, 5:17] = 1
    data[20:29, 10:70] = 1
    path = class_raster(tmp_path, data)
    assert len(raster_centerlines(path, 1)) == 2
    (line,) = raster_centerlines(path, 1, min_length=5.0)
    assert line.length > 20
    assert raster_centerlines(path, 3) == []
    assert raster_centerlines(class_raster(tmp_path, np.zeros((20, 20), np.uint8), "empty.tif"), 1) == []
