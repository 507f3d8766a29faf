"""Task interfaces the pipelines program against; one adapter per model family."""
from __future__ import annotations

import os
from abc import ABC, abstractmethod

import numpy as np
import torch


class ImageTextEmbedder(ABC):
    """Embeds images and texts into one space; rows come back as unit float32 vectors.

    `preprocess` only touches the family's processor (no model), so pipelines may call
    it from a reader thread while `embed_pixels` runs on the model.
    """

    name: str            # what the user asked for (preset, hub id or path)
    device: torch.device
    dtype: torch.dtype
    input_size: int      # side of the square image the model takes, in pixels

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


def _unit_rows(features: torch.Tensor) -> np.ndarray:
    features = features.float()
    return torch.nn.functional.normalize(features, dim=-1).cpu().numpy()
