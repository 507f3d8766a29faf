"""Kosmos-2 (native transformers, no remote code) behind the GroundedVLM interface.

Kosmos-2 continues a text prompt; `<grounding>` in front makes it link the phrases it
writes to boxes (`<phrase> x</phrase><object><patch_index_A><patch_index_B></object>`).
The prompts are the model card's (microsoft/kosmos-2-patch14-224):

- a question (ends with "?"): `Question: {q} Answer:` (the card's grounded VQA). The model
  repeats the prompt before its answer; the answer keeps only what follows "Answer:".
- other text that names something ("airplanes", "find the white planes"), grounded:
  `<grounding><phrase> {subject phrase}</phrase>` (the card's phrase grounding and referring
  expression comprehension: the model boxes that phrase, which a free prompt would only
  repeat unboxed).
- other text: the text itself as a prompt to continue (like the card's "Describe this image
  in detail:"); no text: `An image of` (the card's brief grounded caption).

Grounded prompts start with `<grounding>`, answer-only prompts do not. Boxes come from the
processor's own `post_process_generation` (normalised, 32 x 32 patch grid), scaled to the
image's pixels: the processor squashes the whole image to 224 x 224, nothing is cropped.
"""
from __future__ import annotations

import numpy as np
import torch

from .base import Answer, GroundedVLM
from .checkpoints import PIL_BACKEND, load_pretrained
from .grounding import parse_kosmos2
from .questions import subject_phrase

GROUNDING = "<grounding>"
CAPTION = "An image of"
ANSWER = "Answer:"


class Kosmos2VLM(GroundedVLM):
    """Kosmos2ForConditionalGeneration with the Kosmos2Processor saved beside it."""

    def __init__(self, name: str, source: str, is_hub: bool, device: torch.device, dtype: torch.dtype):
        from transformers import Kosmos2ForConditionalGeneration, Kosmos2Processor

        self.name, self.device, self.dtype = name, device, dtype
        self.model = load_pretrained(Kosmos2ForConditionalGeneration, source, name, is_hub)
        self.model = self.model.to(device=device, dtype=dtype).eval()
        self.processor = load_pretrained(Kosmos2Processor, source, name, is_hub, **PIL_BACKEND)
        # The vision tower takes exactly this side (224); the processor resizes every image to it.
        self.input_size = int(self.model.config.vision_config.image_size)

    def prompt(self, question: str, grounded: bool) -> str:
        """The processor text for `question`."""
        question, phrase = question.strip(), subject_phrase(question)
        grounding = f"{GROUNDING} " if grounded else ""
        if question.endswith("?"):
            return f"{grounding}Question: {question} {ANSWER}"
        if grounded and phrase:
            return f"{GROUNDING}<phrase> {phrase}</phrase>"
        return grounding + (question or CAPTION)

    @torch.inference_mode()
    def generate(self, image: np.ndarray, prompt: str, max_new_tokens: int) -> str:
        """The decoded text, prompt included (post-processing keeps what follows `</image>`), greedy."""
        inputs = self.model_inputs(self.processor(text=prompt, images=image, return_tensors="pt"))
        ids = self.model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
        # Grounding markup is made of added (not special) tokens, so it survives skip_special_tokens.
        return self.processor.batch_decode(ids, skip_special_tokens=True)[0]

    def parse(self, generated: str, prompt: str, width: int, height: int) -> Answer:
        """Answer of a generation for `prompt` on a `width` x `height` image."""
        caption, entities = self.processor.post_process_generation(generated)
        if prompt.endswith(ANSWER):  # the caption starts with the question it repeats
            caption = caption.split(ANSWER, 1)[-1]
        parsed = parse_kosmos2(entities, width, height, caption)
        return Answer(text=parsed.text, boxes=parsed.boxes, dropped=parsed.dropped)

    def ask(self, image: np.ndarray, question: str, grounded: bool, max_new_tokens: int) -> Answer:
        prompt = self.prompt(question, grounded)
        height, width = image.shape[:2]
        return self.parse(self.generate(image, prompt, max_new_tokens), prompt, width, height)
