"""The dialog's widget for a model parameter (MODEL, RETRIEVAL_MODEL, SEGMENT_MODEL,
CAPTION_MODEL), and the dialog rules of processing/parameter_rules.py.

The parameter stays a string parameter, so scripts, qgis_process and the modeler pass the
same strings. In the standard dialog the widget lists the presets of the job with their
description and whether they are already in the local model cache (asked of the runtime
in a background task when the dialog opens), takes any text (a hub id), and has a browse
button for a checkpoint file or a model folder.

QGIS 3.22 has no enable/disable logic between parameters; a Python widget wrapper's
postInitialize sees every wrapper of the dialog, so the wrapper of MODEL, which every
GeoVL algorithm has, applies the rules of all parameters.
"""
from __future__ import annotations

import os
from typing import Callable

from processing.gui.wrappers import DIALOG_MODELER, DIALOG_STANDARD, WidgetWrapper, dialogTypes
from qgis.core import QgsApplication, QgsMapLayer, QgsProcessingContext, QgsProject, QgsRasterLayer, QgsTask
from qgis.gui import QgsGui
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QMenu, QSizePolicy, QToolButton,
                                 QWidget)

from .parameter_rules import DISTINCT_FROM, ENABLED_WHEN, REQUIRED_LABEL
from .runtime_link import missing_runtime_sentence, run_job

CHECKPOINT_FILTER = "*.pt *.pth *.bin *.safetensors *.ckpt"


def tr(text: str) -> str:
    # pylupdate5 files module-level tr() calls under the "@default" context.
    return QCoreApplication.translate("@default", text)


def preset_item_text(preset: dict) -> str:
    """One line of the list: name, description, and where it would load from."""
    if preset["cached"]:
        size = preset.get("size_bytes") or 0
        where = tr("in the local cache") + (f", {size / 1e6:,.0f} MB" if size else "")
    else:
        where = tr("downloads from the Hugging Face hub")
    return f"{preset['name']} — {preset['description']} ({where})"


class ModelWidgetWrapper(WidgetWrapper):
    """A model parameter as a list of presets, a free entry and a browse button."""

    def __new__(cls, param, dialog, row=0, col=0, **kwargs):
        # The modeler and batch dialogs keep QGIS's own string widget (model inputs, other
        # algorithms' outputs, fill down), made as WidgetWrapperFactory makes it.
        dialog_type = dialogTypes.get(type(dialog).__name__, DIALOG_STANDARD)
        if dialog_type == DIALOG_STANDARD:
            return super().__new__(cls)
        registry = QgsGui.processingGuiRegistry()
        if dialog_type == DIALOG_MODELER:
            wrapper = registry.createModelerParameterWidget(dialog.model, dialog.childId, param, dialog.context)
        else:
            wrapper = registry.createParameterWidgetWrapper(param, dialog_type)
        wrapper.setDialog(dialog)
        return wrapper

    def createWidget(self, kind: str = "embedder"):
        self.kind = kind
        self._task = None
        widget = QWidget()
        layout = QHBoxLayout(widget)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # Long preset lines go in the popup, not in the dialog's width.
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(16)
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.combo.setToolTip(tr("A preset from the list, a Hugging Face hub id (org/name), or a local checkpoint "
                                 "file or model folder (…)"))
        # A chosen line puts just the preset's name in the entry: the value scripts pass.
        self.combo.activated.connect(self._chosen)
        self.combo.editTextChanged.connect(lambda _: self.widgetValueHasChanged.emit(self))
        layout.addWidget(self.combo)
        browse = QToolButton()
        browse.setText("…")
        browse.setToolTip(tr("Browse for a checkpoint file or a model folder"))
        browse.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(browse)
        menu.addAction(tr("Checkpoint file…"), self._browse_file)
        menu.addAction(tr("Model folder…"), self._browse_folder)
        browse.setMenu(menu)
        layout.addWidget(browse)
        self._list_presets()
        return widget

    def setValue(self, value):
        self.combo.setEditText("" if value is None else str(value))

    def value(self):
        return self.combo.currentText().strip()

    def postInitialize(self, wrappers):
        if self.parameterDefinition().name() == "MODEL":
            apply_dialog_rules(wrappers)

    def _chosen(self, index: int) -> None:
        name = self.combo.itemData(index)
        if name:
            self.combo.setEditText(name)

    def _browse_file(self) -> None:
        start = os.path.dirname(os.path.expanduser(self.value())) if self.value() else ""
        path, _ = QFileDialog.getOpenFileName(self.widget, tr("Model checkpoint file"), start,
                                              tr("Checkpoints ({})").format(CHECKPOINT_FILTER) + ";;" +
                                              tr("All files (*)"))
        if path:
            self.setValue(path)

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self.widget, tr("Model folder (written by save_pretrained)"),
                                                os.path.expanduser(self.value()) if self.value() else "")
        if path:
            self.setValue(path)

    def _list_presets(self) -> None:
        """Ask the runtime for the presets in a background task; meanwhile, or without a
        runtime, one disabled line says why the list is empty (the entry still works)."""
        problem = missing_runtime_sentence()
        self._set_note(problem or tr("Asking the GeoVL runtime for the presets and the local model cache…"))
        if problem:
            return
        kind = self.kind

        def ask(task):
            return run_job("models", {"kind": kind}, None, tr("listing the models"))["presets"]

        # Kept on the wrapper: a QgsTask.fromFunction with no Python reference is collected.
        self._task = QgsTask.fromFunction(tr("GeoVL: listing models"), ask, on_finished=self._listed)
        QgsApplication.taskManager().addTask(self._task)

    def _listed(self, exception, presets=None) -> None:
        self._task = None
        if sip.isdeleted(self.combo):  # the dialog was closed first
            return
        if exception is not None:
            self._set_note(tr("The GeoVL runtime could not list the presets ({}); type a model.").format(exception))
            return
        text = self.combo.currentText()
        self.combo.blockSignals(True)
        self.combo.clear()
        for preset in presets:
            self.combo.addItem(preset_item_text(preset), preset["name"])
            self.combo.setItemData(self.combo.count() - 1, preset["repo"], Qt.ItemDataRole.ToolTipRole)
        self.combo.setEditText(text)
        self.combo.blockSignals(False)
        view = self.combo.view()  # the whole line of each preset, not elided
        view.setMinimumWidth(view.sizeHintForColumn(0) + 2 * view.frameWidth() +
                             view.verticalScrollBar().sizeHint().width())

    def _set_note(self, note: str) -> None:
        text = self.combo.currentText()
        self.combo.clear()
        self.combo.addItem(note)
        self.combo.model().item(0).setEnabled(False)
        self.combo.setEditText(text)


def apply_dialog_rules(wrappers) -> None:
    """The ENABLED_WHEN, DISTINCT_FROM and REQUIRED_LABEL rules of the parameters of one
    dialog, given all its widget wrappers."""
    by_name = {wrapper.parameterDefinition().name(): wrapper for wrapper in wrappers
               if wrapper.parameterDefinition() is not None}
    for name, wrapper in by_name.items():
        metadata = wrapper.parameterDefinition().metadata()
        if metadata.get(REQUIRED_LABEL) and _label(wrapper) is not None:
            _label(wrapper).setText(wrapper.parameterDefinition().description())
        if metadata.get(ENABLED_WHEN):
            controller, test = metadata[ENABLED_WHEN]
            if controller in by_name:
                _follow(wrapper, by_name[controller], test)
        if metadata.get(DISTINCT_FROM) in by_name:
            _distinct_layers(by_name[metadata[DISTINCT_FROM]], wrapper)


def _follow(wrapper, controller, test: Callable[[object], bool]) -> None:
    def update(*_):
        enabled = bool(test(controller.parameterValue()))
        for widget in (_widget(wrapper), _label(wrapper)):
            if widget is not None:
                widget.setEnabled(enabled)

    controller.widgetValueHasChanged.connect(update)
    update()


def _distinct_layers(first, second) -> None:
    """Give `first` and `second` two different raster layers when both show the same one
    and the project has another: the lower in the layer tree goes to `first`."""
    layer = _layer(first.parameterValue())
    if layer is None or _layer(second.parameterValue()) is not layer:
        return
    rasters = [node.layer() for node in QgsProject.instance().layerTreeRoot().findLayers()
               if isinstance(node.layer(), QgsRasterLayer)]  # top of the tree first
    if len(rasters) < 2 or layer not in rasters:
        return
    at = rasters.index(layer)
    upper, lower = (layer, rasters[at + 1]) if at + 1 < len(rasters) else (rasters[at - 1], layer)
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    first.setParameterValue(lower.id(), context)
    second.setParameterValue(upper.id(), context)


def _layer(value) -> QgsMapLayer | None:
    if isinstance(value, QgsMapLayer):
        return value
    return QgsProject.instance().mapLayer(str(value)) if value else None


def _widget(wrapper):
    return wrapper.widget if isinstance(wrapper, WidgetWrapper) else wrapper.wrappedWidget()


def _label(wrapper):
    return wrapper.label if isinstance(wrapper, WidgetWrapper) else wrapper.wrappedLabel()
