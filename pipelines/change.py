"""Bi-temporal change detection over whole rasters, with captions per region and overall.

AFTER is read on BEFORE's grid (warped on the fly when the CRS or grid differ) over the
two rasters' overlap. Everything that normalises the pair (per-band statistics, IR-MAD's
transformation) is fitted once on a sample of the overlap, never per tile, so the
threshold means the same everywhere. Then:

1. every tile gives each pixel a change magnitude (CVA: change-vector length in standard
   deviations; IR-MAD: chi-square of the MAD variates; features: cosine distance of the
   backbone's patch features) and a direction (brighter/darker, vegetation gain/loss);
   tiles write their central part, so the magnitude raster is seamless, and a histogram
   of all magnitudes is kept;
2. the threshold (given, IR-MAD's chi-square quantile, or Otsu's on the whole histogram)
   makes the change mask, read back by windows;
3. the mask becomes polygons, each with its area, mean magnitude and a factual caption;
   with a caption model, the largest regions and the whole pair are also captioned.
"""
from __future__ import annotations

import contextlib
import itertools
import math
import os
import shutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from rasterio.windows import Window
from shapely.geometry import Polygon

from ..errors import InputError
from ..geo.change_stats import chi2_quantile, fit_irmad, irmad_chi2, otsu_threshold
from ..geo.change_vectors import BandStats, band_stats, direction_codes, red_and_nir, zscore_change
from ..geo.files import atomic_path, scratch_folder
from ..geo.georef import bounds_to_window, map_to_pixels
from ..geo.gpkg import wkb_2d
from ..geo.grid import Tile, TileGrid, plan_grid, raster_windows
from ..geo.mask_raster import MaskRasterWriter, check_written
from ..geo.morphology import open_speckle
from ..geo.pair import RasterPair
from ..geo.vectorise import polygon_area_m2, raster_regions
from ..geo.zonal import polygon_pixels
from .change_report import write_change_report
from .change_summary import Directions, format_bytes, location_word, overall_facts, region_facts
from .feedback import Feedback, ProgressRange, QuietFeedback, check_cancelled, format_duration
from .options import ModelOptions, TilingOptions
from .prefetch import prefetch
from .thumbnails import THUMBNAIL_PX, outlined_jpeg

if TYPE_CHECKING:  # models (and torch) are imported only when a model is used: model-free runs stay light
    from ..models.base import ChangeCaption, ChangeCaptioner, PatchFeatureExtractor

METHODS = ("cva", "irmad", "features")
PIXEL_TILE_SIZE = 1024          # tile side for the pixel methods: a read block, not a model input
PIXEL_WORKERS = 2               # threads reading and measuring tiles for the pixel methods
HISTOGRAM_BINS = 4096
NO_CHANGE_PROBABILITY = 0.99    # IR-MAD: unchanged pixels fall below this chi-square quantile
SPECKLE_MARGIN = 2              # pixels the 3 x 3 speckle opening needs around a window
MASK_NODATA = 255
MASK_COLOURS = {0: (0, 0, 0, 0), 1: (230, 30, 30, 255)}
CAPTION_CONTEXT_PX = 256        # least side of a region's crop, in output pixels (LEVIR-CC's 256 px)
WINDOW_PX = 2048                # window of the threshold pass
# GeoTIFF codecs, measured on bench/change.py's 4096 px pair: zstd level 1 is the fastest of
# zstd, LZW and deflate level 1 (with or without predictor). The float magnitude is noise
# to a codec: 3.55 bytes a pixel for 0.11 CPU s per 16.7 Mpx; the float predictor saves 8 %
# more for 2.3 times the CPU, LZW makes it larger. Direction codes and labels shrink to a
# few thousandths of a byte (the mask too), faster than writing them uncompressed.
CODEC = dict(compress="zstd", codec_options=dict(zstd_level=1))   # every raster written
REPORT_PICTURES = 6             # regions shown before/after in the report, largest first
# The most bytes per output pixel each raster takes with its codec (GeoTIFF, zstd level 1):
# measured on random values, the least compressible, so real rasters take less. The float
# magnitude compresses little (3.55 B/px on bench/change.py's pair): counted uncompressed.
MAGNITUDE_BYTES_PER_PX = 4.0
DIRECTIONS_BYTES_PER_PX = 0.41  # codes 1..9
LABELS_BYTES_PER_PX = 0.2       # 0 or 1
MASK_BYTES_PER_PX = 0.26        # 0, 1 or 255
REPORT_BYTES = 1 << 20          # a table and REPORT_PICTURES pairs of JPEG thumbnails
# Whole-run speed of the pixel methods, bench/change.py on 2 cores (for the plan's time)
MEGAPIXELS_PER_SECOND = {"cva": 17.0, "irmad": 11.5}


@dataclass
class ChangeRegion:
    id: int
    polygon: Polygon            # BEFORE's CRS
    area_m2: float
    magnitude: float            # mean change magnitude inside
    location: str               # where in the extent ("north-west", "centre", ...)
    directions: Directions
    facts: str                  # factual caption
    caption: str = ""           # the model's change caption, where a model was asked
    before_label: str = ""
    after_label: str = ""

    @property
    def wkb(self) -> bytes:
        return wkb_2d(self.polygon)


@dataclass
class ChangeResult:
    regions: list[ChangeRegion]         # largest first
    caption: str                        # overall: the facts, then the model's caption of the pair
    facts: str
    threshold: float
    method: str
    crs_wkt: str
    compared_m2: float
    model_caption: ChangeCaption | None = None
    notes: list[str] = field(default_factory=list)


def detect_changes(before_path: str, after_path: str, method: str = "cva", model: ModelOptions | None = None,
                   caption_model: ModelOptions | None = None, threshold: float | None = None,
                   min_area_m2: float = 0.0, tiling: TilingOptions = TilingOptions(),
                   magnitude_path: str | None = None, mask_path: str | None = None, report_path: str | None = None,
                   max_captions: int = 10, max_new_tokens: int = 128,
                   feedback: Feedback | None = None) -> ChangeResult:
    """Where, how much and what changed between two rasters of the same place. Polygons
    come back in BEFORE's CRS; the magnitude (float32), mask (1 change, 0 none, 255
    nodata) and report go to the paths given, all or nothing."""
    feedback = feedback or QuietFeedback()
    _check_request(method, model, threshold, min_area_m2, max_captions)
    with RasterPair(before_path, after_path, list(tiling.bands) if tiling.bands else None, tiling.extent) as pair:
        if pair.after.warped:
            feedback.info("AFTER's CRS or grid differs from BEFORE's: it is warped onto BEFORE's grid (bilinear).")
        before_sample, after_sample, valid_sample = pair.sample()
        if not valid_sample.any():
            raise InputError("BEFORE and AFTER have no valid pixel in common (their overlap is nodata in one or "
                             "the other). Check the extent, the bands and the rasters' nodata values.")
        stats = band_stats(before_sample, valid_sample), band_stats(after_sample, valid_sample)
        measure = _measure_for(method, model, pair, stats, (before_sample, after_sample, valid_sample), feedback)
        grid = plan_grid(pair.before.dataset.transform, pair.area, tiling.tile_size or measure.tile_size,
                         tiling.overlap, pair.before.scale_for_resolution(tiling.resolution, pair.area))
        red_nir = red_and_nir(list(pair.before.file.colorinterp), list(pair.before.file.descriptions), pair.bands)
        feedback.info(_plan_sentence(method, grid, bool(mask_path)))
        with scratch_folder("geovl-change-") as work:
            _check_disk_space(_disk_needs(grid, work, magnitude_path, mask_path, report_path))
            with contextlib.ExitStack() as outputs:  # every output appears at the end, or none
                magnitude_file = (outputs.enter_context(atomic_path(magnitude_path)) if magnitude_path
                                  else os.path.join(work, "magnitude.tif"))
                mask_file = outputs.enter_context(atomic_path(mask_path)) if mask_path else None
                directions_file, labels_file = os.path.join(work, "directions.tif"), os.path.join(work, "labels.tif")
                counts, edges = _measure_tiles(pair, grid, measure, stats, red_nir, magnitude_file, directions_file,
                                               ProgressRange(feedback, 0, 70))
                if not counts.sum():
                    raise InputError("BEFORE and AFTER have no valid pixel in common over the extent: there is "
                                     "nothing to compare. Check the extent and the rasters' nodata values.")
                given = bool(threshold)
                threshold = threshold or measure.auto_threshold(counts, edges)
                notes = [_threshold_note(measure.description, threshold, given)]
                feedback.info(notes[0])
                read_back = _threshold_pass(grid, pair.before.crs_wkt, magnitude_file, threshold, mask_file,
                                            labels_file, feedback)
                if read_back != counts.sum():  # GDAL may close a file it could not flush without raising
                    raise _incomplete("magnitude", magnitude_file)
                regions = _regions(pair, grid, labels_file, magnitude_file, directions_file, min_area_m2)
                compared_m2 = _compared_m2(pair, grid, int(counts.sum()))
                facts = _overall_facts(regions, compared_m2)
                feedback.progress(85)
                model_caption = None
                if caption_model is not None and caption_model.name:
                    model_caption = _caption(pair, grid, regions, caption_model, max_captions, max_new_tokens,
                                             ProgressRange(feedback, 85, 98))
                caption = facts + (f"\n{caption_model.name}: {model_caption.caption}" if model_caption else "")
                result = ChangeResult(regions, caption, facts, threshold, method, pair.before.crs_wkt, compared_m2,
                                      model_caption, notes)
                if report_path:
                    write_change_report(outputs.enter_context(atomic_path(report_path)), result,
                                        _pictures(pair, grid, regions[:REPORT_PICTURES]), before_path, after_path)
                check_cancelled(feedback)
    feedback.progress(100)
    feedback.info(caption)
    return result


def _plan_sentence(method: str, grid: TileGrid, with_mask: bool) -> str:
    """What the run will do, before it starts: pixels, tiles, disk and time."""
    pixels = grid.out_shape[0] * grid.out_shape[1]
    written = [f"{format_bytes(MAGNITUDE_BYTES_PER_PX * pixels)} of magnitude"]
    if with_mask:
        written.append(f"{format_bytes(MASK_BYTES_PER_PX * pixels)} of mask")
    written.append(f"{format_bytes((DIRECTIONS_BYTES_PER_PX + LABELS_BYTES_PER_PX) * pixels)} of scratch")
    rate = MEGAPIXELS_PER_SECOND.get(method)
    duration = f", about {format_duration(pixels / 1e6 / rate)} on a 2-core machine" if rate else ""
    return (f"Comparing {pixels / 1e6:,.0f} Mpx in {len(grid):,} tile(s); writes at most "
            f"{', '.join(written)}{duration}.")


def _disk_needs(grid: TileGrid, work: str, magnitude_path: str | None, mask_path: str | None,
                report_path: str | None) -> list[tuple[str, str, float]]:
    """(what, folder, most bytes) of everything the run writes; the magnitude goes to the
    scratch folder when it is not an output."""
    pixels = grid.out_shape[0] * grid.out_shape[1]
    needs = [("the magnitude raster", _folder_of(magnitude_path) if magnitude_path else work,
              MAGNITUDE_BYTES_PER_PX * pixels),
             ("the scratch rasters", work, (DIRECTIONS_BYTES_PER_PX + LABELS_BYTES_PER_PX) * pixels)]
    if mask_path:
        needs.append(("the change mask", _folder_of(mask_path), MASK_BYTES_PER_PX * pixels))
    if report_path:
        needs.append(("the report", _folder_of(report_path), REPORT_BYTES))
    return needs


def _folder_of(path: str) -> str:
    """The folder `path` will be written in, or its nearest existing parent (made later)."""
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return folder


def _check_disk_space(needs: list[tuple[str, str, float]]) -> None:
    """Refuse before writing anything when what goes on one disk exceeds its free space."""
    by_disk: dict[int, list[tuple[str, str, float]]] = {}
    for need in needs:
        by_disk.setdefault(os.stat(need[1]).st_dev, []).append(need)
    for same_disk in by_disk.values():
        total = sum(size for _, _, size in same_disk)
        free = shutil.disk_usage(same_disk[0][1]).free
        if total > free:
            what = " and ".join(f"{name} ({format_bytes(size)}, in '{folder}')" for name, folder, size in same_disk)
            raise InputError(
                f"Not enough disk space: {what} need up to {format_bytes(total)}, and only {format_bytes(free)} is "
                f"free on that disk. Choose a smaller EXTENT or a coarser RESOLUTION, or write to a folder on a disk "
                f"with more space (scratch goes to the temp folder: set TMPDIR).")


def _threshold_note(description: str, threshold: float, given: bool) -> str:
    if math.isinf(threshold):
        return f"Every {description} is the same: nothing changed."
    return f"Threshold on the {description}: {threshold:.4g} ({'given' if given else 'automatic'})."


def _check_request(method, model, threshold, min_area_m2, max_captions) -> None:
    if method not in METHODS:
        raise InputError(f"Unknown change detection method '{method}'; use one of {', '.join(METHODS)}.")
    if method == "features" and (model is None or not model.name):
        raise InputError("The deep-feature method needs a backbone model (MODEL), e.g. clip-rsicd or sam-vit-b; "
                         "or use the model-free methods (cva, irmad).")
    if threshold is not None and threshold < 0:
        raise InputError("The threshold must be a positive change magnitude, or empty for an automatic threshold.")
    if min_area_m2 < 0:
        raise InputError("The minimum area must be zero or a positive number of square metres.")
    if max_captions < 0:
        raise InputError("The number of regions to caption must be zero or more.")


# --- magnitude of change, per method ---------------------------------------------------

class _Cva:
    """Change vector analysis; the magnitude is already computed with the direction."""
    description = "CVA magnitude (standard deviations)"
    tile_size = PIXEL_TILE_SIZE

    def __init__(self, sample_magnitude: np.ndarray):
        self.histogram_top = _histogram_top(sample_magnitude)

    def magnitude(self, pair: RasterPair, tile: Tile, size: int, before, after, cva: np.ndarray) -> np.ndarray:
        return cva

    def auto_threshold(self, counts: np.ndarray, edges: np.ndarray) -> float:
        return otsu_threshold(counts, edges)


class _IrMad:
    """Iteratively reweighted MAD, fitted on the sample; unchanged pixels follow a
    chi-square distribution with one degree of freedom per band."""
    description = "IR-MAD chi-square"
    tile_size = PIXEL_TILE_SIZE

    def __init__(self, before_sample: np.ndarray, after_sample: np.ndarray, valid: np.ndarray):
        self.irmad = fit_irmad(before_sample[:, valid], after_sample[:, valid])
        self.bands = len(before_sample)
        self.histogram_top = _histogram_top(irmad_chi2(self.irmad, before_sample, after_sample)[valid])

    def magnitude(self, pair, tile, size, before: np.ndarray, after: np.ndarray, cva) -> np.ndarray:
        return irmad_chi2(self.irmad, before, after)

    def auto_threshold(self, counts: np.ndarray, edges: np.ndarray) -> float:
        return chi2_quantile(NO_CHANGE_PROBABILITY, self.bands)


class _Features:
    """Cosine distance between the backbone's patch features of the two tiles, spread
    bilinearly from patch centres to pixels."""
    description = "deep-feature cosine distance"
    histogram_top = 2.0

    def __init__(self, extractor: PatchFeatureExtractor):
        self.extractor = extractor
        self.tile_size = extractor.input_size

    def magnitude(self, pair: RasterPair, tile: Tile, size: int, before, after, cva) -> np.ndarray:
        images = [pair.before.read(tile.window, (size, size))[0], pair.after.read(tile.window, (size, size))[0]]
        features = self.extractor.patch_features(images)
        norms = np.linalg.norm(features, axis=-1)
        cosine = (features[0] * features[1]).sum(-1) / np.maximum(norms[0] * norms[1], 1e-12)
        return upsample_bilinear((1.0 - cosine).astype(np.float32), (size, size))

    def auto_threshold(self, counts: np.ndarray, edges: np.ndarray) -> float:
        return otsu_threshold(counts, edges)


def _measure_for(method: str, model: ModelOptions | None, pair: RasterPair, stats: tuple[BandStats, BandStats],
                 sample: tuple[np.ndarray, np.ndarray, np.ndarray], feedback: Feedback):
    before, after, valid = sample
    if method == "cva":
        return _Cva(zscore_change(before, after, *stats)[0][valid])
    if method == "irmad":
        return _IrMad(before, after, valid)
    from ..models.device import dtype_name
    from ..models.resolver import load_feature_extractor

    extractor = load_feature_extractor(model.name, model.device, model.precision, log=feedback.info)
    feedback.info(f"Backbone {model.name} on {extractor.device} ({dtype_name(extractor.dtype)}).")
    return _Features(extractor)


def _histogram_top(sample_magnitudes: np.ndarray) -> float:
    """Upper edge of the magnitude histogram: past the largest magnitude of the sample
    (larger values of the full raster go to the top bin, still above any threshold)."""
    finite = sample_magnitudes[np.isfinite(sample_magnitudes)]
    top = float(finite.max()) if finite.size else 0.0
    return 1.5 * top if top > 0 else 1.0


def upsample_bilinear(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A (rows, cols) grid of values at cell centres, resampled bilinearly to `shape`
    pixels covering the same square (edges held constant, like align_corners=False)."""
    def axis(count: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        position = np.clip((np.arange(size) + 0.5) * count / size - 0.5, 0, count - 1)
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, count - 1)
        return low, high, (position - low).astype(np.float32)

    r0, r1, fr = axis(values.shape[0], shape[0])
    c0, c1, fc = axis(values.shape[1], shape[1])
    rows = values[r0] * (1 - fr)[:, None] + values[r1] * fr[:, None]
    return rows[:, c0] * (1 - fc) + rows[:, c1] * fc


# --- the two passes ----------------------------------------------------------------------

def _measure_tiles(pair: RasterPair, grid: TileGrid, measure, stats: tuple[BandStats, BandStats],
                   red_nir: tuple[int, int] | None, magnitude_file: str, directions_file: str,
                   feedback: Feedback) -> tuple[np.ndarray, np.ndarray]:
    """Pass 1: the magnitude and direction rasters, tile by tile, and the histogram of
    every valid magnitude (counts, edges). Tiles are read and measured in threads ahead of
    the writing (rasterio and numpy release the GIL): the pixel methods in two, each on
    its own opening of the rasters (rasterio datasets are not thread-safe), taking every
    other tile; a model in one, on `pair`."""
    height, width = grid.out_shape
    transform, crs = grid.out_transform(), pair.before.crs_wkt
    counts = np.zeros(HISTOGRAM_BINS, np.int64)
    tiles = list(grid.tiles())
    workers = 1 if isinstance(measure, _Features) else PIXEL_WORKERS
    streams = [prefetch(_measured(pair.reopen if workers > 1 else lambda: contextlib.nullcontext(pair),
                                  tiles[first::workers], grid, measure, stats, red_nir))
               for first in range(workers)]
    with MaskRasterWriter(magnitude_file, width, height, transform, crs, dtype="float32", nodata=math.nan,
                          description=f"GeoVL change magnitude: {measure.description}", **CODEC) \
            as magnitudes, MaskRasterWriter(directions_file, width, height, transform, crs, **CODEC) \
            as directions:
        try:
            for done, (tile, magnitude, codes, tile_counts) in enumerate(_interleave(streams), 1):
                check_cancelled(feedback)
                if magnitude is not None:
                    (r0, r1, c0, c1), (row_off, col_off) = grid.core(tile)
                    magnitudes.write(magnitude[r0:r1, c0:c1], row_off, col_off)
                    directions.write(codes[r0:r1, c0:c1], row_off, col_off)
                    counts += tile_counts
                feedback.progress(100.0 * done / len(grid))
        finally:
            for stream in streams:
                stream.close()
    return counts, np.linspace(0.0, measure.histogram_top, HISTOGRAM_BINS + 1)


def _interleave(streams: list):
    """Items of the streams in turn (tile i comes from stream i % len(streams))."""
    for items in itertools.zip_longest(*streams):
        yield from (item for item in items if item is not None)


def _measured(open_pair, tiles: list[Tile], grid: TileGrid, measure, stats: tuple[BandStats, BandStats],
              red_nir: tuple[int, int] | None):
    """(tile, magnitude, direction codes, histogram of the tile's core) of each of `tiles`,
    NaN and 0 where a raster is nodata; (tile, None, None, None) for a tile with no valid
    pixel. `open_pair()` gives the pair to read, opened and closed in the thread that runs this."""
    size = grid.tile_size
    with open_pair() as pair:
        for tile in tiles:
            before, after, valid = pair.read(tile.window, (size, size))
            if not valid.any():
                yield tile, None, None, None
                continue
            cva, mean_change = zscore_change(before, after, *stats)
            magnitude = measure.magnitude(pair, tile, size, before, after, cva)
            codes = direction_codes(mean_change, before, after, red_nir)
            everywhere = valid.all()
            if not everywhere:
                magnitude[~valid] = np.nan
                codes[~valid] = 0
            (r0, r1, c0, c1), _ = grid.core(tile)
            core = magnitude[r0:r1, c0:c1]
            yield tile, magnitude, codes, _histogram(core if everywhere else core[valid[r0:r1, c0:c1]],
                                                     HISTOGRAM_BINS / measure.histogram_top)


def _histogram(magnitudes: np.ndarray, per_bin: float) -> np.ndarray:
    """Counts of HISTOGRAM_BINS bins of 1 / per_bin from 0; larger values in the top bin."""
    bins = np.multiply(magnitudes, np.float32(per_bin), dtype=np.float32)
    np.minimum(bins, HISTOGRAM_BINS - 1, out=bins)
    return np.bincount(bins.astype(np.intp).ravel(), minlength=HISTOGRAM_BINS)


def _threshold_pass(grid: TileGrid, crs_wkt: str, magnitude_file: str, threshold: float, mask_file: str | None,
                    labels_file: str, feedback: Feedback) -> int:
    """Pass 2: the change mask (1 change, 0 none, 255 nodata) and the label raster that
    is vectorised (1 changed, 0 elsewhere; windows with no change are not written), both
    without speckle: a 3 x 3 opening removes what is thinner than 3 pixels. Windows are
    read and thresholded in a thread ahead of the writing; both are read back (see
    check_written). Returns the number of valid magnitudes read back."""
    height, width = grid.out_shape
    transform = grid.out_transform()
    changed_pixels = valid_pixels = 0
    with MaskRasterWriter(labels_file, width, height, transform, crs_wkt, **CODEC) as labels, \
            (MaskRasterWriter(mask_file, width, height, transform, crs_wkt, nodata=MASK_NODATA,
                              colormap=MASK_COLOURS, description="GeoVL change mask: 1 change, 0 no change",
                              **CODEC)
             if mask_file else contextlib.nullcontext()) as mask:
        for window, changed, valid in prefetch(_thresholded(magnitude_file, width, height, threshold)):
            check_cancelled(feedback)
            valid_pixels += int(np.count_nonzero(valid))
            changed_pixels += int(np.count_nonzero(changed))
            if changed.any():
                labels.write(changed.view(np.uint8), window.row_off, window.col_off)
            if mask is not None:
                # uint8 throughout: with a Python int for nodata, np.where makes int64 (8 bytes a pixel)
                mask.write(np.where(valid, changed.view(np.uint8), np.uint8(MASK_NODATA)), window.row_off,
                           window.col_off)
    try:  # a scratch file: no atomic_path of an output turns its failure into a sentence
        check_written(labels_file, {1: changed_pixels, 0: width * height - changed_pixels})
    except OSError as exc:
        raise _incomplete("change labels", labels_file) from exc
    if mask_file:
        check_written(mask_file, {1: changed_pixels, 0: valid_pixels - changed_pixels,
                                  MASK_NODATA: width * height - valid_pixels})
    return valid_pixels


def _incomplete(what: str, path: str) -> InputError:
    return InputError(f"The {what} raster was not written completely in the folder "
                      f"'{os.path.dirname(os.path.abspath(path))}' (a disk that filled up?). Free some space on "
                      f"that disk, or choose a folder on another one.")


def _thresholded(magnitude_file: str, width: int, height: int, threshold: float):
    """(window, changed, valid) of each window of the magnitude raster, speckle removed."""
    with rasterio.open(magnitude_file) as magnitudes:
        for window in raster_windows(width, height, WINDOW_PX):
            # read with the opening's margin, so windows join seamlessly
            r0, c0 = max(0, window.row_off - SPECKLE_MARGIN), max(0, window.col_off - SPECKLE_MARGIN)
            r1 = min(height, window.row_off + window.height + SPECKLE_MARGIN)
            c1 = min(width, window.col_off + window.width + SPECKLE_MARGIN)
            magnitude = magnitudes.read(1, window=Window(c0, r0, c1 - c0, r1 - r0))
            inner = np.s_[window.row_off - r0:window.row_off - r0 + window.height,
                          window.col_off - c0:window.col_off - c0 + window.width]
            valid = ~np.isnan(magnitude[inner])
            yield window, open_speckle(magnitude > threshold)[inner] & valid, valid   # NaN compares False


# --- regions and captions -------------------------------------------------------------------

def _regions(pair: RasterPair, grid: TileGrid, labels_file: str, magnitude_file: str, directions_file: str,
             min_area_m2: float) -> list[ChangeRegion]:
    """The connected change regions, largest first, with area, mean magnitude, location,
    directions and facts."""
    crs = pair.before.dataset.crs
    geographic = crs.is_geographic
    unit = 1.0 if geographic else crs.linear_units_factor[1]
    kept = []
    for region in raster_regions(labels_file, {1: 1}):
        area = polygon_area_m2(region.polygon, geographic, unit)
        if area >= min_area_m2:
            kept.append((area, region.polygon))
    kept.sort(key=lambda item: -item[0])
    magnitudes, code_counts = _zonal([polygon for _, polygon in kept], magnitude_file, directions_file)
    height, width = grid.out_shape
    regions = []
    for number, ((area, polygon), magnitude, codes) in enumerate(zip(kept, magnitudes, code_counts), 1):
        centre = polygon.centroid
        col, row = map_to_pixels(grid.out_transform(), [(centre.x, centre.y)])[0]
        location = location_word(col / width, row / height)
        directions = Directions.from_areas({code: float(n) for code, n in enumerate(codes) if n})
        regions.append(ChangeRegion(number, polygon, area, float(magnitude), location, directions,
                                    region_facts(area, location, directions)))
    return regions


def _zonal(polygons: list[Polygon], magnitude_file: str, directions_file: str) -> tuple[np.ndarray, np.ndarray]:
    """Per polygon: the mean magnitude, and the pixel count of each direction code (0..9)."""
    means = np.full(len(polygons), np.nan)
    codes = np.zeros((len(polygons), 10), np.int64)
    with rasterio.open(magnitude_file) as magnitudes, rasterio.open(directions_file) as directions:
        for number, polygon in enumerate(polygons):
            total, count = 0.0, 0
            for window, inside in polygon_pixels(magnitudes, polygon):
                magnitude = magnitudes.read(1, window=window)[inside]
                finite = np.isfinite(magnitude)
                total, count = total + float(magnitude[finite].sum()), count + int(finite.sum())
                codes[number] += np.bincount(directions.read(1, window=window)[inside][finite], minlength=10)
            if count:
                means[number] = total / count
    return means, codes


def _compared_m2(pair: RasterPair, grid: TileGrid, valid_pixels: int) -> float:
    """Ground area of the valid pixels compared."""
    crs = pair.before.dataset.crs
    if crs.is_geographic:
        metres = pair.before.metres_per_pixel() * grid.scale
        return valid_pixels * metres * metres
    return valid_pixels * abs(grid.out_transform().determinant) * pair.before.metres_per_unit() ** 2


def _overall_facts(regions: list[ChangeRegion], compared_m2: float) -> str:
    areas: dict[int, float] = {}
    for region in regions:  # area-weighted shares over all regions
        for name, share in vars(region.directions).items():
            areas[name] = areas.get(name, 0.0) + share * region.area_m2
    total = sum(r.area_m2 for r in regions)
    directions = Directions(**{name: area / total for name, area in areas.items()}) if total else Directions()
    return overall_facts([r.area_m2 for r in regions], regions[0].location if regions else "", directions,
                         compared_m2)


def _crop_window(pair: RasterPair, grid: TileGrid, polygon: Polygon | None) -> Window:
    """A square window of BEFORE's pixels around `polygon` (None: the whole overlap), with
    context: half the polygon's size on each side and at least CAPTION_CONTEXT_PX output pixels."""
    if polygon is None:
        box = pair.area
    else:
        box = bounds_to_window(pair.before.dataset.transform, polygon.bounds)
    side = max(box.width, box.height)
    if polygon is not None:
        side = max(2 * side, CAPTION_CONTEXT_PX * grid.scale)
    col = box.col_off + box.width / 2 - side / 2
    row = box.row_off + box.height / 2 - side / 2
    return Window(round(col), round(row), round(side), round(side))


def _pictures(pair: RasterPair, grid: TileGrid, regions: list[ChangeRegion]) -> list[tuple[ChangeRegion, bytes, bytes]]:
    """Before and after JPEGs of each region's crop, the region outlined on both."""
    pictures = []
    for region in regions:
        window = _crop_window(pair, grid, region.polygon)
        size = (THUMBNAIL_PX, THUMBNAIL_PX)
        # the outline in the crop's thumbnail pixels
        pixels = map_to_pixels(pair.before.dataset.transform, np.asarray(region.polygon.exterior.coords)[:, :2])
        outline = (pixels - (window.col_off, window.row_off)) * (THUMBNAIL_PX / window.width)
        pictures.append((region, outlined_jpeg(pair.before.read(window, size)[0], [outline]),
                         outlined_jpeg(pair.after.read(window, size)[0], [outline])))
    return pictures


def _caption(pair: RasterPair, grid: TileGrid, regions: list[ChangeRegion], caption_model: ModelOptions,
             max_captions: int, max_new_tokens: int, feedback: Feedback) -> ChangeCaption:
    """The model's caption of the largest regions (into the regions) and of the whole pair."""
    from ..models.change_captioner import load_change_captioner
    from ..models.device import dtype_name

    captioner: ChangeCaptioner = load_change_captioner(caption_model.name, caption_model.device,
                                                       caption_model.precision, log=feedback.info)
    feedback.info(f"Caption model {caption_model.name} on {captioner.device} ({dtype_name(captioner.dtype)}).")
    size = (captioner.input_size, captioner.input_size)
    targets = regions[:max_captions]
    for done, region in enumerate(targets, 1):
        check_cancelled(feedback)
        window = _crop_window(pair, grid, region.polygon)
        said = captioner.caption_change(pair.before.read(window, size)[0], pair.after.read(window, size)[0],
                                        max_new_tokens)
        region.caption, region.before_label, region.after_label = said.caption, said.before, said.after
        feedback.progress(100.0 * done / (len(targets) + 1))
    check_cancelled(feedback)
    window = _crop_window(pair, grid, None)
    return captioner.caption_change(pair.before.read(window, size)[0], pair.after.read(window, size)[0],
                                    max_new_tokens)
