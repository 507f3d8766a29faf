"""LeanMaskDecoder against segment-anything's own MaskDecoder with the same weights."""
from __future__ import annotations

import pytest
import torch
from segment_anything.modeling import MaskDecoder, TwoWayTransformer

from geovl.models.sam_decoder import LeanMaskDecoder


def random_decoder(depth: int, seed: int) -> MaskDecoder:
    torch.manual_seed(seed)
    decoder = MaskDecoder(transformer_dim=32, transformer=TwoWayTransformer(depth=depth, embedding_dim=32,
                                                                            mlp_dim=64, num_heads=4),
                          num_multimask_outputs=3, iou_head_depth=3, iou_head_hidden_dim=16).eval()
    with torch.no_grad():   # no zero biases or unit norms, so every term is checked
        for parameter in decoder.parameters():
            parameter.add_(0.2 * torch.randn_like(parameter))
    return decoder


@pytest.mark.parametrize("shared_dense", [True, False])
@pytest.mark.parametrize("multimask", [True, False])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_equals_mask_decoder(depth, multimask, shared_dense):
    decoder = random_decoder(depth, seed=depth)
    objects, height, width = 3, 6, 5     # a grid that is not square, so rows and columns cannot swap unseen
    image = torch.randn(1, 32, height, width)
    image_pe = torch.randn(1, 32, height, width)
    sparse = torch.randn(objects, 4, 32)
    dense = torch.randn(1 if shared_dense else objects, 32, height, width)
    with torch.inference_mode():
        expected_masks, expected_iou = decoder(image_embeddings=image, image_pe=image_pe,
                                               sparse_prompt_embeddings=sparse,
                                               dense_prompt_embeddings=dense.expand(objects, -1, -1, -1),
                                               multimask_output=multimask)
        masks, iou = LeanMaskDecoder(decoder)(image, image_pe, sparse, dense, multimask)
    assert masks.shape == expected_masks.shape == (objects, 3 if multimask else 1, 4 * height, 4 * width)
    torch.testing.assert_close(masks, expected_masks, rtol=0, atol=1e-5 * float(expected_masks.abs().max()))
    torch.testing.assert_close(iou, expected_iou, rtol=0, atol=1e-5)
    assert len({tuple(m.flatten()[:8].tolist()) for m in masks[:, 0]}) == objects, "objects should differ"


def test_refuses_another_upscaling():
    decoder = random_decoder(1, seed=0)
    decoder.output_upscaling[0] = torch.nn.ConvTranspose2d(32, 8, kernel_size=3, stride=2)
    with pytest.raises(ValueError, match="2x2 stride-2"):
        LeanMaskDecoder(decoder)
