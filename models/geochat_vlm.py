"""GeoChat (MBZUAI/geochat-7B, a LLaVA-1.5 fork) behind the GroundedVLM interface, from the
transformers Llava folder that scripts/convert_geochat.py writes.

The adapter does what GeoChat's own code does around the model:

- prompt: LLaVA's llava_v1 template with one user turn, `{SYSTEM} USER: <image>\\n{q} ASSISTANT:`,
  and GeoChat's task prefixes. Grounded: other text that names something ("airplanes",
  "find the white planes") -> `[refer] Give me the location of <p> {subject phrase} </p>`
  (the referring form of GeoChat's evaluation: box what the text names); a question (ends
  with "?") or text naming nothing -> `[grounding] {q}` (GeoChat's grounded answer or
  description; no text: `[grounding] Describe the image in detail`). Answer only: the
  question without a prefix.
- image: padded to a centred square with the image processor's mean colour, as LLaVA-1.5's
  and GeoChat's `expand2square(image, tuple(int(x * 255) for x in image_processor.image_mean))`
  ((122, 116, 104) for CLIP), then resized by the processor to 504 px.
- boxes: `{<x1><y1><x2><y2>|<θ>}` on the 0..100 grid of that square, shifted back into the
  image's pixels and clipped; boxes wholly in the padding are dropped.

Generation is greedy; only the new tokens are decoded.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from .base import Answer, GroundedVLM
from .checkpoints import PIL_BACKEND, load_pretrained
from .grounding import GroundedBox, parse_geochat
from .questions import subject_phrase

SYSTEM = ("A chat between a curious human and an artificial intelligence assistant. "
          "The assistant gives helpful, detailed, and polite answers to the human's questions.")
TEMPLATE = SYSTEM + " USER: <image>\n{} ASSISTANT:"
DESCRIBE = "Describe the image in detail"


def expand2square(image: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """LLaVA's expand2square on an (H, W, 3) array: the image centred on a square of `colour`
    (offsets rounded down, as PIL's paste at (side - size) // 2)."""
    height, width = image.shape[:2]
    side = max(height, width)
    top, left = (side - height) // 2, (side - width) // 2
    square = np.empty((side, side, 3), np.uint8)
    square[:] = colour
    square[top:top + height, left:left + width] = image
    return square


def _unpad(box: GroundedBox, left: int, top: int, width: int, height: int) -> GroundedBox | None:
    """A box on the padded square in the image's pixels, clipped; None if nothing is left."""
    x0, x1 = (min(max(x - left, 0.0), width) for x in (box.x0, box.x1))
    y0, y1 = (min(max(y - top, 0.0), height) for y in (box.y0, box.y1))
    if x0 >= x1 or y0 >= y1:
        return None
    return dataclasses.replace(box, x0=x0, y0=y0, x1=x1, y1=y1)


class GeoChatVLM(GroundedVLM):
    """LlavaForConditionalGeneration with the LlavaProcessor saved beside it (504 px, `<image>`)."""

    def __init__(self, name: str, source: str, is_hub: bool, device: torch.device, dtype: torch.dtype):
        from transformers import LlavaForConditionalGeneration, LlavaProcessor

        self.name, self.device, self.dtype = name, device, dtype
        self.model = load_pretrained(LlavaForConditionalGeneration, source, name, is_hub)
        self.model = self.model.to(device=device, dtype=dtype).eval()
        self.processor = load_pretrained(LlavaProcessor, source, name, is_hub, **PIL_BACKEND)
        image_processor = self.processor.image_processor
        self.input_size = int(image_processor.crop_size["height"])
        self.background = tuple(int(x * 255) for x in image_processor.image_mean)

    def prompt(self, question: str, grounded: bool) -> str:
        """The templated text for `question`."""
        question, phrase = question.strip(), subject_phrase(question)
        if not grounded:
            task = question or DESCRIBE
        elif question.endswith("?") or not phrase:
            task = f"[grounding] {question or DESCRIBE}"
        else:
            task = f"[refer] Give me the location of <p> {phrase} </p>"
        return TEMPLATE.format(task)

    @torch.inference_mode()
    def generate(self, square: np.ndarray, text: str, max_new_tokens: int) -> str:
        """The reply to `text` about a square image: the new tokens only, greedy."""
        inputs = self.model_inputs(self.processor(images=square, text=text, return_tensors="pt"))
        ids = self.model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
        new = ids[:, inputs["input_ids"].shape[1]:]
        return self.processor.batch_decode(new, skip_special_tokens=True)[0].strip()

    def parse(self, generated: str, width: int, height: int) -> Answer:
        """Answer of GeoChat's reply about a `width` x `height` image (its boxes are on the padded square)."""
        side = max(width, height)
        parsed = parse_geochat(generated, side, side)
        boxes = [_unpad(box, (side - width) // 2, (side - height) // 2, width, height) for box in parsed.boxes]
        kept = [box for box in boxes if box is not None]
        return Answer(text=parsed.text, boxes=kept, dropped=parsed.dropped + len(boxes) - len(kept))

    def ask(self, image: np.ndarray, question: str, grounded: bool, max_new_tokens: int) -> Answer:
        height, width = image.shape[:2]
        square = expand2square(image, self.background)
        return self.parse(self.generate(square, self.prompt(question, grounded), max_new_tokens), width, height)
