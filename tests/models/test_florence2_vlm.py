"""Florence-2 through the adapter, checked against the documented reference path:
`model.generate(**processor(images, text))` and `batch_decode(skip_special_tokens=False)`
with model and processor loaded independently from the same folder, then the processor's
`post_process_generation` (captions) or grounding.parse_florence2 (boxes)."""
from __future__ import annotations

import pytest
import torch
from transformers import Florence2ForConditionalGeneration, Florence2Processor

from geovl.models.florence2_vlm import CAPTION, DETECTION, GROUNDING, Florence2VLM
from geovl.models.questions import subject_phrase
from geovl.models.grounding import GroundedBox, parse_florence2

from .conftest import scene

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def vlm(tiny_florence2_dir):
    return Florence2VLM("tiny-florence2", tiny_florence2_dir, False, CPU, torch.float32)


def reference(folder: str, image, text: str, max_new_tokens: int) -> tuple[Florence2Processor, str]:
    """The processor and a greedy generation, decoded the way the model card does it."""
    processor = Florence2Processor.from_pretrained(folder)
    model = Florence2ForConditionalGeneration.from_pretrained(folder).eval()
    inputs = processor(images=image, text=text, return_tensors="pt")
    ids = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
    return processor, processor.batch_decode(ids, skip_special_tokens=False)[0]


def test_loads_with_processor_settings(vlm):
    assert vlm.input_size == 64
    assert vlm.device == CPU and vlm.dtype == torch.float32
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
def test_ask_parses_the_reference_generation(vlm, tiny_florence2_dir, question):
    # A random model writes garbled labels, where the processor's regexes and ours part
    # ways; parse_florence2 is checked against the processor on well-formed text in
    # test_grounding_parsers. Here: same prompt, pixels and generation as the model card.
    image = scene(200, 300, seed=1)
    task, text = vlm.prompt(question, grounded=True)
    _, generated = reference(tiny_florence2_dir, image, text, max_new_tokens=40)
    answer = vlm.ask(image, question, grounded=True, max_new_tokens=40)
    expected = parse_florence2(generated, 300, 200)
    assert expected.boxes, "the tiny model should generate location tokens"
    assert (answer.boxes, answer.dropped, answer.text) == (expected.boxes, expected.dropped, expected.text)
    assert "<loc_" not in answer.text and "<s>" not in answer.text


def test_parse_gives_pixel_boxes(vlm):
    generated = "</s><s>plane<loc_100><loc_200><loc_300><loc_400>car<loc_0><loc_0><loc_999><loc_999></s>"
    answer = vlm.parse(generated, DETECTION, width=300, height=200)
    # bin centres: (bin + 0.5) * size / 1000, truncated to whole pixels as the processor does
    assert answer.boxes == [GroundedBox("plane", 30.0, 40.0, 90.0, 80.0), GroundedBox("car", 0.0, 0.0, 299.0, 199.0)]
    assert answer.text == "plane car" and answer.dropped == 0


def test_parse_orders_corners_drops_degenerate_and_clips_outside_boxes(vlm):
    generated = ("ships<loc_500><loc_500><loc_400><loc_600><loc_10><loc_10><loc_10><loc_20>"
                 "sky<loc_0><loc_0><loc_1000><loc_300><loc_7>")
    answer = vlm.parse(generated, GROUNDING, width=300, height=200)
    assert answer.boxes == [GroundedBox("ships", 120.0, 100.0, 150.0, 120.0),
                            GroundedBox("sky", 0.0, 0.0, 300.0, 60.0)]
    assert answer.dropped == 2  # the zero-width box and the lone trailing bin


@pytest.mark.parametrize("shape", [(200, 300), (300, 120), (64, 64), (513, 700)])
def test_any_image_size(vlm, shape):
    answer = vlm.ask(scene(*shape, seed=2), "vehicles", grounded=True, max_new_tokens=30)
    height, width = shape
    assert all(0 <= b.x0 < b.x1 <= width and 0 <= b.y0 < b.y1 <= height for b in answer.boxes)


def test_answer_only_has_text_and_no_boxes(vlm, tiny_florence2_dir):
    image = scene(120, 90, seed=3)
    answer = vlm.ask(image, "", grounded=False, max_new_tokens=20)
    assert answer.boxes == [] and answer.dropped == 0
    processor, generated = reference(tiny_florence2_dir, image, CAPTION, max_new_tokens=20)
    assert answer.text == processor.post_process_generation(generated, task=CAPTION)[CAPTION]
    assert isinstance(vlm.ask(image, "Is the runway wet?", grounded=False, max_new_tokens=20).text, str)


BANNED_GROUNDING = ("</s><s>the image<loc_0><loc_0><loc_999><loc_999>airplanes<loc_100><loc_200><loc_300><loc_400>"
                    "<loc_500><loc_500><loc_600><loc_700></s>")


def processor_boxes(processor, generated: str, task: str, width: int, height: int) -> list[tuple]:
    result = processor.post_process_generation(generated, task=task, image_size=(width, height))[task]
    return [(label, *box) for label, box in zip(result["labels"], result["bboxes"])]


def answer_boxes(answer) -> list[tuple]:
    return [(b.label, b.x0, b.y0, b.x1, b.y1) for b in answer.boxes]


def test_phrase_grounding_leaves_out_banned_phrases_as_the_processor(vlm, tiny_florence2_dir):
    """"the image" is in the post-processor config's banned_grounding_tokens: the processor
    boxes only the airplanes, and so does the adapter (not a whole-tile "the image" box)."""
    processor = Florence2Processor.from_pretrained(tiny_florence2_dir)
    expected = processor_boxes(processor, BANNED_GROUNDING, GROUNDING, 300, 200)
    assert [label for label, *_ in expected] == ["airplanes", "airplanes"]
    answer = vlm.parse(BANNED_GROUNDING, GROUNDING, width=300, height=200)
    assert answer_boxes(answer) == expected and answer.dropped == 0
    # <OD> bans nothing, in the processor as here
    assert answer_boxes(vlm.parse(BANNED_GROUNDING, DETECTION, 300, 200)) == \
        processor_boxes(processor, BANNED_GROUNDING, DETECTION, 300, 200)


def test_config_without_banned_list_bans_nothing(tiny_florence2_dir, tmp_path):
    """A post-processor config without banned_grounding_tokens: transformers' default, nothing banned."""
    import json
    import shutil

    folder = tmp_path / "florence2-no-banned"
    shutil.copytree(tiny_florence2_dir, folder)
    config_path = folder / "processor_config.json"
    config = json.loads(config_path.read_text())
    config["post_processor_config"]["phrase_grounding"] = {}
    config_path.write_text(json.dumps(config))
    vlm = Florence2VLM("no-banned", str(folder), False, CPU, torch.float32)
    expected = processor_boxes(Florence2Processor.from_pretrained(folder), BANNED_GROUNDING, GROUNDING, 300, 200)
    assert [label for label, *_ in expected] == ["the image", "airplanes", "airplanes"]
    assert answer_boxes(vlm.parse(BANNED_GROUNDING, GROUNDING, 300, 200)) == expected
