"""Two acquisitions of the same place read together, pixel for pixel, on BEFORE's grid."""
from __future__ import annotations

import numpy as np
from rasterio.enums import Resampling
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from ..errors import InputError
from .georef import bounds_to_window, intersect_windows
from .normalise import STATS_SAMPLE_SIZE
from .raster import RasterSource

SAMPLE_WINDOWS = 8          # per side: 64 windows of STATS_SAMPLE_SIZE / 8 pixels


def compared_bands(before_count: int, after_count: int, bands: list[int] | None) -> list[int]:
    """The band numbers read from both rasters: `bands` if given (each must exist in
    both), else every band when the counts agree."""
    if bands:
        bad = [b for b in bands if not 1 <= b <= min(before_count, after_count)]
        if bad:
            raise InputError(f"Band number(s) {bad} do not exist in both rasters: BEFORE has {before_count} band(s), "
                             f"AFTER {after_count}. Choose bands that both have (BANDS).")
        return list(bands)
    if before_count != after_count:
        common = ",".join(str(b) for b in range(1, min(before_count, after_count) + 1))
        raise InputError(f"BEFORE has {before_count} band(s) and AFTER has {after_count}: choose the bands to compare "
                         f"(BANDS, the same numbers are read from both), e.g. {common}.")
    return list(range(1, before_count + 1))


class RasterPair:
    """BEFORE and AFTER over their overlap, AFTER warped onto BEFORE's grid when their
    CRS, resolution or alignment differ, so window (i, j) of one is window (i, j) of the other.

    `bands` are the bands compared (any number); `rgb_bands` the three shown to models
    and in thumbnails (default: red, green, blue by colour interpretation).
    """

    def __init__(self, before_path: str, after_path: str, bands: list[int] | None = None,
                 extent: tuple[float, float, float, float] | None = None):
        self._arguments = (before_path, after_path, bands, extent)
        rgb = bands if bands and len(bands) in (1, 3) else None
        self.before = RasterSource(before_path, rgb)
        try:
            self.after = RasterSource(after_path, rgb, like=self.before.dataset)
        except InputError:
            self.before.close()
            raise
        try:
            self.bands = compared_bands(self.before.band_count, self.after.band_count, bands)
            self.area = self._overlap(extent)
        except InputError:
            self.close()
            raise

    def __enter__(self) -> "RasterPair":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.after.close()
        self.before.close()

    def reopen(self) -> "RasterPair":
        """Another opening of the same rasters, bands and area, for another thread."""
        return RasterPair(*self._arguments)

    def _overlap(self, extent: tuple[float, float, float, float] | None) -> Window:
        """BEFORE's pixel window covered by AFTER (and by `extent`, in BEFORE's CRS)."""
        area = self.before.area(extent)
        after = self.after.file
        bounds = transform_bounds(after.crs, self.before.dataset.crs, *after.bounds, densify_pts=21)
        overlap = intersect_windows(bounds_to_window(self.before.dataset.transform, bounds), area)
        if overlap is None:
            b = self.before.dataset.bounds
            raise InputError(
                f"BEFORE and AFTER do not overlap{' within the extent' if extent else ''}: AFTER covers "
                f"{tuple(round(v, 3) for v in bounds)} and BEFORE ({b.left:.3f}, {b.bottom:.3f}, {b.right:.3f}, "
                f"{b.top:.3f}) in BEFORE's CRS. Choose two rasters of the same place (check their CRS).")
        return overlap

    def read(self, window: Window, out_size: tuple[int, int],
             resampling: Resampling | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The compared bands of both rasters in `window` at `out_size`: before and after
        as (bands, h, w) arrays of their data types, and where both are valid."""
        before, valid = self.before.read_bands(window, out_size, self.bands, resampling)
        after, valid_after = self.after.read_bands(window, out_size, self.bands, resampling)
        valid &= valid_after
        return before, after, valid

    def sample(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What statistics computed once per raster pair are computed from: `read` of
        SAMPLE_WINDOWS x SAMPLE_WINDOWS windows spread evenly over the overlap, side by side
        (about STATS_SAMPLE_SIZE² pixels; the whole overlap when it is no larger). Windows at
        full resolution touch few blocks, where a decimated read of a raster without
        overviews reads them all (the fallback when no window holds valid pixels). The RGB
        normalisation of both rasters comes from it too."""
        area = self.area
        if max(area.width, area.height) <= STATS_SAMPLE_SIZE:
            before, after, valid = self.read(area, (area.height, area.width))
        else:
            height = min(area.height, STATS_SAMPLE_SIZE // SAMPLE_WINDOWS)
            width = min(area.width, STATS_SAMPLE_SIZE // SAMPLE_WINDOWS)
            parts = [self.read(Window(_spread(area.col_off, area.width, width, j),
                                      _spread(area.row_off, area.height, height, i), width, height), (height, width))
                     for i in range(SAMPLE_WINDOWS) for j in range(SAMPLE_WINDOWS)]
            before, after, valid = (np.concatenate(arrays, axis=-1) for arrays in zip(*parts))
            if not valid.any():  # data only between the windows: a decimated read of everything
                factor = max(area.width, area.height) / STATS_SAMPLE_SIZE
                shape = (max(1, round(area.height / factor)), max(1, round(area.width / factor)))
                before, after, valid = self.read(area, shape, Resampling.nearest)
        for source, sample in ((self.before, before), (self.after, after)):
            if all(b in self.bands for b in source.bands):
                source.stretch_from(sample[[self.bands.index(b) for b in source.bands]], valid)
        return before, after, valid


def _spread(start: int, length: int, size: int, index: int) -> int:
    """Offset of window `index` of SAMPLE_WINDOWS of `size` spread evenly over a span."""
    centre = start + (index + 0.5) * length / SAMPLE_WINDOWS
    return int(min(max(start, round(centre - size / 2)), start + length - size))
