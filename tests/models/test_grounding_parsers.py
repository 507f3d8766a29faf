"""Grounded-VLM output parsers: recorded outputs of each family against hand-computed
pixels (and against transformers' own Florence-2 and Kosmos-2 post-processing), and
randomised malformed text that must never raise nor yield a box outside the image."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geovl.geo.boxes import box_corners
from geovl.models.grounding import (GroundedBox, Parsed, parse_florence2, parse_geochat, parse_kosmos2,
                                    parse_kosmos2_text, parse_paligemma, parse_qwen)

from ..conftest import char_tokenizer

FAST = settings(max_examples=200, deadline=None)

GEOCHAT_RECORDED = "<p>1 white plane</p> {<49><48><57><56>|<90>}<delim>{<35><54><43><62>|<90>}"
KOSMOS_RECORDED = ("<image>. the, to and of as in I that' </image><grounding> An image of<phrase> a snowman</phrase>"
                   "<object><patch_index_0044><patch_index_0863></object> warming himself by<phrase> a fire"
                   "</phrase><object><patch_index_0005><patch_index_0911></object>.")


def assert_valid(parsed: Parsed, width: int, height: int) -> None:
    """The parser contract: boxes inside the image with ordered corners, points inside it."""
    assert isinstance(parsed, Parsed) and isinstance(parsed.text, str) and parsed.dropped >= 0
    for box in parsed.boxes:
        assert 0 <= box.x0 < box.x1 <= width and 0 <= box.y0 < box.y1 <= height
        assert math.isfinite(box.angle) and isinstance(box.label, str)
    for label, points in parsed.polygons:
        assert isinstance(label, str) and len(points) >= 3
        assert all(0 <= x <= width and 0 <= y <= height for x, y in points)


# GeoChat

def opencv_turned_corners(x1: float, y1: float, x2: float, y2: float, theta: float) -> np.ndarray:
    """The written box's corners turned as GeoChat's demo turns them: OpenCV's documented
    getRotationMatrix2D(centre, θ, 1) = [[a, b, (1-a) cx - b cy], [-b, a, b cx + (1-a) cy]],
    a = cos θ, b = sin θ (anticlockwise on screen), applied to each corner."""
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    a, b = math.cos(math.radians(theta)), math.sin(math.radians(theta))
    matrix = np.array([[a, b, (1 - a) * cx - b * cy], [-b, a, b * cx + (1 - a) * cy]])
    corners = np.array([[x1, y1, 1], [x2, y1, 1], [x2, y2, 1], [x1, y2, 1]], dtype=float)
    return corners @ matrix.T


def corner_set(corners) -> list[tuple[float, float]]:
    return sorted((round(float(x), 6) + 0.0, round(float(y), 6) + 0.0) for x, y in corners)


def test_geochat_recorded_output():
    # θ 90 turns each written box a quarter: 490..570 x 240..280 (centre 530, 260) becomes
    # 510..550 x 220..300, and 350..430 x 270..310 (centre 390, 290) becomes 370..410 x 250..330.
    parsed = parse_geochat(GEOCHAT_RECORDED, 1000, 500)
    assert parsed.boxes == [GroundedBox("1 white plane", 510.0, 220.0, 550.0, 300.0),
                            GroundedBox("1 white plane", 370.0, 250.0, 410.0, 330.0)]
    assert parsed.dropped == 0 and parsed.text == "1 white plane"
    for box, written in zip(parsed.boxes, [(490, 240, 570, 280), (350, 270, 430, 310)]):
        assert corner_set(box_corners(box.x0, box.y0, box.x1, box.y1, box.angle)) == \
            corner_set(opencv_turned_corners(*written, 90))


def test_geochat_angle_phrases_and_clipping():
    text = ("There are <p>2 ships</p> {<10><20><30><40>|<60>} and {<90><90><120><130>} near "
            "<p>a pier</p> {<5><5><5><9>|<90>}{<1><2><3>|<90>}.")
    parsed = parse_geochat(text, 200, 100)
    # 20..60 x 20..40 turned 60 degrees anticlockwise = turned a quarter (30..50 x 10..50)
    # then 30 degrees back, clockwise; the box without θ is not turned.
    assert parsed.boxes == [GroundedBox("2 ships", 30.0, 10.0, 50.0, 50.0, angle=30.0),
                            GroundedBox("2 ships", 180.0, 90.0, 200.0, 100.0)]
    assert parsed.dropped == 2  # the zero-width box and the three-number one
    assert parsed.text == "There are 2 ships and near a pier."
    ship = parsed.boxes[0]
    assert corner_set(box_corners(ship.x0, ship.y0, ship.x1, ship.y1, ship.angle)) == \
        corner_set(opencv_turned_corners(20, 20, 60, 40, 60))


@pytest.mark.parametrize("theta, corners, angle", [
    (0, (20.0, 20.0, 60.0, 40.0), 0.0),      # not turned
    (45, (20.0, 20.0, 60.0, 40.0), -45.0),   # 45 anticlockwise
    (30, (20.0, 20.0, 60.0, 40.0), -30.0),
    (120, (30.0, 10.0, 50.0, 50.0), -30.0),  # a quarter, then 30 more anticlockwise
    (180, (20.0, 20.0, 60.0, 40.0), 0.0),    # a half turn is the same rectangle
    (-30, (20.0, 20.0, 60.0, 40.0), 30.0),
])
def test_geochat_turns_by_theta_anticlockwise(theta, corners, angle):
    box = parse_geochat(f"<p>ship</p> {{<10><20><30><40>|<{theta}>}}", 200, 100).boxes[0]
    assert (box.x0, box.y0, box.x1, box.y1) == corners and box.angle == pytest.approx(angle)
    assert corner_set(box_corners(box.x0, box.y0, box.x1, box.y1, box.angle)) == \
        corner_set(opencv_turned_corners(20, 20, 60, 40, theta))


@FAST
@given(st.integers(30, 70), st.integers(30, 70), st.integers(1, 20), st.integers(1, 20), st.integers(-180, 360))
def test_geochat_turned_box_sides_and_orientation(cx, cy, half_w, half_h, theta):
    """Any box well inside the image: GeoVL's polygon has the written box's side lengths,
    its written-width side points along θ anticlockwise on screen, and its corners are
    OpenCV's."""
    x1, y1, x2, y2 = cx - half_w, cy - half_h, cx + half_w, cy + half_h
    box = parse_geochat(f"{{<{x1}><{y1}><{x2}><{y2}>|<{theta}>}}", 100, 100).boxes[0]
    ring = box_corners(box.x0, box.y0, box.x1, box.y1, box.angle)
    sides = [ring[(i + 1) % 4] - ring[i] for i in range(4)]
    lengths = [float(np.hypot(*side)) for side in sides]
    assert sorted(lengths) == pytest.approx(sorted([2 * half_w, 2 * half_w, 2 * half_h, 2 * half_h]))
    # The written x axis turned θ anticlockwise on screen (y down) is (cos θ, -sin θ).
    along = np.array([math.cos(math.radians(theta)), -math.sin(math.radians(theta))])
    width_sides = [side for side, length in zip(sides, lengths) if length == pytest.approx(2 * half_w)]
    assert any(abs(abs(float(np.dot(side, along))) - 2 * half_w) < 1e-6 for side in width_sides)
    assert corner_set(ring) == corner_set(opencv_turned_corners(x1, y1, x2, y2, theta))


def test_geochat_box_without_phrase_and_truncation():
    parsed = parse_geochat("{<0><0><50><50>|<90>}<delim>{<50><50><100>", 64, 64)
    assert parsed.boxes == [GroundedBox("", 0.0, 0.0, 32.0, 32.0)] and parsed.dropped == 1


@pytest.mark.parametrize("theta", [0, 30, 90, 120, -45])
@pytest.mark.parametrize("turns", [13, -20, 2777])
def test_geochat_whole_turns_are_the_same_box(theta, turns):
    """θ and θ plus whole turns (any integer the grammar admits) give the same box."""
    def box(angle):
        return parse_geochat(f"{{<10><20><30><40>|<{angle}>}}", 200, 100).boxes
    assert box(theta + 360 * turns) == box(theta)


def test_grounded_boxes_are_values():
    box = GroundedBox("ship", 1.0, 2.0, 3.0, 4.0)
    assert {box, GroundedBox("ship", 1.0, 2.0, 3.0, 4.0)} == {box}
    with pytest.raises(AttributeError):
        box.x0 = 0.0


# Florence-2

@pytest.fixture(scope="module")
def florence2_processor():
    """transformers' Florence2Processor with a char tokenizer and the released
    post-processor config, to compare post_process_generation with."""
    from transformers import CLIPImageProcessor, Florence2Processor, PreTrainedTokenizerFast

    chars, _ = char_tokenizer("<s>", "</s>", "<pad>", 1024)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=chars.backend_tokenizer, bos_token="<s>", eos_token="</s>",
                                        pad_token="<pad>", unk_token="<unk>",
                                        extra_special_tokens={"image_token": "<image>"})
    tokenizer.add_tokens([f"<loc_{i}>" for i in range(1000)] + ["<poly>", "</poly>", "<sep>"])
    config = {task: {} for task in ("ocr", "phrase_grounding", "pure_text", "description_with_bboxes",
                                    "description_with_polygons", "polygons", "bboxes",
                                    "description_with_bboxes_or_polygons")}
    return Florence2Processor(CLIPImageProcessor(image_seq_length=4), tokenizer, post_processor_config=config)


def test_florence2_recorded_output_hand_computed():
    # (bin + 0.5) * size / 1000, truncated to a whole pixel as transformers does
    parsed = parse_florence2("</s><s>plane<loc_100><loc_200><loc_300><loc_400></s>", 640, 480)
    assert parsed.boxes == [GroundedBox("plane", 64.0, 96.0, 192.0, 192.0)]
    assert parsed.dropped == 0 and parsed.text == "plane"


@pytest.mark.parametrize(("task", "text"), [
    ("<OD>", "plane<loc_100><loc_200><loc_300><loc_400>car<loc_0><loc_0><loc_999><loc_999>"
             "car<loc_512><loc_37><loc_700><loc_411>"),
    ("<CAPTION_TO_PHRASE_GROUNDING>", "</s><s>two planes<loc_101><loc_202><loc_303><loc_404><loc_505><loc_606>"
                                      "<loc_707><loc_808>a runway<loc_1><loc_333><loc_998><loc_667></s>"),
])
@pytest.mark.parametrize("size", [(640, 480), (768, 768), (333, 1001), (4096, 17)])
def test_florence2_boxes_equal_the_processor(florence2_processor, task, text, size):
    expected = florence2_processor.post_process_generation(text, task=task, image_size=size)[task]
    parsed = parse_florence2(text, *size)
    assert [b.label for b in parsed.boxes] == expected["labels"]
    assert [[b.x0, b.y0, b.x1, b.y1] for b in parsed.boxes] == expected["bboxes"]


def test_florence2_every_bin_equals_the_processor(florence2_processor):
    bins = "".join(f"<loc_{b}><loc_{999 - b}>" for b in range(1000))
    task = "<REFERRING_EXPRESSION_SEGMENTATION>"
    for size in [(640, 480), (1000, 1000), (333, 1001), (4097, 2049)]:
        expected = florence2_processor.post_process_generation(bins, task=task, image_size=size)[task]
        parsed = parse_florence2(bins, *size, segmentation=True)
        assert [coordinate for point in parsed.polygons[0][1] for coordinate in point] == expected["polygons"][0][0]


def test_florence2_polygons_equal_the_processor(florence2_processor):
    task = "<REFERRING_EXPRESSION_SEGMENTATION>"
    text = ("<loc_100><loc_200><loc_300><loc_200><loc_300><loc_400><loc_5><sep>"
            "<loc_600><loc_600><loc_900><loc_600><loc_900><loc_900><loc_600><loc_900>")
    expected = florence2_processor.post_process_generation(text, task=task, image_size=(640, 480))[task]
    parsed = parse_florence2(text, 640, 480, segmentation=True)
    assert [[c for point in points for c in point] for _, points in parsed.polygons] == expected["polygons"][0]
    assert parsed.polygons[0] == ("", [(64.0, 96.0), (192.0, 96.0), (192.0, 192.0)])
    assert parsed.boxes == [] and parsed.dropped == 0 and parsed.text == ""


def test_florence2_malformed_runs_are_counted():
    parsed = parse_florence2("ship<loc_10><loc_10><loc_10><loc_20><loc_30>dock<loc_5><loc_6>", 1000, 1000)
    assert parsed.boxes == [] and parsed.dropped == 3  # zero-width box, leftover bin, two-bin run
    parsed = parse_florence2("ship<loc_100><loc_100><loc_300><loc_300><loc_5><loc_6>", 1000, 1000)
    assert [(b.x0, b.y0, b.x1, b.y1) for b in parsed.boxes] == [(100.0, 100.0, 300.0, 300.0)]
    assert parsed.dropped == 1  # one box and two leftover bins: the leftover part counts once
    parsed = parse_florence2("<loc_1><loc_2><loc_3><loc_4><sep><poly><loc_1></poly>", 100, 100, segmentation=True)
    assert parsed.polygons == [] and parsed.dropped == 2  # a two-point polygon, a one-bin one


def test_florence2_polygons_of_one_phrase_share_its_label():
    text = ("pond<loc_100><loc_100><loc_300><loc_100><loc_300><loc_300><sep>"
            "<loc_600><loc_600><loc_900><loc_600><loc_900><loc_900> road<loc_0><loc_0><loc_9><loc_0><loc_9><loc_9>")
    parsed = parse_florence2(text, 1000, 1000, segmentation=True)
    assert [label for label, _ in parsed.polygons] == ["pond", "pond", "road"]


# Qwen2.5-VL / Qwen3-VL

QWEN_FENCED = ('Here are the planes.\n```json\n[\n\t{"bbox_2d": [100, 50, 504, 252], "label": "plane"},\n'
               '\t{"bbox_2d": [0, 0, 1008, 504], "label": "apron"}\n]\n```')


def test_qwen25_fenced_in_resized_pixels():
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    resized = smart_resize(500, 1000)
    assert resized == (504, 1008)
    parsed = parse_qwen(QWEN_FENCED, 1000, 500, resized=resized)
    assert [(b.label, b.x0, b.y0, b.x1, b.y1) for b in parsed.boxes] == [
        ("plane", pytest.approx(100 * 1000 / 1008), pytest.approx(50 * 500 / 504), 500.0, 250.0),
        ("apron", 0.0, 0.0, 1000.0, 500.0)]
    assert parsed.dropped == 0 and parsed.text == "Here are the planes."


def test_qwen3_unfenced_relative_1000():
    text = '[{"bbox_2d": [100, 200, 300, 400], "label": "tank"}, {"bbox_2d": [900, 900, 1200, 1100], "label": 7}]'
    parsed = parse_qwen(text, 640, 480, relative_1000=True)
    assert parsed.boxes == [GroundedBox("tank", 64.0, 96.0, 192.0, 192.0), GroundedBox("7", 576.0, 432.0, 640.0, 480.0)]
    assert parsed.dropped == 0 and parsed.text == ""


@pytest.mark.parametrize("fence", ["```json\n", ""])
def test_qwen_truncated_keeps_complete_objects(fence):
    text = (f'The tanks: {fence}[{{"bbox_2d": [10, 20, 30, 40], "label": "tank"}}, '
            '{"bbox_2d": [50, 60, 70, 80], "label": "tank"}, {"bbox_2d": [90, 10')
    parsed = parse_qwen(text, 100, 100)
    assert parsed.boxes == [GroundedBox("tank", 10.0, 20.0, 30.0, 40.0), GroundedBox("tank", 50.0, 60.0, 70.0, 80.0)]
    assert parsed.dropped == 1 and parsed.text == "The tanks:"


def test_qwen_truncated_box_without_its_brace_keeps_the_prose_before_it():
    parsed = parse_qwen('There is one: "bbox_2d": [10, 20, 3', 100, 100)
    assert (parsed.text, parsed.boxes, parsed.dropped) == ("There is one:", [], 1)


def test_qwen_malformed_objects_are_counted():
    text = ('[{"bbox_2d": [1, 2, 3], "label": "a"}, {"bbox_2d": ["1", 2, 3, 4]}, {"bbox_2d": [5, 5, 5, 9]},'
            ' {"bbox_2d": [1, 1, 9, 9], "label": "b"}, {"point_2d": [3, 3]}]')
    parsed = parse_qwen(text, 10, 10)
    assert parsed.boxes == [GroundedBox("b", 1.0, 1.0, 9.0, 9.0)] and parsed.dropped == 3


def test_qwen_bare_object_at_the_start():
    parsed = parse_qwen('{"bbox_2d": [10, 20, 30, 40], "label": "car"}', 100, 100)
    assert (parsed.boxes, parsed.dropped, parsed.text) == ([GroundedBox("car", 10.0, 20.0, 30.0, 40.0)], 0, "")


def test_qwen_prose_around_the_boxes_is_kept_whole():
    text = 'Found [{"bbox_2d": [10, 20, 30, 40], "label": "car"}] near the [2, 3] gate.'
    parsed = parse_qwen(text, 100, 100)
    assert parsed.text == "Found near the [2, 3] gate." and len(parsed.boxes) == 1


@pytest.mark.parametrize("text", ['{"bbox_2d": [10, 20, 3', '"bbox_2d": [10, 20, 3'])
def test_qwen_truncated_first_object_leaves_no_prose(text):
    parsed = parse_qwen(text, 100, 100)
    assert (parsed.text, parsed.boxes, parsed.dropped) == ("", [], 1)


@pytest.mark.parametrize("resized", [(0, 448), (448, 0), (0, 0)])
def test_qwen_resized_with_no_size_is_not_resized(resized):
    parsed = parse_qwen('[{"bbox_2d": [10, 20, 30, 40], "label": "car"}]', 100, 100, resized=resized)
    assert parsed.boxes == [GroundedBox("car", 10.0, 20.0, 30.0, 40.0)]


# Kosmos-2

def test_kosmos2_text_equals_the_processor():
    from transformers.models.kosmos2.processing_kosmos2 import clean_text_and_extract_entities_with_bboxes

    caption, entities = clean_text_and_extract_entities_with_bboxes(KOSMOS_RECORDED.split("</image>")[-1])
    from_text = parse_kosmos2_text(KOSMOS_RECORDED, 320, 240)
    assert from_text == parse_kosmos2(entities, 320, 240, text=caption)
    # (0.390625, 0.046875, 0.984375, 0.828125) and (0.171875, 0.015625, 0.484375, 0.890625) of 320 x 240
    assert from_text.boxes == [GroundedBox("a snowman", 125.0, 11.25, 315.0, 198.75),
                               GroundedBox("a fire", 55.0, 3.75, 155.0, 213.75)]
    assert from_text.text == "An image of a snowman warming himself by a fire." and from_text.dropped == 0


def test_kosmos2_cells_rows_and_several_objects():
    # one cell (index 33 = row 1, col 1) -> whole cell; a row 0..31 -> whole row; two boxes for one phrase
    text = ("<grounding><phrase> cars</phrase><object><patch_index_0033><patch_index_0033>"
            "</delimiter_of_multi_objects/><patch_index_0000><patch_index_0031></object>"
            "<object><patch_index_0000><patch_index_0000></object><phrase> a truck</phrase><object><patch_index_0010>")
    parsed = parse_kosmos2_text(text, 64, 64)
    assert parsed.boxes == [GroundedBox("cars", 2.0, 2.0, 4.0, 4.0), GroundedBox("cars", 0.0, 0.0, 64.0, 2.0),
                            GroundedBox("", 0.0, 0.0, 2.0, 2.0)]
    assert parsed.dropped == 1 and parsed.text == "cars a truck"


def test_kosmos2_column_is_whole_cells():
    # indices 1 and 65: column 1, rows 0 and 2 -> whole cells, as patch_index_to_coordinate
    parsed = parse_kosmos2_text("<phrase> a mast</phrase><object><patch_index_0001><patch_index_0065></object>", 64, 64)
    assert parsed.boxes == [GroundedBox("a mast", 2.0, 0.0, 4.0, 6.0)]


def test_kosmos2_entities_malformed():
    entities = [("ship", (0, 4), [(0.1, 0.2, 0.3, 0.4), (0.5, 0.5, 0.5, 0.9), (float("nan"), 0, 1, 1), "abcd"]),
                ("bad",), None]
    parsed = parse_kosmos2(entities, 100, 50)
    assert parsed.boxes == [GroundedBox("ship", 10.0, 10.0, 30.0, 20.0)] and parsed.dropped == 5


def test_kosmos2_entities_without_boxes_or_phrase():
    entities = [("car", (0, 3), None), ("<patch_index_0001><patch_index_0065>", (4, 4), [(0.0, 0.0, 0.5, 0.5)])]
    parsed = parse_kosmos2(entities, 100, 50)
    assert parsed.boxes == [GroundedBox("", 0.0, 0.0, 50.0, 25.0)] and parsed.dropped == 1


# PaliGemma

def test_paligemma_detect_output():
    text = "<loc0256><loc0512><loc0768><loc1023> plane ; <loc0000><loc0000><loc0512><loc0512><seg001><seg002> car"
    parsed = parse_paligemma(text, 1024, 512)
    assert parsed.boxes == [GroundedBox("plane", 512.0, 128.0, 1023.0, 384.0),
                            GroundedBox("car", 0.0, 0.0, 512.0, 256.0)]
    assert parsed.dropped == 0 and parsed.text == "plane; car"
    unseparated = parse_paligemma("<loc0000><loc0000><loc0512><loc0512> ship<loc0512><loc0512><loc1024><loc1024> tug",
                                  100, 100)
    assert [b.label for b in unseparated.boxes] == ["ship", "tug"]


def test_paligemma_malformed():
    parsed = parse_paligemma("<loc0100><loc0100><loc0100><loc0200> a ; <loc0001><loc0002> b ; no boxes", 100, 100)
    assert parsed.boxes == [] and parsed.dropped == 2 and parsed.text == "a; b; no boxes"


def test_paligemma_runs_longer_than_one_box():
    """As the PaliGemma demo's regex reads them: the label after a run names the box whose
    four tokens end the run; a box followed by more loc tokens is unnamed."""
    two = parse_paligemma("<loc0000><loc0000><loc0512><loc0512><loc0512><loc0512><loc1024><loc1024> plane", 100, 100)
    assert two.boxes == [GroundedBox("", 0.0, 0.0, 50.0, 50.0), GroundedBox("plane", 50.0, 50.0, 100.0, 100.0)]
    assert two.dropped == 0
    for extra in ["<loc0003>", "<loc0003><loc0004><loc0005>"]:
        parsed = parse_paligemma(f"<loc0000><loc0000><loc0512><loc0512>{extra} plane", 100, 100)
        assert parsed.boxes == [GroundedBox("", 0.0, 0.0, 50.0, 50.0)] and parsed.dropped == 1


# Randomised malformed text: never an exception, every box inside the image

SIZES = st.tuples(st.integers(0, 5000), st.integers(0, 5000))
JUNK = st.text(max_size=6) | st.sampled_from(["<", ">", "{", "}", "[", "]", "|", ",", " ", "\n", "-1", "1e309",
                                              "\u202e", "\x00", "\ud7ff", "99999999999", "nan"])
WORDS = st.sampled_from(["plane", "a ship", "", " ", "ß\u0301", "<p>", ";"])


def garbled(tokens: list[str], unit: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Random mixes of a family's well-formed units (random numbers, in and out of range),
    its tokens, numbers and junk, cut at a random point half of the time."""
    pieces = unit | st.sampled_from(tokens) | st.integers(-5, 2000).map(str) | JUNK
    return st.tuples(st.lists(pieces, max_size=30).map("".join), st.floats(0, 1)).map(
        lambda cut: cut[0][:int(len(cut[0]) * cut[1])] if cut[1] < 0.5 else cut[0])


def numbers(low: int, high: int, count: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(low, high), min_size=count, max_size=count)


GEOCHAT = garbled(["<p>", "</p>", "{", "}", "|", "<delim>", GEOCHAT_RECORDED, "<90>", "<-5>", "<1000>"],
                  st.builds(lambda w, v: f"<p>{w}</p> {{<{v[0]}><{v[1]}><{v[2]}><{v[3]}>|<{v[4]}>}}<delim>",
                            WORDS, numbers(-10, 120, 5)))
FLORENCE = garbled(["plane", "</s>", "<s>", "<pad>", "<poly>", "</poly>", "<sep>", "<od>", "<loc_5>", "<loc_999>"],
                   st.builds(lambda w, v: w + "".join(f"<loc_{b}>" for b in v), WORDS, numbers(0, 1100, 4)))
QWEN = garbled(["```json", "```", "[", "]", "{", "}", '"bbox_2d"', '"label"', ":", ",", "true", "null", "1.5e3",
                QWEN_FENCED, "[" * 50, "{" * 50],
               st.builds(lambda w, v: json.dumps({"bbox_2d": v, "label": w}) + ", ",
                         WORDS, st.lists(st.integers(-100, 3000) | st.floats(), min_size=3, max_size=5)))
KOSMOS = garbled(["<grounding>", "<phrase>", "</phrase>", "<object>", "</object>", "</image>",
                  "</delimiter_of_multi_objects/>", "<patch_index_0033>", "<patch_index_5000>"],
                 st.builds(lambda w, v: f"<phrase>{w}</phrase><object><patch_index_{v[0]:04d}><patch_index_{v[1]:04d}>"
                                        "</object>", WORDS, numbers(0, 1100, 2)))
PALIGEMMA = garbled([" ; ", "plane", "<seg012>", "<loc0000>", "<loc1023>", "<loc5000>"],
                    st.builds(lambda w, v: "".join(f"<loc{b:04d}>" for b in v) + f" {w} ; ",
                              WORDS, numbers(0, 1100, 4)))


@FAST
@given(GEOCHAT, SIZES)
def test_geochat_never_raises(text, size):
    assert_valid(parse_geochat(text, *size), *size)


@FAST
@given(FLORENCE, SIZES, st.booleans())
def test_florence2_never_raises(text, size, segmentation):
    assert_valid(parse_florence2(text, *size, segmentation=segmentation), *size)


@FAST
@given(QWEN, SIZES, st.none() | st.tuples(st.integers(-2, 3000), st.integers(-2, 3000)), st.booleans())
def test_qwen_never_raises(text, size, resized, relative_1000):
    assert_valid(parse_qwen(text, *size, resized=resized, relative_1000=relative_1000), *size)


@FAST
@given(KOSMOS, SIZES)
def test_kosmos2_text_never_raises(text, size):
    assert_valid(parse_kosmos2_text(text, *size), *size)


ANYTHING = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=4),
                        lambda children: st.lists(children, max_size=5) | st.tuples(children, children),
                        max_leaves=20)


@FAST
@given(st.lists(st.tuples(st.text(max_size=8), ANYTHING, st.lists(st.tuples(*[st.floats()] * 4) | ANYTHING,
                                                                    max_size=4)) | ANYTHING, max_size=5) | ANYTHING,
       SIZES)
def test_kosmos2_entities_never_raise(entities, size):
    assert_valid(parse_kosmos2(entities, *size), *size)


@FAST
@given(PALIGEMMA, SIZES)
def test_paligemma_never_raises(text, size):
    assert_valid(parse_paligemma(text, *size), *size)
