"""retrieve() end to end on small GeoTIFFs with tiny real models: rankings against brute-force
numpy cosines, the index against tiles read and embedded by hand, caching, heatmaps, errors."""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.windows import Window
from shapely.geometry import box

from geovl.errors import Cancelled, InputError
from geovl.geo.raster import RasterSource
from geovl.geo.tile_index import load_embeddings, read_cells, read_meta
from geovl.models.base import ImageTextEmbedder
from geovl.models.resolver import load_embedder
from geovl.pipelines.feedback import QuietFeedback
from geovl.pipelines.options import ModelOptions, TilingOptions
from geovl.pipelines.retrieve import retrieve

from ..conftest import write_raster

X0, Y0 = 500_000.0, 4_650_000.0   # origin of write_raster's default transform (1 m pixels)
TILING = TilingOptions(tile_size=64)
ROWS, COLS = 4, 5                   # a 200 x 300 raster in 64 px tiles: 1 + ceil(136/64), 1 + ceil(236/64)


@pytest.fixture
def clip_options(tiny_clip_dir):
    return ModelOptions(tiny_clip_dir, "cpu", "fp32")


@pytest.fixture
def clip(tiny_clip_dir):
    return load_embedder(tiny_clip_dir, "cpu", "fp32")


def tile_box(row: int, col: int, size: int = 64):
    return box(X0 + size * col, Y0 - size * (row + 1), X0 + size * (col + 1), Y0 - size * row)


def cosine(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    matrix, vector = matrix.astype(np.float64), vector.astype(np.float64)
    return matrix @ vector / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(vector))


def spy_embed_pixels(monkeypatch, embedder) -> list[int]:
    """Record the batch sizes given to the real embed_pixels of this loaded embedder."""
    calls, real = [], embedder.embed_pixels

    def counting(pixels):
        calls.append(len(pixels))
        return real(pixels)

    monkeypatch.setattr(embedder, "embed_pixels", counting)
    return calls


def index_files(cache_dir) -> list[str]:
    folder = cache_dir / "retrieval"
    return sorted(os.listdir(folder)) if folder.exists() else []


# ---------------------------------------------------------------- ranking

def test_ranking_equals_brute_force_cosine(rgb_raster, clip_options, clip, cache_dir):
    """Ranks and scores equal a numpy cosine of the query text against every stored tile."""
    result = retrieve(rgb_raster, clip_options, "a road", tiling=TILING, top_k=100)
    assert result.tile_count == result.tiles_embedded == ROWS * COLS == len(result.hits)
    fids, matrix = load_embeddings(result.index_path)
    rows, cols = read_cells(result.index_path)
    scores = cosine(matrix, clip.embed_texts(["a road"])[0])
    order = np.argsort(-scores, kind="stable")
    assert [(h.row, h.col) for h in result.hits] == [(rows[i], cols[i]) for i in order]
    np.testing.assert_allclose([h.score for h in result.hits], scores[order], atol=1e-5)
    assert [h.rank for h in result.hits] == list(range(1, ROWS * COLS + 1))


def test_top_k_is_the_head_of_the_full_ranking(rgb_raster, clip_options, cache_dir):
    """top_k=3 returns the first three hits of the full ranking."""
    full = retrieve(rgb_raster, clip_options, "a road", tiling=TILING, top_k=100)
    top = retrieve(rgb_raster, clip_options, "a road", tiling=TILING, top_k=3)
    assert [(h.row, h.col, h.score) for h in top.hits] == [(h.row, h.col, h.score) for h in full.hits[:3]]


def test_defaults_return_ten_hits_and_top_k_below_one_is_refused(rgb_raster, clip_options, cache_dir):
    """TOP_K defaults to 10; 0 is an InputError; all tiles but one is the head of the ranking."""
    assert len(retrieve(rgb_raster, clip_options, "a road", tiling=TILING).hits) == 10
    with pytest.raises(InputError, match="at least 1"):
        retrieve(rgb_raster, clip_options, "a road", tiling=TILING, top_k=0)
    full = retrieve(rgb_raster, clip_options, "a road", tiling=TILING, top_k=100)
    almost = retrieve(rgb_raster, clip_options, "a road", tiling=TILING, top_k=ROWS * COLS - 1)
    assert [(h.row, h.col) for h in almost.hits] == [(h.row, h.col) for h in full.hits[:-1]]


def test_index_stores_each_tile_at_its_place(rgb_raster, clip_options, clip, cache_dir):
    """Every stored embedding equals embed_images of the tile read at its grid window; footprints are the hand boxes."""
    result = retrieve(rgb_raster, clip_options, "a road", tiling=TILING, top_k=100)
    _, matrix = load_embeddings(result.index_path)
    rows, cols = read_cells(result.index_path)
    with RasterSource(rgb_raster) as source:
        tiles = [source.read(Window(64 * c, 64 * r, 64, 64), (64, 64))[0] for r, c in zip(rows, cols)]
    np.testing.assert_allclose(matrix, clip.embed_images(tiles), atol=3e-3)  # stored as float16
    for hit in result.hits:
        assert hit.footprint.equals(tile_box(hit.row, hit.col))


def test_stored_tile_matches_hand_stretched_read(rgb_raster, clip_options, clip, cache_dir):
    """Tile (1, 2) read with rasterio and a 2-98 % stretch computed here embeds like the stored one."""
    result = retrieve(rgb_raster, clip_options, "a road", tiling=TILING, top_k=100)
    fids, matrix = load_embeddings(result.index_path)
    rows, cols = read_cells(result.index_path)
    with rasterio.open(rgb_raster) as ds:
        everything = ds.read().astype(np.float64)
        tile = ds.read(window=Window(128, 64, 64, 64)).astype(np.float64)
    low, high = (np.percentile(everything.reshape(3, -1), p, axis=1)[:, None, None] for p in (2, 98))
    image = np.clip(np.floor((tile - low) * 255 / (high - low) + 0.5), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    stored = matrix[np.flatnonzero((rows == 1) & (cols == 2))[0]]
    assert float(stored @ clip.embed_images([image])[0]) > 0.999


def test_negative_text_subtracts_its_cosine(rgb_raster, clip_options, clip, cache_dir):
    """With a negative text, each score is cos(tile, query) - cos(tile, negative)."""
    result = retrieve(rgb_raster, clip_options, "a road", negative="a forest", tiling=TILING, top_k=100)
    _, matrix = load_embeddings(result.index_path)
    rows, cols = read_cells(result.index_path)
    expected = cosine(matrix, clip.embed_texts(["a road"])[0]) - cosine(matrix, clip.embed_texts(["a forest"])[0])
    by_cell = {(r, c): s for r, c, s in zip(rows, cols, expected)}
    for hit in result.hits:
        assert hit.score == pytest.approx(by_cell[(hit.row, hit.col)], abs=1e-5)
    np.testing.assert_allclose([h.score for h in result.hits], sorted(by_cell.values(), reverse=True), atol=1e-5)


def test_text_and_example_are_one_unit_query_minus_the_negative(rgb_raster, clip_options, clip, cache_dir):
    """A text and an example: the query is the unit mean of the two (their mean is shorter than
    1), minus the negative text's direction: score = cos(tile, q) - cos(tile, negative)."""
    bounds = tile_box(1, 2).bounds
    result = retrieve(rgb_raster, clip_options, "a road", negative="a forest", examples=[bounds], tiling=TILING,
                      top_k=100)
    _, matrix = load_embeddings(result.index_path)
    rows, cols = read_cells(result.index_path)
    with RasterSource(rgb_raster) as source:
        example = clip.embed_images([source.read_bounds(bounds, clip.input_size)])[0]
    mean = (clip.embed_query("a road") + example) / 2
    assert np.linalg.norm(mean) < 0.99
    expected = matrix @ (mean / np.linalg.norm(mean)) - cosine(matrix, clip.embed_query("a forest"))
    by_cell = {(r, c): s for r, c, s in zip(rows, cols, expected)}
    for hit in result.hits:
        assert hit.score == pytest.approx(by_cell[(hit.row, hit.col)], abs=1e-4)


def test_query_by_example_ranks_that_tile_first(rgb_raster, clip_options, cache_dir):
    """The map bounds of tile (1, 2) as the only example rank that tile first with score ~1."""
    b = tile_box(1, 2).bounds
    result = retrieve(rgb_raster, clip_options, examples=[b], tiling=TILING, top_k=5)
    first = result.hits[0]
    assert (first.row, first.col) == (1, 2)
    assert first.score == pytest.approx(1.0, abs=2e-3)
    assert result.hits[1].score < first.score


def test_no_query_and_no_example_is_an_input_error(rgb_raster, clip_options, cache_dir):
    """An empty query with no examples raises InputError before any work."""
    with pytest.raises(InputError, match="text query"):
        retrieve(rgb_raster, clip_options, "  ", tiling=TILING)
    assert index_files(cache_dir) == []


# ---------------------------------------------------------------- cache

def test_second_query_reuses_the_index(rgb_raster, clip_options, clip, cache_dir, monkeypatch):
    """A second query on the same raster/model/tiling embeds no tile and never calls the image tower."""
    first = retrieve(rgb_raster, clip_options, "a road", tiling=TILING)
    calls = spy_embed_pixels(monkeypatch, clip)
    second = retrieve(rgb_raster, clip_options, "a river", tiling=TILING)
    assert first.tiles_embedded == ROWS * COLS
    assert second.tiles_embedded == 0 and calls == []
    assert second.index_path == first.index_path and second.tile_count == ROWS * COLS


def test_other_tile_size_builds_a_new_index(rgb_raster, clip_options, clip, cache_dir, monkeypatch):
    """Tiles of 96 px get their own index, embedded through the image tower."""
    first = retrieve(rgb_raster, clip_options, "a road", tiling=TILING)
    calls = spy_embed_pixels(monkeypatch, clip)
    other = retrieve(rgb_raster, clip_options, "a road", tiling=TilingOptions(tile_size=96))
    assert other.index_path != first.index_path
    assert other.tiles_embedded == other.tile_count == 3 * 4 == sum(calls)  # 1 + ceil(104/96), 1 + ceil(204/96)
    assert len(index_files(cache_dir)) == 2


def test_touched_raster_rebuilds(rgb_raster, clip_options, clip, cache_dir, monkeypatch):
    """A new modification time on the raster makes the next query re-embed every tile."""
    first = retrieve(rgb_raster, clip_options, "a road", tiling=TILING)
    stat = os.stat(rgb_raster)
    os.utime(rgb_raster, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    calls = spy_embed_pixels(monkeypatch, clip)
    again = retrieve(rgb_raster, clip_options, "a road", tiling=TILING)
    assert again.tiles_embedded == ROWS * COLS == sum(calls)
    assert again.index_path != first.index_path
    assert read_meta(again.index_path)["raster"] != read_meta(first.index_path)["raster"]


def test_raster_rewritten_in_place_rebuilds(rgb_raster, clip_options, clip, cache_dir):
    """New pixels written into the same file, same size: the next query re-embeds every
    tile, and the new index holds the new pixels' embeddings."""
    first = retrieve(rgb_raster, clip_options, "a road", tiling=TILING)
    before = os.stat(rgb_raster)
    with rasterio.open(rgb_raster) as ds:
        data = ds.read()
    write_raster(rgb_raster, data[:, ::-1, ::-1].copy())
    after = os.stat(rgb_raster)
    assert after.st_size == before.st_size and after.st_mtime_ns != before.st_mtime_ns
    again = retrieve(rgb_raster, clip_options, "a road", tiling=TILING)
    assert again.tiles_embedded == ROWS * COLS and again.index_path != first.index_path
    _, matrix = load_embeddings(again.index_path)
    rows, cols = read_cells(again.index_path)
    with RasterSource(rgb_raster) as source:
        tiles = [source.read(Window(64 * c, 64 * r, 64, 64), (64, 64))[0] for r, c in zip(rows, cols)]
    np.testing.assert_allclose(matrix, clip.embed_images(tiles), atol=3e-3)


def test_other_bands_get_another_index(rgb_raster, clip_options, cache_dir):
    """BANDS 3,2,1 instead of the default 1,2,3: another index in the cache, embedded anew."""
    default = retrieve(rgb_raster, clip_options, "a road", tiling=TILING)
    swapped = retrieve(rgb_raster, clip_options, "a road", tiling=TilingOptions(tile_size=64, bands=(3, 2, 1)))
    assert swapped.index_path != default.index_path and swapped.tiles_embedded == ROWS * COLS
    assert read_meta(swapped.index_path)["bands"] == [3, 2, 1] and len(index_files(cache_dir)) == 2


# ---------------------------------------------------------------- heatmap

@pytest.mark.parametrize("overlap, rows, cols", [(0, 4, 5), (16, 4, 6)])
def test_heatmap_cells_hold_tile_scores(rgb_raster, clip_options, cache_dir, tmp_path, overlap, rows, cols):
    """The heatmap has one cell per grid tile, the raster's CRS, each cell the tile's score."""
    heat = str(tmp_path / "heat.tif")
    result = retrieve(rgb_raster, clip_options, "a road", tiling=TilingOptions(tile_size=64, overlap=overlap),
                      heatmap_path=heat, top_k=100)
    assert result.heatmap_path == heat and len(result.hits) == rows * cols
    with rasterio.open(heat) as ds, rasterio.open(rgb_raster) as src:
        assert (ds.height, ds.width, ds.count) == (rows, cols, 1)
        assert ds.crs == src.crs
        values = ds.read(1)
        step, half = 64 - overlap, overlap / 2  # cells are the central step-sized part of each tile
        assert ds.transform.almost_equals(Affine(step, 0, X0 + half, 0, -step, Y0 - half))
    for hit in result.hits:
        assert values[hit.row, hit.col] == pytest.approx(hit.score, abs=1e-6)


# ---------------------------------------------------------------- rasters and extents

def test_all_nodata_raster_is_an_input_error(tmp_path, clip_options, cache_dir):
    """A raster that is nodata everywhere raises InputError and leaves no index behind."""
    path = write_raster(tmp_path / "empty.tif", np.zeros((3, 100, 100), np.uint16), nodata=0)
    with pytest.raises(InputError, match="nodata"):
        retrieve(path, clip_options, "a road", tiling=TILING)
    assert index_files(cache_dir) == []


def test_extent_outside_the_raster_is_an_input_error(rgb_raster, clip_options, cache_dir):
    """An extent that misses the raster raises InputError naming the raster's bounds."""
    tiling = TilingOptions(tile_size=64, extent=(0.0, 0.0, 10.0, 10.0))
    with pytest.raises(InputError, match="does not overlap"):
        retrieve(rgb_raster, clip_options, "a road", tiling=tiling)
    assert index_files(cache_dir) == []


def test_extent_limits_the_tiles(rgb_raster, clip_options, cache_dir):
    """An extent of 100 x 70 m at (10, 20) px gives 2 x 2 tiles starting at its corner."""
    extent = (X0 + 10, Y0 - 90, X0 + 110, Y0 - 20)
    result = retrieve(rgb_raster, clip_options, "a road", tiling=TilingOptions(tile_size=64, extent=extent), top_k=100)
    assert result.tile_count == 4
    expected = {(r, c): box(X0 + 10 + 64 * c, Y0 - 20 - 64 * (r + 1), X0 + 10 + 64 * (c + 1), Y0 - 20 - 64 * r)
                for r in range(2) for c in range(2)}
    for hit in result.hits:
        assert hit.footprint.equals(expected[(hit.row, hit.col)])


def test_raster_smaller_than_a_tile_gives_one_padded_tile(tmp_path, clip_options, clip, cache_dir):
    """A 40 x 50 px raster gives one 64 px tile whose image is the raster padded with zeros."""
    rng = np.random.default_rng(3)
    path = write_raster(tmp_path / "small.tif", rng.integers(20, 200, (3, 40, 50)).astype(np.uint8))
    result = retrieve(path, clip_options, "a road", tiling=TILING)
    assert result.tile_count == 1 and len(result.hits) == 1
    assert result.hits[0].footprint.equals(tile_box(0, 0))
    with rasterio.open(path) as ds:
        padded = np.zeros((64, 64, 3), np.uint8)
        padded[:40, :50] = ds.read().transpose(1, 2, 0)  # uint8: given to the model as it is
    _, matrix = load_embeddings(result.index_path)
    assert float(matrix[0] @ clip.embed_images([padded])[0]) > 0.999


def test_nodata_tiles_are_skipped(rgb_raster, tmp_path, clip_options, cache_dir):
    """With the left 100 px nodata, only tiles reaching past column 100 are indexed, and the heatmap marks the rest nodata."""
    with rasterio.open(rgb_raster) as ds:
        data = ds.read()
    data[:, :, :100] = 0
    path = write_raster(tmp_path / "half.tif", data, nodata=0)
    heat = str(tmp_path / "heat.tif")
    result = retrieve(path, clip_options, "a road", tiling=TILING, top_k=100, heatmap_path=heat)
    expected = {(r, c) for r in range(ROWS) for c in range(COLS) if 64 * (c + 1) > 100}
    assert result.tile_count == result.tiles_embedded == len(expected) == 16
    assert {(h.row, h.col) for h in result.hits} == expected
    with rasterio.open(heat) as ds:
        values = ds.read(1)
        assert (values[:, 0] == ds.nodata).all() and (values[:, 1:] != ds.nodata).all()


# ---------------------------------------------------------------- cancellation

class CancelAfter(QuietFeedback):
    """Feedback that reports cancelled from the n-th check on."""

    def __init__(self, n: int):
        self.n, self.checks, self.progressed = n, 0, []

    def progress(self, percent):
        self.progressed.append(percent)

    def cancelled(self):
        self.checks += 1
        return self.checks >= self.n


@pytest.fixture(params=["inline", "thread"])
def reading(request, monkeypatch):
    """Run the pipeline with tile reading in line and in a reader thread (the choice
    the embedder makes from its device and free cores)."""
    monkeypatch.setattr(ImageTextEmbedder, "overlaps_reading", property(lambda self: request.param == "thread"))
    return request.param


class ThreadsAtProgress(QuietFeedback):
    """Feedback that notes whether the reader thread is alive at each progress report."""

    def __init__(self):
        self.reader_alive = []

    def progress(self, percent):
        self.reader_alive.append(any(t.name == "geovl-prefetch" for t in threading.enumerate()))


def test_reader_thread_embeds_like_inline_reading(rgb_raster, clip_options, cache_dir, monkeypatch):
    """Tiles read in the reader thread get the same scores as tiles read in line."""
    scores = {}
    for threaded in (False, True):
        monkeypatch.setattr(ImageTextEmbedder, "overlaps_reading", property(lambda self, t=threaded: t))
        feedback = ThreadsAtProgress()
        result = retrieve(rgb_raster, clip_options, "a road", tiling=TILING, batch_size=3, top_k=ROWS * COLS,
                          index_path=str(cache_dir / f"threaded-{threaded}.gpkg"), feedback=feedback)
        assert any(feedback.reader_alive) is threaded
        scores[threaded] = {(h.row, h.col): h.score for h in result.hits}
    assert len(scores[True]) == ROWS * COLS and scores[True].keys() == scores[False].keys()
    for cell, score in scores[False].items():
        assert scores[True][cell] == pytest.approx(score, abs=1e-6)


def test_cancel_leaves_no_index_and_a_rerun_works(rgb_raster, clip_options, cache_dir, reading):
    """Cancelling after the first batch raises Cancelled, leaves no index or .partial file, stops the reader; a rerun works."""
    feedback = CancelAfter(1)
    with pytest.raises(Cancelled):
        retrieve(rgb_raster, clip_options, "a road", tiling=TILING, batch_size=4, feedback=feedback)
    assert feedback.progressed == [pytest.approx(100 * 4 / 20)]
    assert index_files(cache_dir) == []
    assert not any(t.name == "geovl-prefetch" for t in threading.enumerate())
    result = retrieve(rgb_raster, clip_options, "a road", tiling=TILING, batch_size=4)
    assert result.tiles_embedded == ROWS * COLS
    assert index_files(cache_dir) == [os.path.basename(result.index_path)]


# ---------------------------------------------------------------- other families

@pytest.mark.parametrize("family, dim", [("tiny_siglip_dir", 32), ("tiny_open_clip_ckpt", 16)])
def test_other_families_run_end_to_end(rgb_raster, cache_dir, request, family, dim):
    """SigLIP folders and open_clip checkpoints index and rank like CLIP (brute-force check)."""
    spec = request.getfixturevalue(family)
    result = retrieve(rgb_raster, ModelOptions(spec, "cpu", "fp32"), "a road", tiling=TILING, top_k=100)
    assert result.tile_count == result.tiles_embedded == ROWS * COLS
    _, matrix = load_embeddings(result.index_path)
    assert matrix.shape == (ROWS * COLS, dim)
    rows, cols = read_cells(result.index_path)
    scores = cosine(matrix, load_embedder(spec, "cpu", "fp32").embed_texts(["a road"])[0])
    order = np.argsort(-scores, kind="stable")
    assert [(h.row, h.col) for h in result.hits] == [(rows[i], cols[i]) for i in order]
    np.testing.assert_allclose([h.score for h in result.hits], scores[order], atol=1e-5)
