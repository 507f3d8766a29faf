"""MaskRasterWriter, the class table tags and colours, read back with rasterio."""
import os

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from geovl.geo.mask_raster import MaskRasterWriter, class_colours, class_tags, read_class_table

TRANSFORM = Affine(0.5, 0, 500000, 0, -0.5, 4500000)
WKT = CRS.from_epsg(32631).to_wkt()


def test_blocks_georeferencing_tags_colours_description(tmp_path):
    """Two blocks land at their offsets; nodata 0, CRS, transform, tiling, compression,
    class table, colour map and description survive; only the final file remains."""
    path = str(tmp_path / "classes.tif")
    colours = class_colours(2)
    with MaskRasterWriter(path, 600, 300, TRANSFORM, WKT, colormap=colours,
                          tags=class_tags(["road", "sidewalk"]), description="GeoVL roads") as out:
        out.write(np.full((10, 20), 1, np.uint8), row_off=5, col_off=7)
        out.write(np.full((3, 4), 2, np.uint8), row_off=270, col_off=520)
        assert not os.path.exists(path)
    assert os.listdir(tmp_path) == ["classes.tif"]
    with rasterio.open(path) as ds:
        assert (ds.width, ds.height, ds.count, ds.dtypes[0], ds.nodata) == (600, 300, 1, "uint8", 0)
        assert ds.crs.to_epsg() == 32631
        assert tuple(ds.transform)[:6] == pytest.approx(tuple(TRANSFORM)[:6])
        assert ds.block_shapes == [(256, 256)]
        assert ds.compression.name.lower() == "deflate"
        assert ds.tags()["TIFFTAG_IMAGEDESCRIPTION"] == "GeoVL roads"
        assert ds.colormap(1)[0] == (0, 0, 0, 0)
        assert ds.colormap(1)[1] == colours[1] and ds.colormap(1)[2] == colours[2]
        data = ds.read(1)
    expected = np.zeros((300, 600), np.uint8)
    expected[5:15, 7:27] = 1
    expected[270:273, 520:524] = 2
    np.testing.assert_array_equal(data, expected)
    assert read_class_table(path) == {1: "road", 2: "sidewalk"}


def test_blocks_past_the_edges_are_clipped(tmp_path):
    """A block reaching past the right/bottom edge and one starting before the top-left
    keep only their inside parts; one wholly outside is ignored."""
    path = str(tmp_path / "labels.tif")
    block = np.arange(1, 5 * 6 + 1, dtype=np.int32).reshape(5, 6)
    with MaskRasterWriter(path, 10, 8, TRANSFORM, WKT, dtype="int32") as out:
        out.write(block, row_off=5, col_off=7)        # rows 5..9 of 8, cols 7..12 of 10
        out.write(block, row_off=-2, col_off=-3)      # rows -2..2, cols -3..2
        out.write(block, row_off=20, col_off=0)
    with rasterio.open(path) as ds:
        assert ds.dtypes[0] == "int32" and ds.nodata == 0
        data = ds.read(1)
    expected = np.zeros((8, 10), np.int32)
    expected[5:8, 7:10] = block[:3, :3]
    expected[0:3, 0:3] = block[2:5, 3:6]
    np.testing.assert_array_equal(data, expected)


def test_unwritten_blocks_are_sparse_and_read_as_zero(tmp_path):
    """One block written in a 4096 x 4096 raster: the rest reads 0 and is not stored."""
    path = str(tmp_path / "sparse.tif")
    with MaskRasterWriter(path, 4096, 4096, TRANSFORM, WKT) as out:
        out.write(np.full((256, 256), 1, np.uint8), row_off=1024, col_off=2048)
    with rasterio.open(path) as ds:
        assert ds.read(1, window=((0, 256), (0, 256))).max() == 0
        assert ds.read(1, window=((1024, 1280), (2048, 2304))).min() == 1
        assert ds.read(1, window=((3840, 4096), (3840, 4096)), masked=True).mask.all()
        offsets = [ds.get_tag_item("BLOCK_OFFSET_0_0", "TIFF", bidx=1),
                   ds.get_tag_item("BLOCK_OFFSET_8_4", "TIFF", bidx=1)]
    assert offsets[0] is None and offsets[1] is not None   # 8 blocks across: (1024/256=4, 2048/256=8)
    assert os.path.getsize(path) < 20_000


def test_exception_leaves_no_file_and_keeps_existing(tmp_path):
    """A failure inside the block removes the temporary file and leaves an older output."""
    path = str(tmp_path / "out.tif")
    with pytest.raises(RuntimeError):
        with MaskRasterWriter(path, 16, 16, TRANSFORM, WKT) as out:
            out.write(np.ones((4, 4), np.uint8), 0, 0)
            raise RuntimeError("cancelled")
    assert os.listdir(tmp_path) == []
    with MaskRasterWriter(path, 16, 16, TRANSFORM, WKT) as out:
        out.write(np.full((4, 4), 3, np.uint8), 0, 0)
    with pytest.raises(RuntimeError):
        with MaskRasterWriter(path, 16, 16, TRANSFORM, WKT) as out:
            out.write(np.full((4, 4), 9, np.uint8), 0, 0)
            raise RuntimeError("cancelled")
    assert os.listdir(tmp_path) == ["out.tif"]
    with rasterio.open(path) as ds:
        assert ds.read(1)[0, 0] == 3


def test_colormap_needs_uint8():
    with pytest.raises(ValueError):
        MaskRasterWriter("x.tif", 4, 4, TRANSFORM, WKT, dtype="int32", colormap=class_colours(1))


def test_class_table_missing_or_malformed_is_none(tmp_path):
    plain = str(tmp_path / "plain.tif")
    with MaskRasterWriter(plain, 4, 4, TRANSFORM, WKT):
        pass
    assert read_class_table(plain) is None
    bad = str(tmp_path / "bad.tif")
    with MaskRasterWriter(bad, 4, 4, TRANSFORM, WKT, tags={"GEOVL_CLASSES": '{"road": "1"}'}):
        pass
    assert read_class_table(bad) is None
    assert class_tags(["road", "sidewalk"]) == {"GEOVL_CLASSES": '{"1": "road", "2": "sidewalk"}'}


def test_class_colours_distinct_and_opaque():
    """0 is transparent; every class is opaque and differs from all others (40 classes)."""
    colours = class_colours(40)
    assert sorted(colours) == list(range(41))
    assert colours[0][3] == 0
    assert all(c[3] == 255 and all(0 <= v <= 255 for v in c) for code, c in colours.items() if code)
    rgb = [c[:3] for code, c in colours.items() if code]
    assert len(set(rgb)) == 40
    assert class_colours(2)[1] != class_colours(2)[2]


def test_codec_and_its_options_reach_the_file(tmp_path):
    """compress="zstd" with codec_options (GDAL creation options): the file says ZSTD and
    predictor 3, and the float values come back exactly."""
    path = str(tmp_path / "magnitude.tif")
    values = np.random.default_rng(2).random((300, 280), np.float32)
    with MaskRasterWriter(path, 280, 300, TRANSFORM, WKT, dtype="float32", nodata=float("nan"), compress="zstd",
                          codec_options=dict(zstd_level=1, predictor=3)) as out:
        out.write(values, 0, 0)
    with rasterio.open(path) as ds:
        assert ds.compression.name.lower() == "zstd"
        assert ds.tags(ns="IMAGE_STRUCTURE").get("PREDICTOR") == "3"
        np.testing.assert_array_equal(ds.read(1), values)


def test_check_written_compares_the_pixels_of_each_value(tmp_path):
    """What was written passes; a count that differs, or a file cut short, is an OSError
    (EIO) on the path."""
    import errno

    from geovl.geo.mask_raster import check_written

    path = str(tmp_path / "mask.tif")
    with MaskRasterWriter(path, 300, 200, TRANSFORM, WKT, nodata=255) as out:
        out.write(np.full((100, 300), 1, np.uint8), 0, 0)           # the lower half never written: 255
    check_written(path, {1: 30_000, 255: 30_000})
    with pytest.raises(OSError) as error:
        check_written(path, {1: 30_001, 255: 29_999})
    assert error.value.errno == errno.EIO and error.value.filename == path
    with open(path, "r+b") as file:
        file.truncate(os.path.getsize(path) // 2)
    with pytest.raises(OSError):
        check_written(path, {1: 30_000, 255: 30_000})
