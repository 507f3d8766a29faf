"""Qwen2.5-VL and Qwen3-VL (native transformers, no remote code) behind the GroundedVLM interface.

Both are chat models: the image and a request go through the processor's chat template.

- answer only: the question itself ("Describe this image." when it is empty).
- grounded: Qwen's grounding request for the question's subject phrase ("where are the
  airplanes parked?" -> "Locate every airplanes parked in the image and output the bbox
  coordinates in JSON format."), for every object when the question names nothing.

Boxes come back as JSON `[{"bbox_2d": [x1, y1, x2, y2], "label": ...}]`: Qwen2.5-VL in
pixels of its input as the image processor resized it (smart_resize), Qwen3-VL on a 0..1000
grid. grounding.parse_qwen maps both to the image's pixels.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .base import Answer, GroundedVLM
from .checkpoints import PIL_BACKEND, load_pretrained
from .grounding import parse_qwen
from .questions import subject_phrase

GROUNDING = "Locate every {} in the image and output the bbox coordinates in JSON format."
DESCRIBE = "Describe this image."


class QwenVLM(GroundedVLM):
    """Qwen2_5_VLForConditionalGeneration or Qwen3VLForConditionalGeneration, by the config's
    model_type, with the processor saved beside it. Both take several images in one prompt."""

    takes_image_pairs = True

    def __init__(self, name: str, source: str, is_hub: bool, device: torch.device, dtype: torch.dtype):
        from transformers import (AutoConfig, AutoImageProcessor, AutoProcessor, Qwen2_5_VLForConditionalGeneration,
                                  Qwen3VLForConditionalGeneration)

        self.name, self.device, self.dtype = name, device, dtype
        config = load_pretrained(AutoConfig, source, name, is_hub)
        self.relative_1000 = config.model_type == "qwen3_vl"
        model_class = Qwen3VLForConditionalGeneration if self.relative_1000 else Qwen2_5_VLForConditionalGeneration
        self.model = load_pretrained(model_class, source, name, is_hub, config=config)
        self.model = self.model.to(device=device, dtype=dtype).eval()
        # The processor's video processor (required, even for images) has no PIL backend:
        # load the processor as saved, then swap in the PIL image processor alone.
        self.processor = load_pretrained(AutoProcessor, source, name, is_hub)
        self.processor.image_processor = load_pretrained(AutoImageProcessor, source, name, is_hub, **PIL_BACKEND)
        images = self.processor.image_processor
        # A square tile of this side passes smart_resize unchanged (a multiple of patch x merge,
        # within max_pixels), so the model sees tile pixels 1:1; 1024 at most keeps it near a
        # thousand image tokens (1008 px: 36 x 36 for Qwen2.5-VL; 1024 px: 32 x 32 for Qwen3-VL).
        factor = images.patch_size * images.merge_size
        self.input_size = min(1024, math.isqrt(images.size["longest_edge"])) // factor * factor

    def prompt(self, question: str, grounded: bool) -> str:
        """The user's request for `question`."""
        if grounded:
            return GROUNDING.format(subject_phrase(question) or "object")
        return question.strip() or DESCRIBE

    @torch.inference_mode()
    def _chat(self, images: list[np.ndarray], text: str, max_new_tokens: int) -> tuple[str, torch.Tensor]:
        """The answer to `text` about `images`, all in one user turn in this order (greedy,
        special tokens skipped), and the processor's (t, rows, columns) patch grid of each image."""
        content = [{"type": "image"} for _ in images] + [{"type": "text", "text": text}]
        chat = self.processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True)
        inputs = self.model_inputs(self.processor(text=chat, images=images, return_tensors="pt"))
        ids = self.model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
        generated = self.processor.batch_decode(ids[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0]
        return generated, inputs["image_grid_thw"]

    def generate(self, image: np.ndarray, text: str, max_new_tokens: int) -> tuple[str, tuple[int, int]]:
        """The answer to `text` about `image` (greedy, special tokens skipped), and the
        (height, width) the processor resized the image to."""
        generated, grids = self._chat([image], text, max_new_tokens)
        _, rows, columns = grids[0].tolist()  # in patches
        patch = self.processor.image_processor.patch_size
        return generated, (rows * patch, columns * patch)

    def generate_images(self, images: list[np.ndarray], text: str, max_new_tokens: int) -> str:
        """The answer to `text` about several (H, W, 3) uint8 RGB images shown together, in
        order ("the first image ..."), greedy; what GroundedVLM.takes_image_pairs promises."""
        return self._chat(images, text, max_new_tokens)[0]

    def parse(self, generated: str, width: int, height: int, resized: tuple[int, int]) -> Answer:
        """Answer of a generation about a `width` x `height` image the processor resized to
        `resized` (height, width)."""
        parsed = parse_qwen(generated, width, height, resized=resized, relative_1000=self.relative_1000)
        return Answer(text=parsed.text, boxes=parsed.boxes, dropped=parsed.dropped)

    def ask(self, image: np.ndarray, question: str, grounded: bool, max_new_tokens: int) -> Answer:
        height, width = image.shape[:2]
        generated, resized = self.generate(image, self.prompt(question, grounded), max_new_tokens)
        return self.parse(generated, width, height, resized)
