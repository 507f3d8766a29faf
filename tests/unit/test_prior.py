"""geo.prior: class names of a prior raster, and its windows read on another raster's grid."""
from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

from geovl.errors import InputError
from geovl.geo.mask_raster import class_tags
from geovl.geo.prior import PriorReader, prior_class_names
from tests.conftest import write_raster

ORIGIN = (500_000.0, 4_650_000.0)


def target(tmp_path, size=(40, 60)) -> str:
    """A 1 m grid (UTM 33N) that the prior is read on."""
    return write_raster(tmp_path / "target.tif", np.zeros((1, *size), np.uint8))


def test_class_names_from_the_table_or_from_the_values(tmp_path):
    values = np.zeros((1, 20, 20), np.uint16)
    values[0, :5] = 3
    values[0, 10:] = 300
    scanned = write_raster(tmp_path / "scan.tif", values)
    assert prior_class_names(scanned) == {3: "class 3", 300: "class 300"}
    named = write_raster(tmp_path / "named.tif", values)
    with rasterio.open(named, "r+") as dataset:
        dataset.update_tags(**class_tags(["road", "sidewalk"]))
    assert prior_class_names(named) == {1: "road", 2: "sidewalk"}
    with pytest.raises(InputError, match="Cannot open the prior raster .*missing.tif"):
        prior_class_names(str(tmp_path / "missing.tif"))


def test_windows_are_read_on_the_target_grid(tmp_path):
    """A prior at 2 m pixels: target pixel (row, col) reads prior pixel (row // 2, col // 2);
    a window past the target's edge is padded with 0."""
    prior = np.arange(1, 20 * 30 + 1, dtype=np.uint16).reshape(1, 20, 30)
    path = write_raster(tmp_path / "prior.tif", prior, transform=from_origin(*ORIGIN, 2.0, 2.0))
    with rasterio.open(target(tmp_path)) as like, PriorReader(path, like) as reader:
        got = reader.read(Window(50, 30, 20, 20), (20, 20))
    rows, cols = np.mgrid[30:50, 50:70]
    expected = np.where((rows < 40) & (cols < 60), prior[0][np.minimum(rows // 2, 19), np.minimum(cols // 2, 29)], 0)
    np.testing.assert_array_equal(got, expected)


def test_prior_off_the_raster_or_without_crs_is_refused(tmp_path):
    far = write_raster(tmp_path / "far.tif", np.ones((1, 10, 10), np.uint8),
                       transform=from_origin(ORIGIN[0] + 100.0, ORIGIN[1], 1.0, 1.0))   # starts at the target's right
    with rasterio.open(target(tmp_path)) as like:
        with pytest.raises(InputError, match=r"does not overlap the raster: its extent \(500100.0, 4649990.0, "
                                             r"500110.0, 4650000.0\) lies outside the raster's \(500000.0, "
                                             r"4649960.0, 500060.0, 4650000.0\)"):
            PriorReader(far, like)
        no_crs = tmp_path / "no_crs.tif"
        with rasterio.open(no_crs, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8",
                           transform=from_origin(*ORIGIN, 1.0, 1.0)) as dst:
            dst.write(np.ones((1, 4, 4), np.uint8))
        with pytest.raises(InputError, match="has no coordinate reference system"):
            PriorReader(str(no_crs), like)
