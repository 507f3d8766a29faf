"""Florence-2 through the adapter, checked against the documented reference path:
`model.generate(**processor(images, text))`, `batch_decode(skip_special_tokens=False)`, then
the processor's own `post_process_generation`, with model and processor loaded
independently from the same folder."""
from __future__ import annotations

import pytest
import torch
from transformers import Florence2ForConditionalGeneration, Florence2Processor

from geovl.models.florence2_vlm import CAPTION, DETECTION, GROUNDING, Florence2VLM, subject_phrase
from geovl.models.grounding import GroundedBox

from .conftest import scene

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def vlm(tiny_florence2_dir):
    return Florence2VLM("tiny-florence2", tiny_florence2_dir, False, CPU, torch.float32)


def reference(folder: str, image, text: str, task: str, max_new_tokens: int) -> dict:
    """The processor's post-processing of a greedy generation, the way the model card does it."""
    processor = Florence2Processor.from_pretrained(folder)
    model = Florence2ForConditionalGeneration.from_pretrained(folder).eval()
    inputs = processor(images=image, text=text, return_tensors="pt")
    ids = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
    generated = processor.batch_decode(ids, skip_special_tokens=False)[0]
    height, width = image.shape[:2]
    return processor.post_process_generation(generated, task=task, image_size=(width, height))[task]


def test_loads_with_processor_settings(vlm):
    assert vlm.input_size == 64
    assert vlm.can_ground and vlm.device == CPU and vlm.dtype == torch.float32
    assert vlm.processor.post_processor_config  # else post_process_generation raises "Unsupported parse task"


@pytest.mark.parametrize("question, task, text", [
    ("Where are the airplanes parked?", GROUNDING, GROUNDING + "airplanes parked"),
    ("How many storage tanks are in this port?", GROUNDING, GROUNDING + "storage tanks"),
    ("red cars and white trucks", GROUNDING, GROUNDING + "red cars and white trucks"),
    ("What is in this image?", DETECTION, DETECTION),
    ("", DETECTION, DETECTION),
])
def test_grounded_prompt(vlm, question, task, text):
    assert vlm.prompt(question, grounded=True) == (task, text)


def test_answer_only_prompt(vlm):
    assert vlm.prompt("Describe the image.", grounded=False) == (CAPTION, CAPTION)
    assert vlm.prompt(" Is the runway wet? ", grounded=False) == (CAPTION, "Is the runway wet?")
    assert subject_phrase("Show me all of the ships near the harbour") == "ships"


@pytest.mark.parametrize("question", ["airplanes", ""])
def test_ask_boxes_are_the_processors(vlm, tiny_florence2_dir, question):
    image = scene(200, 300, seed=1)
    task, text = vlm.prompt(question, grounded=True)
    expected = reference(tiny_florence2_dir, image, text, task, max_new_tokens=40)
    answer = vlm.ask(image, question, grounded=True, max_new_tokens=40)
    assert expected["bboxes"], "the tiny model should generate location tokens"
    valid = [(label, [float(v) for v in box]) for label, box in zip(expected["labels"], expected["bboxes"])
             if box[0] < box[2] and box[1] < box[3]]
    assert [(b.label, [b.x0, b.y0, b.x1, b.y1]) for b in answer.boxes] == valid
    assert answer.dropped == len(expected["bboxes"]) - len(valid)
    assert "<loc_" not in answer.text and "<s>" not in answer.text


def test_parse_gives_pixel_boxes(vlm):
    generated = "</s><s>plane<loc_100><loc_200><loc_300><loc_400>car<loc_0><loc_0><loc_999><loc_999></s>"
    answer = vlm.parse(generated, DETECTION, width=300, height=200)
    # bin centres: (bin + 0.5) * size / 1000, truncated to whole pixels as the processor does
    assert answer.boxes == [GroundedBox("plane", 30.0, 40.0, 90.0, 80.0), GroundedBox("car", 0.0, 0.0, 299.0, 199.0)]
    assert answer.text == "plane car" and answer.dropped == 0


def test_parse_drops_degenerate_and_clips_outside_boxes(vlm):
    generated = ("ships<loc_500><loc_500><loc_400><loc_600><loc_10><loc_10><loc_20><loc_20>"
                 "sky<loc_0><loc_0><loc_1000><loc_300>")
    answer = vlm.parse(generated, GROUNDING, width=300, height=200)
    assert answer.boxes == [GroundedBox("ships", 3.0, 2.0, 6.0, 4.0), GroundedBox("sky", 0.0, 0.0, 300.0, 60.0)]
    assert answer.dropped == 1


@pytest.mark.parametrize("shape", [(200, 300), (300, 120), (64, 64), (513, 700)])
def test_any_image_size(vlm, shape):
    answer = vlm.ask(scene(*shape, seed=2), "vehicles", grounded=True, max_new_tokens=30)
    height, width = shape
    assert all(0 <= b.x0 < b.x1 <= width and 0 <= b.y0 < b.y1 <= height for b in answer.boxes)


def test_answer_only_has_text_and_no_boxes(vlm, tiny_florence2_dir):
    image = scene(120, 90, seed=3)
    answer = vlm.ask(image, "", grounded=False, max_new_tokens=20)
    assert answer.boxes == [] and answer.dropped == 0
    assert answer.text == reference(tiny_florence2_dir, image, CAPTION, CAPTION, max_new_tokens=20)
    assert isinstance(vlm.ask(image, "Is the runway wet?", grounded=False, max_new_tokens=20).text, str)
