"""Prompts sampled from a prior class raster, seen where the real model receives them
(a hook on the real SAM's prompt encoder), and the prior's bad inputs."""
from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from geovl.errors import InputError
from geovl.geo.mask_raster import class_tags
from geovl.models.resolver import load_segmenter
from geovl.pipelines.segment import PRIOR_POINTS, segment

from .conftest import scene
from .test_segment_pipeline import PIXEL, X0, Y0, options, read_band, write_rgb

# The prior's class 1 is a rectangle far from the diagonal, so points with x and y
# swapped fall outside it; the raster's first 80 columns are nodata.
CLASS_ROWS, CLASS_COLS = (20, 40), (150, 230)
NODATA_COLS = 80


def write_prior(path, classes: np.ndarray, transform=None, names: list[str] | None = None) -> str:
    with rasterio.open(path, "w", driver="GTiff", width=classes.shape[1], height=classes.shape[0], count=1,
                       dtype=classes.dtype, crs="EPSG:32631", nodata=0,
                       transform=transform or from_origin(X0, Y0, PIXEL, PIXEL)) as dst:
        dst.write(classes[None])
        if names:
            dst.update_tags(**class_tags(names))
    return str(path)


@pytest.fixture
def prior_scene(tmp_path):
    image = scene(256, 256, seed=11) | 1
    image[:, :NODATA_COLS] = 0
    raster = write_rgb(tmp_path / "input.tif", image, nodata=0)
    classes = np.zeros((256, 256), np.uint8)
    classes[CLASS_ROWS[0]:CLASS_ROWS[1], CLASS_COLS[0]:CLASS_COLS[1]] = 1
    return raster, write_prior(tmp_path / "prior.tif", classes)


def prompts_received(segmenter, run) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (points, labels) the model's prompt encoder receives while `run()` runs."""
    seen = []

    def record(module, args, kwargs):
        points = kwargs.get("points")
        if points is not None:
            for coords, labels in zip(*points):
                seen.append((coords.numpy().copy(), labels.numpy().copy()))

    hook = segmenter.sam.prompt_encoder.register_forward_pre_hook(record, with_kwargs=True)
    try:
        run()
    finally:
        hook.remove()
    return seen


def test_prior_points_lie_on_their_class_and_background_on_valid_pixels(tiny_sam_ckpt, prior_scene, cache_dir):
    """One prompt per prior class and tile: 32 foreground points inside the class's
    pixels (x = column, y = row), 16 background points on valid pixels outside it; the
    tile is 256 px for a 256 px model, so tile pixels are what the encoder sees."""
    raster, prior = prior_scene
    segmenter = load_segmenter(tiny_sam_ckpt, "cpu", "fp32")
    seen = prompts_received(segmenter, lambda: segment(raster, options(tiny_sam_ckpt), prior_path=prior,
                                                       refine=False))
    assert len(seen) == 1
    points, labels = seen[0]
    fg, bg = points[labels == 1], points[labels == 0]
    assert (len(fg), len(bg)) == PRIOR_POINTS == (32, 16)   # as the README says
    assert (fg[:, 0] > CLASS_COLS[0]).all() and (fg[:, 0] < CLASS_COLS[1]).all()
    assert (fg[:, 1] > CLASS_ROWS[0]).all() and (fg[:, 1] < CLASS_ROWS[1]).all()
    in_class = ((bg[:, 0] > CLASS_COLS[0]) & (bg[:, 0] < CLASS_COLS[1])
                & (bg[:, 1] > CLASS_ROWS[0]) & (bg[:, 1] < CLASS_ROWS[1]))
    assert not in_class.any()
    assert (bg[:, 0] > NODATA_COLS).all(), "background points must not be drawn from nodata pixels"
    # Pixel centres, all different.
    assert np.allclose(points % 1, 0.5) and len(np.unique(points, axis=0)) == len(points)


def test_prior_points_are_the_same_on_every_run(tiny_sam_ckpt, prior_scene, cache_dir):
    raster, prior = prior_scene
    segmenter = load_segmenter(tiny_sam_ckpt, "cpu", "fp32")
    runs = [prompts_received(segmenter, lambda: segment(raster, options(tiny_sam_ckpt), prior_path=prior,
                                                        refine=False)) for _ in range(2)]
    np.testing.assert_array_equal(runs[0][0][0], runs[1][0][0])
    np.testing.assert_array_equal(runs[0][0][1], runs[1][0][1])


def test_prior_of_256_classes_is_refused_255_are_written(whole_tile_sam_ckpt, tmp_path, cache_dir):
    """The class raster is uint8 with a colour table: class 256 would wrap to 0 while the
    polygons say 256. 255 classes still fit: the last is written as 255."""
    raster = write_rgb(tmp_path / "input.tif", scene(256, 256, seed=12) | 1)
    names = [f"kind {i}" for i in range(1, 257)]
    values = np.zeros((256, 256), np.uint16)
    values[10:20, 10:20] = 256
    prior = write_prior(tmp_path / "prior256.tif", values, names=names)
    mask_path = tmp_path / "classes.tif"
    with pytest.raises(InputError, match="There are 256 classes, 256 of them from the prior raster, but the "
                                         "class raster holds at most 255"):
        segment(raster, options(whole_tile_sam_ckpt), prior_path=prior, mask_path=str(mask_path))
    assert not mask_path.exists()

    values[values == 256] = 255
    prior = write_prior(tmp_path / "prior255.tif", values, names=names[:255])
    result = segment(raster, options(whole_tile_sam_ckpt), prior_path=prior, mask_path=str(mask_path),
                     refine=False, closing_px=0)
    assert len(result.classes) == 255
    assert {r.class_name for r in result.regions} == {"kind 255"}
    assert (read_band(str(mask_path)) == 255).all()  # the whole-tile SAM covers the tile


def test_prior_that_does_not_overlap_the_raster(tiny_sam_ckpt, tmp_path, cache_dir):
    raster = write_rgb(tmp_path / "input.tif", scene(256, 256, seed=13))
    classes = np.ones((64, 64), np.uint8)
    far = write_prior(tmp_path / "far.tif", classes, transform=from_origin(X0 + 10_000, Y0, PIXEL, PIXEL))
    mask_path = tmp_path / "classes.tif"
    with pytest.raises(InputError, match="does not overlap the raster.*Give a prior class raster of the same area"):
        segment(raster, options(tiny_sam_ckpt), prior_path=far, mask_path=str(mask_path))
    assert not mask_path.exists()
    # Overlapping, but its class pixels are only over the raster's nodata.
    image = scene(256, 256, seed=13) | 1
    image[:, :64] = 0
    holed = write_rgb(tmp_path / "holed.tif", image, nodata=0)
    classes = np.zeros((256, 256), np.uint8)
    classes[100:120, 10:50] = 1
    on_nodata = write_prior(tmp_path / "on_nodata.tif", classes)
    with pytest.raises(InputError, match="has no class pixels .* on the raster's valid pixels"):
        segment(holed, options(tiny_sam_ckpt), prior_path=on_nodata, mask_path=str(mask_path))
    assert not mask_path.exists()
    with pytest.raises(InputError, match="Cannot open the prior raster"):
        segment(raster, options(tiny_sam_ckpt), prior_path=str(tmp_path / "missing.tif"))
