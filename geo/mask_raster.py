"""Class and label rasters written block by block, atomically, with their class table."""
from __future__ import annotations

import colorsys
import contextlib
import errno
import json

import numpy as np
import rasterio
from affine import Affine
from rasterio.errors import RasterioError
from rasterio.windows import Window

from .files import atomic_path
from .georef import intersect_windows

CLASSES_TAG = "GEOVL_CLASSES"
BLOCK_SIZE = 256

# Qualitative colours that stay apart from each other and from imagery (Tableau 10).
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


class MaskRasterWriter:
    """A single-band GeoTIFF written by blocks at pixel offsets; `nodata` (default 0) is nodata.

    Tiled and sparse: blocks never written are not stored and read back as nodata, so a
    mostly empty raster over a large area costs little disk. The file appears at `path`
    only when the `with` block ends normally. Writes aligned to the 256 px blocks are
    cheapest: a block GDAL has already flushed is read back and recompressed.
    """

    def __init__(self, path: str, width: int, height: int, transform: Affine, crs_wkt: str,
                 dtype: str = "uint8", colormap: dict[int, tuple[int, ...]] | None = None,
                 tags: dict[str, str] | None = None, description: str | None = None, nodata: float = 0,
                 compress: str | None = "deflate", codec_options: dict[str, object] | None = None):
        if colormap and np.dtype(dtype) != np.uint8:
            raise ValueError(f"A colour map needs a uint8 raster, not {dtype}.")
        self.path = path
        self.width, self.height = width, height
        self._profile = dict(driver="GTiff", width=width, height=height, count=1, dtype=dtype, crs=crs_wkt,
                             transform=transform, nodata=nodata, tiled=True, blockxsize=BLOCK_SIZE,
                             blockysize=BLOCK_SIZE, sparse_ok=True,
                             # the compressed size is unknown in advance: go BigTIFF when it might pass 4 GB
                             bigtiff="if_safer")
        if compress:  # and its options, e.g. zstd_level=1, predictor=3 (GDAL's creation options)
            self._profile.update(compress=compress, **(codec_options or {}))
        self._colormap = colormap
        self._tags = dict(tags or {})
        if description:
            self._tags["TIFFTAG_IMAGEDESCRIPTION"] = description
        self._stack: contextlib.ExitStack | None = None
        self._dataset = None

    def __enter__(self) -> "MaskRasterWriter":
        with contextlib.ExitStack() as stack:
            tmp = stack.enter_context(atomic_path(self.path))
            self._dataset = stack.enter_context(rasterio.open(tmp, "w", **self._profile))
            if self._colormap:
                self._dataset.write_colormap(1, self._colormap)
            if self._tags:
                self._dataset.update_tags(**self._tags)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc) -> bool:
        # Closes the dataset, then renames it into place, or removes it on an exception.
        return self._stack.__exit__(*exc)

    def write(self, data: np.ndarray, row_off: int, col_off: int) -> None:
        """Write a (rows, cols) block with its top-left pixel at (row_off, col_off); the
        parts that fall outside the raster are dropped."""
        block = Window(col_off, row_off, data.shape[1], data.shape[0])
        inside = intersect_windows(block, Window(0, 0, self.width, self.height))
        if inside is None:
            return
        r0, c0 = inside.row_off - row_off, inside.col_off - col_off
        part = data[r0:r0 + inside.height, c0:c0 + inside.width]
        try:
            self._dataset.write(part.astype(self._dataset.dtypes[0], copy=False), 1, window=inside)
        except rasterio.errors.RasterioIOError as exc:
            # GDAL's error names no file: say which, so that only this file's atomic_path
            # (not another writer's open beside it) takes a full disk as its own
            code = errno.ENOSPC if "no space left" in str(exc).lower() else errno.EIO
            raise OSError(code, str(exc), self._dataset.name) from exc


def check_written(path: str, counts: dict[int, int]) -> None:
    """GDAL closes a GeoTIFF whose blocks it could not flush (a disk that filled up) without
    raising, and blocks never stored read back as nodata: read the raster back and compare
    the pixel count of each value in `counts` (value -> pixels written; larger values are
    counted with the largest, so {1: n} checks every value from 1 up). A mismatch is an
    OSError on `path` (atomic_path makes it a sentence)."""
    top = max(counts, default=0)
    found = np.zeros(top + 1, np.int64)
    try:
        with rasterio.open(path) as written:
            for _, window in written.block_windows(1):
                found += np.bincount(np.minimum(written.read(1, window=window).ravel(), top), minlength=top + 1)
    except RasterioError:
        found = None
    if found is None or any(found[value] != count for value, count in counts.items()):
        raise OSError(errno.EIO, "the GeoTIFF could not be written completely", path)


def class_tags(classes: list[str]) -> dict[str, str]:
    """Dataset tags recording the class name of each pixel value (1, 2, ...)."""
    return {CLASSES_TAG: json.dumps({str(code): name for code, name in enumerate(classes, start=1)})}


def read_class_table(path: str) -> dict[int, str] | None:
    """Pixel value -> class name from a raster's tags; None if it has no readable table."""
    with rasterio.open(path) as dataset:
        text = dataset.tags().get(CLASSES_TAG)
    if text is None:
        return None
    try:
        return {int(code): str(name) for code, name in json.loads(text).items()}
    except (ValueError, AttributeError):   # not JSON, not an object, or a key that is not a number
        return None


def class_colours(count: int) -> dict[int, tuple[int, int, int, int]]:
    """RGBA colours for values 0..count: 0 transparent, classes opaque and distinct."""
    colours = {0: (0, 0, 0, 0)}
    for code in range(1, count + 1):
        if code <= len(PALETTE):
            colours[code] = (*PALETTE[code - 1], 255)
        else:
            # beyond the palette: hues a golden angle apart never repeat
            hue = (code * 0.618033988749895) % 1.0
            colours[code] = (*(round(255 * v) for v in colorsys.hsv_to_rgb(hue, 0.75, 0.85)), 255)
    return colours
