"""Binary morphology on masks with numpy only (no scipy or skimage in the engine)."""
from __future__ import annotations

import numpy as np


def _disk_offsets(radius: int) -> list[tuple[int, int]]:
    """(row, col) offsets of the pixels of a disk of `radius` pixels around (0, 0)."""
    span = range(-radius, radius + 1)
    return [(dr, dc) for dr in span for dc in span if dr * dr + dc * dc <= radius * radius]


def mask_window(mask: np.ndarray, margin: int) -> tuple[slice, slice] | None:
    """The rows and columns that hold a bool mask's pixels, widened by `margin` (within
    the array); None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if not len(rows):
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return (slice(max(0, rows[0] - margin), rows[-1] + margin + 1),
            slice(max(0, cols[0] - margin), cols[-1] + margin + 1))


def close_mask(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary closing (dilate, then erode) of a bool mask with a disk of `radius` pixels.

    The mask is extended by edge replication, so a region that reaches an image edge is
    not eaten away there (as it would be if outside counted as background).
    """
    if radius < 0:
        raise ValueError(f"radius must be >= 0, not {radius}")
    mask = mask.astype(bool)
    closed = np.zeros(mask.shape, bool)
    # A closing reaches at most `radius` beyond the mask; around the mask's window the
    # image is background, which edge replication of the window's border reproduces.
    window = mask_window(mask, radius + 1)
    if window is None:
        return closed
    if radius == 0:
        closed[window] = mask[window]
        return closed
    offsets = _disk_offsets(radius)
    # Each pass shrinks the array by `radius` on every side, so padding by twice the
    # radius gives every output pixel the neighbourhood it would have in an infinite,
    # edge-replicated image, with no special cases at the borders.
    padded = np.pad(mask[window], 2 * radius, mode="edge")
    dilated = _combine_shifted(padded, offsets, radius, np.logical_or)
    closed[window] = _combine_shifted(dilated, offsets, radius, np.logical_and)
    return closed


def _combine_shifted(array: np.ndarray, offsets: list[tuple[int, int]], radius: int, combine) -> np.ndarray:
    """`combine` (OR: dilation, AND: erosion) of `array` shifted by each offset, over the
    pixels at least `radius` from its edges (the result is 2 * radius smaller per axis)."""
    height, width = array.shape[0] - 2 * radius, array.shape[1] - 2 * radius
    result = None
    for dr, dc in offsets:
        shifted = array[radius + dr:radius + dr + height, radius + dc:radius + dc + width]
        result = shifted.copy() if result is None else combine(result, shifted, out=result)
    return result


def open_speckle(mask: np.ndarray) -> np.ndarray:
    """Binary opening of a bool mask with a 3 x 3 square: removes specks and lines thinner
    than 3 pixels (every region of fewer than 9 pixels away from the edges) and keeps the
    rest exactly, corners included. Each step sees the array's edge pixels repeated
    outside it; inside a larger raster, read with a margin of 2 pixels for the exact result."""
    eroded = _square3(np.pad(mask.astype(bool), 1, mode="edge"), np.logical_and)
    return _square3(np.pad(eroded, 1, mode="edge"), np.logical_or)


def _square3(array: np.ndarray, combine) -> np.ndarray:
    """`combine` over each pixel's 3 x 3 neighbourhood (AND: erosion, OR: dilation), along
    rows then columns; the result is 2 pixels smaller per axis."""
    rows = combine(combine(array[:, :-2], array[:, 1:-1]), array[:, 2:])
    return combine(combine(rows[:-2], rows[1:-1]), rows[2:])
