"""What geovl:segment writes, and the sentences instead of silently empty or half-written
outputs: the minimum area, boxes with no area, all-nodata rasters, full and read-only disks."""
from __future__ import annotations

import glob
import os

import numpy as np
import pytest

from geovl.errors import InputError
from geovl.geo.raster import RasterSource
from geovl.pipelines.options import TilingOptions
from geovl.pipelines.segment import LINE_SPACING_PX, MapPrompt, map_prompts, segment
from geovl.pipelines.tiling import plan

from .conftest import Recorder, scene
from .test_segment_pipeline import PIXEL, options, to_map, write_rgb

WHOLE_TILE_BOX = MapPrompt("box", (to_map(0, 256), to_map(256, 0)), prompt_id=1)


def two_islands(tmp_path) -> str:
    """A 256 px raster that is nodata but for an 8 x 8 px island (16 m²) and a 64 x 64 px
    one (1024 m²)."""
    image = np.zeros((256, 256, 3), np.uint8)
    image[20:28, 20:28] = scene(8, 8, seed=1) | 1
    image[100:164, 120:184] = scene(64, 64, seed=2) | 1
    return write_rgb(tmp_path / "islands.tif", image, nodata=0)


def test_min_area_drops_the_small_region_only(whole_tile_sam_ckpt, tmp_path, cache_dir):
    raster = two_islands(tmp_path)
    every = segment(raster, options(whole_tile_sam_ckpt), [WHOLE_TILE_BOX], closing_px=0)
    assert sorted(r.area_m2 for r in every.regions) == [pytest.approx(64 * PIXEL ** 2),
                                                        pytest.approx(4096 * PIXEL ** 2)]
    kept = segment(raster, options(whole_tile_sam_ckpt), [WHOLE_TILE_BOX], closing_px=0, min_area_m2=100.0)
    assert [r.area_m2 for r in kept.regions] == [pytest.approx(4096 * PIXEL ** 2)]


@pytest.mark.parametrize("corners", [((30, 40), (30, 40)), ((30, 40), (90, 40)), ((30, 40), (30.5, 90))],
                         ids=["point", "flat", "thin"])
def test_box_with_no_area_says_so(tiny_sam_ckpt, tmp_path, cache_dir, corners):
    """A zero-area polygon's bounding box is a point or a segment: the sentence says the
    box has no area and what to do, not that every prompt is a background point."""
    raster = write_rgb(tmp_path / "input.tif", scene(256, 256, seed=3))
    box = MapPrompt("box", tuple(to_map(*c) for c in corners), label=1, prompt_id=5)
    feedback = Recorder()
    with pytest.raises(InputError, match=r"The box prompt \(5\) has no area and no other prompt marks an object. "
                                         r"A box .* needs two distinct corners .* draw the polygon around the object"):
        segment(raster, options(tiny_sam_ckpt), [box], feedback=feedback)
    assert feedback.warnings and "Prompt 5 is a box with no area" in feedback.warnings[0]
    # Beside a real prompt it is skipped with the warning, and the run goes on.
    point = MapPrompt("point", (to_map(100.5, 100.5),), prompt_id=6)
    result = segment(raster, options(tiny_sam_ckpt), [box, point], feedback=Recorder())
    assert {r.prompt_id for r in result.regions} == {6}


def test_five_boxes_with_no_area_are_all_named(tiny_sam_ckpt, tmp_path, cache_dir):
    raster = write_rgb(tmp_path / "input.tif", scene(256, 256, seed=3))
    boxes = [MapPrompt("box", (to_map(30, 40 + i), to_map(90, 40 + i)), prompt_id=i) for i in range(1, 6)]
    with pytest.raises(InputError) as refused:
        segment(raster, options(tiny_sam_ckpt), boxes, feedback=Recorder())
    assert "The box prompts (1, 2, 3, 4, 5) have no area" in str(refused.value)
    with pytest.raises(InputError, match=r"The box prompts \(1, 2, 3, 4, 5, \.\.\.\) have no area"):
        segment(raster, options(tiny_sam_ckpt), boxes + [MapPrompt("box", (to_map(30, 50), to_map(90, 50)),
                                                                   prompt_id=6)], feedback=Recorder())


def test_prompts_on_the_raster_edges(tmp_path):
    """Points are on the raster from pixel 0 up to (not at) its width and height; a box
    whose top is the raster's bottom edge is off it; a line without a spacing gets a point
    every LINE_SPACING_PX (32) output pixels."""
    raster = write_rgb(tmp_path / "edges.tif", scene(256, 256, seed=2))
    on = [(0.0, 0.0), (0.25, 0.25), (255.75, 255.75)]
    off = [(-0.25, 5.0), (5.0, -0.25), (-5.0, 5.0), (256.0, 5.0), (5.0, 256.0)]
    prompts = [MapPrompt("point", (to_map(*p),), prompt_id=i) for i, p in enumerate(on + off)]
    prompts += [MapPrompt("box", (to_map(10, 256), to_map(50, 300)), prompt_id=20),
                MapPrompt("line", (to_map(10.5, 100.5), to_map(234.5, 100.5)), prompt_id=30)]
    with RasterSource(raster) as source:
        grid = plan(source, TilingOptions(), 256)
        mapped, flat = map_prompts(source, grid, prompts, 0.0, Recorder())
    assert [p.prompt_id for p, _ in mapped] == [0, 1, 2, 30] and flat == []
    line = mapped[-1][1]
    assert LINE_SPACING_PX == 32
    np.testing.assert_allclose(line[:, 0], np.arange(10.5, 235, 32))
    np.testing.assert_allclose(line[:, 1], 100.5)


def test_each_region_names_the_prompt_that_made_it(whole_tile_sam_ckpt, tmp_path, cache_dir):
    raster = write_rgb(tmp_path / "two.tif", scene(256, 512, seed=4) | 1)
    prompts = [MapPrompt("point", (to_map(100.5, 100.5),), class_name="a", prompt_id=11),
               MapPrompt("point", (to_map(400.5, 100.5),), class_name="b", prompt_id=22)]
    result = segment(raster, options(whole_tile_sam_ckpt), prompts)
    assert sorted((r.class_name, r.prompt_id) for r in result.regions) == [("a", 11), ("b", 22)]


def test_all_nodata_raster_is_a_sentence(tiny_sam_ckpt, tmp_path, cache_dir):
    raster = write_rgb(tmp_path / "empty.tif", np.zeros((256, 512, 3), np.uint8), nodata=0)
    mask_path = tmp_path / "classes.tif"
    with pytest.raises(InputError, match="The raster is nodata everywhere the prompts .* fall"):
        segment(raster, options(tiny_sam_ckpt), [MapPrompt("point", (to_map(300.5, 100.5),))],
                mask_path=str(mask_path))
    assert not mask_path.exists()
    assert not glob.glob(str(cache_dir / "segment" / "*" / "tile_*"))  # nothing was encoded


def fill(folder: str) -> None:
    """Fill the disk of `folder` to the last byte."""
    try:
        with open(os.path.join(folder, "filler"), "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:  # ENOSPC: full
        pass


def leftovers(*folders) -> list[str]:
    return [p for folder in folders for p in glob.glob(os.path.join(folder, "**", "*"), recursive=True)
            if os.path.isfile(p) and os.path.basename(p) != "filler"]


def test_full_disk_for_the_class_raster(tiny_sam_ckpt, tmp_path, cache_dir, small_disk):
    raster = write_rgb(tmp_path / "input.tif", scene(256, 256, seed=4))
    disk = small_disk(64)
    fill(disk)
    with pytest.raises(InputError, match=f"Could not write 'classes.tif' in the folder '{disk}': the disk is full"):
        segment(raster, options(tiny_sam_ckpt), [MapPrompt("point", (to_map(100.5, 100.5),))],
                mask_path=os.path.join(disk, "classes.tif"))
    assert leftovers(disk) == []


def test_full_disk_for_the_embedding_cache(tiny_sam_ckpt, tmp_path, small_disk, monkeypatch):
    """Room for the manifest and about one tile (tiny SAM: 32 KiB a tile) of three."""
    disk = small_disk(64)
    monkeypatch.setenv("GEOVL_CACHE_DIR", disk)
    raster = write_rgb(tmp_path / "input.tif", scene(256, 768, seed=5))
    line = MapPrompt("line", (to_map(20, 128), to_map(700, 128)))
    mask_path = tmp_path / "out" / "classes.tif"
    with pytest.raises(InputError, match=f"Could not write 'tile_0_[12].safetensors' in the folder '{disk}/segment/"
                                         ".*': the disk is full"):
        segment(raster, options(tiny_sam_ckpt), [line], mask_path=str(mask_path))
    assert not mask_path.exists()
    names = [os.path.basename(p) for p in leftovers(disk)]
    assert not [n for n in names if "partial" in n]
    assert "tile_0_2.safetensors" not in names


def test_read_only_folder_for_the_class_raster(tiny_sam_ckpt, tmp_path, cache_dir, small_disk):
    raster = write_rgb(tmp_path / "input.tif", scene(256, 256, seed=6))
    disk = small_disk(64, read_only=True)
    with pytest.raises(InputError, match="Could not write .* it is read-only"):
        segment(raster, options(tiny_sam_ckpt), [MapPrompt("point", (to_map(100.5, 100.5),))],
                mask_path=os.path.join(disk, "classes.tif"))
    assert leftovers(disk) == []


def test_box_that_only_touches_the_raster_edge(tiny_sam_ckpt, tmp_path, cache_dir):
    raster = write_rgb(tmp_path / "input.tif", scene(256, 256, seed=7))
    box = MapPrompt("box", (to_map(-60, 200), to_map(1, 100)), prompt_id=8)   # 1 px of it on the raster
    with pytest.raises(InputError, match="The object prompts only touch the edge of the raster"):
        segment(raster, options(tiny_sam_ckpt), [box])
