"""GeoChat through the adapter, on the folder scripts/convert_geochat.py writes from a tiny
GeoChat-shaped checkpoint: GeoChat's template and task prefixes written out by hand,
LLaVA's own PIL expand2square with the processor's mean colour, greedy generation checked
against LlavaForConditionalGeneration + LlavaProcessor loaded independently (PIL image
processor, as the adapter), and the recorded GeoChat output mapped back from the padded
square into the image's pixels."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import LlavaForConditionalGeneration, LlavaProcessor

from geovl.models.geochat_vlm import GeoChatVLM, expand2square
from geovl.models.grounding import GroundedBox, parse_geochat
from geovl.models.resolver import load_vlm

from .conftest import scene

SYSTEM = ("A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, "
          "detailed, and polite answers to the human's questions.")
CLIP_MEAN_COLOUR = (122, 116, 104)  # tuple(int(x * 255) for x in (0.48145466, 0.4578275, 0.40821073))
RECORDED = "<p>1 white plane</p> {<49><48><57><56>|<90>}<delim>{<35><54><43><62>|<90>}"


@pytest.fixture(scope="module")
def vlm(tiny_geochat_llava_dir):
    return load_vlm(tiny_geochat_llava_dir, device="cpu", precision="fp32")


@pytest.fixture(scope="module")
def reference(tiny_geochat_llava_dir):
    """LLaVA's greedy reply on a padded image and a prompt: only the new tokens, decoded."""
    processor = LlavaProcessor.from_pretrained(tiny_geochat_llava_dir, backend="pil")
    model = LlavaForConditionalGeneration.from_pretrained(tiny_geochat_llava_dir).eval()

    def run(square, prompt: str, max_new_tokens: int) -> str:
        inputs = processor(images=square, text=prompt, return_tensors="pt")
        ids = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
        return processor.batch_decode(ids[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0].strip()
    return run


def llava_expand2square(pil_img, background_color):
    """LLaVA-1.5's (and GeoChat's mm_utils') expand2square, as published."""
    width, height = pil_img.size
    if width == height:
        return pil_img
    elif width > height:
        result = Image.new(pil_img.mode, (width, width), background_color)
        result.paste(pil_img, (0, (width - height) // 2))
        return result
    else:
        result = Image.new(pil_img.mode, (height, height), background_color)
        result.paste(pil_img, ((height - width) // 2, 0))
        return result


def test_load_vlm_gives_the_adapter(vlm):
    assert isinstance(vlm, GeoChatVLM) and isinstance(vlm.model, LlavaForConditionalGeneration)
    assert vlm.input_size == 504 and vlm.background == CLIP_MEAN_COLOUR
    assert vlm.device == torch.device("cpu") and vlm.dtype == torch.float32


@pytest.mark.parametrize("question, grounded, request_text", [
    ("Where are the airplanes parked?", True, "[grounding] Where are the airplanes parked?"),
    (" Find the white airplanes ", True, "[refer] Give me the location of <p> white airplanes </p>"),
    ("describe the scene", True, "[grounding] describe the scene"),
    ("", True, "[grounding] Describe the image in detail"),
    ("How many ships are there?", False, "How many ships are there?"),
    ("", False, "Describe the image in detail"),
])
def test_prompt_is_geochats_template(vlm, question, grounded, request_text):
    assert vlm.prompt(question, grounded) == f"{SYSTEM} USER: <image>\n{request_text} ASSISTANT:"


@pytest.mark.parametrize("shape", [(200, 300), (300, 120), (201, 300), (64, 64)])
def test_padding_is_llavas_expand2square(vlm, shape):
    image = scene(*shape, seed=1)
    expected = np.asarray(llava_expand2square(Image.fromarray(image), CLIP_MEAN_COLOUR))
    np.testing.assert_array_equal(expand2square(image, vlm.background), expected)


@pytest.mark.parametrize("shape, question, grounded", [
    ((200, 300), "Where are the airplanes?", True),
    ((300, 120), "what is this?", False),
])
def test_generation_equals_the_reference(vlm, reference, shape, question, grounded):
    """Llava on the hand-padded image and the hand-written prompt gives the adapter's reply
    (the tiny model's reply changes with a few grey levels of padding colour)."""
    image = scene(*shape, seed=2)
    square = llava_expand2square(Image.fromarray(image), CLIP_MEAN_COLOUR)
    prefix = "[grounding] " if grounded else ""
    expected = reference(square, f"{SYSTEM} USER: <image>\n{prefix}{question} ASSISTANT:", max_new_tokens=12)
    assert expected
    assert vlm.generate(np.asarray(square), vlm.prompt(question, grounded), max_new_tokens=12) == expected
    answer = vlm.ask(image, question, grounded=grounded, max_new_tokens=12)
    side = max(shape)
    assert answer.text == parse_geochat(expected, side, side).text


def test_recorded_boxes_map_back_into_a_wide_image(vlm):
    # 300 x 200 is padded to 300 x 300 with 50 rows above: x = v * 3, y = v * 3 - 50.
    answer = vlm.parse(RECORDED, 300, 200)
    assert answer.boxes == [GroundedBox("1 white plane", 147.0, 94.0, 171.0, 118.0),
                            GroundedBox("1 white plane", 105.0, 112.0, 129.0, 136.0)]
    assert answer.text == "1 white plane" and answer.dropped == 0


def test_rotated_clipped_and_padding_only_boxes(vlm):
    text = "<p>ship</p> {<10><0><30><20>|<60>}<delim>{<40><90><60><100>|<90>}"
    answer = vlm.parse(text, 300, 200)
    # θ 60: a quarter turn (the 60 x 60 square keeps its extents) and 30 degrees back,
    # clockwise; y 0..60 on the square -> -50..10, clipped to 0..10. The second box,
    # 120..180 x 270..300 turned a quarter (135..165 x 255..315), lies in the bottom padding.
    assert answer.boxes == [GroundedBox("ship", 30.0, 0.0, 90.0, 10.0, angle=30.0)]
    assert answer.dropped == 1


def test_recorded_boxes_map_back_into_a_tall_image(vlm):
    # 120 x 300 is padded to 300 x 300 with 90 columns on the left: x = v * 3 - 90, y = v * 3;
    # θ 90 turns the written 90..150 x 30..60 a quarter about (120, 45): 105..135 x 15..75.
    answer = vlm.parse("<p>a tank</p> {<30><10><50><20>|<90>}", 120, 300)
    assert answer.boxes == [GroundedBox("a tank", 15.0, 15.0, 45.0, 75.0)]


@pytest.mark.parametrize("shape", [(200, 300), (300, 120)])
def test_ask_any_image_size(vlm, shape):
    answer = vlm.ask(scene(*shape, seed=3), "planes", grounded=True, max_new_tokens=8)
    assert isinstance(answer.text, str) and answer.dropped >= 0
