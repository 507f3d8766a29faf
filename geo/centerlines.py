"""Centre lines of a class in a raster: thinning, tracing, merging across windows."""
from __future__ import annotations

import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio.windows import Window
from shapely.affinity import affine_transform
from shapely.geometry import LineString, box

from .georef import intersect_windows
from .grid import plan_grid
from .raster import READ_CACHE_BYTES

# The 8 neighbours clockwise from north, as (row, col) offsets: Zhang and Suen's P2..P9.
# Direction i + 4 (mod 8) is the opposite of direction i.
NEIGHBOURS = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]


def thin(mask: np.ndarray) -> np.ndarray:
    """One-pixel-wide skeleton of a bool mask (Zhang and Suen, 1984)."""
    image = np.pad(mask.astype(bool), 1)   # a background frame, so every pixel has 8 neighbours
    inner = image[1:-1, 1:-1]
    while True:
        changed = False
        for deletes in _ZHANG_SUEN_DELETES:
            deleted = inner & deletes[_neighbourhood_codes(image)]
            if deleted.any():
                inner &= ~deleted
                changed = True
        if not changed:
            return inner.copy()


def _zhang_suen_tables() -> np.ndarray:
    """Whether the first and the second sub-iteration delete a pixel, for each of the 256
    neighbourhoods (bit i set: neighbour i in NEIGHBOURS order, P2..P9, is foreground).
    A pixel goes if it is on the boundary (2..6 neighbours, one background to foreground
    transition around it) and not needed to connect the sub-iteration's sides."""
    tables = np.zeros((2, 256), bool)
    for code in range(256):
        p = [(code >> i) & 1 for i in range(8)]
        p2, _, p4, _, p6, _, p8, _ = p
        transitions = sum(1 for a, b in zip(p, p[1:] + p[:1]) if not a and b)
        boundary = 2 <= sum(p) <= 6 and transitions == 1
        tables[0, code] = boundary and not (p2 and p4 and p6) and not (p4 and p6 and p8)
        tables[1, code] = boundary and not (p2 and p4 and p8) and not (p2 and p6 and p8)
    return tables


_ZHANG_SUEN_DELETES = _zhang_suen_tables()


def _neighbourhood_codes(padded: np.ndarray) -> np.ndarray:
    """For each inner pixel of an array padded by one, its 8 neighbours as bits of a byte."""
    codes = np.zeros((padded.shape[0] - 2, padded.shape[1] - 2), np.uint8)
    for bit, neighbour in enumerate(_neighbour_views(padded)):
        codes |= neighbour.astype(np.uint8) << bit
    return codes


def _neighbour_views(padded: np.ndarray) -> list[np.ndarray]:
    """The 8 neighbours of each inner pixel of an array padded by one, in NEIGHBOURS order."""
    height, width = padded.shape[0] - 2, padded.shape[1] - 2
    return [padded[1 + dr:1 + dr + height, 1 + dc:1 + dc + width] for dr, dc in NEIGHBOURS]


def skeleton_lines(skeleton: np.ndarray, transform: Affine) -> list[LineString]:
    """Polylines through the centres of 8-connected skeleton pixels, split where lines
    meet (more than two neighbours) or end; loops come out closed, lone pixels are dropped."""
    links = _links(skeleton.astype(bool))
    degree = np.zeros(links.shape, np.uint8)
    for direction in range(8):
        degree += (links >> direction) & 1
    paths = []
    # Lines from their ends and junctions first, then what is left: loops with neither.
    starts = [tuple(p) for p in np.argwhere((degree > 0) & (degree != 2))]
    starts += [tuple(p) for p in np.argwhere(degree == 2)]
    for start in starts:
        while links[start]:
            paths.append(_walk(links, degree, start))
    lines = []
    for path in paths:
        rows, cols = np.asarray(path, dtype=np.float64).T
        xs, ys = transform * (cols + 0.5, rows + 0.5)
        lines.append(LineString(np.column_stack([xs, ys])))
    return lines


def _links(skeleton: np.ndarray) -> np.ndarray:
    """Bit i set where a pixel links to its neighbour in direction i. A diagonal link is
    left out when a pixel beside both already joins them: otherwise the corners of
    staircases would count as junctions."""
    padded = np.pad(skeleton, 1)
    around = _neighbour_views(padded)
    links = np.zeros(skeleton.shape, np.uint8)
    for direction, (dr, dc) in enumerate(NEIGHBOURS):
        linked = skeleton & around[direction]
        if dr and dc:
            linked &= ~around[NEIGHBOURS.index((dr, 0))] & ~around[NEIGHBOURS.index((0, dc))]
        links |= linked.astype(np.uint8) << direction
    return links


def _walk(links: np.ndarray, degree: np.ndarray, start: tuple[int, int]) -> list[tuple[int, int]]:
    """Follow unvisited links from `start` until a pixel that is not a plain line pixel (an
    end or a junction) or `start` again; the links walked are removed."""
    path = [start]
    here = start
    while True:
        direction = int(links[here]).bit_length() - 1    # any link not yet walked
        dr, dc = NEIGHBOURS[direction]
        there = (here[0] + dr, here[1] + dc)
        links[here] &= ~np.uint8(1 << direction)
        links[there] &= ~np.uint8(1 << ((direction + 4) % 8))
        path.append(there)
        if degree[there] != 2 or there == start:
            return path
        here = there


def raster_centerlines(path: str, value: int, window_size: int = 2048, margin: int = 64,
                       min_length: float = 0.0) -> list[LineString]:
    """Centre lines of the pixels equal to `value` in band 1, in the raster's CRS.

    Each window is thinned with `margin` pixels of context on every side (more than half
    the widest feature, so the skeleton near the window's edge is the one the whole raster
    would give); lines are cut to the window and joined across windows afterwards.
    Lines shorter than `min_length` CRS units are dropped.
    """
    pieces = []
    with rasterio.Env(GDAL_CACHEMAX=READ_CACHE_BYTES), rasterio.open(path) as dataset:
        transform = dataset.transform
        full = Window(0, 0, dataset.width, dataset.height)
        for tile in plan_grid(transform, full, window_size).tiles():
            core = intersect_windows(tile.window, full)
            grown = Window(core.col_off - margin, core.row_off - margin,
                           core.width + 2 * margin, core.height + 2 * margin)
            window = intersect_windows(grown, full)
            mask = dataset.read(1, window=window) == value
            r0, c0 = core.row_off - window.row_off, core.col_off - window.col_off
            if not mask[r0:r0 + core.height, c0:c0 + core.width].any():
                continue
            # Whole-raster pixel coordinates: cuts on a shared window edge then fall on
            # exactly the same points from both sides, so the pieces join.
            offset = Affine.translation(window.col_off, window.row_off)
            core_box = box(core.col_off, core.row_off, core.col_off + core.width, core.row_off + core.height)
            for line in skeleton_lines(thin(mask), offset):
                pieces += [part for part in shapely.get_parts(line.intersection(core_box))
                           if part.geom_type == "LineString" and not part.is_empty]
    if not pieces:
        return []
    to_map = transform.to_shapely()
    merged = shapely.get_parts(shapely.line_merge(shapely.MultiLineString(pieces)))
    lines = [affine_transform(line, to_map) for line in merged]
    return [line for line in lines if line.length >= min_length]
