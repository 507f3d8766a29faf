"""From a transformers folder or hub id to the GroundedVLM adapter of its family.

The family is read from the config's model_type; GeoChat is a Llava folder written by
scripts/convert_geochat.py.
"""
from __future__ import annotations

import torch
import transformers

from ..errors import ModelError
from .base import GroundedVLM
from .checkpoints import load_pretrained

VLM_TYPES = {
    "florence2": "Florence-2",
    "qwen2_5_vl": "Qwen2.5-VL",
    "qwen3_vl": "Qwen3-VL",
    "kosmos-2": "Kosmos-2",
    "llava": "GeoChat (converted to Llava)",
}


def adapter_class(model_type: str) -> type[GroundedVLM]:
    """The adapter for a config model_type (one of VLM_TYPES)."""
    if model_type == "florence2":
        from .florence2_vlm import Florence2VLM
        return Florence2VLM
    if model_type in ("qwen2_5_vl", "qwen3_vl"):
        from .qwen_vlm import QwenVLM
        return QwenVLM
    if model_type == "kosmos-2":
        from .kosmos2_vlm import Kosmos2VLM
        return Kosmos2VLM
    if model_type == "llava":
        from .geochat_vlm import GeoChatVLM
        return GeoChatVLM
    raise KeyError(model_type)


def load_transformers_vlm(name: str, source: str, is_hub: bool, device: torch.device,
                          dtype: torch.dtype) -> GroundedVLM:
    """The grounded VLM for a transformers folder or hub id (`source`)."""
    model_type = load_pretrained(transformers.AutoConfig, source, name, is_hub).model_type
    if model_type not in VLM_TYPES:
        raise ModelError(
            f"'{name}' is a '{model_type}' model, which GeoVL cannot ask questions of. Use a Florence-2, Qwen2.5-VL, "
            "Qwen3-VL or Kosmos-2 model, or a GeoChat checkpoint converted with scripts/convert_geochat.py "
            "(e.g. the preset florence-2-base).")
    return adapter_class(model_type)(name, source, is_hub, device, dtype)
