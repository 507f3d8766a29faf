"""RasterSource on small GeoTIFFs written with rasterio: bands, stretch, windowed reads."""
import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.enums import ColorInterp
from rasterio.windows import Window

from geovl.errors import InputError
from geovl.geo.normalise import identity_stretch
from geovl.geo.raster import RasterSource, check_bands, default_bands

UTM = Affine(0.5, 0, 500000, 0, -0.5, 4650000)  # 0.5 m pixels


def write_tif(path, data, crs="EPSG:32633", transform=UTM, nodata=None, colorinterp=None):
    """Write a (bands, H, W) array as a GeoTIFF and return its path as str."""
    count, height, width = data.shape
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=count, dtype=data.dtype,
                       crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(data)
        if colorinterp:
            dst.colorinterp = colorinterp
    return str(path)


@pytest.fixture
def rgb8(tmp_path):
    """A 3-band uint8 raster 40 px wide, 30 px high, and its data."""
    data = np.random.default_rng(1).integers(1, 256, (3, 30, 40), dtype=np.uint8)
    return write_tif(tmp_path / "rgb8.tif", data), data


# --- bands -------------------------------------------------------------------

def test_default_bands_by_colour_interpretation(tmp_path):
    """Bands stored blue, green, red, alpha are composed as 3, 2, 1."""
    path = write_tif(tmp_path / "bgra.tif", np.zeros((4, 8, 8), np.uint8), colorinterp=[
        ColorInterp.blue, ColorInterp.green, ColorInterp.red, ColorInterp.alpha])
    with rasterio.open(path) as ds:
        assert default_bands(ds) == [3, 2, 1]


def test_default_bands_fallbacks(tmp_path):
    """Without RGB interpretation: bands 1-3 for 4 grey bands, band 1 three times for one band."""
    four = write_tif(tmp_path / "four.tif", np.zeros((4, 8, 8), np.uint16))
    one = write_tif(tmp_path / "one.tif", np.zeros((1, 8, 8), np.uint16))
    with rasterio.open(four) as ds:
        assert ColorInterp.red not in ds.colorinterp
        assert default_bands(ds) == [1, 2, 3]
    with rasterio.open(one) as ds:
        assert default_bands(ds) == [1, 1, 1]


def test_check_bands_valid():
    """One band is replicated to grey RGB; three bands are kept in the given order."""
    assert check_bands([2], 4) == [2, 2, 2]
    assert check_bands([4, 1, 2], 4) == [4, 1, 2]


@pytest.mark.parametrize("bands, start", [([0, 1, 2], "Band number(s) [0] do not exist."),
                                          ([1, 2, 5], "Band number(s) [5] do not exist."),
                                          ([0, 7, 2], "Band number(s) [0, 7] do not exist."),
                                          ([0], "Band number(s) [0] do not exist."),
                                          ([1, 2], "2 bands were given (1, 2)."),
                                          ([1, 2, 3, 4], "4 bands were given (1, 2, 3, 4).")])
def test_check_bands_errors(bands, start):
    """Band 0, band 5 of a 4-band raster, two or four bands: each sentence says what is
    wrong, that one (grey) or three (RGB) bands are needed, and which numbers are valid."""
    with pytest.raises(InputError) as info:
        check_bands(bands, 4)
    assert str(info.value) == (f"{start} Give one band (used as grey) or three bands (red, green, blue); the raster "
                               "has 4 bands, so the valid band numbers are bands 1 to 4.")


def test_default_bands_of_a_two_band_raster(tmp_path):
    """Two bands are not RGB: band 1 as grey."""
    path = write_tif(tmp_path / "two.tif", np.zeros((2, 8, 8), np.uint16))
    with rasterio.open(path) as ds:
        assert default_bands(ds) == [1, 1, 1]


def test_check_bands_error_on_a_two_band_raster():
    with pytest.raises(InputError, match="the raster has 2 bands, so the valid band numbers are bands 1 to 2[.]$"):
        check_bands([1, 2], 2)


def test_check_bands_error_on_a_one_band_raster():
    """A single-band raster names its one valid band."""
    with pytest.raises(InputError, match="the raster has 1 band, so the valid band numbers are band 1[.]$"):
        check_bands([1, 2], 1)
    assert check_bands([1], 1) == [1, 1, 1]


def test_user_bands_are_used(tmp_path, rgb8):
    """RasterSource(bands=[3, 1, 2]) reads those bands in that order."""
    path, data = rgb8
    with RasterSource(path, bands=[3, 1, 2]) as src:
        image, _ = src.read(Window(0, 0, 40, 30), (30, 40))
    np.testing.assert_array_equal(image, data[[2, 0, 1]].transpose(1, 2, 0))


# --- opening ------------------------------------------------------------------

def test_raster_without_crs_is_refused(tmp_path):
    """A GeoTIFF without CRS raises an InputError that says how to assign one."""
    path = write_tif(tmp_path / "nocrs.tif", np.zeros((3, 8, 8), np.uint8), crs=None)
    with pytest.raises(InputError, match="no coordinate reference system") as info:
        RasterSource(path)
    assert "Assign" in str(info.value) and "nocrs.tif" in str(info.value)


def truncated_tif(tmp_path, compress=None):
    """A 256 x 256 uint16 GeoTIFF cut to half its bytes: the header opens, the pixels do not read."""
    data = np.random.default_rng(0).integers(0, 60000, (3, 256, 256), dtype=np.uint16)
    path = tmp_path / f"cut-{compress}.tif"
    with rasterio.open(path, "w", driver="GTiff", width=256, height=256, count=3, dtype="uint16", crs="EPSG:32633",
                       transform=UTM, **({"compress": compress} if compress else {})) as dst:
        dst.write(data)
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)
    return str(path)


@pytest.mark.parametrize("compress", [None, "deflate"])
def test_truncated_geotiff_is_input_error(tmp_path, compress):
    """Reading a truncated GeoTIFF is an InputError naming the file, the damage and what to do."""
    path = truncated_tif(tmp_path, compress)
    with RasterSource(path) as src, pytest.raises(InputError, match="is damaged or truncated") as info:
        src.read(Window(0, 0, 256, 256), (256, 256))
    assert path in str(info.value) and "again" in str(info.value)
    assert "IReadBlock failed" in str(info.value)  # GDAL's own reason, not rasterio's "see previous exception"


def test_missing_file_is_input_error(tmp_path):
    """A path that does not exist is an InputError, not a rasterio exception."""
    with pytest.raises(InputError, match="Cannot open raster"):
        RasterSource(str(tmp_path / "missing.tif"))


# --- normalisation --------------------------------------------------------------

@pytest.fixture
def uint16(tmp_path):
    """A 3-band uint16 raster 64x48 with a dark top-left 16x16 corner, and its data."""
    rng = np.random.default_rng(7)
    data = rng.integers(0, 60000, (3, 48, 64), dtype=np.uint16)
    data[0] = (data[0] // 3).astype(np.uint16)  # bands with different ranges
    data[:, :16, :16] = rng.integers(1000, 1100, (3, 16, 16), dtype=np.uint16)
    return write_tif(tmp_path / "u16.tif", data), data


def expected_uint8(values, low, high):
    """Hand stretch: (v - low) / (high - low) to 0..255, rounded, clipped."""
    out = np.floor((values.astype(np.float64) - low) * 255.0 / (high - low) + 0.5)
    return np.clip(out, 0, 255).astype(np.uint8)


def test_uint16_stretch_is_global_percentiles(uint16):
    """The stretch is the 2nd/98th percentile of each band's pixels over the whole raster."""
    path, data = uint16
    with RasterSource(path) as src:
        stretch = src.stretch
    for band in range(3):
        low, high = np.percentile(data[band], [2, 98])
        assert stretch.low[band] == pytest.approx(low)
        assert stretch.high[band] == pytest.approx(high)


def test_uint16_tile_uses_global_stretch(uint16):
    """The dark corner tile stays dark: normalised with the raster's stretch, not its own."""
    path, data = uint16
    with RasterSource(path) as src:
        image, valid = src.read(Window(0, 0, 16, 16), (16, 16))
    assert image.shape == (16, 16, 3) and image.dtype == np.uint8 and valid.all()
    for band in range(3):
        low, high = np.percentile(data[band], [2, 98])
        expected = expected_uint8(data[band, :16, :16], low, high)
        # float32 arithmetic may round the other way only where the exact value is within
        # a hair of an integer boundary; everywhere else the result is exact.
        exact = (data[band, :16, :16].astype(np.float64) - low) * 255.0 / (high - low) + 0.5
        borderline = np.abs(exact - np.rint(exact)) < 1e-3
        np.testing.assert_array_equal(image[..., band][~borderline], expected[~borderline])
        assert np.abs(image[..., band].astype(int) - expected.astype(int))[borderline].max(initial=0) <= 1
    assert image.max() < 20  # a per-tile stretch would spread the corner over 0..255


def test_uint8_passes_through_unchanged(rgb8):
    """8-bit imagery is not stretched: the read equals the file's pixels."""
    path, data = rgb8
    with RasterSource(path) as src:
        image, valid = src.read(Window(0, 0, 40, 30), (30, 40))
        assert src.stretch == identity_stretch(3)
    np.testing.assert_array_equal(image, data.transpose(1, 2, 0))
    assert valid.all()


def test_nodata_pixels_are_invalid_and_zero(tmp_path):
    """Pixels equal to nodata in all bands are masked, zero, and left out of the stretch."""
    rng = np.random.default_rng(3)
    data = rng.integers(100, 5000, (3, 20, 20), dtype=np.uint16)
    data[:, 5:10, 2:8] = 0
    path = write_tif(tmp_path / "nd.tif", data, nodata=0)
    with RasterSource(path) as src:
        image, valid = src.read(Window(0, 0, 20, 20), (20, 20))
        stretch = src.stretch
    expected_valid = np.ones((20, 20), bool)
    expected_valid[5:10, 2:8] = False
    np.testing.assert_array_equal(valid, expected_valid)
    assert not image[5:10, 2:8].any()
    for band in range(3):
        low, high = np.percentile(data[band][expected_valid], [2, 98])
        assert (stretch.low[band], stretch.high[band]) == pytest.approx((low, high))


# --- windows ---------------------------------------------------------------------

def test_window_past_bottom_right_edge_is_padded(rgb8):
    """Window (30, 20, 20, 20) on a 40x30 raster: only its top-left 10x10 lies inside."""
    path, data = rgb8
    with RasterSource(path) as src:
        image, valid = src.read(Window(30, 20, 20, 20), (20, 20))
    expected_valid = np.zeros((20, 20), bool)
    expected_valid[:10, :10] = True
    np.testing.assert_array_equal(valid, expected_valid)
    np.testing.assert_array_equal(image[:10, :10], data[:, 20:30, 30:40].transpose(1, 2, 0))
    assert not image[10:].any() and not image[:, 10:].any()


def test_window_past_top_left_edge_is_padded(rgb8):
    """Window (-5, -3, 20, 20): raster pixels start at output row 3, column 5."""
    path, data = rgb8
    with RasterSource(path) as src:
        image, valid = src.read(Window(-5, -3, 20, 20), (20, 20))
    expected_valid = np.zeros((20, 20), bool)
    expected_valid[3:, 5:] = True
    np.testing.assert_array_equal(valid, expected_valid)
    np.testing.assert_array_equal(image[3:, 5:], data[:, 0:17, 0:15].transpose(1, 2, 0))
    assert not image[:3].any() and not image[:, :5].any()


def test_read_at_half_resolution(tmp_path):
    """out_size half the window (scale 2) gives the halved shape; constant 2x2 blocks keep their value."""
    small = np.random.default_rng(5).integers(0, 256, (3, 16, 20), dtype=np.uint8)
    data = np.kron(small, np.ones((1, 2, 2), np.uint8))  # (3, 32, 40), each value a 2x2 block
    path = write_tif(tmp_path / "blocks.tif", data)
    with RasterSource(path) as src:
        image, valid = src.read(Window(0, 0, 40, 32), (16, 20))
    assert image.shape == (16, 20, 3) and valid.shape == (16, 20) and valid.all()
    np.testing.assert_array_equal(image, small.transpose(1, 2, 0))


# --- extent and resolution -------------------------------------------------------------

def test_area_of_bounds(rgb8):
    """Bounds inside give their pixel window; bounds partly outside are clipped to the raster."""
    path, _ = rgb8  # 40x30 px of 0.5 m: x 500000..500020, y 4649985..4650000
    with RasterSource(path) as src:
        w = src.area((500005, 4649990, 500010, 4649995))
        assert (w.col_off, w.row_off, w.width, w.height) == (10, 10, 10, 10)
        w = src.area((499990, 4649990, 500010, 4650010))
        assert (w.col_off, w.row_off, w.width, w.height) == (0, 0, 20, 20)
        w = src.area(None)
        assert (w.col_off, w.row_off, w.width, w.height) == (0, 0, 40, 30)


def test_area_outside_raster_raises(rgb8):
    """An extent that misses the raster is an InputError naming the raster's bounds."""
    path, _ = rgb8
    with RasterSource(path) as src, pytest.raises(InputError, match="does not overlap") as info:
        src.area((600000.12345, 4000000, 600100, 4000100))
    assert "500000.000" in str(info.value) and "(600000.123, 4000000, 600100, 4000100)" in str(info.value)


def test_scale_for_resolution_projected(rgb8):
    """A 0.5 m raster at a 1.0 m target resolution reads 2 source px per output px."""
    path, _ = rgb8
    with RasterSource(path) as src:
        assert src.scale_for_resolution(1.0) == pytest.approx(2.0)
        assert src.scale_for_resolution(None) == 1.0
        for metres in (-1.0, -0.5):
            with pytest.raises(InputError, match="positive number of metres"):
                src.scale_for_resolution(metres)


def test_scale_for_resolution_geographic(tmp_path):
    """0.0001 deg px centred near 60 N are about 0.75e-4 * 111320 = 8.349 m; 16.698 m target -> 2."""
    transform = Affine(0.0001, 0, -10.0, 0, -0.0001, 60.0005)
    path = write_tif(tmp_path / "geo.tif", np.zeros((3, 10, 10), np.uint8), crs="EPSG:4326", transform=transform)
    with RasterSource(path) as src:
        assert src.scale_for_resolution(2 * 0.75e-4 * 111320) == pytest.approx(2.0, rel=1e-4)


@pytest.mark.parametrize("bounds", [(500005, 4649990, 500005, 4649995), (500005.2, 4649990, 500005.2, 4649995),
                                    (500005, 4649993, 500010, 4649993), (500010, 4649990, 500005, 4649995)])
def test_extent_without_area_is_refused(rgb8, bounds):
    """An extent of zero width or height inside the raster (or an inverted one) has no area:
    said so, not 'does not overlap', and not planned as a one-pixel column."""
    path, _ = rgb8
    with RasterSource(path) as src, pytest.raises(InputError, match="has no area") as info:
        src.area(bounds)
    assert "does not overlap" not in str(info.value) and "width" in str(info.value)


def test_extent_sentence_rounds_to_millimetres(rgb8):
    path, _ = rgb8
    with RasterSource(path) as src, pytest.raises(InputError) as info:
        src.area((500005.12345, 4649990.0, 500005.12345, 4649995.5))
    assert str(info.value).startswith("The extent (500005.123, 4649990.0, 500005.123, 4649995.5) has no area "
                                      "(width 0, height 5.5).")


def test_resolution_coarser_than_the_raster_is_refused(rgb8):
    """40 x 30 px of 0.5 m: 15 m (the short side, 20 x 30 m) is one pixel, 15.01 m and
    RESOLUTION=100000 are coarser than the raster; the sentence gives its 0.5 m pixels."""
    path, _ = rgb8
    with RasterSource(path) as src:
        assert src.scale_for_resolution(15.0) == pytest.approx(30.0)
        for metres in (15.01, 100000):
            with pytest.raises(InputError, match="coarser than the raster itself") as info:
                src.scale_for_resolution(metres)
            message = str(info.value)
            assert "40 x 30 pixels of 0.5 m" in message and "20 x 15 m" in message and "0 keeps it" in message


# --- resampling and float rasters ---------------------------------------------------

@pytest.fixture
def float_random(tmp_path):
    """A 3-band float32 raster 32 x 40 of random values in 0..1000, and its data."""
    data = np.random.default_rng(11).uniform(0, 1000, (3, 32, 40)).astype(np.float32)
    return write_tif(tmp_path / "f32.tif", data), data


def test_shrinking_averages_each_block(float_random):
    """Half resolution averages each 2 x 2 block (not nearest, not a wider bilinear kernel)."""
    path, data = float_random
    with RasterSource(path) as src:
        values, valid = src.read_bands(Window(0, 0, 40, 32), (16, 20))
    expected = data.reshape(3, 16, 2, 20, 2).mean(axis=(2, 4))
    assert values.dtype == np.float32 and valid.all()
    np.testing.assert_allclose(values, expected, rtol=1e-5)


def test_shrinking_a_window_past_the_left_edge(float_random):
    """Window (-40, 0, 70, 32) at 35 x 16: the raster's first 30 columns land at output
    columns 20..35 (2 source px per output px), averaged by 2 x 2 blocks; the rest is
    invalid zero."""
    path, data = float_random
    with RasterSource(path) as src:
        values, valid = src.read_bands(Window(-40, 0, 70, 32), (16, 35))
    expected = data[:, :, :30].reshape(3, 16, 2, 15, 2).mean(axis=(2, 4))
    np.testing.assert_allclose(values[:, :, 20:], expected, rtol=1e-5)
    assert valid[:, 20:].all() and not valid[:, :20].any() and not values[:, :, :20].any()


def test_native_resolution_read_is_exact(float_random):
    """Scale 1 reads the file's values unchanged, in the order of the bands asked."""
    path, data = float_random
    with RasterSource(path) as src:
        values, valid = src.read_bands(Window(8, 4, 20, 24), (24, 20), bands=[3, 1])
    np.testing.assert_array_equal(values, data[[2, 0], 4:28, 8:28])
    assert valid.all()


def test_enlarging_is_bilinear(tmp_path):
    """Twice the resolution on a gradient 10 * column: output column j samples source
    x = (j + 0.5) / 2 - 0.5, so interior values are 5 j - 2.5 (nearest would repeat each
    value twice)."""
    data = np.broadcast_to(np.arange(16, dtype=np.float32) * 10, (1, 12, 16)).copy()
    path = write_tif(tmp_path / "gradient.tif", data)
    with RasterSource(path) as src:
        values, valid = src.read_bands(Window(0, 0, 16, 12), (24, 32))
    assert valid.all()
    np.testing.assert_allclose(values[0, :, 1:31], np.broadcast_to(5.0 * np.arange(1, 31) - 2.5, (24, 30)), atol=1e-3)


def test_explicit_resampling_is_used(float_random):
    """resampling=nearest at half resolution picks one pixel of each block, never a mean."""
    from rasterio.enums import Resampling
    path, data = float_random
    with RasterSource(path) as src:
        values, _ = src.read_bands(Window(0, 0, 40, 32), (16, 20), resampling=Resampling.nearest)
    blocks = data.reshape(3, 16, 2, 20, 2).transpose(0, 1, 3, 2, 4).reshape(3, 16, 20, 4)
    assert np.all(np.any(blocks == values[..., None], axis=-1))


def test_float_raster_with_nan_nodata(tmp_path):
    """A float32 raster whose nodata is NaN: NaN pixels are invalid and 0 in the image, and
    the stretch comes from the other pixels: values 0..100 -> percentiles 2 and 98, so
    v -> (v - 2) * 255 / 96 rounded."""
    band = np.concatenate([np.arange(101.0), [np.nan] * 11]).reshape(8, 14).astype(np.float32)
    data = np.stack([band, band, band])
    path = write_tif(tmp_path / "nan.tif", data, nodata=float("nan"))
    with RasterSource(path) as src:
        image, valid = src.read(Window(0, 0, 14, 8), (8, 14))
        assert src.stretch.low == (pytest.approx(2.0),) * 3 and src.stretch.high == (pytest.approx(98.0),) * 3
    np.testing.assert_array_equal(valid, np.isfinite(band))
    expected = np.where(np.isfinite(band), np.clip(np.floor((np.nan_to_num(band) - 2) * 255 / 96 + 0.5), 0, 255), 0)
    np.testing.assert_array_equal(image[..., 0], expected.astype(np.uint8))
    np.testing.assert_array_equal(image[..., 2], image[..., 0])


def test_float_raster_nan_without_nodata_is_invalid(tmp_path):
    """NaN pixels of a float raster without a nodata value are invalid too."""
    data = np.full((1, 4, 6), 5.0, np.float32)
    data[0, 1, 2] = np.nan
    path = write_tif(tmp_path / "nan-untagged.tif", data)
    with RasterSource(path) as src:
        values, valid = src.read_bands(Window(0, 0, 6, 4), (4, 6))
    expected = np.ones((4, 6), bool)
    expected[1, 2] = False
    np.testing.assert_array_equal(valid, expected)


def test_nodata_in_some_bands_only_stays_valid(tmp_path):
    """A pixel is nodata only when every band equals nodata: 0 in band 1 alone is valid."""
    data = np.full((3, 4, 4), 9, np.uint8)
    data[0, 0, 0] = 0            # one band only: valid
    data[:, 3, 3] = 0            # all bands: nodata
    path = write_tif(tmp_path / "partial.tif", data, nodata=0)
    with RasterSource(path) as src:
        image, valid = src.read(Window(0, 0, 4, 4), (4, 4))
    assert valid[0, 0] and not valid[3, 3] and valid.sum() == 15
    assert image[0, 0].tolist() == [0, 9, 9] and image[3, 3].tolist() == [0, 0, 0]


def test_alpha_band_masks_pixels(tmp_path):
    """An RGBA raster (no nodata): alpha 0 pixels are invalid, read through the mask."""
    data = np.full((4, 4, 4), 200, np.uint8)
    data[3, :2, :] = 0
    path = write_tif(tmp_path / "rgba.tif", data, colorinterp=[
        ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha])
    with RasterSource(path) as src:
        assert src.bands == [1, 2, 3]
        image, valid = src.read(Window(0, 0, 4, 4), (4, 4))
    assert not valid[:2].any() and valid[2:].all()
    assert not image[:2].any() and (image[2:] == 200).all()


def test_stretch_sample_is_decimated_to_the_sample_size(tmp_path, monkeypatch):
    """The statistics read has its long side at STATS_SAMPLE_SIZE (here patched to 8):
    a 32 x 16 raster of 4 x 4 blocks is read as 8 x 4, one pixel per block."""
    import geovl.geo.raster as raster
    monkeypatch.setattr(raster, "STATS_SAMPLE_SIZE", 8)
    blocks = np.arange(32, dtype=np.uint16).reshape(1, 4, 8) * 100
    data = np.kron(blocks, np.ones((1, 4, 4), np.uint16))
    path = write_tif(tmp_path / "big.tif", np.concatenate([data] * 3))
    with RasterSource(path) as src:
        stretch = src.stretch
    low, high = np.percentile(blocks[0], [2, 98])
    assert stretch.low == (pytest.approx(low),) * 3 and stretch.high == (pytest.approx(high),) * 3


# --- the dataset around the reads ---------------------------------------------------

def test_reads_run_with_a_bounded_gdal_cache(rgb8):
    """GDAL's block cache is 128 MiB while a source is open (not GDAL's 5 % of RAM)."""
    path, _ = rgb8
    with RasterSource(path):
        assert rasterio.env.getenv()["GDAL_CACHEMAX"] == 128 * 1024 * 1024


def test_crs_properties_and_metres_per_unit(rgb8, tmp_path):
    """UTM 33N: EPSG 32633, 1 m per unit. 0.0001 deg px around 60 N: 0.75e-4 * 111320 m per
    0.0001 deg, i.e. 83490 m per degree."""
    path, _ = rgb8
    with RasterSource(path) as src:
        assert src.epsg == 32633 and "UTM zone 33N" in src.crs_wkt
        assert src.metres_per_unit() == pytest.approx(1.0)
        assert src.metres_per_pixel() == pytest.approx(0.5)
    transform = Affine(0.0001, 0, -10.0, 0, -0.0001, 60.0005)
    geo = write_tif(tmp_path / "geo.tif", np.zeros((3, 10, 10), np.uint8), crs="EPSG:4326", transform=transform)
    with RasterSource(geo) as src:
        assert src.epsg == 4326
        assert src.metres_per_unit() == pytest.approx(0.75 * 111320, rel=1e-4)


def test_fingerprint_follows_size_and_time(rgb8, tmp_path):
    """Same file, same fingerprint (32 hex digits); a rewrite with another time differs."""
    import os
    from geovl.geo.raster import file_fingerprint
    path, data = rgb8
    first = file_fingerprint(path)
    assert len(first) == 32 and int(first, 16) >= 0 and file_fingerprint(path) == first
    with RasterSource(path) as src:
        assert src.fingerprint() == first
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert file_fingerprint(path) != first
    copy = write_tif(tmp_path / "copy.tif", data)
    assert file_fingerprint(copy) != first


def test_window_outside_the_raster_reads_as_invalid_zeros(uint16):
    """A window wholly outside gives zeros of the raster's type and no valid pixel."""
    path, _ = uint16
    with RasterSource(path) as src:
        values, valid = src.read_bands(Window(100, 100, 16, 16), (8, 12))
    assert values.shape == (3, 8, 12) and values.dtype == np.uint16 and not values.any() and not valid.any()


def test_one_band_is_grey(tmp_path):
    """A single-band raster (or BANDS=[1]) reads as grey: the band in all three channels."""
    data = np.arange(48, dtype=np.uint8).reshape(1, 6, 8)
    path = write_tif(tmp_path / "grey.tif", data)
    with RasterSource(path) as src:
        assert src.bands == [1, 1, 1]
        image, _ = src.read(Window(0, 0, 8, 6), (6, 8))
    np.testing.assert_array_equal(image, np.repeat(data.transpose(1, 2, 0), 3, axis=2))


def test_read_bounds_gives_the_example_area(rgb8):
    """Bounds of pixels cols 10..19, rows 4..13 at 10 x 10: those pixels; bounds outside
    the raster are refused."""
    path, data = rgb8
    with RasterSource(path) as src:
        image = src.read_bounds((500005, 4649993, 500010, 4649998), 10)
        np.testing.assert_array_equal(image, data[:, 4:14, 10:20].transpose(1, 2, 0))
        with pytest.raises(InputError, match="lies outside the raster") as info:
            src.read_bounds((600000.12345, 4000000, 600010, 4000010), 10)
    assert "(600000.123, 4000000, 600010, 4000010)" in str(info.value)


def test_like_reads_on_the_other_grid(tmp_path, rgb8):
    """AFTER shifted 2 px east of BEFORE (same CRS): read on BEFORE's grid, column c holds
    AFTER's column c - 2, and BEFORE's first two columns, which AFTER lacks, are invalid.
    On the same grid there is no warp."""
    before, _ = rgb8
    data = np.random.default_rng(2).integers(1, 256, (3, 30, 40), dtype=np.uint8)
    after = write_tif(tmp_path / "after.tif", data, transform=Affine(0.5, 0, 500001, 0, -0.5, 4650000))
    with rasterio.open(before) as like:
        with RasterSource(after, like=like) as src:
            assert src.warped and src.full_window == Window(0, 0, 40, 30)
            image, valid = src.read(Window(0, 0, 40, 30), (30, 40))
        assert src.dataset.closed and src.file.closed
        with RasterSource(before, like=like) as same:
            assert not same.warped
    assert not valid[:, :2].any() and valid[:, 2:].all()
    np.testing.assert_array_equal(image[:, 2:], data[:, :, :38].transpose(1, 2, 0))


@pytest.mark.parametrize("shape", [(1, 2100), (2100, 1)])
def test_stretch_of_a_one_pixel_strip(tmp_path, shape):
    """A 1 x 2100 px strip decimated to the 1024 px sample keeps one pixel across (not
    zero): values 0..2099 give percentiles near 2 % and 98 % of them."""
    data = np.arange(2100, dtype=np.uint16).reshape(1, *shape)
    path = write_tif(tmp_path / "strip.tif", np.concatenate([data] * 3))
    with RasterSource(path) as src:
        stretch = src.stretch
    assert stretch.low == (pytest.approx(42, abs=3),) * 3 and stretch.high == (pytest.approx(2057, abs=3),) * 3


def test_window_outside_a_one_band_raster(tmp_path):
    path = write_tif(tmp_path / "one.tif", np.ones((1, 8, 8), np.float32))
    with RasterSource(path) as src:
        values, valid = src.read_bands(Window(50, 50, 4, 4), (4, 4))
    assert values.shape == (3, 4, 4) and values.dtype == np.float32 and not values.any() and not valid.any()


def test_mask_is_the_first_composed_band_s(tmp_path):
    """RGBA with alpha 0 on the top rows: composing the alpha band first reads it as a
    colour (it has no mask of its own: all valid); composing red first uses the alpha mask."""
    data = np.full((4, 4, 4), 200, np.uint8)
    data[3, :2, :] = 0
    path = write_tif(tmp_path / "rgba.tif", data, colorinterp=[
        ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha])
    with RasterSource(path, bands=[4, 1, 2]) as src:
        _, valid = src.read(Window(0, 0, 4, 4), (4, 4))
        assert valid.all()
    for bands in ([1, 4, 2], [1, 2, 4]):
        with RasterSource(path, bands=bands) as src:
            _, valid = src.read(Window(0, 0, 4, 4), (4, 4))
            assert not valid[:2].any() and valid[2:].all()
