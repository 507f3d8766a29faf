"""Factual captions of change regions from their geometry and direction of change: what a
change map says without any model (how many regions, how large, where, brighter or
darker, vegetation gained or lost)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..geo.change_vectors import decode_direction

DOMINANT = 0.5      # share of a region's area a direction needs to be named


@dataclass(frozen=True)
class Directions:
    """Shares of a changed area by direction of change (0..1)."""
    brighter: float = 0.0
    darker: float = 0.0
    vegetation_gain: float = 0.0
    vegetation_loss: float = 0.0

    @classmethod
    def from_areas(cls, areas_by_code: dict[int, float]) -> "Directions":
        total = sum(areas_by_code.values())
        shares: dict[str, float] = defaultdict(float)
        for code, area in areas_by_code.items():
            brightness, vegetation = decode_direction(code)
            shares[brightness] += area / total if total else 0.0
            shares["vegetation_" + vegetation] += area / total if total else 0.0
        return cls(shares["brighter"], shares["darker"], shares["vegetation_gain"], shares["vegetation_loss"])

    def phrases(self) -> list[str]:
        """The directions that hold at least half of the area, in words."""
        named = [("brighter after", self.brighter), ("darker after", self.darker),
                 ("vegetation gain", self.vegetation_gain), ("vegetation loss", self.vegetation_loss)]
        return [f"{words} ({share:.0%})" for words, share in named if share >= DOMINANT]


def format_area(m2: float) -> str:
    """An area in the unit an analyst would say: m², ha or km²."""
    if m2 >= 1e6:
        return f"{m2 / 1e6:,.2f} km²"
    if m2 >= 1e4:
        return f"{m2 / 1e4:,.2f} ha"
    return f"{m2:,.0f} m²"


def location_word(x: float, y: float) -> str:
    """Where a point lies in the extent, from its position as fractions of the extent's
    width (0 west, 1 east) and height (0 north, 1 south): a compass word or "centre"."""
    row = "north" if y < 1 / 3 else "south" if y > 2 / 3 else ""
    col = "west" if x < 1 / 3 else "east" if x > 2 / 3 else ""
    return "-".join(p for p in (row, col) if p) or "centre"


def format_bytes(size: float) -> str:
    """A size on disk in decimal units, as disks are sold: 512 kB, 3.2 MB, 160 GB."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            value = size / scale
            return f"{value:,.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"
    return f"{size:,.0f} bytes"


def region_facts(area_m2: float, location: str, directions: Directions) -> str:
    """One region: its area, where it is and the directions of change that dominate it."""
    parts = [f"{format_area(area_m2)} changed in the {location}"] + directions.phrases()
    return "; ".join(parts) + "."


def overall_facts(areas_m2: list[float], largest_location: str, directions: Directions, compared_m2: float) -> str:
    """The whole change map in two or three sentences; says so plainly when nothing changed."""
    if not areas_m2:
        return f"No change found over the {format_area(compared_m2)} compared."
    total = sum(areas_m2)
    share = total / compared_m2 if compared_m2 else 0.0
    text = (f"{len(areas_m2)} change region(s) covering {format_area(total)} ({share:.1%} of the "
            f"{format_area(compared_m2)} compared). The largest, {format_area(max(areas_m2))}, is in the "
            f"{largest_location}.")
    phrases = directions.phrases()
    if phrases:
        text += " Most of the changed area: " + ", ".join(phrases) + "."
    return text
