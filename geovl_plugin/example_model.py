"""The example graphical model (models3/geovl_find_ask_segment.model3: retrieve → ask the
top tiles → segment what was found), installed into the user's Processing models folder,
where the Processing Toolbox lists it under Models › GeoVL."""
from __future__ import annotations

import filecmp
import os
import shutil
from typing import Callable

from qgis.core import QgsApplication

EXAMPLE_MODEL = os.path.join(os.path.dirname(os.path.dirname(__file__)), "models3", "geovl_find_ask_segment.model3")


def models_folder() -> str:
    """The first of Processing's models folders (ProcessingConfig's MODELS_FOLDER; by default
    <profile>/processing/models), the one the Model Designer saves to."""
    from processing.modeler.ModelerUtils import ModelerUtils  # QGIS's Processing plugin, loaded with QGIS

    return ModelerUtils.modelsFolders()[0]


def install_example_model(folder: str, replace: Callable[[str], bool]) -> str | None:
    """Copy the example model into `folder` and refresh the Processing models provider.
    A different file of the same name (the user's edited copy) is replaced only if
    `replace(path)` says so. Returns the installed path, None when the user kept theirs."""
    target = os.path.join(folder, os.path.basename(EXAMPLE_MODEL))
    if os.path.exists(target) and not filecmp.cmp(target, EXAMPLE_MODEL, shallow=False) and not replace(target):
        return None
    os.makedirs(folder, exist_ok=True)
    partial = target + ".partial"
    shutil.copyfile(EXAMPLE_MODEL, partial)
    os.replace(partial, target)  # never a half-copied model in the toolbox
    provider = QgsApplication.processingRegistry().providerById("model")
    if provider is not None:  # None when Processing is not loaded (nothing lists models then)
        provider.refreshAlgorithms()
    return target
