"""The SAM architecture table against segment-anything's own builders (built on the meta
device: shapes and settings without gigabytes of weights)."""
from __future__ import annotations

import pytest
import torch
from segment_anything import sam_model_registry

from geovl.models.sam_segmenter import MODEL_TYPES


@pytest.mark.parametrize("name", ["vit_b", "vit_l", "vit_h"])
def test_each_model_type_is_what_segment_anything_builds(name):
    with torch.device("meta"):
        sam = sam_model_registry[name]()
    encoder, arch = sam.image_encoder, MODEL_TYPES[name]
    assert (arch.img_size, arch.embed_dim, arch.depth) == (encoder.img_size, encoder.patch_embed.proj.out_channels,
                                                          len(encoder.blocks))
    assert arch.num_heads == encoder.blocks[0].attn.num_heads
    assert arch.global_attn_indexes == tuple(i for i, block in enumerate(encoder.blocks) if block.window_size == 0)
    assert arch.window_size == max(block.window_size for block in encoder.blocks)
