"""Output parsers of grounded VLMs: pure functions from model text to pixel-space geometry.

Every parser takes what the model wrote and the size (width, height) of the image the
model was asked about, and returns a `Parsed`: boxes in pixels of that image (x right,
y down), clipped into [0, width] x [0, height] with corners ordered (x0 < x1, y0 < y1),
the answer text with the grounding markup removed, and how many box-like fragments were
malformed or degenerate and so dropped. No parser raises, whatever the text.

Coordinate grids per family:
- GeoChat: `{<x1><y1><x2><y2>|<θ>}`, integers 0..100 relative to the image GeoChat saw
  (square-padded: pass the padded size, the adapter shifts back).
- Florence-2: `<loc_N>` bins 0..999, mapped exactly as transformers' Florence2 processor
  does: trunc((N + 0.5) * size / 1000) in float32, whole pixels.
- Qwen2.5-VL: absolute pixels of the smart_resize'd input; Qwen3-VL: 0..1000 relative.
- Kosmos-2: `<patch_index_NNNN>` pairs on the 32 x 32 grid, as transformers' Kosmos2
  processor maps them.
- PaliGemma: `<locNNNN>` y first, value / 1024 of the size.

Rotation (GroundedBox.angle): degrees about the box centre of the rectangle x0..x1,
y0..y1, in [-45, 45), 0 for axis-aligned, positive clockwise on screen (x right, y down:
the sense of a positive angle in pixel space). GeoChat's `{<x1><y1><x2><y2>|<θ>}` is the
written box turned θ degrees about its centre as OpenCV's getRotationMatrix2D(centre, θ, 1)
turns points (anticlockwise on screen), as GeoChat's demo draws it (rotate_bbox) and as
the minAreaRect boxes of its training data read: `<90>` is the written box with width and
height swapped, axis-aligned. A turn by a whole quarter swaps the extents, so the box is
stored with its extents swapped and the rest of the turn as the angle (a rectangle turned
by 180 degrees is itself). Clipping applies to the unrotated extents; all other families
give axis-aligned boxes (angle 0).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Collection, Iterator, Sequence

import numpy as np

Point = tuple[float, float]

_DIGITS = r"\d{1,6}"
_TAG = re.compile(r"<[^<>]*>")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?])")

_GEOCHAT_FRAGMENT = re.compile(r"<p>(?P<phrase>.*?)</p>|\{(?P<box>\s*<[^{}]*)\}?", re.DOTALL)
_GEOCHAT_BOX = re.compile(
    rf"\s*<({_DIGITS})>\s*<({_DIGITS})>\s*<({_DIGITS})>\s*<({_DIGITS})>\s*(?:\|\s*<(-?{_DIGITS})>\s*)?")

_FLORENCE_LOC = re.compile(rf"<loc_({_DIGITS})>")
_FLORENCE_BOX_RUN = re.compile(rf"(?:<loc_{_DIGITS}>)+")
_FLORENCE_POLYGON_RUN = re.compile(rf"(?:<loc_{_DIGITS}>|<sep>|<poly>|</poly>)+")
_FLORENCE_POLYGON_SPLIT = re.compile(r"<sep>|<poly>|</poly>")

_QWEN_FENCE = re.compile(r"```(?:json)?(.*?)(?:```|$)", re.DOTALL)
_QWEN_BOX_KEY = '"bbox_2d"'
_QWEN_REMOVED = "\x00"
_QWEN_RESIDUE = re.compile(r"[\[,\s]*\x00[\],\s]*")

_KOSMOS_EOI = "</image>"
_KOSMOS_GRID = 32
_KOSMOS_OBJECT = re.compile(r"(?:<phrase>(?P<phrase>[^<]*)</phrase>)?<object>(?P<body>.*?)(?:</object>|$)",
                            re.DOTALL)
_KOSMOS_PAIR = re.compile(rf"<patch_index_({_DIGITS})><patch_index_({_DIGITS})>")
_KOSMOS_DELIMITER = "</delimiter_of_multi_objects/>"

_PALIGEMMA_LOC = re.compile(rf"<loc({_DIGITS})>")
_PALIGEMMA_RUN = re.compile(rf"(?:<loc{_DIGITS}>)+")
_PALIGEMMA_LABEL = re.compile(r"(?:<seg\d+>|[^;<])*")


@dataclass(frozen=True)
class GroundedBox:
    """A box in pixels of the image the model saw; angle as in the module docstring."""
    label: str
    x0: float
    y0: float
    x1: float
    y1: float
    angle: float = 0.0
    score: float | None = None


@dataclass
class Parsed:
    """Boxes (and Florence-2 polygons) a model grounded, the count of box-like fragments
    dropped as malformed or degenerate, and the answer without grounding markup."""
    boxes: list[GroundedBox]
    dropped: int
    text: str
    polygons: list[tuple[str, list[Point]]] = field(default_factory=list)


def _clip(value: float, size: float) -> float:
    """value clamped into [0, size]."""
    return min(max(value, 0.0), size)


def _box(label: str, corners: Sequence[float], width: int, height: int,
         angle: float = 0.0, score: float | None = None) -> GroundedBox | None:
    """The clipped box with ordered corners, or None where not finite or degenerate."""
    if len(corners) != 4 or not all(math.isfinite(v) for v in corners):
        return None
    x0, x1 = sorted((_clip(corners[0], width), _clip(corners[2], width)))
    y0, y1 = sorted((_clip(corners[1], height), _clip(corners[3], height)))
    if x0 >= x1 or y0 >= y1:
        return None
    return GroundedBox(label, x0, y0, x1, y1, angle, score)


def _collect(boxes: list[GroundedBox | None]) -> tuple[list[GroundedBox], int]:
    """The valid boxes and how many were None."""
    kept = [box for box in boxes if box is not None]
    return kept, len(boxes) - len(kept)


def _readable(text: str) -> str:
    """Whitespace collapsed, no space before punctuation."""
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", _SPACES.sub(" ", text)).strip()


def _label(fragment: str) -> str:
    """A label from text around markup: tags removed, whitespace tidied."""
    return _readable(_TAG.sub(" ", fragment))


# GeoChat

def _geochat_turn(x1: float, y1: float, x2: float, y2: float, theta: float) -> tuple[tuple[float, ...], float]:
    """GeoChat's box x1..x2, y1..y2 turned θ degrees anticlockwise on screen, as corners
    (x0, y0, x1, y1) and a clockwise angle in [-45, 45) about the same centre."""
    angle = (-theta + 45.0) % 90.0 - 45.0            # clockwise, what is left after whole quarter turns
    quarters = round((-theta - angle) / 90.0)
    if quarters % 2 == 0:
        return (x1, y1, x2, y2), angle
    cx, cy, half_w, half_h = (x1 + x2) / 2, (y1 + y2) / 2, abs(x2 - x1) / 2, abs(y2 - y1) / 2
    return (cx - half_h, cy - half_w, cx + half_h, cy + half_w), angle


def _geochat_box(label: str, body: str, width: int, height: int) -> GroundedBox | None:
    """One `<x1><y1><x2><y2>|<θ>` body on the 0..100 grid, or None if malformed."""
    match = _GEOCHAT_BOX.fullmatch(body)
    if match is None:
        return None
    x1, y1, x2, y2 = (float(v) for v in match.group(1, 2, 3, 4))
    theta = float(match.group(5)) if match.group(5) else 0.0
    corners, angle = _geochat_turn(x1 * width / 100, y1 * height / 100, x2 * width / 100, y2 * height / 100, theta)
    return _box(label, corners, width, height, angle)


def parse_geochat(text: str, width: int, height: int) -> Parsed:
    """`<p>phrase</p> {<x1><y1><x2><y2>|<θ>}<delim>{...}`; a box without a phrase of its
    own takes the last phrase, or ""."""
    phrase, boxes, readable = "", [], []
    position = 0
    for match in _GEOCHAT_FRAGMENT.finditer(text):
        readable.append(text[position:match.start()])
        position = match.end()
        if match.group("box") is None:
            phrase = _label(match.group("phrase"))
            readable.append(match.group("phrase"))
        else:
            boxes.append(_geochat_box(phrase, match.group("box"), width, height))
    readable.append(text[position:])
    kept, dropped = _collect(boxes)
    return Parsed(kept, dropped, _readable("".join(readable).replace("<delim>", " ")))


# Florence-2

def _florence_coordinates(bins: Sequence[str], width: int, height: int) -> list[float]:
    """Alternating x, y bins (0..999) as pixels, as Florence2PostProcessor.dequantize:
    (bin + 0.5) * size / 1000 in float32, truncated to a whole pixel."""
    sizes = np.resize(np.array([width / 1000, height / 1000], dtype=np.float32), len(bins))
    values = (np.array([float(b) for b in bins], dtype=np.float32) + np.float32(0.5)) * sizes
    return [float(v) for v in np.trunc(values)]


def _florence_boxes(label: str, run: str, width: int, height: int) -> list[GroundedBox | None]:
    """Each full group of four bins in a run of loc tokens; a leftover part is None."""
    bins = _FLORENCE_LOC.findall(run)
    values = _florence_coordinates(bins[:len(bins) // 4 * 4], width, height)
    boxes = [_box(label, values[i:i + 4], width, height) for i in range(0, len(values), 4)]
    return boxes + [None] * (len(bins) % 4 > 0)


def _florence_polygons(label: str, run: str, width: int, height: int) -> tuple[list[tuple[str, list[Point]]], int]:
    """Polygons of (x, y) bin pairs in a run split at <sep>/<poly>/</poly> (an odd last bin
    ignored, as the processor does), and how many had fewer than three points."""
    polygons, dropped = [], 0
    for part in _FLORENCE_POLYGON_SPLIT.split(run):
        bins = _FLORENCE_LOC.findall(part)
        if not bins:
            continue
        values = _florence_coordinates(bins[:len(bins) // 2 * 2], width, height)
        points = [(_clip(x, width), _clip(y, height)) for x, y in zip(values[::2], values[1::2])]
        if len(points) < 3:
            dropped += 1
        else:
            polygons.append((label, points))
    return polygons, dropped


def parse_florence2(text: str, width: int, height: int, segmentation: bool = False,
                    banned: Collection[str] = ()) -> Parsed:
    """`label<loc_x1><loc_y1><loc_x2><loc_y2>...` (tasks <OD>, <CAPTION_TO_PHRASE_GROUNDING>,
    <DENSE_REGION_CAPTION>, <REGION_PROPOSAL>, <OPEN_VOCABULARY_DETECTION>), or with
    `segmentation` (<REFERRING_EXPRESSION_SEGMENTATION>, <REGION_TO_SEGMENTATION>), or
    where the text has <poly>, runs of (x, y) loc pairs as polygons; a run's label is the
    text before it. Boxes labelled with a `banned` phrase are left out, as the processor
    leaves out phrase grounding's banned_grounding_tokens ("the image" would box the tile)."""
    polygon_mode = segmentation or "<poly>" in text
    pattern = _FLORENCE_POLYGON_RUN if polygon_mode else _FLORENCE_BOX_RUN
    boxes, polygons, dropped, readable = [], [], 0, []
    position = 0
    for match in pattern.finditer(text):
        label = _label(text[position:match.start()])
        readable.append(text[position:match.start()])
        position = match.end()
        if polygon_mode:
            found, lost = _florence_polygons(label, match.group(), width, height)
            polygons += found
            dropped += lost
        elif label not in banned:
            boxes += _florence_boxes(label, match.group(), width, height)
    readable.append(text[position:])
    kept, lost = _collect(boxes)
    return Parsed(kept, dropped + lost, _label(" ".join(readable)), polygons)


# Qwen2.5-VL / Qwen3-VL

def _json_values(text: str) -> Iterator[tuple[int, int, Any]]:
    """(start, end, value) of each JSON object or array decodable from a '{' or '[' in
    text, scanning on after each success; a truncated array still yields its complete
    objects, found from their own '{'."""
    decoder = json.JSONDecoder()
    position = 0
    while True:
        starts = [i for i in (text.find("{", position), text.find("[", position)) if i >= 0]
        if not starts:
            return
        start = min(starts)
        try:
            value, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            position = start + 1
            continue
        yield start, end, value
        position = end


def _box_objects(value: Any) -> list[dict]:
    """The dicts with a bbox_2d in a decoded value (a dict, or a list of them)."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict) and "bbox_2d" in item]


def _qwen_box(item: dict, width: int, height: int, scale_x: float, scale_y: float) -> GroundedBox | None:
    """One {"bbox_2d": [x1, y1, x2, y2], "label": ...} object scaled to pixels, or None."""
    corners = item["bbox_2d"]
    if not isinstance(corners, list) or len(corners) != 4 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in corners):
        return None
    x1, y1, x2, y2 = (float(v) for v in corners)
    label = item.get("label", "")
    return _box(label if isinstance(label, str) else json.dumps(label),
                (x1 * scale_x, y1 * scale_y, x2 * scale_x, y2 * scale_y), width, height)


def parse_qwen(text: str, width: int, height: int, resized: tuple[int, int] | None = None,
               relative_1000: bool = False) -> Parsed:
    """A JSON list of {"bbox_2d": [x1, y1, x2, y2], "label": ...}, fenced or not, possibly
    truncated (the complete objects before the cut are kept). Qwen3-VL (`relative_1000`):
    0..1000 of the size; Qwen2.5-VL: pixels of the input as resized by smart_resize
    (`resized` = (height', width')), or of width x height where not resized."""
    if relative_1000:
        scale_x, scale_y = width / 1000, height / 1000
    elif resized and resized[0] > 0 and resized[1] > 0:
        scale_x, scale_y = width / resized[1], height / resized[0]
    else:
        scale_x, scale_y = 1.0, 1.0
    prose = _QWEN_FENCE.sub(_QWEN_REMOVED, text)
    objects = []
    for start, end, value in _json_values(text):
        found = _box_objects(value)
        objects += found
        if found:
            prose = prose.replace(text[start:end], _QWEN_REMOVED, 1)
    key = prose.find(_QWEN_BOX_KEY)
    if key >= 0:  # an unfenced truncated object: the text ends inside it (cut at its brace, else its key)
        brace = prose.rfind("{", 0, key)
        prose = prose[:brace if brace >= 0 else key] + _QWEN_REMOVED
    kept, dropped = _collect([_qwen_box(item, width, height, scale_x, scale_y) for item in objects])
    unread = max(text.count(_QWEN_BOX_KEY) - len(objects), 0)
    return Parsed(kept, dropped + unread, _readable(_QWEN_RESIDUE.sub(" ", prose)))


# Kosmos-2

def _kosmos_coordinates(upper_left: int, lower_right: int) -> tuple[float, float, float, float]:
    """Normalised (x0, y0, x1, y1) of two patch indices, as transformers'
    kosmos2 patch_index_to_coordinate: whole cells for one cell, a row or a column, else
    from cell centre to cell centre."""
    cell = 1.0 / _KOSMOS_GRID
    uy, ux = divmod(upper_left, _KOSMOS_GRID)
    ly, lx = divmod(lower_right, _KOSMOS_GRID)
    if upper_left == lower_right or ux == lx or uy == ly:
        return ux * cell, uy * cell, lx * cell + cell, ly * cell + cell
    return ux * cell + cell / 2, uy * cell + cell / 2, lx * cell + cell / 2, ly * cell + cell / 2


def _kosmos_box(label: str, normalised: Any, width: int, height: int) -> GroundedBox | None:
    """A normalised (x0, y0, x1, y1) as pixels, or None if it is not four numbers."""
    try:
        x0, y0, x1, y1 = (float(v) for v in normalised)
    except (TypeError, ValueError, OverflowError):
        return None
    return _box(label, (x0 * width, y0 * height, x1 * width, y1 * height), width, height)


def parse_kosmos2(entities: Any, width: int, height: int, text: str = "") -> Parsed:
    """Kosmos2Processor.post_process_generation's entities [(phrase, span, [(x0, y0, x1,
    y1) normalised]), ...] as pixel boxes; `text` is its cleaned caption."""
    boxes = []
    for entity in entities if isinstance(entities, (list, tuple)) else []:
        if not isinstance(entity, (list, tuple)) or len(entity) != 3 or not isinstance(entity[2], (list, tuple)):
            boxes.append(None)
            continue
        # an object written without a phrase gets transformers' placeholder name, its patch tokens
        label = entity[0] if isinstance(entity[0], str) and not entity[0].startswith("<patch_index_") else ""
        boxes += [_kosmos_box(label, normalised, width, height) for normalised in entity[2]]
    kept, dropped = _collect(boxes)
    return Parsed(kept, dropped, _readable(text) if isinstance(text, str) else "")


def parse_kosmos2_text(text: str, width: int, height: int) -> Parsed:
    """Raw Kosmos-2 text, `<phrase> x</phrase><object><patch_index_AAAA><patch_index_BBBB>
    </delimiter_of_multi_objects/>...</object>` after `</image>`; an object without a
    phrase is labelled ""."""
    caption = text.split(_KOSMOS_EOI)[-1]
    boxes = []
    for match in _KOSMOS_OBJECT.finditer(caption):
        label = _label(match.group("phrase") or "")
        for pair in match.group("body").split(_KOSMOS_DELIMITER):
            indices = _KOSMOS_PAIR.fullmatch(pair.strip())
            if indices is None:
                boxes.append(None)
            else:
                normalised = _kosmos_coordinates(int(indices.group(1)), int(indices.group(2)))
                boxes.append(_kosmos_box(label, normalised, width, height))
    kept, dropped = _collect(boxes)
    return Parsed(kept, dropped, _label(caption))


# PaliGemma

def parse_paligemma(text: str, width: int, height: int) -> Parsed:
    """`<locY1><locX1><locY2><locX2> label ; ...`, values / 1024 of the size, y first. As
    the PaliGemma demo's parser reads a run of more than four loc tokens: the label after
    the run names only a box whose four tokens end it; the others are unnamed."""
    boxes = []
    for match in _PALIGEMMA_RUN.finditer(text):
        label = _label(_PALIGEMMA_LABEL.match(text, match.end()).group())
        values = [float(v) / 1024 for v in _PALIGEMMA_LOC.findall(match.group())]
        for i in range(0, len(values) - 3, 4):
            y0, x0, y1, x1 = values[i:i + 4]
            named = label if i + 4 == len(values) else ""
            boxes.append(_box(named, (x0 * width, y0 * height, x1 * width, y1 * height), width, height))
        boxes += [None] * (len(values) % 4 > 0)
    kept, dropped = _collect(boxes)
    return Parsed(kept, dropped, _label(_PALIGEMMA_RUN.sub(" ", text)))
