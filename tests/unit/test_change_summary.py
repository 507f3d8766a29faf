"""The model-free captions of change maps (format_area, location_word, Directions,
region_facts, overall_facts) against sentences written out by hand, and
upsample_bilinear against a hand computation and torch's bilinear interpolation."""
import numpy as np
import pytest

from geovl.pipelines.change import upsample_bilinear
from geovl.pipelines.change_summary import Directions, format_area, location_word, overall_facts, region_facts


@pytest.mark.parametrize("m2, text", [
    (0, "0 m²"),
    (12.4, "12 m²"),
    (950, "950 m²"),
    (9_999, "9,999 m²"),
    (10_000, "1.00 ha"),         # 1 ha from 10,000 m²
    (15_000, "1.50 ha"),
    (123_456, "12.35 ha"),
    (999_000, "99.90 ha"),
    (1_000_000, "1.00 km²"),     # 1 km² from 100 ha
    (2_500_000, "2.50 km²"),
    (1_234_567_890, "1,234.57 km²"),
])
def test_format_area(m2, text):
    assert format_area(m2) == text


@pytest.mark.parametrize("x, y, word", [
    (0.1, 0.1, "north-west"), (0.5, 0.1, "north"), (0.9, 0.1, "north-east"),
    (0.1, 0.5, "west"), (0.5, 0.5, "centre"), (0.9, 0.5, "east"),
    (0.1, 0.9, "south-west"), (0.5, 0.9, "south"), (0.9, 0.9, "south-east"),
    (0.0, 0.0, "north-west"), (1.0, 1.0, "south-east"),
])
def test_location_word_nine_cells(x, y, word):
    assert location_word(x, y) == word


def test_location_word_borders():
    """The thirds belong to the middle cell: x or y exactly 1/3 or 2/3 is neither side."""
    third, two_thirds = 1 / 3, 2 / 3
    assert location_word(third, 0.5) == "centre" and location_word(two_thirds, 0.5) == "centre"
    assert location_word(0.5, third) == "centre" and location_word(0.5, two_thirds) == "centre"
    assert location_word(third, third) == "centre" and location_word(two_thirds, two_thirds) == "centre"
    below, above = np.nextafter(third, 0), np.nextafter(two_thirds, 1)
    assert location_word(below, 0.5) == "west" and location_word(above, 0.5) == "east"
    assert location_word(0.5, below) == "north" and location_word(0.5, above) == "south"
    assert location_word(below, above) == "south-west" and location_word(above, below) == "north-east"


def test_directions_from_areas_by_hand():
    # 1 similar, 4 brighter, 5 brighter + gain, 9 darker + loss, 3 similar + loss
    directions = Directions.from_areas({1: 10.0, 4: 30.0, 5: 20.0, 9: 25.0, 3: 15.0})
    assert directions.brighter == pytest.approx(0.5)          # (30 + 20) / 100
    assert directions.darker == pytest.approx(0.25)
    assert directions.vegetation_gain == pytest.approx(0.2)
    assert directions.vegetation_loss == pytest.approx(0.4)   # (25 + 15) / 100
    assert Directions.from_areas({8: 3.0, 7: 1.0}) == Directions(0.0, 1.0, pytest.approx(0.75), 0.0)


def test_directions_from_areas_empty_or_zero():
    assert Directions.from_areas({}) == Directions(0.0, 0.0, 0.0, 0.0)
    assert Directions.from_areas({4: 0.0, 8: 0.0}) == Directions(0.0, 0.0, 0.0, 0.0)


def test_directions_phrases_only_dominant():
    assert Directions(0.5, 0.2, 0.6, 0.49).phrases() == ["brighter after (50%)", "vegetation gain (60%)"]
    assert Directions(0.0, 0.875, 0.0, 1.0).phrases() == ["darker after (88%)", "vegetation loss (100%)"]
    assert Directions(0.499, 0.3, 0.2, 0.1).phrases() == []
    assert Directions().phrases() == []


def test_region_facts():
    assert region_facts(15_000, "north-west", Directions(brighter=0.75)) == (
        "1.50 ha changed in the north-west; brighter after (75%).")
    assert region_facts(420, "centre", Directions(darker=0.6, vegetation_loss=0.8)) == (
        "420 m² changed in the centre; darker after (60%); vegetation loss (80%).")
    assert region_facts(2_000_000, "south", Directions(brighter=0.4)) == "2.00 km² changed in the south."


def test_overall_facts_no_regions():
    assert overall_facts([], "centre", Directions(), 2_500_000) == "No change found over the 2.50 km² compared."
    assert overall_facts([], "north", Directions(brighter=1.0), 800) == "No change found over the 800 m² compared."


def test_overall_facts_counts_share_and_largest():
    text = overall_facts([5_000, 15_000, 5_000], "south-east", Directions(darker=0.8, vegetation_gain=0.3),
                         1_000_000)
    assert text == ("3 change region(s) covering 2.50 ha (2.5% of the 1.00 km² compared). The largest, 1.50 ha, "
                    "is in the south-east. Most of the changed area: darker after (80%).")
    text = overall_facts([300], "centre", Directions(brighter=0.2), 1_200)
    assert text == ("1 change region(s) covering 300 m² (25.0% of the 1,200 m² compared). The largest, 300 m², "
                    "is in the centre.")


def test_overall_facts_nothing_compared():
    assert overall_facts([100], "west", Directions(), 0) == (
        "1 change region(s) covering 100 m² (0.0% of the 0 m² compared). The largest, 100 m², is in the west.")


# --- upsample_bilinear ---------------------------------------------------------------------------

def test_upsample_bilinear_by_hand():
    """A 3 x 2 grid to 6 x 4: output row i samples input row i/2 - 1/4 (clamped to 0..2),
    output column j samples input column j/2 - 1/4 (clamped to 0..1)."""
    values = np.array([[1, 2], [4, 8], [16, 32]], np.float32)
    # rows at 0, 0.25, 0.75, 1.25, 1.75, 2 -> [1, 2], [1.75, 3.5], [3.25, 6.5], [7, 14], [13, 26], [16, 32];
    # columns at 0, 0.25, 0.75, 1 -> [a, 0.75a + 0.25b, 0.25a + 0.75b, b] with b = 2a: a * [1, 1.25, 1.75, 2]
    expected = np.array([[1.0], [1.75], [3.25], [7.0], [13.0], [16.0]]) * np.array([1.0, 1.25, 1.75, 2.0])
    result = upsample_bilinear(values, (6, 4))
    assert result.shape == (6, 4)
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-6)


def test_upsample_bilinear_constant_and_same_size():
    np.testing.assert_allclose(upsample_bilinear(np.full((3, 5), 2.5, np.float32), (17, 9)), 2.5)
    values = np.random.default_rng(0).random((4, 7)).astype(np.float32)
    np.testing.assert_allclose(upsample_bilinear(values, (4, 7)), values, atol=1e-6)


@pytest.mark.parametrize("grid, shape", [((7, 5), (32, 32)), ((16, 16), (256, 256)), ((3, 11), (10, 40)),
                                         ((1, 4), (5, 9)), ((14, 14), (224, 224)), ((6, 9), (13, 13))])
def test_upsample_bilinear_matches_torch(grid, shape):
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(sum(grid)).normal(size=grid).astype(np.float32)
    reference = torch.nn.functional.interpolate(torch.from_numpy(values)[None, None], size=shape, mode="bilinear",
                                                align_corners=False)[0, 0].numpy()
    result = upsample_bilinear(values, shape)
    assert result.shape == shape
    np.testing.assert_allclose(result, reference, rtol=0, atol=1e-5)


def test_format_bytes_in_decimal_units():
    from geovl.pipelines.change_summary import format_bytes

    assert [format_bytes(n) for n in (0, 999, 1000, 524_288, 4_400_000, 10e9, 160e9, 2.5e12)] == [
        "0 bytes", "999 bytes", "1.0 kB", "524 kB", "4.4 MB", "10 GB", "160 GB", "2.5 TB"]


def test_format_duration_rounds_to_what_a_person_plans_with():
    from geovl.pipelines.feedback import format_duration

    assert [format_duration(s) for s in (0.2, 23.5, 119, 120, 2353, 7199, 7200, 90_000)] == [
        "1 s", "24 s", "119 s", "2 min", "39 min", "120 min", "2.0 h", "25.0 h"]
    assert format_duration(2.1 * 86400) == "2.1 days"
