"""Named models: what a preset name in the MODEL parameter stands for."""
from __future__ import annotations

from dataclasses import dataclass


# Zero-shot templates: how each family's authors write a class name ("storage tanks") into
# the sentences they embed; GeoVL embeds a short query the same way (models/base.py).
RS5M_PHRASINGS = (  # om-ai-lab/RS5M inference/classname_and_prompt/*.py, one set per KIND
    "a KIND of many {}.", "a KIND of a {}.", "a KIND of the {}.", "a KIND of the hard to see {}.",
    "a KIND of a hard to see {}.", "a low resolution KIND of the {}.", "a low resolution KIND of a {}.",
    "a bad KIND of the {}.", "a bad KIND of a {}.", "a cropped KIND of the {}.", "a cropped KIND of a {}.",
    "a bright KIND of the {}.", "a bright KIND of a {}.", "a dark KIND of the {}.", "a dark KIND of a {}.",
    "a close-up KIND of the {}.", "a close-up KIND of a {}.", "a black and white KIND of the {}.",
    "a black and white KIND of a {}.", "a jpeg corrupted KIND of the {}.", "a jpeg corrupted KIND of a {}.",
    "a blurry KIND of the {}.", "a blurry KIND of a {}.", "a good KIND of the {}.", "a good KIND of a {}.",
    "a KIND of the large {}.", "a KIND of a large {}.", "a KIND of the nice {}.", "a KIND of a nice {}.",
    "a KIND of the small {}.", "a KIND of a small {}.", "a KIND of the weird {}.", "a KIND of a weird {}.",
    "a KIND of the cool {}.", "a KIND of a cool {}.",
)
RS5M_TEMPLATES = tuple(
    phrasing.replace("a KIND", "an KIND" if kind[0] in "aeiou" else "a KIND").replace("KIND", kind)
    for kind in ("remote sensing image", "aerial image", "satellite image") for phrasing in RS5M_PHRASINGS)
# RemoteCLIP was trained and evaluated with ITRA, whose satellite zero-shot templates these are
# (ChenDelong1999/ITRA itra/data/classname_and_prompt/EuroSAT.py, CLIP's EuroSAT prompts).
SATELLITE_PHOTO_TEMPLATES = ("a centered satellite photo of {}.", "a centered satellite photo of a {}.",
                             "a centered satellite photo of the {}.")
GIT_RSCLIP_TEMPLATES = ("a remote sensing image of {}",)    # the lcybuaa/Git-RSCLIP model card
CLIP_RSICD_TEMPLATES = ("Aerial photograph of {}",)        # arampacha/CLIP-rsicd run_clip_eval.py
# OpenAI CLIP: open_clip.zero_shot_metadata.SIMPLE_IMAGENET_TEMPLATES, the 7 of OpenAI's 80 it keeps
OPENAI_CLIP_TEMPLATES = ("itap of a {}.", "a bad photo of the {}.", "a origami {}.", "a photo of the large {}.",
                         "a {} in a video game.", "art of the {}.", "a photo of the small {}.")


@dataclass(frozen=True)
class EmbedderPreset:
    repo: str                   # Hugging Face hub id
    family: str                 # "transformers" (CLIP/SigLIP) or "open_clip"
    filename: str | None = None  # open_clip: checkpoint file in the repo
    arch: str | None = None      # open_clip: architecture name, with the authors' activation
    text_prefix: str = ""        # prepended to every query, as the model was trained
    description: str = ""
    templates: tuple[str, ...] = ()  # zero-shot templates for short queries, "{}" the query
    # Mean of unit template embeddings, renormalised (open_clip's zero-shot classifier); False:
    # mean of the raw features, normalised (RS5M's and ITRA's zeroshot_classifier).
    unit_template_mean: bool = True


# The open_clip checkpoints are OpenAI CLIP fine-tuned, loaded by their authors through open_clip's
# "openai" path, which builds QuickGELU (RS5M inference.py, RemoteCLIP retrieval.py, ITRA's
# --image-model-tag openai); the plain names build GELU and load the same tensors silently.
EMBEDDER_PRESETS: dict[str, EmbedderPreset] = {
    "clip-rsicd": EmbedderPreset(
        "flax-community/clip-rsicd-v2", "transformers",
        description="CLIP ViT-B/32 fine-tuned on RSICD; fast on a CPU", templates=CLIP_RSICD_TEMPLATES),
    "git-rsclip": EmbedderPreset(
        "lcybuaa/Git-RSCLIP", "transformers",
        description="SigLIP ViT-L/16 at 256 px trained on Git-10M; strongest, slower",
        templates=GIT_RSCLIP_TEMPLATES),
    "git-rsclip-base": EmbedderPreset(
        "lcybuaa/Git-RSCLIP-base", "transformers",
        description="SigLIP ViT-B/16 at 256 px trained on Git-10M", templates=GIT_RSCLIP_TEMPLATES),
    "remoteclip-vit-b-32": EmbedderPreset(
        "chendelong/RemoteCLIP", "open_clip", "RemoteCLIP-ViT-B-32.pt", "ViT-B-32-quickgelu",
        description="RemoteCLIP ViT-B/32 (open_clip)",
        templates=SATELLITE_PHOTO_TEMPLATES, unit_template_mean=False),
    "remoteclip-vit-l-14": EmbedderPreset(
        "chendelong/RemoteCLIP", "open_clip", "RemoteCLIP-ViT-L-14.pt", "ViT-L-14-quickgelu",
        description="RemoteCLIP ViT-L/14 (open_clip)",
        templates=SATELLITE_PHOTO_TEMPLATES, unit_template_mean=False),
    "remoteclip-rn50": EmbedderPreset(
        "chendelong/RemoteCLIP", "open_clip", "RemoteCLIP-RN50.pt", "RN50-quickgelu",
        description="RemoteCLIP ResNet-50 (open_clip)",
        templates=SATELLITE_PHOTO_TEMPLATES, unit_template_mean=False),
    "georsclip-vit-b-32": EmbedderPreset(
        "Zilun/GeoRSCLIP", "open_clip", "ckpt/RS5M_ViT-B-32.pt", "ViT-B-32-quickgelu",
        description="GeoRSCLIP ViT-B/32 trained on RS5M (open_clip)",
        templates=RS5M_TEMPLATES, unit_template_mean=False),
    "clip-vit-b-32": EmbedderPreset(
        "openai/clip-vit-base-patch32", "transformers",
        description="OpenAI CLIP ViT-B/32, general-purpose baseline", templates=OPENAI_CLIP_TEMPLATES),
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
