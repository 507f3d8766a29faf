"""write_float_raster: values, nodata, transform and CRS read back with rasterio."""
import os

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from geovl.errors import InputError
from geovl.geo.output import write_float_raster

TRANSFORM = Affine(96, 0, 500008, 0, -96, 4649992)


def test_nan_becomes_nodata_and_georeferencing_round_trips(tmp_path):
    """NaN and inf cells are written as nodata; values, transform and EPSG:32633 survive."""
    values = np.arange(12, dtype=np.float64).reshape(3, 4) / 7
    values[1, 2] = np.nan
    values[2, 0] = np.inf
    path = str(tmp_path / "scores.tif")
    write_float_raster(path, values, TRANSFORM, CRS.from_epsg(32633).to_wkt(), description="similarity")
    assert os.listdir(tmp_path) == ["scores.tif"]
    with rasterio.open(path) as ds:
        assert (ds.count, ds.height, ds.width, ds.dtypes[0]) == (1, 3, 4, "float32")
        assert ds.nodata == -9999.0
        assert tuple(ds.transform)[:6] == pytest.approx(tuple(TRANSFORM)[:6])
        assert ds.crs.to_epsg() == 32633
        assert ds.descriptions[0] == "similarity"
        data = ds.read(1)
        masked = ds.read(1, masked=True)
    assert data[1, 2] == -9999.0 and data[2, 0] == -9999.0
    expected_mask = np.zeros((3, 4), bool)
    expected_mask[1, 2] = expected_mask[2, 0] = True
    np.testing.assert_array_equal(masked.mask, expected_mask)
    np.testing.assert_allclose(data[~expected_mask], values[~expected_mask].astype(np.float32))


def test_custom_nodata_and_overwrite(tmp_path):
    """A second write with another nodata value replaces the first file."""
    path = str(tmp_path / "out.tif")
    write_float_raster(path, np.ones((2, 2)), TRANSFORM, CRS.from_epsg(32633).to_wkt())
    write_float_raster(path, np.array([[np.nan, 2.0], [3.0, 4.0]]), TRANSFORM, CRS.from_epsg(4326).to_wkt(),
                       nodata=-1.0)
    with rasterio.open(path) as ds:
        assert ds.nodata == -1.0 and ds.crs.to_epsg() == 4326
        np.testing.assert_array_equal(ds.read(1), [[-1.0, 2.0], [3.0, 4.0]])
    assert os.listdir(tmp_path) == ["out.tif"]


def test_full_disk_is_a_sentence_and_leaves_nothing(small_disk):
    """A raster bigger than the disk raises InputError naming the folder; no partial file stays."""
    disk = small_disk(256)
    values = np.random.default_rng(0).random((600, 600))
    with pytest.raises(InputError, match=f"'{disk}'.*the disk is full"):
        write_float_raster(os.path.join(disk, "heat.tif"), values, TRANSFORM, CRS.from_epsg(32633).to_wkt())
    assert os.listdir(disk) == []


def test_disk_full_when_gdal_flushes_at_close_is_caught(small_disk):
    """With 8 KiB left, GDAL writes the 15 KiB GeoTIFF's last blocks only at close, fails
    there and does not raise: the file read back is incomplete, so InputError, and nothing stays."""
    disk = small_disk(64)
    with open(os.path.join(disk, "filler"), "wb") as f:
        f.write(b"\0" * (56 << 10))
    values = np.random.default_rng(0).random((64, 64))
    with pytest.raises(InputError, match=f"'{disk}'.*the disk is full"):
        write_float_raster(os.path.join(disk, "heat.tif"), values, TRANSFORM, CRS.from_epsg(32633).to_wkt())
    assert os.listdir(disk) == ["filler"]


def test_read_only_folder_is_a_sentence(small_disk):
    """A read-only folder raises InputError naming it."""
    disk = small_disk(64, read_only=True)
    with pytest.raises(InputError, match=f"'{disk}'.*read-only"):
        write_float_raster(os.path.join(disk, "heat.tif"), np.ones((2, 2)), TRANSFORM, CRS.from_epsg(32633).to_wkt())
