"""segment() over a damaged embedding cache: a tile file broken between runs is computed
again instead of failing every later run."""
from __future__ import annotations

import glob

import pytest
from rasterio.transform import from_origin

from geovl.pipelines.options import ModelOptions
from geovl.pipelines.segment import MapPrompt, segment

from ..conftest import write_raster
from .conftest import scene

X0, Y0, PIXEL = 500_000.0, 4_650_000.0, 0.5


@pytest.mark.parametrize("damage", [b"", b"\x00not safetensors at all", b'{"image_embeddings"'])
def test_damaged_tile_file_is_encoded_again(tiny_sam_ckpt, tmp_path, cache_dir, damage):
    """The second run on a raster whose cached tile was emptied or overwritten re-encodes that tile and succeeds."""
    raster = write_raster(tmp_path / "scene.tif", scene(256, 256, seed=3).transpose(2, 0, 1).copy(),
                          crs="EPSG:32631", transform=from_origin(X0, Y0, PIXEL, PIXEL))
    prompts = [MapPrompt("point", ((X0 + 30.5 * PIXEL, Y0 - 40.5 * PIXEL),))]
    options = ModelOptions(tiny_sam_ckpt, device="cpu", precision="fp32")
    first = segment(raster, options, prompts)
    (tile,) = glob.glob(str(cache_dir / "segment" / "*" / "tile_*.safetensors"))
    with open(tile, "wb") as f:
        f.write(damage)
    again = segment(raster, options, prompts)
    assert first.tiles_encoded == again.tiles_encoded == 1
    assert [r.area_m2 for r in again.regions] == [r.area_m2 for r in first.regions]
    third = segment(raster, options, prompts)
    assert third.tiles_encoded == 0
