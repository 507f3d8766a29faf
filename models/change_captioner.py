"""Change captions (LEVIR-CC style: "many buildings are constructed along the road") from
any grounded VLM of geovl:ask, behind the ChangeCaptioner interface.

- Families that take several images in one prompt (Qwen2.5-VL, Qwen3-VL) see the before
  and the after image together, so the model itself compares them; PAIR_PROMPT asks for
  three labelled lines, which parse_change_answer reads.
- The others caption each image on its own; the change is the two captions composed as
  "before -> after", or "no visible change: ..." when the model says the same of both.
"""
from __future__ import annotations

import re
from typing import Callable

import numpy as np

from .base import ChangeCaption, ChangeCaptioner, GroundedVLM
from .resolver import load_vlm

PAIR_PROMPT = ("The first image was taken before, the second after, of the same place. Answer in three lines: "
               "'Before: <what is there before>', 'After: <what is there after>', "
               "'Change: <what changed, in one sentence>'.")
NO_CHANGE = "no visible change"

# A labelled line: markdown or list decoration, the label, a separator (":", "-", "=").
_LABELLED = re.compile(r"^[\W\d_]*(before|after|changes?)\b[\s*_'\"`]*[:=\-\u2013\u2014]+(.*)$", re.IGNORECASE)
# What models wrap around a value: emphasis, quotes echoed from the prompt, its <placeholders>.
_AROUND_VALUE = " \t*_'\"`<>,;."


def parse_change_answer(text: str) -> ChangeCaption:
    """The Before / After / Change lines of an answer to PAIR_PROMPT. Never raises: labels in
    any case, lines in any order, other lines ignored, the first non-empty value of a label
    kept, a missing label an empty field (no Change line: the change is composed from Before
    and After); text with no labelled line at all is the caption."""
    fields, labelled = {}, False
    for line in text.splitlines():
        match = _LABELLED.match(line)
        if match:
            labelled = True
            label = match.group(1).lower()
            key = "change" if label.startswith("change") else label
            value = match.group(2).strip(_AROUND_VALUE)
            if value and key not in fields:
                fields[key] = value
    if not labelled:
        return ChangeCaption(caption=text.strip())
    before, after = fields.get("before", ""), fields.get("after", "")
    return ChangeCaption(fields.get("change") or compose_change(before, after), before, after)


def compose_change(before: str, after: str) -> str:
    """The change as two single-image captions say it: "before -> after", or that nothing
    changed when they say the same (a model that sees no difference repeats itself)."""
    if before.casefold() == after.casefold():
        return f"{NO_CHANGE}: {before}" if before else ""
    return f"{before or '?'} -> {after or '?'}"


class VLMChangeCaptioner(ChangeCaptioner):
    """A loaded GroundedVLM captioning changes: both images in one prompt where the family
    takes several, else one caption per image."""

    def __init__(self, vlm: GroundedVLM):
        self.vlm = vlm
        self.name, self.device, self.dtype, self.input_size = vlm.name, vlm.device, vlm.dtype, vlm.input_size

    def caption_change(self, before: np.ndarray, after: np.ndarray, max_new_tokens: int) -> ChangeCaption:
        if self.vlm.takes_image_pairs:
            return parse_change_answer(self.vlm.generate_images([before, after], PAIR_PROMPT, max_new_tokens))
        first, second = (self.vlm.caption(image, max_new_tokens).strip() for image in (before, after))
        return ChangeCaption(compose_change(first, second), first, second)


def load_change_captioner(spec: str, device: str = "auto", precision: str = "auto",
                          log: Callable[[str], None] | None = None) -> ChangeCaptioner:
    """A change captioner on the grounded VLM `spec` (preset, folder or hub id), loaded and
    cached by resolver.load_vlm, whose errors name unknown, offline or non-VLM models."""
    return VLMChangeCaptioner(load_vlm(spec, device, precision, log=log))
