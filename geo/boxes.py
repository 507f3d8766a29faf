"""Grounded boxes on the map: rotated pixel boxes as polygons, and duplicates merged
across overlapping tiles (non-maximum suppression on map geometries, per label)."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import shapely
from affine import Affine
from shapely.geometry import Polygon

from .georef import pixels_to_map


def box_corners(x0: float, y0: float, x1: float, y1: float, angle: float = 0.0) -> np.ndarray:
    """(4, 2) pixel corners of the box x0..x1, y0..y1 turned `angle` degrees about its
    centre, clockwise on screen (pixel y points down), in ring order."""
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    offsets = np.array([[x0 - cx, y0 - cy], [x1 - cx, y0 - cy], [x1 - cx, y1 - cy], [x0 - cx, y1 - cy]])
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    turned = offsets @ np.array([[cos, sin], [-sin, cos]])  # (dx, dy) -> (dx cos - dy sin, dx sin + dy cos)
    return turned + (cx, cy)


def box_polygon(transform: Affine, x0: float, y0: float, x1: float, y1: float, angle: float = 0.0) -> Polygon:
    """The (rotated) pixel box as a map polygon."""
    return Polygon(pixels_to_map(transform, box_corners(x0, y0, x1, y1, angle)))


def merge_duplicates(polygons: Sequence[Polygon], labels: Sequence[str], priorities: Sequence[tuple],
                     tiles: Sequence[object], iou: float = 0.5, cover: float = 0.8) -> list[int]:
    """Indices of the polygons kept by non-maximum suppression, best first.

    Polygons are compared only with others of the same label (case and spaces ignored).
    A polygon is dropped when a better one (higher priority) overlaps it with
    intersection-over-union >= `iou`, or, for two polygons from different tiles, when
    one covers >= `cover` of the smaller: the same object seen whole by one tile and cut
    by the edge of its neighbour.
    """
    order = sorted(range(len(polygons)), key=lambda i: priorities[i], reverse=True)
    tree = shapely.STRtree(list(polygons))
    keys = [" ".join(str(label).lower().split()) for label in labels]
    kept: list[int] = []
    decided = np.zeros(len(polygons), bool)  # kept, or suppressed by a better one
    for i in order:
        if decided[i]:
            continue
        kept.append(i)
        decided[i] = True
        for j in tree.query(polygons[i]):
            j = int(j)
            if decided[j] or keys[j] != keys[i]:
                continue
            overlap = polygons[i].intersection(polygons[j]).area
            union = polygons[i].area + polygons[j].area - overlap
            smaller = min(polygons[i].area, polygons[j].area)
            if (union > 0 and overlap / union >= iou) or \
                    (tiles[i] != tiles[j] and smaller > 0 and overlap / smaller >= cover):
                decided[j] = True
    return kept
