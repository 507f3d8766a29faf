"""geovl:change's engine on synthetic pairs with planted changes of known geometry."""
from __future__ import annotations

import os

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.warp import Resampling, calculate_default_transform, reproject

from geovl.errors import Cancelled, InputError
from geovl.pipelines.change import detect_changes
from geovl.pipelines.options import ModelOptions, TilingOptions
from tests.conftest import write_raster
from tests.models.conftest import (BUILT, ORIGIN, PIXEL, REMOVED, SIZE, TRANSFORM, Recorder, pair_arrays, planted_mask,
                                   to_map, write_pair)

@pytest.fixture
def pair(tmp_path):
    return write_pair(tmp_path, *pair_arrays())


def found_mask(mask_path) -> np.ndarray:
    with rasterio.open(mask_path) as dataset:
        assert dataset.transform.almost_equals(TRANSFORM) and dataset.shape == (SIZE, SIZE)
        return dataset.read(1) == 1


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return (a & b).sum() / (a | b).sum()


@pytest.mark.parametrize("method", ["cva", "irmad"])
def test_model_free_methods_recover_the_planted_regions_and_ignore_the_global_shift(pair, tmp_path, method):
    mask_path = str(tmp_path / "mask.tif")
    result = detect_changes(*pair, method=method, mask_path=mask_path, tiling=TilingOptions(tile_size=128))
    found = found_mask(mask_path)
    # AFTER = 1.3 BEFORE + 200 everywhere: without normalisation every pixel would change.
    assert iou(found, planted_mask()) > 0.9
    assert (found & ~planted_mask()).sum() < 0.002 * SIZE * SIZE
    # One polygon per planted rectangle, of the planted area (0.25 m² pixels).
    assert len(result.regions) == 3
    for rect in (to_map(*r) for r in BUILT + [REMOVED]):
        region = max(result.regions, key=lambda r: r.polygon.intersection(rect).area)
        assert region.polygon.intersection(rect).area / region.polygon.union(rect).area > 0.85
        assert region.area_m2 == pytest.approx(region.polygon.area)
    assert [r.id for r in result.regions] == [1, 2, 3]
    assert [r.area_m2 for r in result.regions] == sorted((r.area_m2 for r in result.regions), reverse=True)


def test_magnitude_is_seamless_across_tiles(pair, tmp_path):
    """Statistics come from the whole pair, not each tile: any tiling gives one raster."""
    one, many = str(tmp_path / "one.tif"), str(tmp_path / "many.tif")
    detect_changes(*pair, magnitude_path=one, tiling=TilingOptions(tile_size=1024))
    detect_changes(*pair, magnitude_path=many, tiling=TilingOptions(tile_size=96, overlap=16))
    with rasterio.open(one) as a, rasterio.open(many) as b:
        assert a.shape == b.shape == (SIZE, SIZE) and a.transform == b.transform
        np.testing.assert_allclose(a.read(1), b.read(1), rtol=1e-6)


def test_cva_magnitude_is_the_change_vector_length_in_standard_deviations(pair, tmp_path):
    path = str(tmp_path / "magnitude.tif")
    detect_changes(*pair, magnitude_path=path)
    with rasterio.open(pair[0]) as b, rasterio.open(pair[1]) as a, rasterio.open(path) as m:
        before, after, magnitude = b.read().astype(np.float64), a.read().astype(np.float64), m.read(1)
    # the statistics' sample is the whole raster here (smaller than the 1024 px sample)
    z = lambda x: (x - x.mean(axis=(1, 2), keepdims=True)) / x.std(axis=(1, 2), keepdims=True)  # noqa: E731
    expected = np.sqrt(((z(after) - z(before)) ** 2).sum(axis=0))
    np.testing.assert_allclose(magnitude, expected, rtol=1e-4, atol=1e-4)


def test_factual_captions_say_how_much_where_and_which_way(pair):
    result = detect_changes(*pair)
    built_area = (BUILT[0][2] - BUILT[0][0]) * (BUILT[0][3] - BUILT[0][1]) * PIXEL ** 2     # 1500 m²
    largest = result.regions[0]
    assert largest.area_m2 == pytest.approx(built_area, rel=0.1)
    assert largest.location == "north-west"
    assert "brighter after" in largest.facts and "vegetation loss" in largest.facts
    removed = next(r for r in result.regions if r.polygon.intersects(to_map(*REMOVED)))
    assert "darker after" in removed.facts and "vegetation gain" in removed.facts
    total = sum(r.area_m2 for r in result.regions)
    assert result.facts.startswith("3 change region(s) covering")
    assert f"{total:,.0f} m²" in result.facts
    assert result.compared_m2 == pytest.approx(SIZE * SIZE * PIXEL ** 2)
    assert result.caption == result.facts


def test_after_on_another_crs_and_resolution_locates_the_change_on_the_map(tmp_path):
    before, after = pair_arrays()
    b, a = write_pair(tmp_path, before, after)
    # AFTER reprojected to geographic coordinates at about 0.7 m: another CRS, size and grid.
    with rasterio.open(a) as src:
        transform, width, height = calculate_default_transform(src.crs, "EPSG:4326", src.width, src.height,
                                                               *src.bounds, resolution=0.7 / 111_320)
        warped = np.zeros((4, height, width), np.uint16)
        reproject(after, warped, src_transform=src.transform, src_crs=src.crs, dst_transform=transform,
                  dst_crs="EPSG:4326", resampling=Resampling.bilinear, dst_nodata=0)
    a = write_raster(tmp_path / "after_4326.tif", warped, crs="EPSG:4326", transform=transform, nodata=0)
    mask_path = str(tmp_path / "mask.tif")
    result = detect_changes(b, a, mask_path=mask_path)
    for rect in BUILT:
        region = max(result.regions, key=lambda r: r.polygon.intersection(to_map(*rect)).area)
        assert region.polygon.intersection(to_map(*rect)).area / region.polygon.union(to_map(*rect)).area > 0.8
    assert iou(found_mask(mask_path), planted_mask()) > 0.8


def test_identical_rasters_are_no_change_not_an_error(tmp_path):
    before, _ = pair_arrays()
    b, a = write_pair(tmp_path, before, before)
    for method in ("cva", "irmad"):
        mask_path = str(tmp_path / f"mask-{method}.tif")
        result = detect_changes(b, a, method=method, mask_path=mask_path)
        assert result.regions == []
        assert result.caption.startswith("No change found over the 4.00 ha compared")
        assert not found_mask(mask_path).any()


def exact_otsu(values: np.ndarray) -> float:
    """Otsu's threshold over every value (no histogram): the split of the sorted values
    that maximises the between-class variance, halfway between its two sides."""
    values = np.sort(values[np.isfinite(values)]).astype(np.float64)
    n, below = len(values), np.arange(1, len(values))
    sums = np.cumsum(values)
    share = below / n
    between = share * (1 - share) * (sums[:-1] / below - (sums[-1] - sums[:-1]) / (n - below)) ** 2
    k = int(np.argmax(between))
    return float(values[k] + values[k + 1]) / 2


def test_cva_threshold_is_otsus_over_the_whole_magnitude_raster(tmp_path):
    """On a pair whose change is spread, not planted (one mode, a long tail), the
    automatic threshold is Otsu's over every pixel of the magnitude written, within one
    bin of the 4096-bin histogram the tile pass builds."""
    from geovl.pipelines.change import HISTOGRAM_BINS

    rng = np.random.default_rng(5)
    before = rng.normal(1000, 50, (4, SIZE, SIZE)).clip(0)
    after = before + rng.normal(0, 40, (4, SIZE, SIZE)) * (1 + 2 * rng.random((1, SIZE, SIZE)))
    paths = write_pair(tmp_path, before.astype(np.uint16), after.clip(0).astype(np.uint16))
    result = detect_changes(*paths, magnitude_path=str(tmp_path / "magnitude.tif"))
    with rasterio.open(tmp_path / "magnitude.tif") as dataset:
        magnitudes = dataset.read(1)
    bin_width = 1.5 * np.nanmax(magnitudes) / HISTOGRAM_BINS
    assert result.threshold == pytest.approx(exact_otsu(magnitudes), abs=bin_width)


def test_overall_directions_are_the_area_weighted_shares_of_the_regions():
    from shapely.geometry import box

    from geovl.pipelines.change import ChangeRegion, _overall_facts
    from geovl.pipelines.change_summary import Directions, overall_facts

    regions = [ChangeRegion(1, box(0, 0, 3, 2), 6.0, 1.0, "north", Directions(brighter=1.0), ""),
               ChangeRegion(2, box(5, 5, 6, 7), 2.0, 1.0, "south", Directions(darker=0.5, vegetation_loss=0.5), "")]
    expected = Directions(brighter=0.75, darker=0.125, vegetation_loss=0.125)
    assert _overall_facts(regions, 100.0) == overall_facts([6.0, 2.0], "north", expected, 100.0)


def test_negative_threshold_is_refused(pair):
    with pytest.raises(InputError, match="The threshold must be a positive change magnitude"):
        detect_changes(*pair, threshold=-0.5)


def test_threshold_override(pair):
    low = detect_changes(*pair, threshold=0.01, min_area_m2=1e9)      # everything changed, nothing large enough
    assert low.regions == [] and low.threshold == 0.01
    high = detect_changes(*pair, threshold=1e6)
    assert high.regions == [] and high.facts.startswith("No change found")


def test_different_band_counts_need_bands(tmp_path, pair):
    before, after = pair_arrays()
    b, a = write_pair(tmp_path, before, after[:3])
    with pytest.raises(InputError, match=r"BEFORE has 4 band\(s\) and AFTER has 3: choose the bands .*BANDS.*1,2,3"):
        detect_changes(b, a)
    result = detect_changes(b, a, tiling=TilingOptions(bands=(1, 2, 3)))
    assert len(result.regions) == 3
    with pytest.raises(InputError, match=r"Band number\(s\) \[4\] do not exist in both"):
        detect_changes(b, a, tiling=TilingOptions(bands=(1, 4)))


def test_no_overlap_no_crs_and_all_nodata_are_refused(tmp_path):
    before, after = pair_arrays()
    b = write_raster(tmp_path / "b.tif", before, crs="EPSG:32631", transform=TRANSFORM)
    far = write_raster(tmp_path / "far.tif", after, crs="EPSG:32631",
                       transform=from_origin(ORIGIN[0] + 10_000, ORIGIN[1], PIXEL, PIXEL))
    with pytest.raises(InputError, match="BEFORE and AFTER do not overlap"):
        detect_changes(b, far)
    no_crs = write_raster(tmp_path / "nocrs.tif", after, crs=None, transform=TRANSFORM)
    with pytest.raises(InputError, match="has no coordinate reference system"):
        detect_changes(b, no_crs)
    empty = write_raster(tmp_path / "empty.tif", np.zeros_like(after), crs="EPSG:32631", transform=TRANSFORM,
                         nodata=0)
    with pytest.raises(InputError, match="no valid pixel in common"):
        detect_changes(b, empty)


def test_cancel_leaves_no_outputs(pair, tmp_path):
    out = tmp_path / "out"
    paths = dict(magnitude_path=str(out / "m.tif"), mask_path=str(out / "k.tif"), report_path=str(out / "r.html"))
    with pytest.raises(Cancelled):
        detect_changes(*pair, tiling=TilingOptions(tile_size=128), feedback=Recorder(cancel_after_progress=3),
                       **paths)
    assert not out.exists() or os.listdir(out) == []


def test_report_has_the_caption_a_table_and_pictures(pair, tmp_path):
    report = tmp_path / "report.html"
    result = detect_changes(*pair, report_path=str(report))
    text = report.read_text()
    assert result.facts in text
    assert text.count("<tr>") == 1 + len(result.regions)
    assert text.count("data:image/jpeg;base64,") == 2 * len(result.regions)


def test_feature_method_runs_end_to_end_with_a_tiny_backbone(pair, tmp_path, tiny_clip_dir):
    from geovl.models.resolver import load_feature_extractor
    from geovl.pipelines.change import upsample_bilinear

    path = str(tmp_path / "magnitude.tif")
    result = detect_changes(*pair, method="features", model=ModelOptions(tiny_clip_dir), magnitude_path=path,
                            tiling=TilingOptions(bands=(1, 2, 3)))
    extractor = load_feature_extractor(tiny_clip_dir)
    size = extractor.input_size
    with rasterio.open(path) as dataset:
        magnitude = dataset.read(1)
    assert magnitude.shape == (SIZE, SIZE) and np.isfinite(magnitude).all()
    # The top-left tile by hand: cosine distance of the backbone's patch features, spread to pixels.
    from geovl.geo.raster import RasterSource
    from rasterio.windows import Window
    with RasterSource(pair[0], [1, 2, 3]) as b, RasterSource(pair[1], [1, 2, 3]) as a:
        images = [b.read(Window(0, 0, size, size), (size, size))[0], a.read(Window(0, 0, size, size), (size, size))[0]]
    f = extractor.patch_features(images).astype(np.float64)
    cosine = (f[0] * f[1]).sum(-1) / np.linalg.norm(f[0], axis=-1) / np.linalg.norm(f[1], axis=-1)
    expected = upsample_bilinear((1 - cosine).astype(np.float32), (size, size))
    np.testing.assert_allclose(magnitude[:size // 2, :size // 2], expected[:size // 2, :size // 2], atol=1e-5)
    assert result.method == "features"


def test_upsample_bilinear_puts_values_at_cell_centres():
    from geovl.pipelines.change import upsample_bilinear

    grid = np.array([[0.0, 1.0], [2.0, 3.0]], np.float32)
    up = upsample_bilinear(grid, (4, 4))
    # cell centres at pixels 0.5 and 2.5 of 4: pixel 0 and 3 hold the edge values, 1 and 2 blend
    np.testing.assert_allclose(up[0], [0, 0.25, 0.75, 1])
    np.testing.assert_allclose(up[:, 0], [0, 0.5, 1.5, 2])


@pytest.mark.parametrize("cells, shape", [((7, 5), (32, 20)), ((14, 14), (224, 224)), ((3, 4), (3, 4))])
def test_upsample_bilinear_equals_torch_interpolate(cells, shape):
    """The same resampling as torch's bilinear interpolate with align_corners=False (how
    patch-feature maps are upsampled upstream), on random values."""
    import torch

    from geovl.pipelines.change import upsample_bilinear

    values = np.random.default_rng(3).normal(size=cells).astype(np.float32)
    expected = torch.nn.functional.interpolate(torch.from_numpy(values)[None, None], size=shape, mode="bilinear",
                                               align_corners=False)[0, 0].numpy()
    np.testing.assert_allclose(upsample_bilinear(values, shape), expected, rtol=1e-5, atol=1e-6)


def test_mask_colours_black_and_red(pair, tmp_path):
    """The mask's colour table: 0 black, 1 red (a GeoTIFF palette keeps no alpha: 0 is made
    transparent by the style QGIS applies, tests/qgis/test_styles.py)."""
    mask_path = str(tmp_path / "mask.tif")
    detect_changes(*pair, mask_path=mask_path)
    with rasterio.open(mask_path) as dataset:
        colours = dataset.colormap(1)
    assert (colours[0][:3], colours[1][:3]) == ((0, 0, 0), (230, 30, 30))


def test_caption_crop_is_centred_on_the_region_with_context(pair):
    """A region's crop: a square centred on its box, twice its longer side, at least
    CAPTION_CONTEXT_PX output pixels; the whole overlap for the overall caption."""
    from shapely.geometry import box

    from geovl.geo.grid import plan_grid
    from geovl.geo.pair import RasterPair
    from geovl.pipelines.change import CAPTION_CONTEXT_PX, _crop_window

    with RasterPair(*pair) as raster_pair:
        grid = plan_grid(raster_pair.before.dataset.transform, raster_pair.area, 128, 0, 1.0)
        # BEFORE pixels: columns 100-300 (200 wide), rows 40-100: a square of 400 around (200, 70)
        x0, y1 = to_map_xy(100, 40)
        x1, y0 = to_map_xy(300, 100)
        window = _crop_window(raster_pair, grid, box(x0, y0, x1, y1))
        assert (window.col_off, window.row_off, window.width, window.height) == (0, -130, 400, 400)
        small = _crop_window(raster_pair, grid, box(*to_map_xy(10, 20), *to_map_xy(20, 10)))
        assert (small.width, small.height) == (CAPTION_CONTEXT_PX, CAPTION_CONTEXT_PX) == (256, 256)
        assert (small.col_off, small.row_off) == (15 - 128, 15 - 128)
        assert _crop_window(raster_pair, grid, None) == raster_pair.area


def to_map_xy(col: float, row: float) -> tuple[float, float]:
    """BEFORE's map coordinates of pixel position (col, row)."""
    return ORIGIN[0] + col * PIXEL, ORIGIN[1] - row * PIXEL


def test_valid_pixels_only_between_the_sample_windows(tmp_path):
    """A 1500 px pair valid only in a 20 px square that none of the 64 sample windows
    touches: the statistics fall back to a decimated read, and the square is compared."""
    rng = np.random.default_rng(3)
    before = np.zeros((3, 1500, 1500), np.uint16)
    before[:, 160:180, 160:180] = rng.integers(500, 3000, (3, 20, 20))
    after = before.copy()
    after[:, 160:170, 160:180] += 2000
    b = write_raster(tmp_path / "b.tif", before, crs="EPSG:32631", transform=TRANSFORM, nodata=0)
    a = write_raster(tmp_path / "a.tif", after, crs="EPSG:32631", transform=TRANSFORM, nodata=0)
    result = detect_changes(b, a)
    assert result.compared_m2 == pytest.approx(20 * 20 * PIXEL ** 2)


class CancelAt(Recorder):
    """Cancels once progress reaches `percent` (the tile pass ends at 70 %, the regions at 85 %)."""

    def __init__(self, percent: float):
        super().__init__()
        self.percent, self.reached = percent, False

    def progress(self, percent):
        self.reached = self.reached or percent >= self.percent

    def cancelled(self):
        return self.reached


def test_a_run_cancelled_after_the_tile_pass_leaves_no_magnitude(pair, tmp_path):
    """The magnitude is written whole in the tile pass; it still appears only when the run
    ends (cancelled with the regions done: no file, and an older one is left as it was)."""
    magnitude = tmp_path / "magnitude.tif"
    magnitude.write_bytes(b"an older magnitude")
    with pytest.raises(Cancelled):
        detect_changes(*pair, magnitude_path=str(magnitude), feedback=CancelAt(85))
    assert magnitude.read_bytes() == b"an older magnitude"
    assert sorted(os.listdir(tmp_path)) == ["after.tif", "before.tif", "magnitude.tif"]   # no partial file


@pytest.mark.parametrize("bands, expected", [(None, 13.276704), ((1, 2, 3), 11.344867)])
def test_irmad_threshold_is_the_chi_square_quantile_with_one_degree_per_band(pair, bands, expected):
    """IR-MAD's automatic threshold: the 0.99 quantile of chi-square with as many degrees
    of freedom as bands compared (tables: 13.2767 for 4, 11.3449 for 3)."""
    result = detect_changes(*pair, method="irmad", tiling=TilingOptions(bands=bands))
    assert result.threshold == pytest.approx(expected, abs=1e-5)


def test_region_locations_name_the_compass_point_of_their_centre(pair):
    """Centres by hand, as (column, row) fractions of 400 px: the first built block at
    (0.275, 0.175), the second at (0.825, 0.725), the removed roof at (0.2, 0.575)."""
    result = detect_changes(*pair)
    location = {rect: max(result.regions, key=lambda r: r.polygon.intersection(to_map(*rect)).area).location
                for rect in BUILT + [REMOVED]}
    assert location == {BUILT[0]: "north-west", BUILT[1]: "south-east", REMOVED: "west"}


def test_nodata_is_nodata_in_every_output_and_never_compared(tmp_path):
    """BEFORE is nodata (0) over its top 40 rows, where AFTER differs from it anyway: the
    magnitude is NaN there, the mask 255, the strip is not in the compared area nor in
    any region, and the region along it has a finite mean magnitude."""
    before, after = pair_arrays()
    before[:, :40] = 0
    b = write_raster(tmp_path / "before.tif", before, crs="EPSG:32631", transform=TRANSFORM, nodata=0)
    a = write_raster(tmp_path / "after.tif", after, crs="EPSG:32631", transform=TRANSFORM)
    magnitude_path, mask_path = str(tmp_path / "magnitude.tif"), str(tmp_path / "mask.tif")
    result = detect_changes(b, a, magnitude_path=magnitude_path, mask_path=mask_path)
    with rasterio.open(magnitude_path) as m, rasterio.open(mask_path) as k:
        magnitude, mask = m.read(1), k.read(1)
        assert m.compression.name.lower() == "zstd"                 # 4 bytes a pixel would be 640 kB here
    assert np.isnan(magnitude[:40]).all() and np.isfinite(magnitude[40:]).all()
    assert (mask[:40] == 255).all() and set(np.unique(mask[40:])) == {0, 1}
    assert result.compared_m2 == pytest.approx(360 * SIZE * PIXEL ** 2)
    assert len(result.regions) == 3
    assert all(np.isfinite(r.magnitude) and r.polygon.bounds[3] <= ORIGIN[1] - 40 * PIXEL for r in result.regions)


def test_progress_with_a_caption_model_rises_from_0_to_100(pair, memorised_change_qwen_dir):
    """Every stage reports within its share of the run, in order: the tile pass, the
    threshold pass, the captions of the regions (85-98 %), the end."""
    feedback = Recorder()
    detect_changes(*pair, caption_model=ModelOptions(memorised_change_qwen_dir, "cpu", "fp32"), max_captions=2,
                   max_new_tokens=24, feedback=feedback)
    percents = feedback.percents
    assert percents[-1] == 100 and all(0 <= p <= 100 for p in percents)
    assert percents == sorted(percents)
    captions = [p for p in percents if 85 < p < 100]
    assert len(captions) == 2 and captions[-1] < 98  # the two regions; the pair's caption ends at 98
