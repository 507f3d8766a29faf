"""Click-to-segment sessions (pipelines/interactive.py) with tiny SAMs: one object from
points and a box equals SamPredictor's mask for the same prompts, objects join across
tiles, tiles are encoded once and share geovl:segment's cache, bad clicks get sentences."""
from __future__ import annotations

import base64

import numpy as np
import pytest
import rasterio.features
import torch
from scipy import ndimage
from segment_anything import SamPredictor

from geovl.errors import InputError
from geovl.pipelines.interactive import SegmentSession
from geovl.pipelines.segment import CLOSING_RADIUS_PX, MapPrompt, segment
from geovl.pipelines.options import ModelOptions

from .conftest import scene
from .test_segment_pipeline import PIXEL, X0, Y0, to_map, write_rgb


def options(ckpt: str) -> ModelOptions:
    return ModelOptions(ckpt, device="cpu", precision="fp32")


def rasterised(polygons, shape) -> np.ndarray:
    """The polygons burnt back into the test raster's pixels."""
    transform = rasterio.transform.from_origin(X0, Y0, PIXEL, PIXEL)
    if not polygons:
        return np.zeros(shape, bool)
    return rasterio.features.rasterize(polygons, out_shape=shape, transform=transform).astype(bool)


def closed(mask: np.ndarray, radius: int = CLOSING_RADIUS_PX) -> np.ndarray:
    """scipy's closing of the edge-replicated mask (the reference of the engine's clean-up)."""
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    padded = np.pad(mask, radius, mode="edge")
    return ndimage.binary_closing(padded, structure=yy * yy + xx * xx <= radius * radius)[radius:-radius,
                                                                                         radius:-radius]


CASES = {
    "one point": ([("point", ((100.5, 80.5),), 1)], dict(point_coords=[[100.5, 80.5]], point_labels=[1]), True),
    "point and box": ([("point", ((70.5, 100.5),), 1), ("box", ((40.0, 150.0), (120.0, 60.0)), 1)],
                      dict(point_coords=[[70.5, 100.5]], point_labels=[1], box=[40.0, 60.0, 120.0, 150.0]), False),
    "points and background": ([("point", ((100.5, 80.5),), 1), ("point", ((200.5, 30.5),), 0),
                               ("point", ((60.5, 190.5),), 1)],
                              dict(point_coords=[[100.5, 80.5], [200.5, 30.5], [60.5, 190.5]],
                                   point_labels=[1, 0, 1]), False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_object_equals_sam_predictor(tiny_sam_ckpt, tiny_sam_factory, tmp_path, cache_dir, case):
    image = scene(256, 256, seed=5)
    raster = write_rgb(tmp_path / "one_tile.tif", image)
    given, reference_args, multimask = CASES[case]
    prompts = [MapPrompt(kind, tuple(to_map(*p) for p in pts), label) for kind, pts, label in given]
    session = SegmentSession(raster, options(tiny_sam_ckpt))
    try:
        result = session.segment(prompts)
    finally:
        session.close()

    sam = tiny_sam_factory()
    sam.load_state_dict(torch.load(tiny_sam_ckpt, weights_only=True))
    predictor = SamPredictor(sam)
    predictor.set_image(image)
    masks, scores, _ = predictor.predict(**{k: np.array(v, float) for k, v in reference_args.items()},
                                         multimask_output=multimask)
    best = int(np.argmax(scores))
    expected = closed(masks[best])
    assert expected.any() and not expected.all(), "the reference mask should be partial for this test to bite"
    np.testing.assert_array_equal(rasterised(result.polygons, image.shape[:2]), expected)
    assert result.score == pytest.approx(float(scores[best]), abs=1e-5)
    assert result.tiles == [(0, 0)]


def test_object_across_tiles_joins_the_central_parts(whole_tile_sam_ckpt, tmp_path, cache_dir):
    """A box over tiles 0 and 1 of three (masks fill whole tiles, minus a nodata hole):
    one object, both tiles decoded, tile 2 never opened; a background point alone on
    tile 2 does not make an object there."""
    image = scene(256, 768, seed=1)
    image[image == 0] = 1
    image[100:140, 50:90] = 0
    raster = write_rgb(tmp_path / "three_tiles.tif", image, nodata=0)
    session = SegmentSession(raster, options(whole_tile_sam_ckpt))
    try:
        result = session.segment([MapPrompt("box", (to_map(100, 200), to_map(400, 20))),
                                  MapPrompt("point", (to_map(700.5, 100.5),), 0)])
        assert result.tiles == [(0, 0), (0, 1)]
        assert sorted(session._open) == [(0, 0), (0, 1)]
    finally:
        session.close()
    expected = np.zeros((256, 768), bool)
    expected[:, :512] = True
    expected[100:140, 50:90] = False
    np.testing.assert_array_equal(rasterised(result.polygons, (256, 768)), expected)
    assert len(result.polygons) == 1 and len(result.polygons[0].interiors) == 1


def test_tiles_are_encoded_once_and_shared_with_geovl_segment(tiny_sam_ckpt, tmp_path, cache_dir):
    """Clicks on an open tile only decode; a batch run afterwards finds the session's
    embedding in the cache, and a new session finds the batch run's."""
    raster = write_rgb(tmp_path / "shared.tif", scene(256, 512, seed=3))
    session = SegmentSession(raster, options(tiny_sam_ckpt))
    encodes = []
    hook = session.segmenter.sam.image_encoder.register_forward_hook(lambda *a: encodes.append(1))
    try:
        for x in (60.5, 90.5, 120.5):
            session.segment([MapPrompt("point", (to_map(x, 100.5),), 1)])
        assert len(encodes) == 1
    finally:
        hook.remove()
        session.close()
    assert segment(raster, options(tiny_sam_ckpt), [MapPrompt("point", (to_map(80.5, 90.5),), 1)]).tiles_encoded == 0
    other = segment(raster, options(tiny_sam_ckpt), [MapPrompt("point", (to_map(400.5, 90.5),), 1)])
    assert other.tiles_encoded == 1
    session = SegmentSession(raster, options(tiny_sam_ckpt))
    try:
        assert session.open_tile(0, 1) is False     # encoded by the batch run
    finally:
        session.close()


def test_hover_preview_only_decodes(tiny_sam_ckpt, tmp_path, cache_dir):
    """Without `encode` (the hover preview) a tile not open gives no mask and is not
    encoded; once it is open, the same mask as a click."""
    from geovl.runtime.jobs import NO_MASK, run_job

    from .conftest import Recorder

    raster = write_rgb(tmp_path / "hover.tif", scene(256, 512, seed=7))
    common = {"raster": raster, "model": {"name": tiny_sam_ckpt, "device": "cpu", "precision": "fp32"},
              "tiling": {}, "environment": {"GEOVL_CACHE_DIR": str(cache_dir)}, "as": "mask"}
    hover = {**common, "prompts": [{"kind": "point", "coords": [to_map(300.5, 40.5)], "label": 1}], "encode": False}
    feedback = Recorder()
    assert run_job("segment_object", hover, feedback) == {"score": 0.0, "tiles": [], **NO_MASK}
    assert run_job("segment_tiles", {**common, "at": to_map(300.5, 40.5)}, feedback)["encoded"] == 1   # not before
    previewed = run_job("segment_object", hover, feedback)
    assert previewed["bounds"] and previewed == run_job("segment_object", {**hover, "encode": True}, feedback)


def test_bad_clicks_get_sentences(tiny_sam_ckpt, tmp_path, cache_dir):
    raster = write_rgb(tmp_path / "bad.tif", scene(256, 256, seed=4))
    session = SegmentSession(raster, options(tiny_sam_ckpt))
    try:
        with pytest.raises(InputError, match="right clicks mark background only"):
            session.segment([MapPrompt("point", (to_map(30.5, 30.5),), 0)])
        with pytest.raises(InputError, match="No object point or box lies on the raster"):
            session.segment([MapPrompt("point", (to_map(-50.5, 30.5),), 1)])
        box = MapPrompt("box", (to_map(10, 60), to_map(50, 10)))
        with pytest.raises(InputError, match="An object takes one box, and 2 were given"):
            session.segment([box, box])
    finally:
        session.close()


def test_worker_jobs(tiny_sam_ckpt, tmp_path, cache_dir):
    """The worker's segment_tiles and segment_object jobs: the tile under the cursor is
    encoded once, and a click's object comes back as WKB equal to the session's."""
    import shapely

    from geovl.runtime.jobs import run_job

    from .conftest import Recorder

    raster = write_rgb(tmp_path / "jobs.tif", scene(256, 512, seed=6))
    common = {"raster": raster, "model": {"name": tiny_sam_ckpt, "device": "cpu", "precision": "fp32"},
              "tiling": {}, "environment": {"GEOVL_CACHE_DIR": str(cache_dir)}}
    feedback = Recorder()
    # tile (0, 1) of 256 px: columns 256-512, rows 0-256, and its map bounds by hand
    bounds = [(X0 + 256 * PIXEL, Y0 - 256 * PIXEL, X0 + 512 * PIXEL, Y0)]
    assert run_job("segment_tiles", {**common, "at": to_map(300.5, 40.5)}, feedback) == {
        "tiles": [(0, 1)], "bounds": bounds, "encoded": 1}
    assert run_job("segment_tiles", {**common, "at": to_map(310.5, 40.5)}, feedback)["encoded"] == 0
    click = {"kind": "point", "coords": [to_map(300.5, 40.5)], "label": 1}
    values = run_job("segment_object", {**common, "prompts": [click]}, feedback)
    session = SegmentSession(raster, options(tiny_sam_ckpt))
    try:
        expected = session.segment([MapPrompt("point", (to_map(300.5, 40.5),), 1)])
    finally:
        session.close()
    assert [shapely.from_wkb(p) for p in values["polygons"]] == expected.polygons
    assert values["score"] == pytest.approx(expected.score) and values["tiles"] == [(0, 1)]

    # The preview's form: the mask's own pixels, cropped, as rows of bits padded to 32.
    picture = run_job("segment_object", {**common, "prompts": [click], "as": "mask"}, feedback)
    width, height = picture["size"]
    rows = np.frombuffer(base64.b64decode(picture["bits"]), np.uint8).reshape(height, -1)
    assert rows.shape[1] % 4 == 0
    bits = np.unpackbits(rows, axis=1)[:, :width].astype(bool)
    xmin, ymin, xmax, ymax = picture["bounds"]
    col, row = round((xmin - expected.transform.c) / PIXEL), round((expected.transform.f - ymax) / PIXEL)
    assert (xmax - xmin, ymax - ymin) == (width * PIXEL, height * PIXEL)
    placed = np.zeros_like(expected.mask)
    placed[row:row + height, col:col + width] = bits
    np.testing.assert_array_equal(placed, expected.mask)
    assert bits[0].any() and bits[-1].any() and bits[:, 0].any() and bits[:, -1].any()   # cropped to the mask
