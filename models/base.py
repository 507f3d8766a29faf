"""Task interfaces the pipelines program against; one adapter per model family."""
from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from ..errors import InputError


class ImageTextEmbedder(ABC):
    """Embeds images and texts into one space; rows come back as unit float32 vectors.

    `preprocess` only touches the family's processor (no model), so pipelines may call
    it from a reader thread while `embed_pixels` runs on the model.
    """

    name: str            # what the user asked for (preset, hub id or path)
    device: torch.device
    dtype: torch.dtype
    input_size: int      # side of the square image the model takes, in pixels
    query_templates: tuple[str, ...] = ()  # the family's zero-shot templates ("a satellite photo of {}.")
    unit_template_mean: bool = True        # average unit template embeddings (else raw features)

    @abstractmethod
    def preprocess(self, images: list[np.ndarray]) -> torch.Tensor:
        """(H, W, 3) uint8 RGB images -> the model's pixel tensor (float32, CPU)."""

    @abstractmethod
    def _image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        """Pixel tensor on the model's device and dtype -> image features."""

    @abstractmethod
    def _text_features(self, texts: list[str]) -> torch.Tensor:
        """Texts -> text features."""

    @property
    def overlaps_reading(self) -> bool:
        """Whether tile reading should run in a thread beside the model: on an accelerator,
        or when torch leaves CPU cores free. On a CPU whose cores all run torch's OpenMP
        workers, a reader thread preempts one of them and costs more than it hides."""
        return self.device.type != "cpu" or torch.get_num_threads() < (os.cpu_count() or 1)

    @torch.inference_mode()
    def embed_pixels(self, pixels: torch.Tensor) -> np.ndarray:
        features = self._image_features(pixels.to(self.device, self.dtype))
        return _unit_rows(features)

    def embed_images(self, images: list[np.ndarray]) -> np.ndarray:
        return self.embed_pixels(self.preprocess(images))

    @torch.inference_mode()
    def embed_texts(self, texts: list[str]) -> np.ndarray:
        return _unit_rows(self._text_features(texts))

    @torch.inference_mode()
    def embed_query(self, text: str) -> np.ndarray:
        """A retrieval query as a unit vector. A short query (a class name such as "storage
        tanks") is embedded as the family's authors embed class names for zero-shot use: each
        of its templates filled in, the embeddings averaged (as unit vectors, or raw where
        `unit_template_mean` is False) and renormalised. A sentence, or any query to a model
        without templates, is embedded as it is."""
        if not (self.query_templates and is_short_query(text)):
            return self.embed_texts([text])[0]
        features = self._text_features([template.format(text.strip()) for template in self.query_templates]).float()
        if self.unit_template_mean:
            features = torch.nn.functional.normalize(features, dim=-1)
        return _unit_rows(features.mean(dim=0, keepdim=True))[0]


SHORT_QUERY_WORDS = 4


def is_short_query(text: str) -> bool:
    """Whether a query reads as a class name ("airport", "storage tanks") rather than a
    sentence ("a busy airport with many airplanes."): one to SHORT_QUERY_WORDS words and no
    sentence-ending punctuation."""
    words = text.split()
    return 0 < len(words) <= SHORT_QUERY_WORDS and not text.rstrip().endswith((".", "!", "?"))


def _unit_rows(features: torch.Tensor) -> np.ndarray:
    features = features.float()
    return torch.nn.functional.normalize(features, dim=-1).cpu().numpy()


# An image embedding as plain CPU tensors, so caches can store it with safetensors.
Embedding = dict[str, torch.Tensor]


@dataclass
class SegmentPrompt:
    """Sparse (and optional dense) prompts for one object, in the tile's pixels:
    x to the right, y down, origin at the tile's top-left corner."""
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))  # (N, 2) xy
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))        # (N,) 1 fg, 0 bg
    box: np.ndarray | None = None          # (4,) x0, y0, x1, y1
    mask_logits: np.ndarray | None = None  # dense prompt: low-res logits of an earlier decode


@dataclass
class Segmentation:
    mask: np.ndarray | None   # (H, W) bool at the tile's size (None: not asked for)
    score: float         # the model's own quality estimate (predicted IoU), 0..1
    logits: np.ndarray   # low-res logits, usable as the next decode's dense prompt


class PromptSegmenter(ABC):
    """Segment Anything and its kin: encode a tile once, decode many prompts against it.

    `encode` is the expensive part (seconds per tile on a CPU) and its result can be
    cached; `decode` is cheap (milliseconds per prompt).
    """

    name: str
    device: torch.device
    dtype: torch.dtype
    input_size: int        # side of the square image the encoder takes, in pixels
    takes_text: bool = False     # decode_text works (SAM 3 concepts)
    takes_points: bool = True    # decode works (point, box and dense prompts)

    @abstractmethod
    def encode(self, image: np.ndarray) -> Embedding:
        """(H, W, 3) uint8 RGB tile -> its embedding (CPU tensors)."""

    @abstractmethod
    def decode(self, embedding: Embedding, image_size: tuple[int, int], prompt: SegmentPrompt,
               multimask: bool = False) -> Segmentation:
        """One object's mask for `prompt` on a tile of `image_size` (h, w). With `multimask`
        the model proposes several masks and the one it scores best is returned (what SAM
        recommends for a single ambiguous point)."""

    def decode_batch(self, embedding: Embedding, image_size: tuple[int, int], prompts: Sequence[SegmentPrompt],
                     multimask: bool = False, with_masks: bool = True) -> list[Segmentation]:
        """decode for several objects of one prompt shape; families whose decoder takes a
        batch of objects decode them in one pass. `with_masks=False` asks only for scores
        and logits (the input of a refinement pass): a family may then leave mask None."""
        return [self.decode(embedding, image_size, prompt, multimask) for prompt in prompts]

    def decode_text(self, embedding: Embedding, image_size: tuple[int, int], text: str) -> list[Segmentation]:
        """Every instance of the concept `text` on the tile (text-capable models only)."""
        raise NotImplementedError(f"{self.name} cannot take text prompts.")


@dataclass
class Answer:
    """What a grounded VLM said about one image: the text with grounding markup removed,
    and every grounded object in the image's pixels (boxes from models/grounding.py)."""
    text: str
    boxes: list = field(default_factory=list)      # grounding.GroundedBox
    polygons: list = field(default_factory=list)   # (label, [(x, y), ...])
    dropped: int = 0                               # malformed or degenerate boxes left out


class GroundedVLM(ABC):
    """A vision-language model that answers a question about an image and grounds the
    objects it names (GeoChat, Florence-2, Qwen-VL, Kosmos-2)."""

    name: str
    device: torch.device
    dtype: torch.dtype
    input_size: int        # the family's native input side, in pixels (tiles default to it)
    model: torch.nn.Module  # the transformers model; its config bounds the prompt (model_inputs)
    takes_image_pairs: bool = False  # has generate_images(images, text, max_new_tokens) -> str

    @abstractmethod
    def ask(self, image: np.ndarray, question: str, grounded: bool, max_new_tokens: int) -> Answer:
        """Answer `question` about an (H, W, 3) uint8 RGB image; with `grounded`, use the
        family's grounding task or prompt so objects come back as boxes in its pixels."""

    def caption(self, image: np.ndarray, max_new_tokens: int) -> str:
        """A short description of an (H, W, 3) uint8 RGB image (what is there)."""
        return self.ask(image, "", False, max_new_tokens).text

    def model_inputs(self, inputs) -> dict:
        """The processor's output on the model's device, pixels in its dtype. A prompt
        longer than the model's position embeddings is refused with a sentence here,
        not by an IndexError deep in the model."""
        inputs = inputs.to(self.device)
        inputs["pixel_values"] = inputs["pixel_values"].to(self.dtype)
        config = self.model.config
        limit = getattr(getattr(config, "text_config", None), "max_position_embeddings", None) or getattr(
            config, "max_position_embeddings", None)
        length = int(inputs["input_ids"].shape[-1])
        if limit and length > limit:
            raise InputError(f"The question is too long for {self.name}: with its prompt and image it is "
                             f"{length:,} tokens, and the model reads at most {limit:,}. Ask a shorter question.")
        return inputs


class PatchFeatureExtractor(ABC):
    """A vision backbone's dense features: one vector per patch of a square image (the
    CLIP/SigLIP image tower's patch tokens, the SAM image encoder's embedding), for
    comparing two acquisitions patch by patch."""

    name: str
    device: torch.device
    dtype: torch.dtype
    input_size: int        # side of the square image the backbone takes, in pixels

    @abstractmethod
    def patch_features(self, images: list[np.ndarray]) -> np.ndarray:
        """(input_size, input_size, 3) uint8 RGB images -> (N, rows, cols, C) float32
        features, the patch grid covering each image evenly, row 0 at the top."""


@dataclass
class ChangeCaption:
    """What a model says changed between two images of the same place."""
    caption: str           # the change in words ("buildings were built on bare land")
    before: str = ""       # what is there before, where the model says it
    after: str = ""        # what is there after, where the model says it


class ChangeCaptioner(ABC):
    """Captions the change between a before and an after image of the same place."""

    name: str
    device: torch.device
    dtype: torch.dtype
    input_size: int

    @abstractmethod
    def caption_change(self, before: np.ndarray, after: np.ndarray, max_new_tokens: int) -> ChangeCaption:
        """Two (H, W, 3) uint8 RGB images of the same place -> the change in words."""
