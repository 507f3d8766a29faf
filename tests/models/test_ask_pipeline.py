"""The ask pipeline with a tiny Florence-2: grounded boxes through each tile's transform
to hand-computed map coordinates, merging across overlaps, retrieval-guided top-k, the
combined answer, the report, SAM masks, cancellation and bad input."""
from __future__ import annotations

import base64
import html.parser
import io
import os

import numpy as np
import pytest
import rasterio
import torch
from PIL import Image
from rasterio.transform import from_origin
from shapely import unary_union
from shapely.geometry import box

from geovl.errors import Cancelled, InputError
from geovl.models.resolver import load_vlm
from geovl.pipelines.ask import ask
from geovl.pipelines.options import ModelOptions, TilingOptions
from geovl.pipelines.retrieve import retrieve

from .conftest import Recorder, scene

X0, Y0, PIXEL = 500_000.0, 4_650_000.0, 0.5
TILE = 64  # the tiny Florence-2's input


def to_map(col: float, row: float) -> tuple[float, float]:
    return X0 + col * PIXEL, Y0 - row * PIXEL


def write_rgb(path, image: np.ndarray) -> str:
    with rasterio.open(path, "w", driver="GTiff", width=image.shape[1], height=image.shape[0], count=3,
                       dtype="uint8", crs="EPSG:32631", transform=from_origin(X0, Y0, PIXEL, PIXEL)) as dst:
        dst.write(image.transpose(2, 0, 1))
    return str(path)


def cpu(name: str) -> ModelOptions:
    return ModelOptions(name, "cpu", "fp32")


@pytest.fixture(scope="module")
def image():
    return scene(2 * TILE, 3 * TILE, seed=5)


@pytest.fixture
def raster(tmp_path, image):
    return write_rgb(tmp_path / "scene.tif", image)


def expected_boxes(vlm, image, question, row, col) -> set[tuple]:
    """The model's boxes on tile (row, col), asked directly, put on the map by hand."""
    tile = image[row * TILE:(row + 1) * TILE, col * TILE:(col + 1) * TILE]
    found = set()
    for b in vlm.ask(tile, question, grounded=True, max_new_tokens=40).boxes:
        (x0, y1), (x1, y0) = to_map(col * TILE + b.x0, row * TILE + b.y0), to_map(col * TILE + b.x1, row * TILE + b.y1)
        found.add((b.label, f"{row},{col}", round(x0, 6), round(y0, 6), round(x1, 6), round(y1, 6)))
    return found


def test_boxes_land_at_the_tiles_map_coordinates(tiny_florence2_dir, raster, image, cache_dir):
    result = ask(raster, cpu(tiny_florence2_dir), "airplanes", mode="boxes", max_new_tokens=40)
    vlm = load_vlm(tiny_florence2_dir, "cpu", "fp32")
    expected = set().union(*(expected_boxes(vlm, image, "airplanes", r, c) for r in range(2) for c in range(3)))
    got = {(o.label, o.tile, *(round(v, 6) for v in o.polygon.bounds)) for o in result.objects}
    assert got, "the tiny model should ground something"
    assert got <= expected  # merging may drop same-label duplicates within a tile, never move a box
    for obj in result.objects:
        assert obj.polygon.area == pytest.approx(box(*obj.polygon.bounds).area)  # axis-aligned rectangles
    assert [t.label for t in result.tiles] == ["0,0", "0,1", "0,2", "1,0", "1,1", "1,2"]
    assert result.tile_count == 6 and result.mode == "boxes"
    assert result.tiles[4].footprint.bounds == (*to_map(TILE, 2 * TILE), *to_map(2 * TILE, TILE))


def test_an_object_seen_by_two_overlapping_tiles_is_one(memorised_qwen2_5_vl_dir, tmp_path, cache_dir):
    # The memorised Qwen2.5-VL answers two planes on every 56 px tile: A (10, 20, 30, 40) and
    # B (28, 0, 56, 12). Tiles 8 px apart (overlap 48) on a 64 px wide raster: B of tile 0
    # (x 28-56) and B of tile 1 (x 36-64) overlap with IoU 20/36 and are one plane (the
    # first seen wins a tie: both touch the top edge); A of tile 0 (x 10-30) and A of
    # tile 1 (x 18-38) overlap with IoU 0.43 and cover 0.6 of each other: two planes.
    raster = write_rgb(tmp_path / "s.tif", scene(56, 64, seed=6))
    result = ask(raster, cpu(memorised_qwen2_5_vl_dir), "Where are the planes?", tiling=TilingOptions(overlap=48),
                 max_new_tokens=120)
    assert [t.boxes for t in result.tiles] == [2, 2]
    expected = {("0,0", 10, 20, 30, 40), ("0,0", 28, 0, 56, 12), ("0,1", 18, 20, 38, 40)}
    got = set()
    for obj in result.objects:
        xmin, ymin, xmax, ymax = obj.polygon.bounds
        (c0, r1), (c1, r0) = ((xmin - X0) / PIXEL, (Y0 - ymin) / PIXEL), ((xmax - X0) / PIXEL, (Y0 - ymax) / PIXEL)
        got.add((obj.tile, *(round(v, 6) for v in (c0, r0, c1, r1))))
    assert got == expected
    polygons = [(o.label.lower(), o.polygon) for o in result.objects]
    for i, (label, a) in enumerate(polygons):
        for other, b in polygons[i + 1:]:
            if other == label:
                assert a.intersection(b).area / a.union(b).area < 0.5


def test_top_k_asks_exactly_the_k_best_tiles(tiny_florence2_dir, tiny_clip_dir, raster, cache_dir):
    feedback = Recorder()
    result = ask(raster, cpu(tiny_florence2_dir), "a harbour", mode="answer", select="top-k",
                 retrieval_model=cpu(tiny_clip_dir), top_k=2, max_new_tokens=10, feedback=feedback)
    # the ranking of geovl:retrieve on the same tile grid
    ranking = retrieve(raster, cpu(tiny_clip_dir), query="a harbour", tiling=TilingOptions(tile_size=TILE), top_k=2)
    assert [(t.row, t.col) for t in result.tiles] == [(h.row, h.col) for h in ranking.hits]
    assert [t.retrieval_score for t in result.tiles] == pytest.approx([h.score for h in ranking.hits])
    assert result.index_path == ranking.index_path and result.objects == []
    assert "Asked 2 of 6 tile(s)" in " ".join(feedback.infos)


def test_count_question_sums_the_merged_objects(tiny_florence2_dir, raster, cache_dir):
    result = ask(raster, cpu(tiny_florence2_dir), "How many cars are there?", max_new_tokens=40)
    first, *lines = result.answer.splitlines()
    assert first.startswith(f"{len(result.objects)} in total over 6 tile(s)")
    per_tile = [int(line.split(": ")[1].split()[0]) for line in lines]
    assert sum(per_tile) == len(result.objects) and len(lines) == 6


class _Images(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.text = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_data(self, data):
        self.text.append(data)


def test_report_has_the_answer_and_a_thumbnail_per_tile(tiny_florence2_dir, raster, tmp_path, cache_dir):
    path = str(tmp_path / "report.html")
    result = ask(raster, cpu(tiny_florence2_dir), "ships", report_path=path, max_new_tokens=40)
    page = _Images()
    page.feed(open(path, encoding="utf-8").read())
    assert len(page.images) == 6
    assert result.answer.splitlines()[0] in "".join(page.text)
    with_boxes = next(i for i, t in enumerate(result.tiles) if t.boxes)
    picture = Image.open(io.BytesIO(base64.b64decode(page.images[with_boxes].split(",", 1)[1])))
    assert picture.size == (TILE, TILE)
    red = np.asarray(picture.convert("RGB")).astype(int)
    assert ((red[..., 0] > 200) & (red[..., 1] < 90) & (red[..., 2] < 90)).any()  # a box outline


def test_masks_come_from_sam_prompted_with_the_boxes(tiny_florence2_dir, whole_tile_sam_ckpt, raster, cache_dir):
    boxes = ask(raster, cpu(tiny_florence2_dir), "roofs", max_new_tokens=40)
    masks = ask(raster, cpu(tiny_florence2_dir), "roofs", mode="masks", segment_model=cpu(whole_tile_sam_ckpt),
                max_new_tokens=40)
    assert masks.mode == "masks" and masks.objects
    assert {o.label for o in masks.objects} <= {o.label for o in boxes.objects}
    covered = unary_union([o.polygon for o in boxes.objects])
    assert all(o.polygon.intersects(covered) for o in masks.objects)


def test_each_mask_keeps_the_label_score_and_tile_of_its_own_box(whole_tile_sam_ckpt, tmp_path, cache_dir):
    """Two boxes on two tiles: each SAM mask carries what its own box carried."""
    from geovl.pipelines.ask import GroundedObject, _masks

    from .test_segment_pipeline import to_map as segment_map
    from .test_segment_pipeline import write_rgb as segment_rgb

    raster = segment_rgb(tmp_path / "two.tif", scene(256, 512, seed=4) | 1)
    objects = [GroundedObject("roof", 0.9, 0.0, "0,0", box(*segment_map(20, 100), *segment_map(100, 20))),
               GroundedObject("pool", 0.4, 0.0, "0,1", box(*segment_map(300, 100), *segment_map(400, 20)))]
    masks = _masks(raster, objects, cpu(whole_tile_sam_ckpt), TilingOptions(), Recorder())
    assert sorted((m.label, m.score, m.tile) for m in masks) == [("pool", 0.4, "0,1"), ("roof", 0.9, "0,0")]
    for mask in masks:
        own = next(o for o in objects if o.label == mask.label)
        assert mask.polygon.contains(own.polygon) and not any(
            mask.polygon.intersection(o.polygon).area for o in objects if o is not own)


def test_cancel_between_tiles_writes_no_report(tiny_florence2_dir, raster, tmp_path, cache_dir):
    path = tmp_path / "report.html"
    with pytest.raises(Cancelled):
        ask(raster, cpu(tiny_florence2_dir), "ships", report_path=str(path), max_new_tokens=5,
            feedback=Recorder(cancel_after_progress=2))
    assert os.listdir(tmp_path) == ["scene.tif"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(question="  "), "question is empty"),
    (dict(mode="masks"), "segmentation model"),
    (dict(select="top-k"), "retrieval model"),
    (dict(select="top-k", retrieval_model=cpu("clip-rsicd"), top_k=0), "at least 1"),
    (dict(max_new_tokens=0), "at least 1"),
])
def test_bad_requests_are_refused_before_any_work(raster, kwargs, message):
    kwargs = {"question": "ships", **kwargs}
    with pytest.raises(InputError, match=message):
        ask(raster, cpu("no-such-model"), **kwargs)


def test_nodata_raster_says_so(tiny_florence2_dir, tmp_path, cache_dir):
    path = tmp_path / "empty.tif"
    with rasterio.open(path, "w", driver="GTiff", width=TILE, height=TILE, count=3, dtype="uint8",
                       crs="EPSG:32631", transform=from_origin(X0, Y0, PIXEL, PIXEL), nodata=0) as dst:
        dst.write(np.zeros((3, TILE, TILE), np.uint8))
    with pytest.raises(InputError, match="nodata"):
        ask(str(path), cpu(tiny_florence2_dir), "ships", max_new_tokens=5)


def test_one_tile_asks_the_extent_at_the_model_input_size(memorised_qwen2_5_vl_dir, tmp_path, cache_dir):
    """Ask about the map view: the extent (here cols 20-132, rows 10-122 of a 160 x 140 px
    raster: 112 px a side) is one 56 px tile, 2 raster pixels per model pixel, so the
    memorised boxes A (10, 20, 30, 40) and B (28, 0, 56, 12) land at twice their pixels."""
    raster = write_rgb(tmp_path / "view.tif", scene(140, 160, seed=2))
    (x0, y0), (x1, y1) = to_map(20, 122), to_map(132, 10)
    result = ask(raster, cpu(memorised_qwen2_5_vl_dir), "Where are the planes?",
                 tiling=TilingOptions(extent=(x0, y0, x1, y1), tile_size=300, overlap=10), one_tile=True,
                 max_new_tokens=120)
    assert result.tile_count == 1 and [(t.row, t.col) for t in result.tiles] == [(0, 0)]
    expected = {(20 + 2 * a, 10 + 2 * b, 20 + 2 * c, 10 + 2 * d) for a, b, c, d in ((10, 20, 30, 40), (28, 0, 56, 12))}
    got = set()
    for obj in result.objects:
        xmin, ymin, xmax, ymax = obj.polygon.bounds
        got.add(tuple(round(v, 6) for v in ((xmin - X0) / PIXEL, (Y0 - ymax) / PIXEL, (xmax - X0) / PIXEL,
                                            (Y0 - ymin) / PIXEL)))
    assert got == expected
