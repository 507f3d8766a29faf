"""CLIP and SigLIP image-text embedders through transformers' Auto classes."""
from __future__ import annotations

import numpy as np
import torch

from ..errors import ModelError
from .base import ImageTextEmbedder
from .checkpoints import PIL_BACKEND, load_pretrained


# model_type in config.json -> family name, for the families this adapter drives.
EMBEDDER_TYPES = {"clip": "CLIP", "siglip": "SigLIP", "siglip2": "SigLIP 2"}


class TransformersEmbedder(ImageTextEmbedder):
    """CLIPModel / SiglipModel with the image processor and tokenizer saved beside them."""

    def __init__(self, name: str, source: str, is_hub: bool, device: torch.device, dtype: torch.dtype,
                 text_prefix: str = "", trust_remote_code: bool = False, templates: tuple[str, ...] = (),
                 unit_template_mean: bool = True):
        from transformers import AutoConfig, AutoImageProcessor, AutoModel, AutoTokenizer

        def load(loader, **kwargs):
            return load_pretrained(loader, source, name, is_hub, trust_remote_code=trust_remote_code, **kwargs)

        config = load(AutoConfig)
        if config.model_type not in EMBEDDER_TYPES:
            raise ModelError(
                f"'{name}' is a '{config.model_type}' model, not an image-text embedder. Retrieval needs a "
                f"CLIP or SigLIP family model ({', '.join(EMBEDDER_TYPES)}), e.g. the preset clip-rsicd.")
        self.name, self.device, self.dtype = name, device, dtype
        self.model_type = config.model_type
        self.model = load(AutoModel).to(device=device, dtype=dtype).eval()
        self.image_processor = load(AutoImageProcessor, **PIL_BACKEND)
        self.tokenizer = load(AutoTokenizer)
        self.text_prefix = text_prefix
        self.query_templates, self.unit_template_mean = templates, unit_template_mean
        self.input_size = int(config.vision_config.image_size)
        self.max_text_tokens = int(config.text_config.max_position_embeddings)

    def preprocess(self, images: list[np.ndarray]) -> torch.Tensor:
        return self.image_processor(images=list(images), return_tensors="pt")["pixel_values"].float()

    def _image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        return _pooled(self.model.get_image_features(pixel_values=pixels))

    def _text_features(self, texts: list[str]) -> torch.Tensor:
        siglip = self.model_type.startswith("siglip")
        # SigLIP was trained on max_length padding with no attention mask; CLIP pools at EOS.
        tokens = self.tokenizer([self.text_prefix + t for t in texts], return_tensors="pt", truncation=True,
                                max_length=self.max_text_tokens, padding="max_length" if siglip else True)
        names = ["input_ids"] if siglip else ["input_ids", "attention_mask"]
        return _pooled(self.model.get_text_features(**{k: tokens[k].to(self.device) for k in names}))


def _pooled(output) -> torch.Tensor:
    """transformers 5 returns a ModelOutput whose pooler_output is the projection; 4.x a tensor."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output
