"""What the dialog needs to know about GeoVL's parameters, declared on their metadata and
read by processing/model_widget.py (imported only by the dialog, so qgis_process and
scripts never load GUI modules):

- model parameters get the model widget (model_metadata);
- ENABLED_WHEN: (controlling parameter, test of its value); the parameter is enabled in
  the dialog only while the test passes (QGIS 3.22 has no such logic of its own);
- DISTINCT_FROM on a raster layer parameter: when the dialog opens with the same layer
  there and in the named parameter, the two get two different layers;
- REQUIRED_LABEL: an optional parameter that is one of two ways to give a required input
  (retrieve's query text or query layer) is labelled without "[optional]".
"""
from __future__ import annotations

import json
import os

ENABLED_WHEN = "geovl_enabled_when"
DISTINCT_FROM = "geovl_distinct_from"
REQUIRED_LABEL = "geovl_required_label"
# A dotted path, not the class: the factory imports it when a dialog opens.
MODEL_WIDGET = f"{__package__}.model_widget.ModelWidgetWrapper"


def model_metadata(kind: str) -> dict:
    """The metadata that gives a model parameter the model widget; `kind` is the runtime's
    kind of model: embedder, segmenter, vlm, or features (an embedder or a segmenter)."""
    return {"widget_wrapper": {"class": MODEL_WIDGET, "kind": kind}}


def takes_text_prompts(model) -> bool:
    """Whether a segmentation model takes text concepts (SAM 3): a preset or hub id naming
    sam3, or a saved folder whose config says so (read as JSON: no engine here)."""
    spec = str(model or "").strip()
    config = os.path.join(os.path.expanduser(spec), "config.json")
    if spec and os.path.isfile(config):
        try:
            with open(config, encoding="utf-8") as file:
                return str(json.load(file).get("model_type", "")).startswith("sam3")
        except (OSError, ValueError, AttributeError):
            return False
    return "sam3" in spec.lower().replace("-", "").replace("_", "").replace(" ", "")


def chosen(*indexes: int):
    """The ENABLED_WHEN test "the enum parameter has one of these options chosen"."""
    return lambda value: value is not None and str(value) in {str(index) for index in indexes}


def given(value) -> bool:
    """The ENABLED_WHEN test "the controlling text parameter is not empty"."""
    return bool(str(value or "").strip())
