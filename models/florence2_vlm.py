"""Florence-2 (native transformers, no remote code) behind the GroundedVLM interface.

Florence-2 is prompted with task tokens, not chat. The adapter picks the task:

- answer only: `<MORE_DETAILED_CAPTION>` when the question is empty or generic ("what is in
  this image?"), else the question itself as a free prompt (the processor passes text
  without a task token through unchanged; fine-tuned `-ft` checkpoints answer such prompts).
- grounded: `<CAPTION_TO_PHRASE_GROUNDING>` with the question's subject phrase as the
  caption ("where are the airplanes parked?" -> "airplanes parked"), so the model boxes that
  phrase rather than every noun of the question (the port of "tanks in this port"); `<OD>`
  (all objects it knows) when the question names nothing.
- caption (a short label: what is there before and after a change): `<CAPTION>`.

Boxes come from grounding.parse_florence2, which maps `<loc_N>` bins exactly as the
processor's `post_process_generation` does, and for phrase grounding leaves out the phrases
the processor's post-processor config bans ("the image"), but never raises on malformed
text and counts what it drops.
"""
from __future__ import annotations

import numpy as np
import torch

from .base import Answer, GroundedVLM
from .checkpoints import PIL_BACKEND, load_pretrained
from .grounding import parse_florence2
from .questions import subject_phrase

CAPTION = "<MORE_DETAILED_CAPTION>"
SHORT_CAPTION = "<CAPTION>"  # one phrase: a label (a change's before and after), where CAPTION writes a paragraph
GROUNDING = "<CAPTION_TO_PHRASE_GROUNDING>"
DETECTION = "<OD>"

class Florence2VLM(GroundedVLM):
    """Florence2ForConditionalGeneration with the Florence2Processor saved beside it."""

    def __init__(self, name: str, source: str, is_hub: bool, device: torch.device, dtype: torch.dtype):
        from transformers import Florence2ForConditionalGeneration, Florence2Processor

        self.name, self.device, self.dtype = name, device, dtype
        self.model = load_pretrained(Florence2ForConditionalGeneration, source, name, is_hub)
        self.model = self.model.to(device=device, dtype=dtype).eval()
        self.processor = load_pretrained(Florence2Processor, source, name, is_hub, **PIL_BACKEND)
        self.input_size = int(self.processor.image_processor.size["height"])

    def prompt(self, question: str, grounded: bool) -> tuple[str, str]:
        """(task token, processor text) for `question`."""
        phrase = subject_phrase(question)
        if grounded:
            return (GROUNDING, GROUNDING + phrase) if phrase else (DETECTION, DETECTION)
        return (CAPTION, question.strip()) if phrase else (CAPTION, CAPTION)

    @torch.inference_mode()
    def generate(self, image: np.ndarray, text: str, max_new_tokens: int) -> str:
        """The raw generated text (special and location tokens kept), greedy."""
        inputs = self.model_inputs(self.processor(images=image, text=text, return_tensors="pt"))
        ids = self.model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
        return self.processor.batch_decode(ids, skip_special_tokens=False)[0]

    def parse(self, generated: str, task: str, width: int, height: int) -> Answer:
        """Answer of a generation for `task` on a `width` x `height` image."""
        if task in (CAPTION, SHORT_CAPTION):
            return Answer(text=self.processor.post_process_generation(generated, task=task)[task])
        # Phrase grounding leaves out the post-processor config's banned phrases, as the processor does.
        banned = self.processor.post_processor.banned_grounding_tokens if task == GROUNDING else ()
        parsed = parse_florence2(generated, width, height, banned=banned)
        return Answer(text=parsed.text, boxes=parsed.boxes, polygons=parsed.polygons, dropped=parsed.dropped)

    def ask(self, image: np.ndarray, question: str, grounded: bool, max_new_tokens: int) -> Answer:
        task, text = self.prompt(question, grounded)
        height, width = image.shape[:2]
        return self.parse(self.generate(image, text, max_new_tokens), task, width, height)

    def caption(self, image: np.ndarray, max_new_tokens: int) -> str:
        """Florence-2's short `<CAPTION>` task, not the answer-only paragraph."""
        height, width = image.shape[:2]
        return self.parse(self.generate(image, SHORT_CAPTION, max_new_tokens), SHORT_CAPTION, width, height).text
