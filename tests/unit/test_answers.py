"""Combining the answers of many tiles into one."""
from __future__ import annotations

import pytest

from geovl.pipelines.answers import TileReply, combine, count_in, is_count_question


@pytest.mark.parametrize("question, expected", [
    ("How many storage tanks are in this port?", True), ("count the ships", True),
    ("What is the number of planes?", True), ("Combien de bateaux ?", True),
    ("Where are the airplanes parked?", False), ("Is the runway wet?", False),
])
def test_count_questions(question, expected):
    assert is_count_question(question) is expected


@pytest.mark.parametrize("text, expected", [
    ("There are 12 tanks.", 12), ("three ships", 3), ("No planes are visible.", 0), ("a dozen cars", 12),
    ("I cannot tell.", None), ("", None),
])
def test_count_in(text, expected):
    assert count_in(text) == expected


def test_counts_are_summed_with_grounded_counts_first():
    replies = [TileReply("0,0", "(1.0, 2.0)", "There are 3 tanks.", None),
               TileReply("0,1", "(3.0, 2.0)", "tanks tanks", 2),          # grounded: 2 objects kept
               TileReply("1,0", "(1.0, 0.0)", "I cannot tell.", None)]
    lines = combine("How many tanks?", replies).splitlines()
    assert lines[0] == "5 in total over 3 tile(s) (1 tile answer(s) gave no number)."
    assert lines[1:] == ["Tile 0,0 at (1.0, 2.0): 3 (There are 3 tanks.)", "Tile 0,1 at (3.0, 2.0): 2 (tanks tanks)",
                         "Tile 1,0 at (1.0, 0.0): ? (I cannot tell.)"]


def test_other_questions_list_the_tiles_that_answered():
    replies = [TileReply("0,0", "(1, 2)", "A runway."), TileReply("0,1", "(3, 2)", "")]
    assert combine("What is here?", replies) == "Tile 0,0 at (1, 2): A runway."
    assert combine("What is here?", replies[:1]) == "A runway."
    assert combine("What is here?", replies[1:]) == "The model gave no text for the 1 tile(s) asked."
