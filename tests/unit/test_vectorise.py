"""raster_regions, simplify_polygon and polygon_area_m2 against hand-computed coordinates.

Label rasters are in EPSG:32631 with origin (500000, 4500000) and 0.5 m pixels, so
pixel (row, col) spans x = 500000 + col/2 .. +0.5 and y = 4500000 - row/2 - 0.5 .. -row/2.
"""
import numpy as np
import pytest
from affine import Affine
from rasterio.transform import from_origin
from shapely.geometry import Polygon, box

from geovl.geo.vectorise import Region, polygon_area_m2, raster_regions, simplify_polygon

from ..conftest import write_raster

X0, Y0, PX = 500000.0, 4500000.0, 0.5


def label_raster(tmp_path, labels):
    return write_raster(tmp_path / "labels.tif", labels[None].astype(np.int32), crs="EPSG:32631",
                        transform=from_origin(X0, Y0, PX, PX))


def pixel_box(row0, row1, col0, col1):
    """Map outline of rows row0..row1-1, cols col0..col1-1."""
    return box(X0 + col0 * PX, Y0 - row1 * PX, X0 + col1 * PX, Y0 - row0 * PX)


def test_rectangle_bounds_exact(tmp_path):
    """Label 1 at rows 10..19, cols 20..39: x 500010..500020, y 4499990..4499995, 50 m2."""
    labels = np.zeros((40, 60), np.int32)
    labels[10:20, 20:40] = 1
    regions = raster_regions(label_raster(tmp_path, labels), {1: 1})
    assert len(regions) == 1
    region = regions[0]
    assert isinstance(region, Region) and region.class_code == 1
    assert region.polygon.bounds == (500010.0, 4499990.0, 500020.0, 4499995.0)
    assert region.polygon.area == 50.0
    assert region.label_areas == {1: 50.0}


def test_region_across_window_borders_is_one_polygon(tmp_path):
    """A disk of radius 18 px and a 3 px wide diagonal band (4-connected) each cross
    several 16 px windows of a 64 x 64 raster: one polygon each, no holes, areas = pixel
    counts x 0.25 m2, and the same polygons as with a single window."""
    rows, cols = np.mgrid[0:64, 0:64]
    labels = np.zeros((64, 64), np.int32)
    labels[(rows - 24) ** 2 + (cols - 25) ** 2 <= 18 ** 2] = 1      # rows 6..42, cols 7..43
    labels[np.abs(rows + cols - 95) <= 1] = 2                      # rows and cols 31..63
    path = label_raster(tmp_path, labels)
    regions = raster_regions(path, {1: 1, 2: 2}, window_size=16)
    by_class = {r.class_code: r for r in regions}
    assert sorted(by_class) == [1, 2] and len(regions) == 2
    for code in (1, 2):
        polygon = by_class[code].polygon
        assert polygon.geom_type == "Polygon" and polygon.is_valid and not polygon.interiors
        assert polygon.area == pytest.approx((labels == code).sum() * 0.25)
        assert by_class[code].label_areas == {code: pytest.approx(polygon.area)}
    assert by_class[1].polygon.bounds == (X0 + 7 * PX, Y0 - 43 * PX, X0 + 44 * PX, Y0 - 6 * PX)
    assert by_class[2].polygon.bounds == (X0 + 31 * PX, Y0 - 64 * PX, X0 + 64 * PX, Y0 - 31 * PX)
    whole = raster_regions(path, {1: 1, 2: 2})
    assert [r.polygon.equals(w.polygon) for r, w in zip(regions, whole)] == [True, True]


def test_windows_dissolve_with_inexact_pixel_size(tmp_path):
    """0.3 m pixels and an origin off the grid (not exact in binary): the pieces of a disk
    from 16 px windows still dissolve into one polygon without slivers."""
    rows, cols = np.mgrid[0:64, 0:64]
    labels = ((rows - 30) ** 2 + (cols - 31) ** 2 <= 25 ** 2).astype(np.int32)
    transform = Affine(0.3, 0, 500000.1, 0, -0.3, 4500000.7)
    path = write_raster(tmp_path / "odd.tif", labels[None], crs="EPSG:32631", transform=transform)
    (region,) = raster_regions(path, {1: 1}, window_size=16)
    assert region.polygon.geom_type == "Polygon" and not region.polygon.interiors
    assert region.polygon.area == pytest.approx(labels.sum() * 0.09)
    assert region.polygon.bounds == pytest.approx((500000.1 + 6 * 0.3, 4500000.7 - 56 * 0.3,
                                                   500000.1 + 57 * 0.3, 4500000.7 - 5 * 0.3))


def test_ring_keeps_its_hole(tmp_path):
    """Rows/cols 5..24 minus 10..14 (crossing 16 px windows): one hole of 2.5 m square."""
    labels = np.zeros((32, 32), np.int32)
    labels[5:25, 5:25] = 7
    labels[10:15, 10:15] = 0
    (region,) = raster_regions(label_raster(tmp_path, labels), {7: 1}, window_size=16)
    assert len(region.polygon.interiors) == 1
    assert Polygon(region.polygon.interiors[0]).equals(pixel_box(10, 15, 10, 15))
    assert region.polygon.area == (400 - 25) * 0.25
    assert region.label_areas == {7: 93.75}


def test_two_labels_of_one_class_dissolve(tmp_path):
    """Labels 1 and 2 (both class 1) side by side: one region, each label's area kept."""
    labels = np.zeros((20, 30), np.int32)
    labels[2:12, 3:13] = 1      # 100 px = 25 m2
    labels[4:8, 13:25] = 2      # 48 px = 12 m2
    (region,) = raster_regions(label_raster(tmp_path, labels), {1: 1, 2: 1})
    assert region.class_code == 1
    assert region.label_areas == {1: 25.0, 2: 12.0}
    assert region.polygon.area == 37.0
    assert region.polygon.equals(pixel_box(2, 12, 3, 13).union(pixel_box(4, 8, 13, 25)))


def test_two_classes_touching_stay_apart(tmp_path):
    labels = np.zeros((20, 30), np.int32)
    labels[2:12, 3:13] = 1
    labels[2:12, 13:20] = 3
    regions = raster_regions(label_raster(tmp_path, labels), {1: 1, 3: 2})
    assert [(r.class_code, r.label_areas) for r in regions] == [(1, {1: 25.0}), (2, {3: 17.5})]
    assert regions[0].polygon.equals(pixel_box(2, 12, 3, 13))
    assert regions[1].polygon.equals(pixel_box(2, 12, 13, 20))


def test_separate_parts_and_diagonal_touch_are_separate_regions(tmp_path):
    """One label in two blobs, and pixels touching only at a corner (4-connectivity):
    separate regions, each with only its own area of the label."""
    labels = np.zeros((20, 30), np.int32)
    labels[0:4, 0:4] = 5        # 16 px
    labels[10:12, 20:29] = 5    # 18 px
    labels[4, 4] = 6            # corner-touches the first blob
    regions = raster_regions(label_raster(tmp_path, labels), {5: 1, 6: 1})
    areas = sorted((r.polygon.area, tuple(sorted(r.label_areas.items()))) for r in regions)
    assert areas == [(0.25, ((6, 0.25),)), (4.0, ((5, 4.0),)), (4.5, ((5, 4.5),))]


def test_empty_raster_gives_no_regions(tmp_path):
    assert raster_regions(label_raster(tmp_path, np.zeros((10, 10), np.int32)), {}) == []


def test_simplify_polygon():
    """A staircase edge of 0.5 m steps becomes one straight edge at tolerance 1 m;
    tolerance 0 returns the polygon itself; a zero-area polygon gives None."""
    stairs = [(0, 0), (10, 0)] + [(10 - k * 0.5, 0.5 * k + d) for k in range(20) for d in (0, 0.5)][1:] + [(0, 10)]
    polygon = Polygon(stairs)
    assert polygon.is_valid and len(polygon.exterior.coords) > 40
    simple = simplify_polygon(polygon, 1.0)
    assert simple.is_valid and len(simple.exterior.coords) <= 5
    assert simple.area == pytest.approx(polygon.area, rel=0.1)
    assert simplify_polygon(polygon, 0) is polygon
    small = box(0, 0, 1, 0.5)        # 0.5 m2: small, but an area
    assert simplify_polygon(small, 0.1).equals(small)
    # a triangle smaller than the tolerance is kept whole (plain Douglas-Peucker empties it)
    triangle = Polygon([(0, 0), (1, 0), (0, 1)])
    assert simplify_polygon(triangle, 2.0).equals(triangle)
    assert simplify_polygon(Polygon([(0, 0), (1, 0), (2, 0)]), 0.1) is None


def test_area_projected():
    assert polygon_area_m2(box(0, 0, 20, 5), geographic=False) == 100.0
    assert polygon_area_m2(box(0, 0, 20, 5), geographic=False, metres_per_unit=0.3048) == pytest.approx(
        100 * 0.3048 ** 2)


@pytest.mark.parametrize("lat, expected", [
    # WGS84: (a^2 (1-e^2) / 2) * dlon * [q~(lat + 0.01) - q~(lat)],
    # q~(p) = sin p / (1 - e^2 sin^2 p) + ln((1 + e sin p) / (1 - e sin p)) / (2 e).
    # A sphere of R = 6371007.2 m with geodetic latitudes would give 1236434 and 618124.
    # Straight projected edges put the result 2.5e-9 below it; a metre more on the semi-major
    # axis would add 3e-7.
    (0.0, 1230907.2018493),
    (60.0, 621587.2434439),
])
def test_area_geographic_square(lat, expected):
    """A 0.01 x 0.01 degree square at the equator and at 60N, on the WGS84 ellipsoid."""
    square = box(10.0, lat, 10.01, lat + 0.01)
    assert polygon_area_m2(square, geographic=True) == pytest.approx(expected, rel=1e-8)
    southern = box(-75.0, -lat - 0.01, -74.99, -lat)
    assert polygon_area_m2(southern, geographic=True) == pytest.approx(expected, rel=1e-8)


def test_sparse_blobs_in_one_window(tmp_path):
    """A 300 x 300 raster (5 x 5 blocks of 64 px, the last 44 px) with four separate blobs,
    one across a block border and one in the raster's last corner: each is found whole,
    at its own pixels, in one window and in 128 px windows."""
    labels = np.zeros((300, 300), np.int32)
    labels[10:20, 10:30] = 1          # 200 px
    labels[60:70, 120:135] = 1        # crosses the block row border at 64
    labels[200:230, 150:160] = 2      # class 2
    labels[290:300, 291:300] = 1      # last block, at the raster's corner
    path = label_raster(tmp_path, labels)
    expected = sorted([(1, pixel_box(10, 20, 10, 30).bounds, 50.0), (1, pixel_box(60, 70, 120, 135).bounds, 37.5),
                       (2, pixel_box(200, 230, 150, 160).bounds, 75.0), (1, pixel_box(290, 300, 291, 300).bounds, 22.5)])
    for window_size in (4096, 128):
        regions = raster_regions(path, {1: 1, 2: 2}, window_size=window_size)
        got = sorted((r.class_code, r.polygon.bounds, r.polygon.area) for r in regions)
        assert got == expected
        assert all(r.label_areas == {r.class_code: r.polygon.area} for r in regions)


def test_blob_in_an_inner_block_only(tmp_path):
    """Only an inner block holds labels: its cluster is cut out at the right offset."""
    labels = np.zeros((200, 200), np.int32)
    labels[70:75, 130:140] = 3
    (region,) = raster_regions(label_raster(tmp_path, labels), {3: 4})
    assert region.class_code == 4 and region.polygon.equals(pixel_box(70, 75, 130, 140))
    assert region.label_areas == {3: 12.5}


def test_label_without_class_is_a_key_error(tmp_path):
    """A label missing from class_of_label (even the one just past the largest, or any
    label when no class is given) is refused, not dropped."""
    labels = np.zeros((10, 10), np.int32)
    labels[2:4, 2:4] = 2
    with pytest.raises(KeyError, match="label 2 has no class"):
        raster_regions(label_raster(tmp_path, labels), {1: 1})
    labels[2:4, 2:4] = 1
    with pytest.raises(KeyError, match="label 1 has no class"):
        raster_regions(label_raster(tmp_path, labels), {})


def test_corner_contact_across_windows_stays_two_regions(tmp_path):
    """Pixels (15, 15) and (16, 16) sit in diagonal 16 px windows and touch at a corner:
    4-connectivity keeps them apart, each with its own area."""
    labels = np.zeros((32, 32), np.int32)
    labels[15, 15] = labels[16, 16] = 1
    regions = raster_regions(label_raster(tmp_path, labels), {1: 1}, window_size=16)
    assert sorted(r.polygon.bounds for r in regions) == [pixel_box(15, 16, 15, 16).bounds,
                                                          pixel_box(16, 17, 16, 17).bounds]
    assert [r.label_areas for r in regions] == [{1: 0.25}, {1: 0.25}]


def test_labels_of_one_class_across_windows_keep_their_areas(tmp_path):
    """Labels 1 (cols 3..15) and 2 (cols 16..24), both class 5, meet at the 16 px window
    border: one region; a second piece of label 1 inside the right window adds its area."""
    labels = np.zeros((20, 32), np.int32)
    labels[2:12, 3:16] = 1        # 130 px
    labels[2:12, 16:25] = 2       # 90 px
    labels[5:7, 25:27] = 1        # 4 px, touching label 2
    (region,) = raster_regions(label_raster(tmp_path, labels), {1: 5, 2: 5}, window_size=16)
    assert region.class_code == 5 and region.polygon.area == 56.0
    assert region.label_areas == {1: 33.5, 2: 22.5}


def test_areas_follow_the_transform(tmp_path):
    """2 m pixels: label areas are pixel counts x 4 m2 and coordinates scale with them."""
    labels = np.zeros((10, 10), np.int32)
    labels[1:3, 4:9] = 1
    path = write_raster(tmp_path / "two-m.tif", labels[None], crs="EPSG:32631", transform=from_origin(X0, Y0, 2, 2))
    (region,) = raster_regions(path, {1: 1})
    assert region.polygon.bounds == (X0 + 8, Y0 - 6, X0 + 18, Y0 - 2) and region.label_areas == {1: 40.0}


def test_piece_ending_at_a_window_edge_alone(tmp_path):
    """A blob whose right side is the inner edge of its 16 px window, with nothing beyond:
    a region of its own area; a bar crossing a border later in the raster is still found."""
    labels = np.zeros((32, 32), np.int32)
    labels[2:6, 10:16] = 1
    labels[12:20, 20:24] = 1
    regions = raster_regions(label_raster(tmp_path, labels), {1: 1}, window_size=16)
    assert sorted((r.polygon.bounds, r.label_areas[1]) for r in regions) == [
        (pixel_box(2, 6, 10, 16).bounds, 6.0), (pixel_box(12, 20, 20, 24).bounds, 8.0)]


def test_geographic_area_does_not_depend_on_longitude():
    """The ellipsoid turns about its axis: a triangle at 150 E has the area of the same
    triangle at 0."""
    from shapely import affinity
    from shapely.geometry import Polygon as ShapelyPolygon
    triangle = ShapelyPolygon([(150.0, 60.0), (151.0, 60.5), (150.2, 61.0)])
    at_zero = affinity.translate(triangle, xoff=-150.4)
    assert polygon_area_m2(triangle, geographic=True) == pytest.approx(polygon_area_m2(at_zero, geographic=True),
                                                                       rel=1e-9)


@pytest.mark.parametrize("bar", [(slice(5, 25), slice(4, 8)), (slice(4, 8), slice(5, 25))])
def test_bar_across_one_window_border(tmp_path, bar):
    """A bar crossing only a horizontal (or only a vertical) border of 16 px windows, away
    from the other borders: one region."""
    labels = np.zeros((32, 32), np.int32)
    labels[bar] = 1
    (region,) = raster_regions(label_raster(tmp_path, labels), {1: 1}, window_size=16)
    rows, cols = bar
    assert region.polygon.equals(pixel_box(rows.start, rows.stop, cols.start, cols.stop))
    assert region.label_areas == {1: 20.0}


def test_two_classes_touching_across_a_window_border_stay_apart(tmp_path):
    """Class 1 ends and class 2 starts at the 16 px window border: two regions."""
    labels = np.zeros((20, 32), np.int32)
    labels[2:12, 3:16] = 1
    labels[2:12, 16:25] = 2
    regions = raster_regions(label_raster(tmp_path, labels), {1: 1, 2: 2}, window_size=16)
    assert sorted((r.class_code, r.polygon.bounds, r.label_areas[r.class_code]) for r in regions) == [
        (1, pixel_box(2, 12, 3, 16).bounds, 32.5), (2, pixel_box(2, 12, 16, 25).bounds, 22.5)]


def test_rotated_raster_polygons_follow_the_transform(tmp_path):
    """A sheared, rotated geotransform: the polygon's corners are the transform of the
    pixel corners, its area the pixel count times the determinant."""
    transform = Affine(0.5, 0.1, X0, 0.2, -0.5, Y0)
    labels = np.zeros((10, 10), np.int32)
    labels[2:4, 3:6] = 1
    path = write_raster(tmp_path / "rotated.tif", labels[None], crs="EPSG:32631", transform=transform)
    (region,) = raster_regions(path, {1: 1})
    corners = Polygon([transform * (c, r) for c, r in ((3, 2), (6, 2), (6, 4), (3, 4))])
    assert region.polygon.equals(corners)
    assert region.label_areas == {1: pytest.approx(6 * 0.27)}


def test_mask_polygons_of_a_small_object_are_at_its_place():
    """An object far from the mask's corner (only its rows and columns are traced) keeps
    its map place and its hole; an empty mask gives no polygon."""
    from affine import Affine

    from geovl.geo.vectorise import mask_polygons

    mask = np.zeros((100, 120), bool)
    mask[10:20, 30:50] = True
    mask[14:16, 40:42] = False
    transform = Affine(0.5, 0, 1000.0, 0, -0.5, 2000.0)
    (polygon,) = mask_polygons(mask, transform)
    assert polygon.bounds == (1015.0, 1990.0, 1025.0, 1995.0)
    assert polygon.area == (200 - 4) * 0.25 and len(polygon.interiors) == 1
    assert mask_polygons(np.zeros((5, 5), bool), transform) == []
