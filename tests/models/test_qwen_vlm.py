"""Qwen2.5-VL and Qwen3-VL through the adapter, checked against the documented reference path:
the processor's chat template with an image and the request, `model.generate(**processor(...))`,
the new tokens decoded with `skip_special_tokens=True`, then `grounding.parse_qwen` with the
resized size read from `image_grid_thw`; model and processor loaded independently from the
same folder (the processor with the PIL image processor the adapter uses, so the pixels and
hence the greedy tokens match exactly)."""
from __future__ import annotations

import pytest
import torch
from transformers import (AutoProcessor, Qwen2_5_VLForConditionalGeneration, Qwen2VLImageProcessorPil,
                          Qwen3VLForConditionalGeneration)

from geovl.models.base import Answer
from geovl.models.grounding import GroundedBox, parse_qwen
from geovl.models.qwen_vlm import QwenVLM
from geovl.models.resolver import load_vlm

from .conftest import scene

FAMILIES = {
    "qwen2_5_vl": ("tiny_qwen2_5_vl_dir", Qwen2_5_VLForConditionalGeneration, False),
    "qwen3_vl": ("tiny_qwen3_vl_dir", Qwen3VLForConditionalGeneration, True),
}
RECORDED = '```json\n[{"bbox_2d": [10, 20, 110, 220], "label": "plane"}]\n```'


@pytest.fixture(scope="module", params=list(FAMILIES))
def family(request):
    """(folder, model class, relative_1000, adapter) of one family."""
    fixture, model_class, relative_1000 = FAMILIES[request.param]
    folder = request.getfixturevalue(fixture)
    return folder, model_class, relative_1000, load_vlm(folder, device="cpu", precision="fp32")


def reference(folder: str, model_class, relative_1000: bool, image, text: str, max_new_tokens: int) -> Answer:
    """The model card's greedy chat generation, parsed with parse_qwen."""
    processor = AutoProcessor.from_pretrained(folder)
    processor.image_processor = Qwen2VLImageProcessorPil.from_pretrained(folder)
    model = model_class.from_pretrained(folder).eval()
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]
    chat = processor.apply_chat_template(messages, add_generation_prompt=True)
    inputs = processor(text=chat, images=image, return_tensors="pt")
    ids = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    generated = processor.batch_decode(ids[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0]
    _, rows, columns = inputs["image_grid_thw"][0].tolist()
    patch = processor.image_processor.patch_size
    height, width = image.shape[:2]
    parsed = parse_qwen(generated, width, height, resized=(rows * patch, columns * patch), relative_1000=relative_1000)
    return Answer(text=parsed.text, boxes=parsed.boxes, dropped=parsed.dropped)


def test_load_vlm_gives_the_adapter(tiny_qwen2_5_vl_dir, tiny_qwen3_vl_dir):
    # Largest multiple of patch x merge whose square fits max_pixels: 14 * 2 * 2 (68^2 <= 4704 = 56 * 84)
    # for Qwen2.5-VL, 16 * 2 * 2 (78^2 <= 6144 = 64 * 96) for Qwen3-VL.
    for folder, model_class, relative_1000, input_size in [
            (tiny_qwen2_5_vl_dir, Qwen2_5_VLForConditionalGeneration, False, 56),
            (tiny_qwen3_vl_dir, Qwen3VLForConditionalGeneration, True, 64)]:
        vlm = load_vlm(folder, device="cpu", precision="fp32")
        assert isinstance(vlm, QwenVLM) and isinstance(vlm.model, model_class)
        assert vlm.relative_1000 == relative_1000 and vlm.input_size == input_size
        assert vlm.device == torch.device("cpu") and vlm.dtype == torch.float32
        assert isinstance(vlm.processor.image_processor, Qwen2VLImageProcessorPil)


@pytest.mark.parametrize("question, text", [
    ("Where are the airplanes parked?",
     "Locate every airplanes parked in the image and output the bbox coordinates in JSON format."),
    ("How many storage tanks are in this port?",
     "Locate every storage tanks in the image and output the bbox coordinates in JSON format."),
    ("What is in this image?", "Locate every object in the image and output the bbox coordinates in JSON format."),
    ("", "Locate every object in the image and output the bbox coordinates in JSON format."),
])
def test_grounded_prompt(family, question, text):
    assert family[3].prompt(question, grounded=True) == text


def test_answer_only_prompt(family):
    vlm = family[3]
    assert vlm.prompt(" Is the runway wet? ", grounded=False) == "Is the runway wet?"
    assert vlm.prompt("Where are the airplanes parked?", grounded=False) == "Where are the airplanes parked?"
    assert vlm.prompt("", grounded=False) == "Describe this image."


@pytest.mark.parametrize("question, grounded", [("airplanes", True), ("", True), ("Is the runway wet?", False)])
def test_ask_is_the_reference(family, question, grounded):
    folder, model_class, relative_1000, vlm = family
    image = scene(200, 300, seed=1)
    expected = reference(folder, model_class, relative_1000, image, vlm.prompt(question, grounded), max_new_tokens=40)
    answer = vlm.ask(image, question, grounded=grounded, max_new_tokens=40)
    assert answer == expected
    assert answer.text, "the tiny model should generate text"


def test_resized_size_comes_from_the_image_grid(family):
    _, _, relative_1000, vlm = family
    # 200 x 300 px into at most 24 patches of the family's size: 4 x 6 patches.
    patch = 16 if relative_1000 else 14
    _, resized = vlm.generate(scene(200, 300, seed=2), "hi", max_new_tokens=2)
    assert resized == (4 * patch, 6 * patch)


def test_parse_qwen2_5_scales_by_the_resized_input(tiny_qwen2_5_vl_dir):
    vlm = load_vlm(tiny_qwen2_5_vl_dir, device="cpu", precision="fp32")
    # A 300 x 200 image resized to 150 wide, 400 high: x * 300 / 150 = 2x, y * 200 / 400 = y / 2.
    answer = vlm.parse(RECORDED, width=300, height=200, resized=(400, 150))
    assert answer.boxes == [GroundedBox("plane", 20.0, 10.0, 220.0, 110.0)]
    assert answer.text == "" and answer.dropped == 0


def test_parse_qwen3_scales_from_1000(tiny_qwen3_vl_dir):
    vlm = load_vlm(tiny_qwen3_vl_dir, device="cpu", precision="fp32")
    # 0..1000 of 300 x 200 whatever the resized size: x * 0.3, y * 0.2.
    answer = vlm.parse(RECORDED, width=300, height=200, resized=(400, 150))
    box = answer.boxes[0]
    assert (box.label, box.x0, box.y0, box.x1, box.y1) == ("plane", pytest.approx(3.0), pytest.approx(4.0),
                                                           pytest.approx(33.0), pytest.approx(44.0))
    assert len(answer.boxes) == 1 and answer.dropped == 0


@pytest.mark.parametrize("shape", [(200, 300), (300, 120), (64, 64), (513, 700)])
def test_any_image_size(family, shape):
    answer = family[3].ask(scene(*shape, seed=3), "vehicles", grounded=True, max_new_tokens=20)
    height, width = shape
    assert all(0 <= b.x0 < b.x1 <= width and 0 <= b.y0 < b.y1 <= height for b in answer.boxes)
