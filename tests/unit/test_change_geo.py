"""The geo primitives of change detection, each against a reference computed here:
open_speckle vs a brute-force opening, raster_regions (sparse path) vs scipy's 4-connected
labels turned into unions of pixel squares, polygon_pixels vs shapely point-in-polygon of
every pixel centre, RasterPair / compared_bands / sample() vs hand-computed windows and
values, and the change-vector functions vs float64 arithmetic by hand."""
import math

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.enums import ColorInterp, Resampling
from rasterio.transform import from_origin
from rasterio.warp import calculate_default_transform, reproject
from rasterio.windows import Window
from scipy import ndimage
from shapely.geometry import Polygon, box

from geovl.errors import InputError
from geovl.geo.change_vectors import (BandStats, band_stats, decode_direction, direction_codes, red_and_nir,
                                      zscore_change)
from geovl.geo.morphology import open_speckle
from geovl.geo.pair import RasterPair, compared_bands
from geovl.geo.vectorise import raster_regions
from geovl.geo.zonal import polygon_pixels

from ..conftest import write_raster

X0, Y0 = 500_000.0, 4_650_000.0


# --- open_speckle ------------------------------------------------------------------------

def brute_pass(mask: np.ndarray, combine) -> np.ndarray:
    """One 3 x 3 pass, the neighbourhood read with edge replication (clamped indexes)."""
    height, width = mask.shape
    out = np.zeros_like(mask)
    for r in range(height):
        for c in range(width):
            out[r, c] = combine(mask[min(max(r + dr, 0), height - 1), min(max(c + dc, 0), width - 1)]
                                for dr in (-1, 0, 1) for dc in (-1, 0, 1))
    return out


def brute_open(mask: np.ndarray) -> np.ndarray:
    """Erode (pixel kept iff its edge-replicated 3 x 3 neighbourhood is all True), then
    dilate (pixel set iff any pixel of its edge-replicated 3 x 3 neighbourhood is True)."""
    return brute_pass(brute_pass(mask.astype(bool), all), any)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 1), (2, 2), (3, 3), (13, 17), (40, 33)], ids=str)
@pytest.mark.parametrize("density", [0.3, 0.6, 0.85, 0.97])
def test_open_speckle_matches_brute_force(shape, density):
    """Random masks (they touch the edges at these densities) against the brute-force opening."""
    rng = np.random.default_rng(hash((shape, density)) % 2**32)
    mask = rng.random(shape) < density
    result = open_speckle(mask)
    assert result.dtype == bool and result.shape == mask.shape
    np.testing.assert_array_equal(result, brute_open(mask))


@pytest.mark.parametrize("shape", [(5, 5), (6, 9), (20, 31), (44, 40)], ids=str)
@pytest.mark.parametrize("density", [0.5, 0.8, 0.95])
def test_open_speckle_matches_brute_force_away_from_edges(shape, density):
    """Random masks inside a 2-pixel empty border: no edge effect of any kind."""
    rng = np.random.default_rng(hash((shape, density, 1)) % 2**32)
    mask = np.zeros(shape, bool)
    mask[2:-2, 2:-2] = rng.random((shape[0] - 4, shape[1] - 4)) < density
    np.testing.assert_array_equal(open_speckle(mask), brute_open(mask))


@pytest.mark.parametrize("mask_rows, expected_rows", ids=["corner-pixel", "top-line", "top-segment", "corner-2x2"], argvalues=[
    # one pixel in a corner: a speck, removed
    (["#....", ".....", "....."], [".....", ".....", "....."]),
    # a line 1 pixel thick along the top edge: thinner than 3 pixels, removed
    (["#####", ".....", ".....", "....."], [".....", ".....", ".....", "....."]),
    # a 3-pixel segment on the top edge: a region of 3 pixels, removed
    (["..###...", "........", "........"], ["........", "........", "........"]),
    # a 2 x 2 speck in a corner: its edge-replicated neighbourhood is all True at the corner pixel
    (["##...", "##...", ".....", "....."], ["##...", "##...", ".....", "....."]),
])
def test_open_speckle_on_edges_hand_cases(mask_rows, expected_rows):
    """Edge behaviour, by hand, of the opening whose two passes each replicate the edge."""
    mask = np.array([[ch == "#" for ch in row] for row in mask_rows])
    expected = np.array([[ch == "#" for ch in row] for row in expected_rows])
    np.testing.assert_array_equal(brute_open(mask), expected)   # the reference agrees with the hand result
    np.testing.assert_array_equal(open_speckle(mask), expected)


def test_open_speckle_removes_every_small_region():
    """Every 4-connected region of fewer than 9 pixels (not touching the edges) disappears,
    even when it touches others diagonally; larger squares stay."""
    rng = np.random.default_rng(7)
    mask = np.zeros((80, 80), bool)
    for _ in range(150):                     # random small shapes of at most 8 pixels
        r, c = rng.integers(2, 76, size=2)
        cells = [(r, c)]
        for _ in range(rng.integers(0, 8)):
            dr, dc = [(0, 1), (1, 0), (0, -1), (-1, 0)][rng.integers(4)]
            cells.append((min(77, max(2, cells[-1][0] + dr)), min(77, max(2, cells[-1][1] + dc))))
        for rr, cc in cells:
            mask[rr, cc] = True
    labels, count = ndimage.label(mask)      # 4-connectivity
    sizes = np.bincount(labels.ravel())
    small = np.isin(labels, np.flatnonzero(sizes < 9)) & (labels > 0)
    assert small.any()
    result = open_speckle(mask)
    assert not (result & small).any()
    # the opening never adds pixels
    assert not (result & ~mask).any()


@pytest.mark.parametrize("height, width", [(3, 3), (3, 8), (5, 4), (11, 7)])
def test_open_speckle_keeps_rectangles_exactly(height, width):
    mask = np.zeros((30, 30), bool)
    mask[6:6 + height, 9:9 + width] = True
    mask[20:20 + height, 0:width] = True         # one on the left edge as well
    np.testing.assert_array_equal(open_speckle(mask), mask)


def test_open_speckle_keeps_l_shape_and_corners_exactly():
    """An L of 3-pixel-thick arms (corners included) is kept as it is."""
    mask = np.zeros((20, 20), bool)
    mask[3:15, 4:7] = True
    mask[12:15, 4:16] = True
    np.testing.assert_array_equal(open_speckle(mask), mask)


@pytest.mark.parametrize("orientation", ["horizontal", "vertical", "staircase"])
def test_open_speckle_removes_two_pixel_lines(orientation):
    """A 2-pixel-wide line (or 4-connected staircase) vanishes; a 6 x 6 square beside it stays."""
    mask = np.zeros((40, 40), bool)
    if orientation == "horizontal":
        mask[10:12, 3:37] = True
    elif orientation == "vertical":
        mask[3:37, 20:22] = True
    else:
        for i in range(5, 35):
            mask[i, i:i + 2] = True
    mask[30:36, 2:8] = True
    expected = np.zeros_like(mask)
    expected[30:36, 2:8] = True
    np.testing.assert_array_equal(open_speckle(mask), expected)


# --- raster_regions (sparse path) ------------------------------------------------------------

PX = 0.5
TRANSFORM = from_origin(X0, Y0, PX, PX)


def label_file(tmp_path, labels, name="labels.tif"):
    return write_raster(tmp_path / name, labels[None].astype(np.int32), transform=TRANSFORM)


def reference_regions(labels, class_of_label):
    """(class, union of pixel squares, {label: area}) per 4-connected component of each class."""
    classes = np.zeros(labels.shape, np.int32)
    for label, code in class_of_label.items():
        classes[labels == label] = code
    result = []
    for code in sorted(set(class_of_label.values())):
        components, count = ndimage.label(classes == code)     # 4-connectivity by default
        for k, (rs, cs) in enumerate(ndimage.find_objects(components), 1):
            rows, cols = np.nonzero(components[rs, cs] == k)
            rows, cols = rows + rs.start, cols + cs.start
            squares = shapely.box(X0 + cols * PX, Y0 - (rows + 1) * PX, X0 + (cols + 1) * PX, Y0 - rows * PX)
            values, counts = np.unique(labels[rows, cols], return_counts=True)
            result.append((code, shapely.union_all(squares), {int(v): n * PX * PX for v, n in zip(values, counts)}))
    return result


def assert_regions_match(regions, reference):
    """One reference component per region: same class, symmetric difference of area 0,
    same label areas; none left over."""
    assert len(regions) == len(reference)
    by_key = {}
    for ref in reference:
        by_key.setdefault((ref[0], ref[1].bounds), []).append(ref)
    for region in regions:
        assert region.polygon.is_valid and region.polygon.geom_type == "Polygon"
        candidates = by_key.get((region.class_code, region.polygon.bounds), [])
        match = [ref for ref in candidates if region.polygon.symmetric_difference(ref[1]).area == 0]
        assert len(match) == 1, f"no reference component for class {region.class_code} at {region.polygon.bounds}"
        assert region.label_areas == pytest.approx(match[0][2])
        candidates.remove(match[0])
    assert not any(by_key.values())


@pytest.mark.parametrize("window_size", [4096, 192, 100])
def test_regions_l_cluster_around_small_cluster(tmp_path, window_size):
    """In 64 px blocks: an L-shaped cluster (blocks of column 0 and row 3) whose bounding
    box holds a separate one-block cluster at block (1, 2). The L holds one long region
    through all its blocks and specks; the small cluster its own regions."""
    labels = np.zeros((256, 256), np.int32)
    labels[10:250, 20:30] = 1                  # down column block 0 ...
    labels[240:250, 20:240] = 1                # ... and along row block 3: one L region
    labels[5:9, 40:44] = 2                     # specks in the L's blocks
    labels[200:203, 5:7] = 3
    labels[70:120, 140:180] = 2                # block (1, 2) only: inside the L's bounding box
    labels[80:90, 150:160] = 0                 # with a hole
    labels[84:86, 154:156] = 3                 # holding a region of another class
    class_of_label = {1: 1, 2: 2, 3: 1}
    if window_size == 4096:
        assert sparse_windows(labels, window_size) == (1, 2)
    regions = raster_regions(label_file(tmp_path, labels), class_of_label, window_size=window_size)
    reference = reference_regions(labels, class_of_label)
    assert len(reference) == 5
    assert_regions_match(regions, reference)


def sparse_windows(labels, window_size, block=64):
    """How many windows have some but not all 64 px blocks occupied, and the most
    4-connected block clusters in one window (the sparse path's cases)."""
    partial, most = 0, 0
    for r in range(0, labels.shape[0], window_size):
        for c in range(0, labels.shape[1], window_size):
            window = labels[r:r + window_size, c:c + window_size] != 0
            occupied = np.array([[window[i:i + block, j:j + block].any() for j in range(0, window.shape[1], block)]
                                 for i in range(0, window.shape[0], block)])
            if occupied.any() and not occupied.all():
                partial += 1
                most = max(most, ndimage.label(occupied)[1])
    return partial, most


@pytest.mark.parametrize("window_size", [100, 128, 4096])
def test_regions_sparse_random_blobs(tmp_path, window_size):
    """Random rectangles of three labels (two classes) spread sparsely over a raster larger
    than one window, and a patch of speckled blobs: regions cross window and block edges
    and join; windows hold empty blocks (several separate clusters of occupied blocks
    in the one big window)."""
    rng = np.random.default_rng(window_size)
    labels = np.zeros((450, 530), np.int32)
    for _ in range(30):
        r, c = rng.integers(0, 440), rng.integers(0, 520)
        h, w = rng.integers(1, 45), rng.integers(1, 45)
        labels[r:r + h, c:c + w] = rng.integers(1, 4)
    blob = ndimage.gaussian_filter(rng.random((120, 140)), 3) > 0.53
    labels[300:420, 20:160][blob] = 2
    labels[:, 250:330] = 0                     # an empty band of blocks
    labels[0:150, 250:330][np.eye(150, 80, 10, bool)] = 1     # but for a diagonal line
    class_of_label = {1: 1, 2: 1, 3: 2}
    partial, most = sparse_windows(labels, window_size)
    assert partial >= (1 if window_size == 4096 else 5)
    assert most >= (3 if window_size == 4096 else 1)
    regions = raster_regions(label_file(tmp_path, labels), class_of_label, window_size=window_size)
    assert_regions_match(regions, reference_regions(labels, class_of_label))


@pytest.mark.parametrize("window_size", [100])
def test_regions_ring_with_holes_across_windows(tmp_path, window_size):
    """A ring crossing window corners: its hole stays a hole after the join; an island of
    the same class inside the hole stays a separate region; one of another class too."""
    rows, cols = np.mgrid[0:300, 0:300]
    distance = np.hypot(rows - 128.3, cols - 99.7)
    labels = np.zeros((300, 300), np.int32)
    labels[(distance >= 40) & (distance < 70)] = 1
    labels[120:135, 95:105] = 1                 # same class, inside the hole, not touching
    labels[110:118, 80:90] = 2                  # another class inside the hole
    class_of_label = {1: 1, 2: 2}
    regions = raster_regions(label_file(tmp_path, labels), class_of_label, window_size=window_size)
    reference = reference_regions(labels, class_of_label)
    assert len(reference) == 3
    assert_regions_match(regions, reference)
    ring = max(regions, key=lambda r: r.polygon.area)
    assert len(ring.polygon.interiors) == 1


@pytest.mark.parametrize("window_size", [100, 128, 4096])
def test_regions_diagonal_contacts_stay_apart(tmp_path, window_size):
    """Squares touching only at corners (at window corners, block corners and inside a
    block) are separate regions; a checkerboard is one region per pixel."""
    labels = np.zeros((260, 260), np.int32)
    labels[90:100, 90:100] = 1                  # corner at (100, 100): a window corner for 100
    labels[100:110, 100:110] = 1
    labels[118:128, 118:128] = 1                # corner at (128, 128): window and block corner
    labels[128:138, 128:138] = 1
    labels[60:64, 60:64] = 1                    # block corner at (64, 64) only
    labels[64:68, 64:68] = 1
    labels[64:68, 56:60] = 1                    # and a third one at the other diagonal
    board = (np.add.outer(np.arange(8), np.arange(8)) % 2 == 0)
    labels[196:204, 196:204][board] = 1         # crosses the window edge at 200
    labels[20:24, 20:24] = 1                    # two classes sharing an edge stay two regions
    labels[20:24, 24:28] = 2
    class_of_label = {1: 1, 2: 2}
    regions = raster_regions(label_file(tmp_path, labels), class_of_label, window_size=window_size)
    reference = reference_regions(labels, class_of_label)
    assert len(reference) == 2 + 2 + 3 + 32 + 2
    assert_regions_match(regions, reference)


def test_regions_dense_raster_full_window_path(tmp_path):
    """Every block occupied (the whole-window path) with small windows: same reference."""
    rng = np.random.default_rng(3)
    labels = (rng.random((70, 85)) < 0.55).astype(np.int32) * rng.integers(1, 3, (70, 85))
    class_of_label = {1: 1, 2: 2}
    regions = raster_regions(label_file(tmp_path, labels), class_of_label, window_size=40)
    assert_regions_match(regions, reference_regions(labels, class_of_label))


# --- polygon_pixels ------------------------------------------------------------------------

def centre_reference(transform: Affine, width: int, height: int, polygon) -> np.ndarray:
    """Whether the polygon holds each pixel centre, with the affine written out by hand."""
    a, b, c, d, e, f = transform.a, transform.b, transform.c, transform.d, transform.e, transform.f
    rows, cols = np.mgrid[0:height, 0:width]
    x = a * (cols + 0.5) + b * (rows + 0.5) + c
    y = d * (cols + 0.5) + e * (rows + 0.5) + f
    return shapely.contains_xy(polygon, x, y)


def collect(dataset, polygon, window_size):
    """The windows yielded, checked for shape, size and overlap, burnt into one array."""
    out = np.zeros((dataset.height, dataset.width), bool)
    seen = np.zeros_like(out)
    windows = []
    for window, inside in polygon_pixels(dataset, polygon, window_size):
        assert inside.dtype == bool and inside.shape == (window.height, window.width)
        assert window.width <= window_size and window.height <= window_size
        assert window.col_off >= 0 and window.row_off >= 0
        assert window.col_off + window.width <= dataset.width and window.row_off + window.height <= dataset.height
        block = np.s_[window.row_off:window.row_off + window.height, window.col_off:window.col_off + window.width]
        assert not seen[block].any()
        seen[block] = True
        out[block] = inside
        windows.append(window)
    return out, windows


STAR = Polygon([(X0 + 3.1 + 9.7 * (1 + (0.45 if k % 2 else 1) * math.cos(k * math.pi / 6 + 0.05)),
                 Y0 - 21.3 + 9.7 * (0.45 if k % 2 else 1) * math.sin(k * math.pi / 6 + 0.05))
                for k in range(12)])


@pytest.mark.parametrize("window_size", [7, 16, 4096])
def test_polygon_pixels_north_up_half_metre(tmp_path, window_size):
    transform = from_origin(X0, Y0, 0.5, 0.5)
    path = write_raster(tmp_path / "m.tif", np.zeros((1, 70, 60), np.float32), transform=transform)
    with rasterio.open(path) as dataset:
        got, windows = collect(dataset, STAR, window_size)
    expected = centre_reference(transform, 60, 70, STAR)
    assert expected.sum() > 100
    np.testing.assert_array_equal(got, expected)
    if window_size == 7:
        assert len(windows) > 4
    # the windows tile the polygon's bounding box (whole pixels around its bounds)
    xmin, ymin, xmax, ymax = STAR.bounds
    c0, c1 = math.floor((xmin - X0) / 0.5), math.ceil((xmax - X0) / 0.5)
    r0, r1 = math.floor((Y0 - ymax) / 0.5), math.ceil((Y0 - ymin) / 0.5)
    assert min(w.col_off for w in windows) == c0 and min(w.row_off for w in windows) == r0
    assert max(w.col_off + w.width for w in windows) == c1 and max(w.row_off + w.height for w in windows) == r1
    assert sum(w.width * w.height for w in windows) == (c1 - c0) * (r1 - r0)


def test_polygon_pixels_rotated_geotransform(tmp_path):
    """0.5 m pixels rotated by 25 degrees."""
    transform = Affine.translation(X0, Y0) * Affine.rotation(25) * Affine.scale(0.5, -0.5)
    path = write_raster(tmp_path / "r.tif", np.zeros((1, 80, 90), np.float32), transform=transform)
    polygon = Polygon([(X0 + 5.3, Y0 - 3.1), (X0 + 31.7, Y0 + 2.9), (X0 + 27.2, Y0 - 20.6), (X0 + 12.4, Y0 - 14.9)])
    with rasterio.open(path) as dataset:
        assert dataset.transform.almost_equals(transform)
        got, windows = collect(dataset, polygon, 9)
    expected = centre_reference(transform, 90, 80, polygon)
    assert expected.sum() > 200
    assert len(windows) > 4
    np.testing.assert_array_equal(got, expected)


def test_polygon_pixels_partly_outside(tmp_path):
    transform = from_origin(X0, Y0, 0.5, 0.5)
    path = write_raster(tmp_path / "m.tif", np.zeros((1, 30, 40), np.float32), transform=transform)
    polygon = Polygon([(X0 - 7.3, Y0 + 4.1), (X0 + 12.2, Y0 - 3.3), (X0 + 6.9, Y0 - 22.7)])  # crosses left, top, bottom
    with rasterio.open(path) as dataset:
        got, windows = collect(dataset, polygon, 8)
    assert min(w.col_off for w in windows) == 0 and min(w.row_off for w in windows) == 0
    assert max(w.row_off + w.height for w in windows) == 30
    np.testing.assert_array_equal(got, centre_reference(transform, 40, 30, polygon))


def test_polygon_pixels_wholly_outside_yields_nothing(tmp_path):
    transform = from_origin(X0, Y0, 0.5, 0.5)
    path = write_raster(tmp_path / "m.tif", np.zeros((1, 30, 40), np.float32), transform=transform)
    with rasterio.open(path) as dataset:
        assert list(polygon_pixels(dataset, box(X0 + 25, Y0 - 5, X0 + 30, Y0), 8)) == []       # east
        assert list(polygon_pixels(dataset, box(X0 - 9, Y0 + 1, X0 - 0.2, Y0 + 6), 8)) == []   # north-west


# --- compared_bands and RasterPair --------------------------------------------------------------

def test_compared_bands_rules():
    assert compared_bands(4, 4, None) == [1, 2, 3, 4]
    assert compared_bands(3, 3, []) == [1, 2, 3]
    assert compared_bands(4, 6, [4, 2]) == [4, 2]
    assert compared_bands(1, 1, [1]) == [1]


def test_compared_bands_messages():
    with pytest.raises(InputError) as error:
        compared_bands(4, 3, None)
    assert str(error.value) == ("BEFORE has 4 band(s) and AFTER has 3: choose the bands to compare (BANDS, the "
                                "same numbers are read from both), e.g. 1,2,3.")
    with pytest.raises(InputError) as error:
        compared_bands(4, 3, [1, 4, 0])
    assert str(error.value) == ("Band number(s) [4, 0] do not exist in both rasters: BEFORE has 4 band(s), AFTER 3. "
                                "Choose bands that both have (BANDS).")


def pattern(height, width, bands=1, offset=0):
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack([rows * 3 + cols + offset + 7 * b for b in range(bands)]).astype(np.uint16)


def test_pair_same_grid_not_warped(tmp_path):
    before = write_raster(tmp_path / "b.tif", pattern(60, 80, 2))
    after = write_raster(tmp_path / "a.tif", pattern(60, 80, 2, offset=100))
    with RasterPair(before, after) as pair:
        assert not pair.after.warped and not pair.before.warped
        assert pair.bands == [1, 2]
        assert pair.area == Window(0, 0, 80, 60)
        b, a, valid = pair.read(Window(10, 5, 30, 20), (20, 30))
    np.testing.assert_array_equal(b, pattern(60, 80, 2)[:, 5:25, 10:40])
    np.testing.assert_array_equal(a, pattern(60, 80, 2, offset=100)[:, 5:25, 10:40])
    assert valid.all()


def test_pair_band_count_mismatch_raises(tmp_path):
    before = write_raster(tmp_path / "b.tif", pattern(20, 20, 3))
    after = write_raster(tmp_path / "a.tif", pattern(20, 20, 2))
    with pytest.raises(InputError, match="BEFORE has 3 band"):
        RasterPair(before, after)
    with RasterPair(before, after, bands=[2, 1]) as pair:
        assert pair.bands == [2, 1]


def smooth(height, width):
    rows, cols = np.mgrid[0:height, 0:width]
    return (1000 + 200 * np.sin(2 * np.pi * cols / 150) * np.cos(2 * np.pi * rows / 110)
            + 0.3 * rows).astype(np.float32)


def test_pair_after_in_other_crs_is_warped(tmp_path):
    """AFTER is BEFORE (UTM 33N, 10 m) reprojected to EPSG:4326: read on BEFORE's grid it
    gives BEFORE's pixels back within interpolation error, away from the edges."""
    height, width = 240, 260
    data = smooth(height, width)
    utm = from_origin(X0, Y0, 10.0, 10.0)
    before = write_raster(tmp_path / "b.tif", data[None], transform=utm, nodata=-9999.0)
    dst_transform, dst_width, dst_height = calculate_default_transform(
        "EPSG:32633", "EPSG:4326", width, height, left=X0, bottom=Y0 - 10 * height, right=X0 + 10 * width, top=Y0)
    warped = np.full((dst_height, dst_width), -9999.0, np.float32)
    reproject(data, warped, src_transform=utm, src_crs="EPSG:32633", dst_transform=dst_transform,
              dst_crs="EPSG:4326", resampling=Resampling.bilinear, src_nodata=-9999.0, dst_nodata=-9999.0)
    after = write_raster(tmp_path / "a.tif", warped[None], crs="EPSG:4326", transform=dst_transform, nodata=-9999.0)
    with RasterPair(before, after) as pair:
        assert pair.after.warped and not pair.before.warped
        assert pair.after.dataset.crs.to_epsg() == 32633
        assert pair.area.width >= width - 2 and pair.area.height >= height - 2
        window = Window(20, 15, 200, 190)
        b, a, valid = pair.read(window, (190, 200))
    np.testing.assert_array_equal(b[0], data[15:205, 20:220])
    assert valid.all()
    # bilinear twice, through GDAL's approximate transformer (1/8 px): errors well under 1
    np.testing.assert_allclose(a[0], data[15:205, 20:220], atol=1.0)
    assert np.abs(a[0] - data[15:205, 20:220]).mean() < 0.4
    # while AFTER one pixel off would be some 5 units out on average
    assert np.abs(a[0] - data[15:205, 21:221]).mean() > 3


def test_pair_partial_overlap_area(tmp_path):
    """AFTER shifted 30 px east and 20 px south: BEFORE's cols 30..200, rows 20..150."""
    before = write_raster(tmp_path / "b.tif", pattern(150, 200))
    after_data = pattern(150, 200, offset=5000)
    after = write_raster(tmp_path / "a.tif", after_data, transform=from_origin(X0 + 30, Y0 - 20, 1.0, 1.0))
    with RasterPair(before, after) as pair:
        assert pair.after.warped
        assert pair.area == Window(30, 20, 170, 130)
        b, a, valid = pair.read(Window(40, 30, 50, 40), (40, 50))
    np.testing.assert_array_equal(b, pattern(150, 200)[:, 30:70, 40:90])
    assert valid.all()
    np.testing.assert_allclose(a, after_data[:, 10:50, 10:60], atol=1)


def test_pair_extent(tmp_path):
    before = write_raster(tmp_path / "b.tif", pattern(150, 200))
    after = write_raster(tmp_path / "a.tif", pattern(150, 200), transform=from_origin(X0 + 30, Y0 - 20, 1.0, 1.0))
    # extent cols 10..120, rows 40..100 of BEFORE; AFTER starts at col 30
    with RasterPair(before, after, extent=(X0 + 10, Y0 - 100, X0 + 120, Y0 - 40)) as pair:
        assert pair.area == Window(30, 40, 90, 60)
    # an extent over BEFORE but outside AFTER
    with pytest.raises(InputError, match="do not overlap within the extent"):
        RasterPair(before, after, extent=(X0 + 1, Y0 - 15, X0 + 20, Y0 - 2))
    # rasters far apart
    far = write_raster(tmp_path / "far.tif", pattern(150, 200), transform=from_origin(X0 + 5000, Y0, 1.0, 1.0))
    with pytest.raises(InputError, match="do not overlap"):
        RasterPair(before, far)


# Window offsets of _spread's rule, by hand: centre = start + (k + 0.5) * length / 8,
# offset = round(centre - 64), clamped to [start, start + length - 128].
COLS_2000 = [61, 311, 561, 811, 1061, 1311, 1561, 1811]           # 125 + 250 k - 64
ROWS_1500 = [30, 217, 405, 592, 780, 967, 1155, 1342]             # round(93.75 + 187.5 k - 64)
COLS_100_1500 = [130, 317, 505, 692, 880, 1067, 1255, 1442]       # round(100 + 93.75 + 187.5 k - 64)
ROWS_50_1200 = [61, 211, 361, 511, 661, 811, 961, 1111]           # 50 + 75 + 150 k - 64


def percentile_by_hand(values: np.ndarray, percent: float) -> float:
    """The linear-interpolation percentile: the value at rank percent / 100 * (n - 1) of the
    sorted values, between its two neighbours."""
    ranked = np.sort(values.ravel()).astype(np.float64)
    rank = percent / 100 * (ranked.size - 1)
    low = int(rank)
    return float(ranked[low] + (rank - low) * (ranked[min(low + 1, ranked.size - 1)] - ranked[low]))


def assert_stretch(stretch, low, high):
    assert stretch.method == "percentile 2-98"
    assert stretch.low == pytest.approx(low, rel=1e-12) and stretch.high == pytest.approx(high, rel=1e-12)


def test_percentile_by_hand_on_known_values():
    assert percentile_by_hand(np.arange(101), 2) == 2.0
    assert percentile_by_hand(np.array([10, 0, 30, 20]), 50) == 15.0       # rank 1.5 of 0, 10, 20, 30


def expected_sample(data, rows, cols):
    return np.concatenate([data[:, r:r + 128, c:c + 128] for r in rows for c in cols], axis=-1)


@pytest.fixture(scope="module")
def big_pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big")
    before, after = pattern(1500, 2000, 2), pattern(1500, 2000, 2, offset=11)
    return (write_raster(folder / "b.tif", before, tiled=True, blockxsize=256, blockysize=256), before,
            write_raster(folder / "a.tif", after, tiled=True, blockxsize=256, blockysize=256), after)


@pytest.mark.parametrize("extent, rows, cols", [
    (None, ROWS_1500, COLS_2000),
    ((X0 + 100, Y0 - 1250, X0 + 1600, Y0 - 50), ROWS_50_1200, COLS_100_1500),
])
def test_pair_sample_of_large_raster(big_pair, extent, rows, cols):
    before_path, before, after_path, after = big_pair
    with RasterPair(before_path, after_path, extent=extent) as pair:
        b, a, valid = pair.sample()
        assert b.shape == a.shape == (2, 128, 64 * 128) and valid.shape == (128, 64 * 128)
        assert b.dtype == np.uint16
        want_b, want_a = expected_sample(before, rows, cols), expected_sample(after, rows, cols)
        np.testing.assert_array_equal(b, want_b)
        np.testing.assert_array_equal(a, want_a)
        assert valid.all()
        # two bands: the composed RGB is band 1 three times, which BANDS (1, 2) includes
        for stretch, want in ((pair.before.stretch, want_b), (pair.after.stretch, want_a)):
            assert_stretch(stretch, [percentile_by_hand(want[0], 2)] * 3, [percentile_by_hand(want[0], 98)] * 3)


def test_pair_sample_of_small_raster_is_whole_overlap(tmp_path):
    before_data, after_data = pattern(300, 1024, 2), pattern(300, 1024, 2, offset=3)
    before = write_raster(tmp_path / "b.tif", before_data)
    after = write_raster(tmp_path / "a.tif", after_data)
    with RasterPair(before, after) as pair:
        b, a, valid = pair.sample()
    np.testing.assert_array_equal(b, before_data)
    np.testing.assert_array_equal(a, after_data)
    assert valid.all()
    shifted = write_raster(tmp_path / "s.tif", after_data, transform=from_origin(X0 + 24, Y0 - 10, 1.0, 1.0))
    with RasterPair(before, shifted) as pair:
        b, a, valid = pair.sample()
    np.testing.assert_array_equal(b, before_data[:, 10:, 24:])
    np.testing.assert_allclose(a, after_data[:, :290, :1000], atol=1)


def four_band(path, data):
    write_raster(path, data)
    with rasterio.open(path, "r+") as dst:
        dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.undefined]
    return str(path)


def test_pair_sample_sets_rgb_stretch_when_bands_include_rgb(tmp_path):
    """Each band holds 10,800 distinct values in shuffled order, b * 1000 + k (BEFORE) and
    5 k + 500 + b (AFTER) for k = 0..10799: the 2nd and 98th percentiles sit at ranks
    0.02 * 10799 = 215.98 and 0.98 * 10799 = 10583.02, so they are known exactly."""
    rng = np.random.default_rng(5)
    k = np.stack([rng.permutation(90 * 120).reshape(90, 120) for _ in range(4)])
    bands = np.arange(4)[:, None, None]
    before_data, after_data = (bands * 1000 + k).astype(np.uint16), (5 * k + 500 + bands).astype(np.uint16)
    before, after = four_band(tmp_path / "b.tif", before_data), four_band(tmp_path / "a.tif", after_data)
    before_low, before_high = [b * 1000 + 215.98 for b in range(3)], [b * 1000 + 10583.02 for b in range(3)]
    with RasterPair(before, after) as pair:
        assert pair.bands == [1, 2, 3, 4] and pair.before.bands == [1, 2, 3]
        pair.sample()
        assert_stretch(pair.before.stretch, before_low, before_high)
        assert_stretch(pair.after.stretch, [500 + b + 5 * 215.98 for b in range(3)],
                       [500 + b + 5 * 10583.02 for b in range(3)])
    with RasterPair(before, after, bands=[4, 3, 1, 2]) as pair:      # order of BANDS differs from RGB
        pair.sample()
        assert_stretch(pair.before.stretch, before_low, before_high)
    with RasterPair(before, after, bands=[2, 4]) as pair:             # red and blue not compared
        pair.sample()
        assert pair.before._stretch is None                           # left to the raster's own statistics


# --- change vectors ------------------------------------------------------------------------------

def test_band_stats_by_hand():
    sample = np.array([[[1, 3, 99], [5, 7, 99]],
                       [[2, 2, 50], [2, 2, 50]]], np.uint16)
    valid = np.array([[True, True, False], [True, True, False]])
    stats = band_stats(sample, valid)
    assert stats.mean == pytest.approx((4.0, 2.0))
    assert stats.std == pytest.approx((math.sqrt(5.0), 1.0))     # (9 + 1 + 1 + 9) / 4; constant -> 1
    empty = band_stats(sample, np.zeros_like(valid))
    assert empty.mean == (0.0, 0.0) and empty.std == (1.0, 1.0)


def zscore_difference(before: np.ndarray, after: np.ndarray, bs: BandStats, as_: BandStats) -> np.ndarray:
    """The per-band z-score change (after minus before) in float64, written out here."""
    def z(x, st):
        return (x.astype(np.float64) - np.array(st.mean)[:, None, None]) / np.array(st.std)[:, None, None]
    return z(after, as_) - z(before, bs)


def test_zscore_change_against_float64():
    rng = np.random.default_rng(11)
    before = rng.integers(0, 4000, (4, 33, 27)).astype(np.uint16)
    after = rng.normal(2000, 700, (4, 33, 27)).astype(np.float32)
    bs = BandStats((1900.0, 2100.5, 1500.0, 40.0), (1100.0, 950.25, 800.0, 1.0))
    as_ = BandStats((2000.0, 1800.0, 2500.0, 60.0), (700.0, 650.0, 1300.5, 3.0))
    magnitude, mean = zscore_change(before, after, bs, as_)
    assert magnitude.dtype == np.float32 and mean.dtype == np.float32 and magnitude.shape == (33, 27)
    diff = zscore_difference(before, after, bs, as_)
    np.testing.assert_allclose(magnitude, np.sqrt((diff ** 2).sum(axis=0)), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(mean, diff.mean(axis=0), rtol=1e-5, atol=1e-4)


def test_zscore_change_one_pixel_by_hand():
    before = np.array([[[10.0]], [[4.0]]], np.float32)
    after = np.array([[[16.0]], [[2.0]]], np.float32)
    stats = BandStats((10.0, 4.0), (2.0, 1.0))
    # z after - z before: (16 - 10) / 2 - 0 = 3, (2 - 4) / 1 - 0 = -2
    magnitude, mean = zscore_change(before, after, stats, stats)
    assert magnitude[0, 0] == pytest.approx(math.sqrt(13))
    assert mean[0, 0] == pytest.approx(0.5)


def test_direction_codes_by_hand():
    #                 similar          brighter         darker           borders
    mean = np.array([[0.0, 0.0, 0.0, 0.6, 0.6, 0.6, -0.6, -0.6, -0.6, 0.5, -0.5, 0.0]], np.float32)
    # bands (red, nir); NDVI before 0 everywhere; after: none, gain (+0.2), loss (-0.2), ...
    red_after = np.array([[100, 100, 150, 100, 100, 150, 100, 100, 150, 100, 100, 0]], np.float32)
    nir_after = np.array([[100, 150, 100, 100, 150, 100, 100, 150, 100, 120, 80, 0]], np.float32)
    before = np.stack([np.full((1, 12), 100.0, np.float32), np.full((1, 12), 100.0, np.float32)])
    after = np.stack([red_after, nir_after])
    codes = direction_codes(mean, before, after, (0, 1))
    assert codes.dtype == np.uint8
    # NDVI changes of the last three: 20/220 = 0.09, -20/180 = -0.11, 0 (zero total)
    assert codes[0].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 3, 1]
    assert direction_codes(mean, before, after, None)[0].tolist() == [1, 1, 1, 4, 4, 4, 7, 7, 7, 1, 1, 1]
    # red and nir in other positions among the bands
    swapped = np.stack([after[1], np.zeros_like(after[0]), after[0]])
    swapped_before = np.stack([before[1], np.zeros_like(before[0]), before[0]])
    assert direction_codes(mean, swapped_before, swapped, (2, 0))[0].tolist() == codes[0].tolist()


def test_zscore_change_and_direction_codes_over_several_row_blocks_against_float64():
    """150 rows: blocks of 64, 64 and 22 rows (change_vectors.BLOCK_ROWS), uint16 bands
    with nir below red in places (a difference that must not wrap around)."""
    from geovl.geo import change_vectors

    assert change_vectors.BLOCK_ROWS == 64
    rng = np.random.default_rng(4)
    before = rng.integers(0, 3000, (4, 150, 37)).astype(np.uint16)
    after = rng.integers(0, 3000, (4, 150, 37)).astype(np.uint16)
    bs = BandStats((1500.0, 1400.0, 1600.0, 1550.0), (860.0, 870.0, 850.0, 880.0))
    as_ = BandStats((1450.0, 1500.0, 1500.0, 1600.0), (900.0, 800.0, 870.0, 860.0))
    magnitude, mean = zscore_change(before, after, bs, as_)
    diff = zscore_difference(before, after, bs, as_)
    np.testing.assert_allclose(magnitude, np.sqrt((diff ** 2).sum(axis=0)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mean, diff.mean(axis=0), rtol=1e-5, atol=1e-5)

    ndvi = lambda x: (x[3].astype(np.float64) - x[0]) / np.maximum(x[3].astype(np.float64) + x[0], 1)  # noqa: E731
    change = ndvi(after) - ndvi(before)
    brightness = np.where(mean > 0.5, 1, np.where(mean < -0.5, 2, 0))
    vegetation = np.where(change > 0.1, 1, np.where(change < -0.1, 2, 0))
    # a float32 NDVI may fall on the other side of a step than the float64 one: skip those
    clear = np.abs(np.abs(change) - 0.1) > 1e-5
    codes = direction_codes(mean, before, after, (0, 3))
    np.testing.assert_array_equal(codes[clear], (1 + 3 * brightness + vegetation)[clear])
    assert clear.mean() > 0.99


def test_decode_direction_all_codes():
    expected = {1: ("similar", ""), 2: ("similar", "gain"), 3: ("similar", "loss"),
                4: ("brighter", ""), 5: ("brighter", "gain"), 6: ("brighter", "loss"),
                7: ("darker", ""), 8: ("darker", "gain"), 9: ("darker", "loss")}
    for code, words in expected.items():
        assert decode_direction(code) == words


CI = ColorInterp


@pytest.mark.parametrize("interps, descriptions, bands, expected", [
    ([CI.red, CI.green, CI.blue, CI.nir], [None] * 4, [1, 2, 3, 4], (0, 3)),
    ([CI.red, CI.green, CI.blue, CI.nir], [None] * 4, [4, 2, 1], (2, 0)),
    ([CI.gray] * 3, ["Blue", "Red", "NIR"], [1, 2, 3], (1, 2)),
    ([CI.undefined] * 3, ["red", "nir", "green"], [3, 2, 1], (2, 1)),
    ([CI.undefined] * 4, ["B02", "B03", "B04", "B08"], [1, 2, 3, 4], (2, 3)),
    ([CI.undefined] * 4, ["B02", "B03", "B04", "B8A"], [1, 2, 3, 4], (2, 3)),
    ([CI.undefined] * 3, ["B04", "Near infrared", "B03"], [1, 2, 3], (0, 1)),
    ([CI.red, CI.green, CI.blue], [None] * 3, [1, 2, 3], None),               # no near infrared
    ([CI.red, CI.green, CI.blue, CI.nir], [None] * 4, [2, 3, 4], None),       # red not among the bands
    ([CI.undefined] * 3, [None, None, None], [1, 2, 3], None),
    ([CI.undefined] * 3, ["B03", "B12", "B11"], [1, 2, 3], None),
])
def test_red_and_nir(interps, descriptions, bands, expected):
    assert red_and_nir(interps, descriptions, bands) == expected


def test_red_and_nir_near_infra_red_description_is_not_red():
    """A colour-infrared band order (NIR, red, green) with a NIR band described
    'near infra red': the word 'red' in it must not make it the red band."""
    result = red_and_nir([CI.undefined] * 3, ["near infra red", "red", "green"], [1, 2, 3])
    assert result == (1, 0)
