"""close_mask against hand-drawn cases and scipy.ndimage.binary_closing (reference only)."""
import numpy as np
import pytest
from scipy import ndimage

from geovl.geo.morphology import close_mask, mask_window


def disk(radius):
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    return yy * yy + xx * xx <= radius * radius


def reference_close(mask, radius):
    """scipy's closing of the edge-replicated mask, cropped back."""
    padded = np.pad(mask, radius, mode="edge")
    closed = ndimage.binary_closing(padded, structure=disk(radius))
    return closed[radius:-radius, radius:-radius]


@pytest.mark.parametrize("radius", [1, 2, 3, 5])
def test_matches_scipy_on_random_masks(radius):
    """Blobs with holes and gaps that touch every edge: identical to the reference."""
    rng = np.random.default_rng(radius)
    for _ in range(3):
        mask = ndimage.zoom(rng.random((12, 15)), 4, order=1) > 0.55
        mask &= rng.random(mask.shape) > 0.05      # pepper holes
        np.testing.assert_array_equal(close_mask(mask, radius), reference_close(mask, radius))


def test_fills_gap_and_hole_by_hand():
    """Radius 1 (a cross) fills the middle of a 1-px gap across a 3-px bar (its corner rows
    stay open: their outer neighbour is background) and a 1-px hole; a 3-px gap stays open."""
    mask = np.zeros((12, 20), bool)
    mask[1:4, 1:19] = True
    mask[1:4, 6] = False           # 1-px gap across the whole bar
    mask[1:4, 12:15] = False       # 3-px gap
    mask[7:10, 1:4] = True
    mask[8, 2] = False             # hole in a 3x3 square
    closed = close_mask(mask, 1)
    assert closed[:, 6].tolist() == [False, False, True] + [False] * 9
    assert not closed[1:4, 12:15].any()
    assert closed[7:10, 1:4].all()
    assert closed.sum() == mask.sum() + 1 + 1


def test_no_erosion_at_image_edges():
    """A full mask stays full and a region touching the edges keeps its edge pixels
    (scipy's closing without padding would clear them)."""
    full = np.ones((10, 12), bool)
    np.testing.assert_array_equal(close_mask(full, 3), full)
    assert not ndimage.binary_closing(full, structure=disk(3)).all()
    half = np.zeros((10, 12), bool)
    half[:, :5] = True
    np.testing.assert_array_equal(close_mask(half, 2), half)


def test_radius_zero_is_a_copy_and_input_untouched():
    mask = np.zeros((4, 4), bool)
    mask[1, 1] = True
    out = close_mask(mask, 0)
    np.testing.assert_array_equal(out, mask)
    out[0, 0] = True
    assert not mask[0, 0]
    before = mask.copy()
    close_mask(mask, 2)
    np.testing.assert_array_equal(mask, before)


def test_accepts_uint8_and_rejects_negative_radius():
    mask = np.zeros((5, 5), np.uint8)
    mask[1:4, 1:4] = 255
    mask[2, 2] = 0
    closed = close_mask(mask, 1)
    assert closed.dtype == bool and closed[1:4, 1:4].all() and closed.sum() == 9
    with pytest.raises(ValueError):
        close_mask(mask, -1)


@pytest.mark.parametrize("radius", [0, 1, 2, 4])
def test_small_mask_far_from_and_at_the_edges(radius):
    """A mask a few pixels across (closed within its window): the same as the reference
    over the whole image, inside it and against each edge and corner."""
    for row, col in [(20, 25), (0, 25), (20, 0), (37, 45), (0, 0), (39, 49)]:
        mask = np.zeros((40, 50), bool)
        mask[max(0, row - 2):row + 3, max(0, col - 3):col + 2] = True
        mask[row, max(0, col - 1)] = False     # a hole the closing fills
        expected = mask if radius == 0 else reference_close(mask, radius)
        np.testing.assert_array_equal(close_mask(mask, radius), expected)


def test_mask_window():
    mask = np.zeros((10, 12), bool)
    assert mask_window(mask, 2) is None
    mask[3, 4] = mask[5, 9] = True
    assert mask_window(mask, 2) == (slice(1, 8), slice(2, 12))
    assert mask_window(mask, 0) == (slice(3, 6), slice(4, 10))
