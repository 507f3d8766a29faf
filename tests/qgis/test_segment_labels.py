"""How geovl:segment reads a label field's values (numbers or words) as object or background."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("value", [1, 1.0, "1", " 1.0 ", "true", "True", "yes", "fg", "Foreground", True])
def test_object_labels(value):
    from geovl.processing.segment import _label

    assert _label(value) == 1


@pytest.mark.parametrize("value", [0, 0.0, "0", "0.0", "false", "FALSE", "no", "bg", "background", False])
def test_background_labels(value):
    from geovl.processing.segment import _label

    assert _label(value) == 0


@pytest.mark.parametrize("value", [2, -1, "", "road", "0.5", None, "11"])
def test_anything_else_is_no_label(value):
    from geovl.processing.segment import _label

    assert _label(value) is None
