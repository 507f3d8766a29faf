"""GeoVL's page in Settings › Options: the cache folder with the size of each kind of cache
and a Clear button for it, the default device and precision, and the default model of
each job (processing/settings.py holds the keys and is what the algorithms read).

A page of QGIS's own Options dialog rather than a dialog of the plugin's: QGIS keeps the
settings of its providers there (Processing, GDAL, GPS), with the OK / Cancel / Apply
semantics and search users know; Plugins › GeoVL › Settings… opens Options at this page."""
from __future__ import annotations

import os
import shutil

from qgis.core import QgsSettings
from qgis.gui import QgsFileWidget, QgsOptionsPageWidget, QgsOptionsWidgetFactory
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import (QComboBox, QFormLayout, QGridLayout, QGroupBox, QLabel, QLineEdit, QPushButton,
                                 QVBoxLayout)

from ..folders import cache_root
from ..processing import ask, change, retrieve, segment
from ..runtime.install import folder_bytes
from ..processing.settings import (CACHE_DIR_KEY, CACHE_KINDS, DEVICE_KEY, DEVICES, MODEL_KEY, PRECISION_KEY,
                                   PRECISIONS, default_device, default_precision)
from .provider import ICON
from .runtime_dialog import human_bytes

PAGE_NAME = "geovlOptionsPage"  # the page's objectName: iface.showOptionsDialog(currentPage=PAGE_NAME)
# The default model of each job, and the built-in default it falls back to.
JOB_MODELS = (("retrieve", retrieve.DEFAULT_MODEL), ("segment", segment.DEFAULT_MODEL), ("ask", ask.DEFAULT_MODEL),
              ("change", change.DEFAULT_BACKBONE))


def tr(text: str) -> str:
    # pylupdate5 files module-level tr() calls under the "@default" context.
    return QCoreApplication.translate("@default", text)


class GeoVLOptionsFactory(QgsOptionsWidgetFactory):
    def __init__(self):
        super().__init__(tr("GeoVL"), QIcon(ICON))

    def icon(self) -> QIcon:
        return QIcon(ICON)

    def createWidget(self, parent=None) -> QgsOptionsPageWidget:  # noqa: N802 (Qt's name)
        return GeoVLOptionsPage(parent)


class GeoVLOptionsPage(QgsOptionsPageWidget):
    """What the page shows is the settings in effect; apply() (OK or Apply in Options)
    stores them. Clear acts at once on the folder shown, as deleting files cannot wait for OK."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName(PAGE_NAME)

        self.folder = QgsFileWidget()
        self.folder.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.folder.setDialogTitle(tr("GeoVL cache folder"))
        self.folder.lineEdit().setPlaceholderText(cache_root())
        self.folder.setFilePath(str(QgsSettings().value(CACHE_DIR_KEY, "") or ""))
        self.folder.fileChanged.connect(self.refresh_sizes)
        self.environment_note = QLabel()
        self.environment_note.setWordWrap(True)
        self.sizes: dict[str, QLabel] = {}
        self.clear_buttons: dict[str, QPushButton] = {}
        self.total = QLabel()
        names = {"retrieval": tr("Retrieval indexes (tile embeddings)"),
                 "segment": tr("Segment Anything image embeddings"),
                 "rendered": tr("Rendered web and virtual layers")}
        grid = QGridLayout()
        for row, kind in enumerate(CACHE_KINDS):
            self.sizes[kind] = QLabel()
            button = QPushButton(tr("Clear"))
            button.setObjectName(f"geovlClear_{kind}")
            button.setToolTip(tr("Delete the {} subfolder of the cache folder. Runs rebuild what they need.").format(
                kind))
            button.clicked.connect(lambda _checked=False, kind=kind: self.clear(kind))
            self.clear_buttons[kind] = button
            grid.addWidget(QLabel(names[kind]), row, 0)
            grid.addWidget(self.sizes[kind], row, 1)
            grid.addWidget(button, row, 2)
        grid.addWidget(QLabel(tr("All of the cache folder")), len(CACHE_KINDS), 0)
        grid.addWidget(self.total, len(CACHE_KINDS), 1)
        grid.setColumnStretch(0, 1)
        cache_box = QGroupBox(tr("Cache"))
        cache_layout = QVBoxLayout(cache_box)
        folder_form = QFormLayout()
        folder_form.addRow(tr("Folder (empty: the default)"), self.folder)
        cache_layout.addLayout(folder_form)
        cache_layout.addWidget(self.environment_note)
        cache_layout.addLayout(grid)

        self.device = QComboBox()
        self.device.addItems(DEVICES)
        self.device.setCurrentText(default_device())
        self.precision = QComboBox()
        self.precision.addItems(PRECISIONS)
        self.precision.setCurrentText(default_precision())
        run_box = QGroupBox(tr("New runs start with"))
        run_form = QFormLayout(run_box)
        run_form.addRow(tr("Device"), self.device)
        run_form.addRow(tr("Precision"), self.precision)
        models_box = QGroupBox(tr("Default models (empty: the built-in default)"))
        models_form = QFormLayout(models_box)
        self.models: dict[str, QLineEdit] = {}
        captions = {"retrieve": tr("Text-to-image retrieval"), "segment": tr("Prompted segmentation"),
                    "ask": tr("Grounded question"), "change": tr("Change detection backbone")}
        for job, fallback in JOB_MODELS:
            edit = QLineEdit(str(QgsSettings().value(MODEL_KEY.format(job), "") or ""))
            edit.setPlaceholderText(fallback)
            edit.setToolTip(tr("A preset, a hub id (org/name) or a local path; empty: {}").format(fallback))
            self.models[job] = edit
            models_form.addRow(captions[job], edit)

        layout = QVBoxLayout(self)
        layout.addWidget(cache_box)
        layout.addWidget(run_box)
        layout.addWidget(models_box)
        layout.addStretch(1)
        self.refresh_sizes()

    def shown_folder(self) -> str:
        """The cache folder runs use once the page is applied."""
        return os.environ.get("GEOVL_CACHE_DIR") or self.folder.filePath().strip() or cache_root()

    def refresh_sizes(self) -> None:
        overridden = bool(os.environ.get("GEOVL_CACHE_DIR"))
        self.folder.setEnabled(not overridden)
        self.environment_note.setVisible(overridden)
        self.environment_note.setText(tr(
            "The environment variable GEOVL_CACHE_DIR is set: runs use {} whatever this setting says. Unset it "
            "to use the folder above.").format(os.environ.get("GEOVL_CACHE_DIR", "")))
        root = self.shown_folder()
        for kind in CACHE_KINDS:
            size = folder_bytes(os.path.join(root, kind))
            self.sizes[kind].setText(human_bytes(size))
            self.clear_buttons[kind].setEnabled(size > 0)
        self.total.setText(f"{human_bytes(folder_bytes(root))} — {root}")

    def clear(self, kind: str) -> None:
        shutil.rmtree(os.path.join(self.shown_folder(), kind), ignore_errors=True)
        self.refresh_sizes()

    def apply(self) -> None:
        settings = QgsSettings()
        folder = self.folder.filePath().strip()
        if folder:
            settings.setValue(CACHE_DIR_KEY, folder)
        else:
            settings.remove(CACHE_DIR_KEY)
        settings.setValue(DEVICE_KEY, self.device.currentText())
        settings.setValue(PRECISION_KEY, self.precision.currentText())
        for job, _ in JOB_MODELS:
            model = self.models[job].text().strip()
            if model:
                settings.setValue(MODEL_KEY.format(job), model)
            else:
                settings.remove(MODEL_KEY.format(job))
