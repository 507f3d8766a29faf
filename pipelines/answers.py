"""One answer from the answers of many tiles: counts summed where the question asks for
a count, otherwise each tile's answer with where that tile is."""
from __future__ import annotations

import re
from dataclasses import dataclass

# "how many", "count", "number of", and the same in French (QGIS users ask in their language).
_COUNT_QUESTION = re.compile(r"\b(how\s+many|count|number\s+of|combien|nombre\s+de)\b", re.IGNORECASE)
_NUMBER_WORDS = {word: value for value, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update({"no": 0, "none": 0, "a single": 1, "a couple of": 2, "a dozen": 12})
_NUMBER = re.compile(r"\b(\d{1,9}|" + "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True))
                     + r")\b", re.IGNORECASE)


@dataclass
class TileReply:
    """What was asked of one tile and what came back."""
    label: str                  # "row,col" of the tile in the grid
    location: str               # the tile's centre, in map units
    text: str
    count: int | None = None    # objects the tile holds, where known (grounded objects kept after merging)


def is_count_question(question: str) -> bool:
    return bool(_COUNT_QUESTION.search(question))


def count_in(text: str) -> int | None:
    """The first number an answer states ("3", "three", "no planes" -> 0), or None."""
    match = _NUMBER.search(text)
    if match is None:
        return None
    value = match.group(1).lower()
    return int(value) if value.isdigit() else _NUMBER_WORDS[value]


def combine(question: str, replies: list[TileReply]) -> str:
    """The combined answer: for a count question a first line with the total, then one
    line per tile; otherwise one line per tile that answered (just the text for one tile)."""
    if is_count_question(question):
        counts = [(r, r.count if r.count is not None else count_in(r.text)) for r in replies]
        known = [c for _, c in counts if c is not None]
        total = f"{sum(known)} in total over {len(replies)} tile(s)"
        if len(known) < len(replies):
            total += f" ({len(replies) - len(known)} tile answer(s) gave no number)"
        lines = [f"Tile {r.label} at {r.location}: {c if c is not None else '?'}" + (f" ({r.text})" if r.text else "")
                 for r, c in counts]
        return "\n".join([total + ".", *lines])
    answered = [r for r in replies if r.text]
    if not answered:
        return f"The model gave no text for the {len(replies)} tile(s) asked."
    if len(replies) == 1:
        return replies[0].text
    return "\n".join(f"Tile {r.label} at {r.location}: {r.text}" for r in answered)
