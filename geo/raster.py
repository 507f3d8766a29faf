"""A raster opened for tiled, windowed reading as 8-bit RGB."""
from __future__ import annotations

import hashlib
import math
import os

import numpy as np
import rasterio
from rasterio.enums import ColorInterp, MaskFlags, Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform as transform_points
from rasterio.windows import Window

from ..errors import InputError
from .georef import bounds_to_window, check_transform, intersect_windows, metres_per_pixel, pixel_size, read_placement
from .normalise import STATS_SAMPLE_SIZE, Stretch, identity_stretch, percentile_stretch


# GDAL's block cache for reads (rasterio's own GDAL, not QGIS's). Tiles are read in row
# order, so one row of tiles' blocks is all that is worth keeping; GDAL's default (5% of
# RAM) would instead let memory grow with the raster up to that size.
READ_CACHE_BYTES = 128 * 2**20


def default_bands(dataset) -> list[int]:
    """Red, green, blue by colour interpretation, else bands 1-3, else band 1 three times."""
    interp = list(dataset.colorinterp)
    wanted = [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
    if all(c in interp for c in wanted):
        return [interp.index(c) + 1 for c in wanted]
    if dataset.count >= 3:
        return [1, 2, 3]
    return [1, 1, 1]


def check_bands(bands: list[int], band_count: int) -> list[int]:
    """Validate a user band list: one band (replicated) or three, each in 1..band_count."""
    valid = "band 1" if band_count == 1 else f"bands 1 to {band_count}"
    needed = (f"Give one band (used as grey) or three bands (red, green, blue); the raster has {band_count} "
              f"band{'s' if band_count > 1 else ''}, so the valid band numbers are {valid}.")
    if len(bands) not in (1, 3):
        raise InputError(f"{len(bands)} bands were given ({', '.join(map(str, bands))}). {needed}")
    bad = [b for b in bands if not 1 <= b <= band_count]
    if bad:
        raise InputError(f"Band number(s) {bad} do not exist. {needed}")
    return bands * 3 if len(bands) == 1 else list(bands)


def same_grid(a, b) -> bool:
    """Whether two datasets share CRS, geotransform and size (pixel (i, j) is the same place)."""
    return (a.crs == b.crs and a.width == b.width and a.height == b.height
            and a.transform.almost_equals(b.transform, precision=1e-9))


def file_fingerprint(path: str) -> str:
    """Identity of a raster file's content for caches: path, size and modification time."""
    stat = os.stat(path)
    key = f"{os.path.realpath(path)}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class RasterSource:
    """Windowed reads of three composed bands, normalised once per raster to uint8.

    With `like` (another open dataset), the raster is read on that dataset's pixel grid,
    warped on the fly when its CRS or grid differ (the AFTER image of a change pair).
    Not thread-safe (rasterio datasets are not): use one instance per thread.
    """

    def __init__(self, path: str, bands: list[int] | None = None, like=None):
        self._env = rasterio.Env(GDAL_CACHEMAX=READ_CACHE_BYTES)
        self._env.__enter__()
        try:
            self.file = rasterio.open(path)
        except rasterio.RasterioIOError as exc:
            self._env.__exit__()
            raise InputError(f"Cannot open raster '{path}': {exc}. Check the path and that GDAL can read it.") from exc
        self.path = path
        self.dataset = self.file
        self.band_count = self.file.count
        self._stretch: Stretch | None = None
        try:
            if self.file.crs is None:
                raise InputError(
                    f"Raster '{path}' has no coordinate reference system. Assign one "
                    "(Raster > Projections > Assign Projection) and run again.")
            check_transform(self.file.transform)
            self.bands = check_bands(bands, self.band_count) if bands else default_bands(self.file)
            if like is not None and not same_grid(self.file, like):
                # add_alpha: pixels the warp cannot fill read as invalid, whatever the nodata.
                self.dataset = WarpedVRT(self.file, crs=like.crs, transform=like.transform, width=like.width,
                                         height=like.height, resampling=Resampling.bilinear, add_alpha=True)
        except InputError:
            self.close()
            raise

    def __enter__(self) -> "RasterSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def warped(self) -> bool:
        return self.dataset is not self.file

    def close(self) -> None:
        if self.warped:
            self.dataset.close()
        self.file.close()
        self._env.__exit__()

    @property
    def crs_wkt(self) -> str:
        return self.dataset.crs.to_wkt()

    @property
    def epsg(self) -> int | None:
        return self.dataset.crs.to_epsg()

    @property
    def full_window(self) -> Window:
        return Window(0, 0, self.dataset.width, self.dataset.height)

    def fingerprint(self) -> str:
        return file_fingerprint(self.path)

    def area(self, bounds: tuple[float, float, float, float] | None = None) -> Window:
        """Pixel window of map `bounds` (raster CRS) clipped to the raster; whole raster if None."""
        if bounds is None:
            return self.full_window
        xmin, ymin, xmax, ymax = bounds
        if xmax <= xmin or ymax <= ymin:
            raise InputError(
                f"The extent {tuple(round(v, 3) for v in bounds)} has no area (width {xmax - xmin:g}, height "
                f"{ymax - ymin:g}). Draw or type an extent with a width and a height, or leave it empty for the "
                "whole raster.")
        area = intersect_windows(bounds_to_window(self.dataset.transform, bounds), self.full_window)
        if area is None:
            b = self.dataset.bounds
            raise InputError(
                f"The extent {tuple(round(v, 3) for v in bounds)} does not overlap the raster, whose bounds are "
                f"({b.left:.3f}, {b.bottom:.3f}, {b.right:.3f}, {b.top:.3f}) in its CRS. Choose an extent over the raster.")
        return area

    def scale_for_resolution(self, metres: float | None, window: Window | None = None) -> float:
        """Source pixels per output pixel for a target ground resolution (None: native),
        measured at the centre of `window` (the area read; default the whole raster)."""
        if not metres:
            return 1.0
        if metres <= 0:
            raise InputError("The target resolution must be a positive number of metres per pixel.")
        own = self.metres_per_pixel(window)
        ds = self.dataset
        if metres > own * min(ds.width, ds.height):
            raise InputError(
                f"The target resolution of {metres:g} m per pixel is coarser than the raster itself "
                f"({ds.width} x {ds.height} pixels of {own:.4g} m, {own * ds.width:.4g} x {own * ds.height:.4g} m): "
                f"the whole raster would be less than one pixel. Use a resolution near the raster's own {own:.4g} m "
                "per pixel (0 keeps it).")
        return metres / own

    def metres_per_pixel(self, window: Window | None = None) -> float:
        """Mean ground size of a source pixel in metres, at the centre of `window` (default
        the whole raster) where it varies: geographic CRS (a degree of longitude shrinks
        with the latitude) and Mercator (Web Mercator: ground metres = CRS metres x
        cos(latitude)). processing/base.py ground_metres_per_unit follows the same rules."""
        crs = self.dataset.crs
        window = window or self.full_window
        x, y = self.dataset.transform * (window.col_off + window.width / 2, window.row_off + window.height / 2)
        centre_lat = y
        factor = 1.0 if crs.is_geographic else crs.linear_units_factor[1]
        if not crs.is_geographic and crs.to_dict().get("proj") == "merc":
            centre_lat = transform_points(crs, "EPSG:4326", [x], [y])[1][0]
            factor *= math.cos(math.radians(centre_lat))
        return metres_per_pixel(self.dataset.transform, crs.is_geographic, factor, centre_lat)

    def metres_per_unit(self) -> float:
        """Metres per map unit of the raster's CRS (geographic CRS: at the raster's centre)."""
        return self.metres_per_pixel() / (sum(pixel_size(self.dataset.transform)) / 2)

    @property
    def stretch(self) -> Stretch:
        """Normalisation of this raster, computed on first use from a decimated read."""
        if self._stretch is None:
            ds = self.dataset
            factor = max(1.0, max(ds.width, ds.height) / STATS_SAMPLE_SIZE)
            shape = (max(1, round(ds.height / factor)), max(1, round(ds.width / factor)))
            self.stretch_from(*self._read_bands(self.full_window, shape, Resampling.nearest))
        return self._stretch

    def stretch_from(self, sample: np.ndarray, valid: np.ndarray) -> None:
        """Normalise with a (3, H, W) sample of the composed bands read for another purpose
        (it must sample the whole raster, or the area that will be read)."""
        if all(self.dataset.dtypes[b - 1] == "uint8" for b in self.bands):
            self._stretch = identity_stretch(3)
        else:
            self._stretch = percentile_stretch(sample, valid)

    def read(self, window: Window, out_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Read `window` (may reach past the raster) resampled to `out_size` (h, w).

        Returns an (h, w, 3) uint8 RGB image, zero outside the raster and on nodata,
        and an (h, w) bool mask of valid pixels.
        """
        data, valid = self.read_bands(window, out_size)
        image = np.where(valid, self.stretch.apply(data), 0).astype(np.uint8, copy=False)
        return image.transpose(1, 2, 0), valid

    def read_bands(self, window: Window, out_size: tuple[int, int], bands: list[int] | None = None,
                   resampling: Resampling | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The raw values of `bands` (default: the three composed bands) in `window` (may
        reach past the raster) at `out_size` (h, w): a (bands, h, w) array in the raster's
        data type, zero outside the raster, and the (h, w) bool mask of valid pixels.
        Resampling defaults to average when shrinking, bilinear when enlarging."""
        bands = bands or self.bands
        height, width = out_size
        placement = read_placement(window, self.full_window, out_size)
        if placement is None:
            return np.zeros((len(bands), height, width), self.dataset.dtypes[0]), np.zeros(out_size, bool)
        inside, (r0, r1, c0, c1) = placement
        scale = inside.width / (c1 - c0)
        if abs(scale - 1) < 1e-9:
            resampling = Resampling.nearest
        elif resampling is None:
            resampling = Resampling.average if scale > 1 else Resampling.bilinear
        data, ok = self._read_bands(inside, (r1 - r0, c1 - c0), resampling, bands)
        if (r0, r1, c0, c1) == (0, height, 0, width):
            return data, ok
        padded = np.zeros((len(bands), height, width), data.dtype)
        valid = np.zeros(out_size, bool)
        padded[:, r0:r1, c0:c1] = data
        valid[r0:r1, c0:c1] = ok
        return padded, valid

    def read_bounds(self, bounds: tuple[float, float, float, float], size: int) -> np.ndarray:
        """The map `bounds` (raster CRS) as a size x size RGB image (query by example)."""
        window = bounds_to_window(self.dataset.transform, bounds)
        if intersect_windows(window, self.full_window) is None:
            raise InputError(f"The example area {tuple(round(v, 3) for v in bounds)} lies outside the raster.")
        return self.read(window, (size, size))[0]

    def _read_bands(self, window: Window, shape: tuple[int, int], resampling: Resampling,
                    bands: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """`bands` (default: the composed bands) of `window` at `shape`, and the valid-pixel mask."""
        bands = bands or self.bands
        unique = sorted(set(bands))
        try:
            data = self.dataset.read(unique, window=window, out_shape=(len(unique), *shape), resampling=resampling)
        except rasterio.RasterioIOError as exc:
            raise InputError(
                f"Raster '{self.path}' is damaged or truncated: its pixels cannot be read ({exc.__cause__ or exc}). "
                "Copy or download the file again (gdalinfo -checksum tells whether a copy reads whole), "
                "or export the layer to a new GeoTIFF from a source that reads.") from exc
        if unique != bands:
            data = data[[unique.index(b) for b in bands]]
        valid = np.ones(shape, bool)
        flags = self.dataset.mask_flag_enums[bands[0] - 1]
        if MaskFlags.nodata in flags:
            nodata = [self.dataset.nodatavals[b - 1] for b in bands]
            valid = np.any([band != nd for band, nd in zip(data, nodata)], axis=0)
        elif MaskFlags.all_valid not in flags:  # alpha band or per-dataset mask
            valid = self.dataset.read_masks(bands[0], window=window, out_shape=shape,
                                            resampling=Resampling.nearest) > 0
        if data.dtype.kind == "f":
            valid &= np.isfinite(data).all(axis=0)
        return data, valid
