"""The segmentation pipeline with tiny SAMs: parity with segment-anything's SamPredictor
through map coordinates, routing and stitching across tiles, the embedding cache,
priors, cancellation and bad input."""
from __future__ import annotations

import glob
import os
from dataclasses import replace

import numpy as np
import pytest
import rasterio
import torch
from rasterio.transform import from_origin
from safetensors.torch import load_file
from segment_anything import SamPredictor

from geovl.errors import Cancelled, InputError, ModelError
from geovl.geo.prompts import sample_line
from geovl.models.resolver import load_segmenter
from geovl.pipelines.options import ModelOptions, TilingOptions
from geovl.pipelines.segment import MapPrompt, segment

from .conftest import Recorder, scene

X0, Y0, PIXEL = 500_000.0, 4_650_000.0, 0.5


def to_map(col: float, row: float) -> tuple[float, float]:
    """Map coordinates of a pixel position of the test rasters (hand-written affine)."""
    return X0 + col * PIXEL, Y0 - row * PIXEL


def write_rgb(path, image: np.ndarray, nodata=None) -> str:
    with rasterio.open(path, "w", driver="GTiff", width=image.shape[1], height=image.shape[0], count=3,
                       dtype="uint8", crs="EPSG:32631", transform=from_origin(X0, Y0, PIXEL, PIXEL),
                       nodata=nodata) as dst:
        dst.write(image.transpose(2, 0, 1))
    return str(path)


def read_band(path: str) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


def options(ckpt: str) -> ModelOptions:
    return ModelOptions(ckpt, device="cpu", precision="fp32")


PARITY_CASES = {
    "one point": ([("point", ((100.5, 80.5),), 1)], dict(point_coords=[[100.5, 80.5]], point_labels=[1]), True),
    "point and background": ([("point", ((100.5, 80.5),), 1), ("point", ((200.5, 30.5),), 0)],
                             dict(point_coords=[[100.5, 80.5], [200.5, 30.5]], point_labels=[1, 0]), False),
    "box": ([("box", ((40.0, 150.0), (120.0, 60.0)), 1)], dict(box=[40.0, 60.0, 120.0, 150.0]), False),
}


@pytest.mark.parametrize("refine", [False, True])
@pytest.mark.parametrize("case", list(PARITY_CASES))
def test_one_tile_equals_sam_predictor(tiny_sam_ckpt, tiny_sam_factory, tmp_path, cache_dir, case, refine):
    """Prompts given in map coordinates give the masks SamPredictor gives for the same
    image, weights and pixel prompts (the raster is one 256 px tile, uint8: no stretch)."""
    image = scene(256, 256, seed=5)
    raster = write_rgb(tmp_path / "one_tile.tif", image)
    prompts_px, reference_args, multimask = PARITY_CASES[case]
    prompts = [MapPrompt(kind, tuple(to_map(*p) for p in pts), label, "road", i)
               for i, (kind, pts, label) in enumerate(prompts_px)]
    mask_path = str(tmp_path / "classes.tif")
    result = segment(raster, options(tiny_sam_ckpt), prompts, refine=refine, closing_px=0, mask_path=mask_path)

    sam = tiny_sam_factory()
    sam.load_state_dict(torch.load(tiny_sam_ckpt, weights_only=True))
    predictor = SamPredictor(sam)
    predictor.set_image(image)
    args = {k: np.array(v, float) for k, v in reference_args.items()}
    masks, scores, logits = predictor.predict(**args, multimask_output=multimask)
    best = int(np.argmax(scores))
    expected, score = masks[best], scores[best]
    if refine:
        masks, scores, _ = predictor.predict(**args, mask_input=logits[best][None], multimask_output=False)
        expected, score = masks[0], scores[0]
    assert 0 < expected.sum() < expected.size, "the reference mask should be a real shape for this test to bite"

    np.testing.assert_array_equal(read_band(mask_path), expected.astype(np.uint8))
    assert result.classes == ["road"]
    assert {r.class_name for r in result.regions} == {"road"}
    assert sum(r.area_m2 for r in result.regions) == pytest.approx(expected.sum() * PIXEL ** 2)
    assert all(r.score == pytest.approx(float(score), abs=1e-5) for r in result.regions)
    assert {r.prompt_id for r in result.regions} == {0}


def test_object_across_tiles_is_one_polygon_with_its_hole(whole_tile_sam_ckpt, tmp_path, cache_dir):
    """A box over tiles 0 and 1 of three: both tiles are decoded, their masks (whole
    tiles, minus a nodata hole) stitch into one polygon; tile 2 is never touched."""
    image = scene(256, 768, seed=1)
    image[image == 0] = 1
    image[100:140, 50:90] = 0  # nodata hole inside tile 0
    raster = write_rgb(tmp_path / "three_tiles.tif", image, nodata=0)
    box = MapPrompt("box", (to_map(100, 200), to_map(400, 20)), prompt_id=7)
    result = segment(raster, options(whole_tile_sam_ckpt), [box], closing_px=0)

    assert (result.tiles_decoded, result.tiles_encoded) == (2, 2)
    assert len(result.regions) == 1
    polygon = result.regions[0].polygon
    assert polygon.bounds == (X0, Y0 - 256 * PIXEL, X0 + 512 * PIXEL, Y0)
    assert len(polygon.interiors) == 1
    hole = polygon.interiors[0].bounds
    assert hole == (*to_map(50, 140), *to_map(90, 100))
    assert result.regions[0].area_m2 == pytest.approx((512 * 256 - 40 * 40) * PIXEL ** 2)
    assert result.regions[0].prompt_id == 7


def test_overlapping_tiles_split_their_overlap(whole_tile_sam_ckpt, tmp_path, cache_dir):
    """With 64 px overlap (step 192) a box over x 100..400 reaches tiles 0, 1 and 2; each
    writes its central part, so the stitched mask ends at tile 2's core edge (608 px)."""
    raster = write_rgb(tmp_path / "overlap.tif", scene(256, 768, seed=2) | 1)
    box = MapPrompt("box", (to_map(100, 200), to_map(400, 20)))
    mask_path = str(tmp_path / "classes.tif")
    result = segment(raster, options(whole_tile_sam_ckpt), [box], tiling=TilingOptions(overlap=64),
                     closing_px=0, mask_path=mask_path)
    assert result.tiles_decoded == 3
    classes = read_band(mask_path)
    assert (classes[:, :608] == 1).all() and (classes[:, 608:] == 0).all()
    assert len(result.regions) == 1
    assert result.regions[0].polygon.bounds == (X0, Y0 - 256 * PIXEL, X0 + 608 * PIXEL, Y0)


def test_second_run_only_decodes(tiny_sam_ckpt, tmp_path, cache_dir):
    """New prompts on the same raster reuse the cached embeddings: the encoder never runs."""
    raster = write_rgb(tmp_path / "cache.tif", scene(256, 512, seed=3))
    segmenter = load_segmenter(tiny_sam_ckpt, "cpu", "fp32")
    calls = []
    hook = segmenter.sam.image_encoder.register_forward_hook(lambda *a: calls.append(1))
    try:
        first = segment(raster, options(tiny_sam_ckpt), [MapPrompt("point", (to_map(30.5, 40.5),)),
                                                         MapPrompt("point", (to_map(300.5, 40.5),))])
        assert len(calls) == first.tiles_encoded == 2
        new_prompts = [MapPrompt("box", (to_map(10, 200), to_map(480, 100)), prompt_id=3)]
        mask_cached = str(tmp_path / "cached.tif")
        second = segment(raster, options(tiny_sam_ckpt), new_prompts, mask_path=mask_cached)
        assert len(calls) == 2 and second.tiles_encoded == 0 and second.tiles_decoded == 2
    finally:
        hook.remove()
    assert len(glob.glob(str(cache_dir / "segment" / "*" / "tile_*.safetensors"))) == 2
    assert len(glob.glob(str(cache_dir / "segment" / "*" / "manifest.json"))) == 1
    # Cached embeddings decode exactly as fresh ones.
    mask_fresh = str(tmp_path / "fresh.tif")
    os.environ["GEOVL_CACHE_DIR"] = str(tmp_path / "other-cache")
    segment(raster, options(tiny_sam_ckpt), new_prompts, mask_path=mask_fresh)
    np.testing.assert_array_equal(read_band(mask_cached), read_band(mask_fresh))


@pytest.mark.parametrize("refine", [True, False])
def test_many_masks_with_refine_are_announced(tiny_sam_ckpt, tmp_path, cache_dir, monkeypatch, refine):
    """From REFINE_ADVICE_MASKS masks on a CPU, the log says REFINE decodes each twice."""
    monkeypatch.setattr("geovl.pipelines.segment.REFINE_ADVICE_MASKS", 3)
    raster = write_rgb(tmp_path / "many.tif", scene(256, 512, seed=3))
    prompts = [MapPrompt("point", (to_map(30.5 + 100 * i, 40.5),), prompt_id=i) for i in range(3)]
    feedback = Recorder()
    segment(raster, options(tiny_sam_ckpt), prompts, refine=refine, feedback=feedback)
    said = [m for m in feedback.infos if "each twice" in m]
    assert said == (["3 masks to decode, each twice: REFINE gives SAM its first mask as a dense prompt (as GeoSAM "
                     "does). Without REFINE the decoding takes about half as long."] if refine else [])
    feedback = Recorder()
    segment(raster, options(tiny_sam_ckpt), prompts[:2], refine=refine, feedback=feedback)
    assert not [m for m in feedback.infos if "each twice" in m]


def test_line_prompts_are_sampled_at_the_spacing():
    coords = [(0.0, 0.0), (30.0, 0.0), (30.0, 40.0)]  # length 70
    points = sample_line(coords, 10.0)
    assert len(points) == 8
    along = [min(x, 30.0) + (y if x == 30.0 else 0.0) for x, y in points]
    np.testing.assert_allclose(along, np.arange(0, 71, 10))
    assert tuple(points[-1]) == (30.0, 40.0)
    # The end is added when the last step leaves more than half a spacing.
    np.testing.assert_allclose(sample_line([(0, 0), (26, 0)], 10.0)[:, 0], [0, 10, 20, 26])
    np.testing.assert_allclose(sample_line([(0, 0), (24, 0)], 10.0)[:, 0], [0, 10, 20])


def test_line_prompt_reaches_every_tile_it_crosses(whole_tile_sam_ckpt, tmp_path, cache_dir):
    """A line from tile 0 to tile 2 (spacing 16 m = 32 px) decodes all three tiles."""
    raster = write_rgb(tmp_path / "line.tif", scene(256, 768, seed=4) | 1)
    line = MapPrompt("line", (to_map(20, 128), to_map(700, 128)), class_name="road")
    result = segment(raster, options(whole_tile_sam_ckpt), [line], line_spacing_m=16.0, centerlines=True)
    assert result.tiles_decoded == 3 and len(result.regions) == 1
    assert result.centerlines and all(c.class_name == "road" for c in result.centerlines)
    # Centre lines of a class named in another language, among several classes.
    other = MapPrompt("point", (to_map(20.5, 20.5),), class_name="trottoir")
    result = segment(raster, options(whole_tile_sam_ckpt), [replace(line, class_name="route"), other],
                     line_spacing_m=16.0, centerlines=True, road_class="Route")
    assert result.centerlines and {c.class_name for c in result.centerlines} == {"route"}


def test_prior_gives_sparse_prompts_per_class(whole_tile_sam_ckpt, tmp_path, cache_dir):
    """A prior class raster (another CRS grid is warped) prompts only the tiles where its
    classes occur, and its class table names the output classes."""
    from geovl.geo.mask_raster import class_tags

    raster = write_rgb(tmp_path / "prior_input.tif", scene(256, 768, seed=6) | 1)
    prior = np.zeros((1, 128, 384), np.uint8)  # half the resolution of the input
    prior[0, 20:40, 200:260] = 2               # only under tile 2 (input cols 400..520)
    with rasterio.open(tmp_path / "prior.tif", "w", driver="GTiff", width=384, height=128, count=1, dtype="uint8",
                       crs="EPSG:32631", transform=from_origin(X0, Y0, 2 * PIXEL, 2 * PIXEL), nodata=0) as dst:
        dst.write(prior)
        dst.update_tags(**class_tags(["road", "sidewalk"]))
    result = segment(raster, options(whole_tile_sam_ckpt), prior_path=str(tmp_path / "prior.tif"), closing_px=0)
    assert result.classes == ["road", "sidewalk"]
    assert result.tiles_decoded == 2  # tiles 1 (cols 256..511) and 2 hold prior pixels
    assert {r.class_name for r in result.regions} == {"sidewalk"}
    assert all(r.prompt_id is None for r in result.regions)


def test_cancel_leaves_no_output_and_only_complete_tiles(tiny_sam_ckpt, tmp_path, cache_dir):
    raster = write_rgb(tmp_path / "cancel.tif", scene(256, 768, seed=7))
    mask_path = tmp_path / "classes.tif"
    line = MapPrompt("line", (to_map(20, 128), to_map(700, 128)))
    with pytest.raises(Cancelled):
        segment(raster, options(tiny_sam_ckpt), [line], mask_path=str(mask_path),
                feedback=Recorder(cancel_after_progress=1))
    assert not mask_path.exists()
    assert not [p for p in glob.glob(str(tmp_path / "**"), recursive=True) if ".partial" in p]
    tiles = glob.glob(str(cache_dir / "segment" / "*" / "tile_*.safetensors"))
    assert len(tiles) == 1
    assert set(load_file(tiles[0])) == {"image_embeddings"}


def test_bad_input(tiny_sam_ckpt, tmp_path, cache_dir):
    raster = write_rgb(tmp_path / "bad.tif", scene(256, 256, seed=8))
    model = options(tiny_sam_ckpt)
    with pytest.raises(InputError, match="nothing to segment"):
        segment(raster, model)
    far = [MapPrompt("point", ((0.0, 0.0),), prompt_id=11), MapPrompt("box", ((1.0, 1.0), (2.0, 2.0)), prompt_id=12)]
    feedback = Recorder()
    with pytest.raises(InputError, match="None of the 2 prompts lies on the raster"):
        segment(raster, model, far, feedback=feedback)
    assert len(feedback.warnings) == 2 and "Prompt 11" in feedback.warnings[0]
    with pytest.raises(InputError, match="Every prompt on the raster is a background point"):
        segment(raster, model, [MapPrompt("point", (to_map(10, 10),), label=0)])
    feedback = Recorder()
    with pytest.raises(InputError, match="Every prompt on the raster is a background point"):
        segment(raster, model, [MapPrompt("point", (to_map(10, 10),), label=0),
                                MapPrompt("box", (to_map(10, 50), to_map(50, 10)), label=0, prompt_id=4)],
                feedback=feedback)
    assert feedback.warnings == ["Prompt 4 is a box with label 0: a box cannot mark background, so it was skipped. "
                                 "Mark background with points (label 0)."]
    with pytest.raises(ModelError, match="cannot take text prompts.*sam3"):
        segment(raster, model, texts=["road"])
    with pytest.raises(ModelError, match="Unknown SAM model type 'vit_q'"):
        segment(raster, model, [MapPrompt("point", (to_map(10, 10),))], model_type="vit_q")


def test_transformers_sam_through_the_pipeline(tiny_transformers_sam_dir, tmp_path, cache_dir):
    """A transformers SamModel folder: the class raster equals the adapter's own decode of
    the tile with the same pixel prompt (the adapter is checked against SamModel +
    SamProcessor in test_transformers_segmenter)."""
    from geovl.models.base import SegmentPrompt

    image = scene(256, 256, seed=9)
    raster = write_rgb(tmp_path / "hf_sam.tif", image)
    mask_path = str(tmp_path / "classes.tif")
    segment(raster, options(tiny_transformers_sam_dir), [MapPrompt("point", (to_map(60.5, 90.5),))],
            refine=False, closing_px=0, mask_path=mask_path)
    segmenter = load_segmenter(tiny_transformers_sam_dir, "cpu", "fp32")
    expected = segmenter.decode(segmenter.encode(image), (256, 256),
                                SegmentPrompt(np.array([[60.5, 90.5]], np.float32), np.array([1])), multimask=True)
    assert 0 < expected.mask.sum() < expected.mask.size
    np.testing.assert_array_equal(read_band(mask_path), expected.mask.astype(np.uint8))


def test_text_concepts_with_sam3(tiny_sam3_dir, tmp_path, cache_dir):
    """SAM 3 text concepts run per tile; every instance is a region of its concept's class.
    Point prompts are refused up front for a text-only model."""
    raster = write_rgb(tmp_path / "sam3.tif", scene(224, 224, seed=10))
    mask_path = str(tmp_path / "classes.tif")
    result = segment(raster, options(tiny_sam3_dir), texts=["road", "sidewalk"], mask_path=mask_path)
    assert result.classes == ["road", "sidewalk"]
    assert result.tiles_decoded == 4 and result.masks_decoded > 0  # 224 px over 112 px tiles
    assert result.regions and {r.class_name for r in result.regions} <= {"road", "sidewalk"}
    assert set(np.unique(read_band(mask_path))) <= {0, 1, 2}
    with pytest.raises(ModelError, match="takes text concepts only"):
        segment(raster, options(tiny_sam3_dir), [MapPrompt("point", (to_map(10, 10),))])
