"""The segment tool's dock: which raster and model, the class to assign, the layer the
objects go to, and what the runtime is doing (encoding progress, cache state)."""
from __future__ import annotations

import os
from typing import Callable

from qgis.core import (QgsCoordinateTransform, QgsMapLayerProxyModel, QgsProcessingContext, QgsProcessingFeedback, QgsProject, QgsRasterLayer, QgsVectorLayer,
                       QgsMemoryProviderUtils, QgsWkbTypes)
from qgis.gui import QgsDockWidget, QgsMapLayerComboBox
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                                 QProgressBar, QPushButton, QToolButton, QVBoxLayout, QWidget)

from ..processing.base import current_map_view, make_fields
from ..processing.model_widget import CHECKPOINT_FILTER
from ..processing.render import layer_as_file, local_path
from ..processing.segment import DEFAULT_MODEL
from ..processing.settings import cache_folder, default_device, default_model, default_precision
from .segment_tool import FIELDS, Target

OBJECTS_LAYER_NAME = "GeoVL objects"


def tr(text: str) -> str:
    # pylupdate5 files module-level tr() calls under the "@default" context.
    return QCoreApplication.translate("@default", text)


class GeoVLSegmentDock(QgsDockWidget):
    def __init__(self, iface, parent=None):
        super().__init__(tr("GeoVL Segment"), parent)
        self.setObjectName("GeoVLSegmentDock")
        self.iface = iface
        body = QWidget()
        form = QFormLayout()
        self.raster = QgsMapLayerComboBox()
        self.raster.setFilters(QgsMapLayerProxyModel.Filter.RasterLayer)
        self.raster.setToolTip(tr("The raster to segment; web layers are rendered at the map view's resolution."))
        form.addRow(tr("Raster"), self.raster)
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.addItem(default_model("segment", DEFAULT_MODEL))
        self.model.setToolTip(tr("A SAM or SAM 2 preset (sam-vit-b, sam2.1-hiera-tiny, …), a hub id, or a "
                                 "checkpoint file or folder."))
        browse = QToolButton()
        browse.setText("…")
        browse.setToolTip(tr("Choose a checkpoint file"))
        browse.clicked.connect(self._browse)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(browse)
        form.addRow(tr("Model"), model_row)
        self.object_class = QLineEdit("object")
        self.object_class.setToolTip(tr("The class field of the objects you accept."))
        form.addRow(tr("Class"), self.object_class)
        self.output = QgsMapLayerComboBox()
        self.output.setFilters(QgsMapLayerProxyModel.Filter.PolygonLayer)
        self.output.setAllowEmptyLayer(True)
        self.output.setLayer(None)
        self.output.setToolTip(tr("The polygon layer accepted objects are added to; empty: a new memory layer "
                                  "'{}' with the fields of geovl:segment.").format(OBJECTS_LAYER_NAME))
        form.addRow(tr("Add to"), self.output)
        self.hover_preview = QCheckBox(tr("Preview under the cursor"))
        self.hover_preview.setObjectName("GeoVLHoverPreview")
        self.hover_preview.setChecked(True)
        self.hover_preview.setToolTip(tr("Before the first click, show faintly what a click where the cursor rests "
                                         "would segment (on tiles already encoded)."))
        form.addRow(self.hover_preview)
        layout = QVBoxLayout(body)
        layout.addLayout(form)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.status = QLabel(tr("Left click: object · right click: background · drag: box"))
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.accept_button, self.undo_button = QPushButton(tr("Accept")), QPushButton(tr("Undo"))
        self.clear_button, self.cancel_button = QPushButton(tr("Clear")), QPushButton(tr("Cancel"))
        self.accept_button.setToolTip(tr("Add the object to the layer (Enter)"))
        self.undo_button.setToolTip(tr("Take back the last prompt (Backspace)"))
        self.clear_button.setToolTip(tr("Drop the object's prompts (Esc)"))
        self.cancel_button.setToolTip(tr("Stop encoding"))
        self.cancel_button.setEnabled(False)
        for button in (self.accept_button, self.undo_button, self.clear_button, self.cancel_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.setWidget(body)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("SAM checkpoint"), "", CHECKPOINT_FILTER)
        if path:
            self.model.setCurrentText(path)

    def class_name(self) -> str:
        return self.object_class.text().strip() or "object"

    def target(self, current: Target | None, map_point) -> Target | None:
        """What a click at `map_point` (canvas CRS) segments: `current` while it still
        applies, else the chosen raster read from its file; None: a web layer to render
        first (render_request). Raises ValueError with the sentence."""
        layer, model = self._choice()
        canvas_crs = self.iface.mapCanvas().mapSettings().destinationCrs()
        point = QgsCoordinateTransform(canvas_crs, layer.crs(), QgsProject.instance()).transform(map_point)
        if current is not None and current.layer is layer and current.model == model and (
                current.extent is None or current.extent.contains(point)):
            return current
        path = local_path(layer)
        if not path:
            return None
        if not layer.extent().contains(point):
            raise ValueError(tr("The click is outside the raster '{}'.").format(layer.name()))
        return Target(layer, path, None, model)

    def render_request(self) -> Callable[[QgsProcessingFeedback], Target]:
        """The rendering of the chosen web layer over the map view at the canvas's
        resolution, as work for the background thread (the view is read here, on the GUI
        thread; the tiles are fetched there)."""
        layer, model = self._choice()
        context = QgsProcessingContext()
        context.setProject(QgsProject.instance())
        view = current_map_view(context.transformContext())
        if view is None:
            raise ValueError(tr("The map shows nothing to segment yet: zoom to the layer '{}'.").format(layer.name()))
        extent = QgsCoordinateTransform(view.crs, layer.crs(), QgsProject.instance()).transformBoundingBox(view.extent)
        folder = os.path.join(cache_folder(), "rendered")
        self.set_busy(tr("Rendering '{}' over the map view…").format(layer.name()))

        def render(feedback: QgsProcessingFeedback) -> Target:
            path = layer_as_file(layer, extent, view.metres_per_pixel, folder, context, feedback, view)
            return Target(layer, path, extent, model)
        return render

    def _choice(self) -> tuple[QgsRasterLayer, dict]:
        """The chosen raster and model options; ValueError with the sentence if either is missing."""
        layer = self.raster.currentLayer()
        name = self.model.currentText().strip()
        if not isinstance(layer, QgsRasterLayer) or not layer.isValid():
            raise ValueError(tr("Choose the raster to segment in the GeoVL Segment dock."))
        if not name:
            raise ValueError(tr("Choose a model in the GeoVL Segment dock (e.g. sam-vit-b)."))
        return layer, {"name": name, "device": default_device(), "precision": default_precision()}

    def output_layer(self, raster: QgsRasterLayer) -> QgsVectorLayer:
        """The chosen polygon layer, or a new memory layer in the raster's CRS."""
        layer = self.output.currentLayer()
        if isinstance(layer, QgsVectorLayer) and layer.geometryType() == QgsWkbTypes.GeometryType.PolygonGeometry:
            return layer
        layer = QgsMemoryProviderUtils.createMemoryLayer(OBJECTS_LAYER_NAME, make_fields(FIELDS),
                                                          QgsWkbTypes.Type.MultiPolygon, raster.crs())
        QgsProject.instance().addMapLayer(layer)
        self.output.setLayer(layer)
        return layer

    def set_busy(self, text: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("")

    def set_progress(self, percent: float) -> None:
        self.progress.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(int(percent))

    def set_idle(self, text: str, error: bool = False) -> None:
        self.progress.setVisible(False)
        self.cancel_button.setEnabled(False)
        self.status.setText(text)
        self.status.setStyleSheet("color: #b00020;" if error else "")
