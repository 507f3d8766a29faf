"""Prompt geometry: lines turned into point prompts, the GeoSAM way of using a road
centreline layer as a prior."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from shapely.geometry import LineString


def sample_line(coords: Sequence[tuple[float, float]], spacing: float) -> np.ndarray:
    """Points every `spacing` along a polyline from its first vertex, as an (N, 2) array;
    the last vertex is added when the last step leaves more than half a spacing."""
    if len(coords) < 2:
        return np.asarray(coords, np.float64).reshape(-1, 2)
    line = LineString(coords)
    distances = list(np.arange(0.0, line.length, spacing))
    if line.length - distances[-1] > spacing / 2:
        distances.append(line.length)
    return np.array([line.interpolate(d).coords[0] for d in distances], np.float64)
