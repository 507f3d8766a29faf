"""A query whose embedding overflows is refused with a sentence, never ranked as NaN."""
from __future__ import annotations

import numpy as np
import pytest

from geovl.errors import ModelError
from geovl.pipelines.options import ModelOptions, TilingOptions
from geovl.pipelines.retrieve import retrieve

from ..conftest import write_raster
from .test_index_damage import GREY, overflowing_clip_dir  # noqa: F401 (a fixture)


def test_an_example_whose_embedding_is_nan_is_a_model_error(tmp_path, cache_dir, overflowing_clip_dir):  # noqa: F811
    """Query by example over the white tiles the overflowing CLIP turns into NaN."""
    data = np.broadcast_to(GREY[:, None, None], (3, 128, 192)).copy()
    data[:, :, :64] = 255
    raster = write_raster(tmp_path / "bright.tif", data)
    x0, y0 = 500_000.0, 4_650_000.0  # write_raster's origin, 1 m pixels
    white_tile = (x0, y0 - 64, x0 + 64, y0)
    with pytest.raises(ModelError, match=r"The query's embedding is non-finite .* in fp32.*Run the model in fp32"):
        retrieve(raster, ModelOptions(overflowing_clip_dir, "cpu", "fp32"), examples=[white_tile],
                 tiling=TilingOptions(tile_size=64))
