"""Stretch, identity_stretch and percentile_stretch against hand-computed values."""
import numpy as np
import pytest

from geovl.geo.normalise import PERCENTILES, STATS_SAMPLE_SIZE, Stretch, identity_stretch, percentile_stretch


def test_constants():
    assert PERCENTILES == (2.0, 98.0) and STATS_SAMPLE_SIZE == 1024


def test_stretch_maps_low_to_0_and_high_to_255_rounding_half_up():
    """low 100, high 355 (gain exactly 1): v -> v - 100, rounded half up, clipped; NaN -> 0."""
    stretch = Stretch("percentile 2-98", (100.0,), (355.0,))
    values = np.array([[[100.0, 355.0, 227.4, 227.6, 101.5, 50.0, 400.0, np.nan]]], np.float32)
    out = stretch.apply(values)
    assert out.dtype == np.uint8 and out.shape == (1, 1, 8)
    assert out[0, 0].tolist() == [0, 255, 127, 128, 2, 0, 255, 0]


def test_stretch_gain_is_255_over_the_range_per_band():
    """Band 0: 0..1000 (gain 0.255), band 1: 1000..1510 (gain 0.5); integer input."""
    stretch = Stretch("percentile 2-98", (0.0, 1000.0), (1000.0, 1510.0))
    values = np.array([[[0, 500, 1000, 998]], [[1000, 1255, 1510, 1001]]], np.uint16)
    out = stretch.apply(values)
    # 500 * 0.255 = 127.5 -> 128; 998 * 0.255 = 254.49 -> 254; (1255 - 1000) / 2 = 127.5 -> 128; 0.5 -> 1
    assert out.tolist() == [[[0, 128, 255, 254]], [[0, 128, 255, 1]]]


def test_identity_stretch_passes_uint8_through():
    stretch = identity_stretch(3)
    assert stretch.method == "none" and stretch.low == (0.0, 0.0, 0.0) and stretch.high == (255.0, 255.0, 255.0)
    values = np.arange(24, dtype=np.uint8).reshape(3, 2, 4) * 10
    out = stretch.apply(values)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, values)


def test_as_dict_and_frozen():
    """A stretch is a value: read as a dict for metadata, never changed in place."""
    import dataclasses
    stretch = Stretch("none", (1.0,), (2.0,))
    assert stretch.as_dict() == {"method": "none", "low": [1.0], "high": [2.0]}
    with pytest.raises(dataclasses.FrozenInstanceError):
        stretch.low = (0.0,)


def test_percentile_stretch_of_valid_pixels():
    """Values 0..100 (101 pixels, linear interpolation): 2nd and 98th percentiles are 2 and
    98. Invalid pixels (here 1000) are left out; a second band 10x the first gives 20, 980."""
    band = np.concatenate([np.arange(101.0), [1000.0] * 11]).reshape(8, 14)
    valid = band != 1000.0
    stretch = percentile_stretch(np.stack([band, band * 10]).astype(np.uint16), valid)
    assert stretch.method == "percentile 2-98"
    assert stretch.low == (2.0, 20.0) and stretch.high == (98.0, 980.0)
    assert all(type(v) is float for v in stretch.low + stretch.high)


def test_percentile_stretch_ignores_nan_in_float_bands():
    """A float band with NaN pixels (NaN nodata) marked valid: NaN is left out, the
    percentiles are those of 0..100 (2.0 and 98.0), not NaN."""
    band = np.concatenate([np.arange(101.0), [np.nan] * 11]).reshape(8, 14).astype(np.float32)
    stretch = percentile_stretch(band[None], np.ones(band.shape, bool))
    assert stretch.low == (pytest.approx(2.0),) and stretch.high == (pytest.approx(98.0),)


def test_percentile_stretch_other_percentiles():
    """Percentiles 10 and 90 of 0..100 are 10 and 90, named in the method."""
    band = np.arange(101.0).reshape(1, 1, 101)
    stretch = percentile_stretch(band, np.ones((1, 101), bool), (10.0, 90.0))
    assert (stretch.method, stretch.low, stretch.high) == ("percentile 10-90", (10.0,), (90.0,))


def test_percentile_stretch_constant_and_empty_bands():
    """A constant band gets a range of 1 above its value; a band with no valid pixel 0..1."""
    constant = np.full((2, 4, 4), 7, np.uint16)
    stretch = percentile_stretch(constant, np.ones((4, 4), bool))
    assert stretch.low == (7.0, 7.0) and stretch.high == (8.0, 8.0)
    empty = percentile_stretch(constant, np.zeros((4, 4), bool))
    assert empty.low == (0.0, 0.0) and empty.high == (1.0, 1.0)
    nan_only = percentile_stretch(np.full((1, 2, 2), np.nan, np.float32), np.ones((2, 2), bool))
    assert nan_only.low == (0.0,) and nan_only.high == (1.0,)
