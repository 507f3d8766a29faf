"""Kosmos-2 through the adapter, checked against the model card's reference path:
`processor(text=prompt, images=image)`, `model.generate(pixel_values=..., input_ids=...,
attention_mask=..., image_embeds=None, image_embeds_position_mask=...)`,
`batch_decode(skip_special_tokens=True)`, then the processor's `post_process_generation`;
model and processor loaded independently from the same folder (the processor with the PIL
image processor the adapter uses, so the pixels and hence the greedy tokens match exactly).
The tiny model writes one object of two boxes after `</phrase>` (see tiny_kosmos2_dir)."""
from __future__ import annotations

import pytest
import torch
from transformers import Kosmos2ForConditionalGeneration, Kosmos2Processor

from geovl.models.base import Answer
from geovl.models.grounding import GroundedBox, parse_kosmos2
from geovl.models.kosmos2_vlm import Kosmos2VLM
from geovl.models.resolver import load_vlm

from .conftest import scene

# The model card's outputs on its snowman image (decoded text, as post_process_generation takes it).
CARD_VQA = ("<image>. the, to and of as in I that' </image><grounding> Question: What is special about this image? "
            "Answer: The image features<phrase> a snowman</phrase><object><patch_index_0044><patch_index_0863></object>"
            " sitting by<phrase> a campfire</phrase><object><patch_index_0643><patch_index_1009></object> in the snow.")
CARD_CAPTION = ("<image>. the, to and of as in I that' </image><grounding> An image of<phrase> a snowman</phrase>"
                "<object><patch_index_0044><patch_index_0863></object> warming himself by<phrase> a fire</phrase>"
                "<object><patch_index_0005><patch_index_0911></object>.")


@pytest.fixture(scope="module")
def vlm(tiny_kosmos2_dir):
    return load_vlm(tiny_kosmos2_dir, device="cpu", precision="fp32")


@pytest.fixture(scope="module")
def reference(tiny_kosmos2_dir):
    """The model card's generation: (caption, entities) of post_process_generation."""
    processor = Kosmos2Processor.from_pretrained(tiny_kosmos2_dir, backend="pil")
    model = Kosmos2ForConditionalGeneration.from_pretrained(tiny_kosmos2_dir).eval()

    def run(image, prompt: str, max_new_tokens: int):
        inputs = processor(text=prompt, images=image, return_tensors="pt")
        ids = model.generate(pixel_values=inputs["pixel_values"], input_ids=inputs["input_ids"],
                             attention_mask=inputs["attention_mask"], image_embeds=None,
                             image_embeds_position_mask=inputs["image_embeds_position_mask"], use_cache=True,
                             max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
        return processor.post_process_generation(processor.batch_decode(ids, skip_special_tokens=True)[0])
    return run


def test_load_vlm_gives_the_adapter(vlm):
    assert isinstance(vlm, Kosmos2VLM) and isinstance(vlm.model, Kosmos2ForConditionalGeneration)
    assert vlm.input_size == 224
    assert vlm.device == torch.device("cpu") and vlm.dtype == torch.float32


@pytest.mark.parametrize("question, grounded, prompt", [
    ("Where are the airplanes parked?", True, "<grounding> Question: Where are the airplanes parked? Answer:"),
    (" How many ships? ", False, "Question: How many ships? Answer:"),
    ("", True, "<grounding> An image of"),
    ("  ", False, "An image of"),
    ("Find the white airplanes", True, "<grounding><phrase> white airplanes</phrase>"),
    ("please describe this", True, "<grounding> please describe this"),
    ("Describe this image in detail:", False, "Describe this image in detail:"),
])
def test_prompt(vlm, question, grounded, prompt):
    assert vlm.prompt(question, grounded) == prompt


def test_phrase_boxes_are_the_processors_entities_in_pixels(vlm, reference):
    image = scene(200, 300, seed=1)
    caption, entities = reference(image, vlm.prompt("airplanes", grounded=True), max_new_tokens=16)
    answer = vlm.ask(image, "airplanes", grounded=True, max_new_tokens=16)
    expected = [(name, x0 * 300, y0 * 200, x1 * 300, y1 * 200)
                for name, _, boxes in entities for x0, y0, x1, y1 in boxes]
    assert [(b.label, b.x0, b.y0, b.x1, b.y1) for b in answer.boxes] == expected
    # The rigged object: patches 44 -> 863 and 100 -> 300, centre to centre on the 32 x 32 grid.
    cell_x, cell_y = 300 / 32, 200 / 32
    assert answer.boxes[:2] == [
        GroundedBox("airplanes", 12.5 * cell_x, 1.5 * cell_y, 31.5 * cell_x, 26.5 * cell_y),
        GroundedBox("airplanes", 4.5 * cell_x, 3.5 * cell_y, 12.5 * cell_x, 9.5 * cell_y)]
    assert answer.text == caption and answer.text.startswith("airplanes") and answer.dropped == 0


@pytest.mark.parametrize("grounded", [True, False])
def test_question_answer_drops_the_repeated_question(vlm, reference, grounded):
    image = scene(150, 100, seed=2)
    echo = "Question: Where are the airplanes? Answer:"
    caption, entities = reference(image, vlm.prompt("Where are the airplanes?", grounded), max_new_tokens=12)
    assert caption.startswith(echo)
    expected = parse_kosmos2(entities, 100, 150, caption[len(echo):])
    answer = vlm.ask(image, "Where are the airplanes?", grounded=grounded, max_new_tokens=12)
    assert answer == Answer(text=expected.text, boxes=expected.boxes, dropped=expected.dropped)
    assert "Question" not in answer.text


@pytest.mark.parametrize("generated, question, text, boxes", [
    (CARD_VQA, "What is special about this image?", "The image features a snowman sitting by a campfire in the snow.",
     [("a snowman", (0.390625, 0.046875, 0.984375, 0.828125)),
      ("a campfire", (0.109375, 0.640625, 0.546875, 0.984375))]),
    (CARD_CAPTION, "", "An image of a snowman warming himself by a fire.",
     [("a snowman", (0.390625, 0.046875, 0.984375, 0.828125)), ("a fire", (0.171875, 0.015625, 0.484375, 0.890625))]),
])
def test_parse_model_card_outputs(vlm, generated, question, text, boxes):
    """The card's normalised entities, scaled to a 640 x 480 image; the answer without the repeated question."""
    answer = vlm.parse(generated, vlm.prompt(question, grounded=True), 640, 480)
    assert answer.text == text and answer.dropped == 0
    assert answer.boxes == [GroundedBox(label, x0 * 640, y0 * 480, x1 * 640, y1 * 480)
                            for label, (x0, y0, x1, y1) in boxes]


@pytest.mark.parametrize("shape", [(200, 300), (300, 120), (224, 224), (513, 700)])
def test_any_image_size(vlm, shape):
    answer = vlm.ask(scene(*shape, seed=3), "vehicles", grounded=True, max_new_tokens=12)
    height, width = shape
    assert answer.boxes and all(0 <= b.x0 < b.x1 <= width and 0 <= b.y0 < b.y1 <= height for b in answer.boxes)
    assert "<" not in answer.text
