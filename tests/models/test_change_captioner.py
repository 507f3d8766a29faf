"""Change captions from the geovl:ask VLMs. Qwen-VL's two-image prompt is checked against the
family's reference path built here (chat template with two image entries, the processor on
[before, after], greedy generate, new tokens decoded), a memorised tiny Qwen2.5-VL shows the
answer's lines landing in the right fields, and the single-image families against each
adapter's own captions of each image."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from transformers import (AutoProcessor, Florence2ForConditionalGeneration, Florence2Processor,
                          Qwen2_5_VLForConditionalGeneration, Qwen2VLImageProcessorPil, Qwen3VLForConditionalGeneration)

from geovl.errors import ModelError
from geovl.models.base import ChangeCaption
from geovl.models.change_captioner import (NO_CHANGE, PAIR_PROMPT, VLMChangeCaptioner, compose_change,
                                           load_change_captioner, parse_change_answer)
from geovl.models.florence2_vlm import SHORT_CAPTION
from geovl.models.resolver import load_vlm

from ..conftest import CHANGE_ANSWER, CHANGE_TILE
from .conftest import scene

RECORDED = ChangeCaption("buildings were built on bare land", "bare land", "buildings")


@pytest.mark.parametrize("text, expected", [
    (CHANGE_ANSWER, RECORDED),
    ("Sure! Comparing the two images:\nBefore: bare land\nAfter: buildings\nChange: buildings were built on bare land"
     "\nLet me know if you need more.", RECORDED),
    ("before: bare land\nAFTER: buildings\nchange: buildings were built on bare land", RECORDED),
    ("Change: buildings were built on bare land.\r\nAfter: buildings\r\nBefore: bare land", RECORDED),
    ("**Before:** bare land\n**After:** buildings\n**Change:** buildings were built on bare land", RECORDED),
    ("- 'Before: <bare land>',\n- 'After: <buildings>',\n- 'Change: <buildings were built on bare land>'.", RECORDED),
    ("1. Before - bare land\n2. After \u2013 buildings\n3. Changes = buildings were built on bare land", RECORDED),
    ("Before: bare land\nChange: a road was built", ChangeCaption("a road was built", "bare land", "")),
    ("Change: many buildings are constructed along the road",
     ChangeCaption("many buildings are constructed along the road")),
    # no Change line: composed from Before and After, as for single-image families
    ("Before:\nAfter: buildings\nBefore: bare land", ChangeCaption("bare land -> buildings", "bare land", "buildings")),
    ("After: buildings", ChangeCaption("? -> buildings", "", "buildings")),
    ("  many buildings are constructed along the road \n", ChangeCaption("many buildings are constructed along the road")),
    ("Beforehand there was a field; afterwards houses.", ChangeCaption("Beforehand there was a field; afterwards houses.")),
    ("", ChangeCaption("")),
])
def test_parse_change_answer(text, expected):
    assert parse_change_answer(text) == expected


LABELLED_PIECES = st.sampled_from(["Before", "after", "CHANGE", "Changes", ":", " - ", "=", "\n", "\r\n", "**", "'",
                                   "<", ">", " ", "bare land", "1.", "\u2014", "\x0b", "\u2028"])


@given(st.one_of(st.text(), st.lists(st.one_of(LABELLED_PIECES, st.text(max_size=3))).map("".join)))
def test_parse_change_answer_never_raises(text):
    parsed = parse_change_answer(text)
    assert all(isinstance(field, str) for field in (parsed.caption, parsed.before, parsed.after))
    assert all(field == field.strip() for field in (parsed.caption, parsed.before, parsed.after))


def test_compose_change():
    assert compose_change("bare land", "buildings") == "bare land -> buildings"
    assert compose_change("", "buildings") == "? -> buildings"
    assert compose_change("a field", "A field") == f"{NO_CHANGE}: a field"
    assert compose_change("", "") == ""


QWEN_FAMILIES = {"qwen2_5_vl": ("tiny_qwen2_5_vl_dir", Qwen2_5_VLForConditionalGeneration),
                 "qwen3_vl": ("tiny_qwen3_vl_dir", Qwen3VLForConditionalGeneration)}


def qwen_reference(folder: str, model_class, images: list[np.ndarray], text: str, max_new_tokens: int) -> str:
    """The model card's greedy chat generation with several images in one user turn."""
    processor = AutoProcessor.from_pretrained(folder)
    processor.image_processor = Qwen2VLImageProcessorPil.from_pretrained(folder)
    model = model_class.from_pretrained(folder).eval()
    content = [{"type": "image"} for _ in images] + [{"type": "text", "text": text}]
    chat = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True)
    inputs = processor(text=chat, images=images, return_tensors="pt")
    assert inputs["image_grid_thw"].shape[0] == len(images)
    ids = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return processor.batch_decode(ids[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0]


@pytest.mark.parametrize("family", list(QWEN_FAMILIES))
def test_qwen_pair_is_the_reference(request, family):
    fixture, model_class = QWEN_FAMILIES[family]
    folder = request.getfixturevalue(fixture)
    captioner = load_change_captioner(folder, device="cpu", precision="fp32")
    before, after = scene(120, 90, seed=1), scene(120, 90, seed=2)
    expected = qwen_reference(folder, model_class, [before, after], PAIR_PROMPT, max_new_tokens=30)
    assert expected, "the tiny model should generate text"
    assert captioner.vlm.generate_images([before, after], PAIR_PROMPT, max_new_tokens=30) == expected
    assert captioner.caption_change(before, after, max_new_tokens=30) == parse_change_answer(expected)
    # Both images reach the model, in order.
    assert expected != qwen_reference(folder, model_class, [after, before], PAIR_PROMPT, max_new_tokens=30)


def test_memorised_qwen_answer_fills_the_fields(memorised_change_qwen_dir):
    captioner = load_change_captioner(memorised_change_qwen_dir, device="cpu", precision="fp32")
    rng = np.random.default_rng(7)  # pairs it was not trained on
    for before, after in [rng.integers(0, 255, (2, CHANGE_TILE, CHANGE_TILE, 3), dtype=np.uint8),
                          (scene(CHANGE_TILE, CHANGE_TILE, seed=3), scene(CHANGE_TILE, CHANGE_TILE, seed=4))]:
        assert captioner.caption_change(before, after, max_new_tokens=100) == RECORDED


def test_florence2_caption_is_the_short_caption_task(tiny_florence2_dir):
    vlm = load_vlm(tiny_florence2_dir, device="cpu", precision="fp32")
    image = scene(120, 90, seed=3)
    processor = Florence2Processor.from_pretrained(tiny_florence2_dir)
    model = Florence2ForConditionalGeneration.from_pretrained(tiny_florence2_dir).eval()
    ids = model.generate(**processor(text="<CAPTION>", images=image, return_tensors="pt"), max_new_tokens=20,
                         do_sample=False, num_beams=1)
    generated = processor.batch_decode(ids, skip_special_tokens=False)[0]
    expected = processor.post_process_generation(generated, task="<CAPTION>")["<CAPTION>"]
    assert SHORT_CAPTION == "<CAPTION>" and expected, "the tiny model should generate text"
    assert vlm.caption(image, max_new_tokens=20) == expected


# The tiny Kosmos-2 writes only grounding markup after its prompt, so its caption of any image
# is the prompt, "An image of": the same text for both images.
@pytest.mark.parametrize("fixture, same_text", [("tiny_florence2_dir", False), ("tiny_kosmos2_dir", True),
                                                ("tiny_geochat_llava_dir", False)])
def test_single_image_families_compose_two_captions(request, fixture, same_text):
    vlm = load_vlm(request.getfixturevalue(fixture), device="cpu", precision="fp32")
    before, after = scene(120, 90, seed=1), np.full((120, 90, 3), 250, np.uint8)
    first, second = vlm.caption(before, max_new_tokens=12).strip(), vlm.caption(after, max_new_tokens=12).strip()
    assert first and (first == second) == same_text
    composed = f"{NO_CHANGE}: {first}" if same_text else f"{first} -> {second}"
    captioner = VLMChangeCaptioner(vlm)
    assert captioner.caption_change(before, after, max_new_tokens=12) == ChangeCaption(composed, first, second)
    assert captioner.caption_change(before, before, max_new_tokens=12) == ChangeCaption(f"{NO_CHANGE}: {first}",
                                                                                        first, first)


def test_load_change_captioner_routes_by_family(tiny_qwen2_5_vl_dir, tiny_florence2_dir):
    for folder, pairs in [(tiny_qwen2_5_vl_dir, True), (tiny_florence2_dir, False)]:
        captioner = load_change_captioner(folder, device="cpu", precision="fp32")
        vlm = load_vlm(folder, device="cpu", precision="fp32")
        assert isinstance(captioner, VLMChangeCaptioner) and captioner.vlm is vlm
        assert vlm.takes_image_pairs == pairs
        assert (captioner.name, captioner.device, captioner.dtype, captioner.input_size) == \
               (folder, torch.device("cpu"), torch.float32, vlm.input_size)
    before, after = scene(56, 56, seed=5), scene(56, 56, seed=6)
    pairs = load_change_captioner(tiny_qwen2_5_vl_dir, device="cpu", precision="fp32")
    assert pairs.caption_change(before, after, 20) == \
           parse_change_answer(pairs.vlm.generate_images([before, after], PAIR_PROMPT, 20))
    composed = load_change_captioner(tiny_florence2_dir, device="cpu", precision="fp32")
    first, second = composed.vlm.caption(before, 20).strip(), composed.vlm.caption(after, 20).strip()
    assert composed.caption_change(before, after, 20) == ChangeCaption(compose_change(first, second), first, second)


def test_load_change_captioner_errors_are_load_vlm_errors(tiny_clip_dir, tmp_path):
    for spec, words in [(tiny_clip_dir, "cannot ask questions of"), (str(tmp_path / "missing"), "Unknown"),
                        (str(tmp_path), "no config.json")]:
        with pytest.raises(ModelError, match=words):
            load_change_captioner(spec, device="cpu")
