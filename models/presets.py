"""Named models: what a preset name in the MODEL parameter stands for."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmbedderPreset:
    repo: str                   # Hugging Face hub id
    family: str                 # "transformers" (CLIP/SigLIP) or "open_clip"
    filename: str | None = None  # open_clip: checkpoint file in the repo
    arch: str | None = None      # open_clip: architecture name
    text_prefix: str = ""        # prepended to every query, as the model was trained
    description: str = ""


EMBEDDER_PRESETS: dict[str, EmbedderPreset] = {
    "clip-rsicd": EmbedderPreset(
        "flax-community/clip-rsicd-v2", "transformers",
        description="CLIP ViT-B/32 fine-tuned on RSICD; fast on a CPU"),
    "git-rsclip": EmbedderPreset(
        "lcybuaa/Git-RSCLIP", "transformers",
        description="SigLIP ViT-L/16 at 256 px trained on Git-10M; strongest, slower"),
    "git-rsclip-base": EmbedderPreset(
        "lcybuaa/Git-RSCLIP-base", "transformers",
        description="SigLIP ViT-B/16 at 256 px trained on Git-10M"),
    "remoteclip-vit-b-32": EmbedderPreset(
        "chendelong/RemoteCLIP", "open_clip", "RemoteCLIP-ViT-B-32.pt", "ViT-B-32",
        description="RemoteCLIP ViT-B/32 (open_clip)"),
    "remoteclip-vit-l-14": EmbedderPreset(
        "chendelong/RemoteCLIP", "open_clip", "RemoteCLIP-ViT-L-14.pt", "ViT-L-14",
        description="RemoteCLIP ViT-L/14 (open_clip)"),
    "remoteclip-rn50": EmbedderPreset(
        "chendelong/RemoteCLIP", "open_clip", "RemoteCLIP-RN50.pt", "RN50",
        description="RemoteCLIP ResNet-50 (open_clip)"),
    "georsclip-vit-b-32": EmbedderPreset(
        "Zilun/GeoRSCLIP", "open_clip", "ckpt/RS5M_ViT-B-32.pt", "ViT-B-32",
        description="GeoRSCLIP ViT-B/32 trained on RS5M (open_clip)"),
    "clip-vit-b-32": EmbedderPreset(
        "openai/clip-vit-base-patch32", "transformers",
        description="OpenAI CLIP ViT-B/32, general-purpose baseline"),
}

DEFAULT_EMBEDDER = "clip-rsicd"


@dataclass(frozen=True)
class SegmenterPreset:
    repo: str                   # Hugging Face hub id of a transformers SAM / SAM2 / SAM3 model
    description: str = ""


SEGMENTER_PRESETS: dict[str, SegmenterPreset] = {
    "sam-vit-b": SegmenterPreset("facebook/sam-vit-base", "SAM ViT-B; the fastest SAM on a CPU"),
    "sam-vit-l": SegmenterPreset("facebook/sam-vit-large", "SAM ViT-L"),
    "sam-vit-h": SegmenterPreset("facebook/sam-vit-huge", "SAM ViT-H (GeoSAM's base model)"),
    "sam2.1-hiera-tiny": SegmenterPreset("facebook/sam2.1-hiera-tiny", "SAM 2.1 Hiera-T"),
    "sam2.1-hiera-large": SegmenterPreset("facebook/sam2.1-hiera-large", "SAM 2.1 Hiera-L"),
    "sam3": SegmenterPreset("facebook/sam3", "SAM 3: text prompts (concepts such as 'road')"),
}

DEFAULT_SEGMENTER = "sam-vit-b"


@dataclass(frozen=True)
class VLMPreset:
    repo: str                   # Hugging Face hub id of a native transformers model
    description: str = ""


VLM_PRESETS: dict[str, VLMPreset] = {
    "florence-2-base": VLMPreset("florence-community/Florence-2-base",
                                 "Florence-2 base (0.23B): grounding and captions; runs on a CPU"),
    "florence-2-large": VLMPreset("florence-community/Florence-2-large", "Florence-2 large (0.77B)"),
    "qwen2.5-vl-3b": VLMPreset("Qwen/Qwen2.5-VL-3B-Instruct", "Qwen2.5-VL 3B: answers and JSON boxes; a GPU"),
    "qwen2.5-vl-7b": VLMPreset("Qwen/Qwen2.5-VL-7B-Instruct", "Qwen2.5-VL 7B; a GPU with 24 GB"),
    "qwen3-vl-2b": VLMPreset("Qwen/Qwen3-VL-2B-Instruct", "Qwen3-VL 2B: answers and boxes (0-1000 grid)"),
    "qwen3-vl-8b": VLMPreset("Qwen/Qwen3-VL-8B-Instruct", "Qwen3-VL 8B; a GPU with 24 GB"),
    "kosmos-2": VLMPreset("microsoft/kosmos-2-patch14-224", "Kosmos-2: grounded captions, 224 px"),
}

DEFAULT_VLM = "florence-2-base"
