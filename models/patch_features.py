"""Dense patch features for the deep-feature change method, from the models the resolver
already loads: the image tower of a CLIP / SigLIP / open_clip embedder, or the image
encoder of a Segment Anything model.

The adapters wrap the loaded (and cached, shared) models rather than loading their own,
so a model used for retrieval or segmentation in the same session is not held twice, and
they never change the shared model's state (other runs may use it at the same time).
"""
from __future__ import annotations

import copy

import numpy as np
import torch

from ..errors import ModelError
from .base import ImageTextEmbedder, PatchFeatureExtractor, PromptSegmenter
from .open_clip_embedder import OpenClipEmbedder
from .transformers_embedder import TransformersEmbedder

# Where each Segment Anything family keeps its encoder's grid in the embedding `encode`
# returns: SAM's image embedding, SAM 2's coarsest level (the one its mask decoder
# attends to; the finer two are projections of earlier Hiera stages), SAM3's ViT grid.
SEGMENTER_GRID_KEYS = ("image_embeddings", "image_embeddings.2", "backbone_features")


class _Wrapper(PatchFeatureExtractor):
    """What every adapter takes from the model it wraps."""

    def __init__(self, model: ImageTextEmbedder | PromptSegmenter):
        self.name, self.device, self.dtype, self.input_size = model.name, model.device, model.dtype, model.input_size


class TransformersPatchFeatures(_Wrapper):
    """CLIP / SigLIP: the vision tower's last hidden state, without CLIP's class token.

    Patch tokens rather than the pooled embedding: the projection head is trained for
    whole-image similarity, while the tokens keep where in the tile things are."""

    def __init__(self, embedder: TransformersEmbedder):
        super().__init__(embedder)
        self.embedder = embedder
        self.grid = self.input_size // int(embedder.model.config.vision_config.patch_size)

    @torch.inference_mode()
    def patch_features(self, images: list[np.ndarray]) -> np.ndarray:
        pixels = self.embedder.preprocess(images).to(self.device, self.dtype)
        tokens = self.embedder.model.vision_model(pixel_values=pixels).last_hidden_state
        # ViTs put their extra tokens (CLIP's class token; SigLIP has none) before the patches.
        patches = tokens[:, -self.grid * self.grid:]
        return patches.reshape(len(images), self.grid, self.grid, -1).float().cpu().numpy()


class OpenClipPatchFeatures(_Wrapper):
    """open_clip ViTs: the patch tokens open_clip's VisionTransformer returns beside the
    pooled embedding when its `output_tokens` is set (after ln_post, class token dropped).

    The flag is set on a shallow copy of the tower, which shares its weights: flipping it
    on the shared model would make a concurrent `encode_image` get a tuple back."""

    def __init__(self, embedder: OpenClipEmbedder):
        from open_clip.modified_resnet import ModifiedResNet
        from open_clip.transformer import VisionTransformer

        super().__init__(embedder)
        visual = embedder.model.visual
        if isinstance(visual, ModifiedResNet):
            raise ModelError(
                f"'{self.name}' has a ResNet image tower ({embedder.arch}), which has no patch grid to compare "
                "patch by patch. Use a ViT model for deep-feature change, e.g. the preset remoteclip-vit-b-32.")
        if not isinstance(visual, VisionTransformer) or visual.attn_pool is not None:
            raise ModelError(
                f"'{self.name}' ({embedder.arch}) does not give open_clip ViT patch tokens, so it has no patch grid. "
                "Use a CLIP ViT model for deep-feature change, e.g. the preset remoteclip-vit-b-32.")
        self.embedder = embedder
        self.visual = copy.copy(visual)
        self.visual.output_tokens = True
        self.rows, self.cols = visual.grid_size

    @torch.inference_mode()
    def patch_features(self, images: list[np.ndarray]) -> np.ndarray:
        pixels = self.embedder.preprocess(images).to(self.device, self.dtype)
        _, tokens = self.visual(pixels)
        return tokens.reshape(len(images), self.rows, self.cols, -1).float().cpu().numpy()


class SegmenterPatchFeatures(_Wrapper):
    """Segment Anything: the image encoder's embedding, one vector per cell of its grid
    (64 x 64 for SAM and SAM 2 at 1024 px, 72 x 72 for SAM3 at 1008 px). A square tile of
    the encoder's size fills its input, so the grid covers the tile with no padding."""

    def __init__(self, segmenter: PromptSegmenter):
        super().__init__(segmenter)
        self.segmenter = segmenter

    def patch_features(self, images: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([self._grid(self.segmenter.encode(image)) for image in images])

    def _grid(self, embedding: dict[str, torch.Tensor]) -> np.ndarray:
        for key in SEGMENTER_GRID_KEYS:
            if key in embedding:
                return embedding[key].permute(0, 2, 3, 1).float().numpy()
        raise ModelError(f"'{self.name}' gives no image embedding laid out on a patch grid "
                         f"(it has {', '.join(embedding)}), so it cannot compare tiles patch by patch. "
                         "Use a SAM, SAM 2 or SAM3 model, or a CLIP model such as the preset clip-rsicd.")


def patch_features_of(model: ImageTextEmbedder | PromptSegmenter) -> PatchFeatureExtractor:
    """The patch feature extractor on top of a loaded embedder or segmenter."""
    if isinstance(model, PromptSegmenter):
        return SegmenterPatchFeatures(model)
    if isinstance(model, OpenClipEmbedder):
        return OpenClipPatchFeatures(model)
    if isinstance(model, TransformersEmbedder):
        return TransformersPatchFeatures(model)
    raise ModelError(f"'{model.name}' gives no patch features: use a CLIP, SigLIP, open_clip ViT or SAM model.")
