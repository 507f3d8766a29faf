"""The ask dock: a question about what the map shows, answered by a VLM in the runtime.

"Ask" sends the map view of the chosen raster as one image at the model's input size
(job ask with one_tile); with "top tiles" checked it asks instead the k tiles of the
whole layer most like the question (retrieval, the geovl:ask path). The answer goes into
the history, and the grounded boxes (rotated where the model gives angles) into a
memory layer named after the question, on top of the layer tree.
"""
from __future__ import annotations

import contextlib
import html
import os
import uuid

from qgis.core import (QgsCoordinateTransform, QgsFeature, QgsMapLayerProxyModel, QgsMemoryProviderUtils,
                       QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback, QgsProcessingUtils,
                       QgsProject, QgsRasterLayer, QgsVectorLayer, QgsWkbTypes)
from qgis.gui import QgsDockWidget, QgsMapLayerComboBox
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QSpinBox,
                                 QTextBrowser, QVBoxLayout, QWidget)

from ..processing.ask import DEFAULT_MODEL, DEFAULT_RETRIEVAL_MODEL
from ..processing.base import current_map_view, make_fields
from ..processing.render import job_raster
from ..processing.settings import default_device, default_model, default_precision
from ..processing.styles import apply_style
from .background_jobs import BackgroundJobs

OBJECT_FIELDS = [("label", "string"), ("score", "double"), ("angle", "double"), ("tile", "string"),
                 ("question", "string"), ("model", "string")]


def tr(text: str) -> str:
    # pylupdate5 files module-level tr() calls under the "@default" context.
    return QCoreApplication.translate("@default", text)


class GeoVLAskDock(QgsDockWidget):
    def __init__(self, iface, parent=None):
        super().__init__(tr("GeoVL Ask"), parent)
        self.setObjectName("GeoVLAskDock")
        self.iface = iface
        self.jobs = BackgroundJobs(self)
        self.jobs.finished.connect(self._answered)
        self.jobs.failed.connect(self._failed)
        self.asking: dict | None = None       # the question in flight: what the answer layer needs
        self.answer_layers: list[QgsVectorLayer] = []
        body = QWidget()
        form = QFormLayout()
        self.raster = QgsMapLayerComboBox()
        self.raster.setFilters(QgsMapLayerProxyModel.Filter.RasterLayer)
        form.addRow(tr("Raster"), self.raster)
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.addItem(default_model("ask", DEFAULT_MODEL))
        self.model.setToolTip(tr("A VLM preset (florence-2-base, qwen2.5-vl-3b, geochat, …), a hub id or a model "
                                 "folder."))
        form.addRow(tr("Model"), self.model)
        top = QHBoxLayout()
        self.top_tiles = QCheckBox(tr("Ask the top tiles of the layer"))
        self.top_tiles.setToolTip(tr("Instead of the map view, ask the tiles of the whole layer most like the "
                                     "question (found by retrieval with {}).").format(
            default_model("retrieve", DEFAULT_RETRIEVAL_MODEL)))
        self.top_k = QSpinBox()
        self.top_k.setRange(1, 100)
        self.top_k.setValue(5)
        self.top_k.setEnabled(False)
        self.top_tiles.toggled.connect(self.top_k.setEnabled)
        top.addWidget(self.top_tiles, 1)
        top.addWidget(self.top_k)
        form.addRow(top)
        layout = QVBoxLayout(body)
        layout.addLayout(form)
        question_row = QHBoxLayout()
        self.question = QLineEdit()
        self.question.setPlaceholderText(tr("Where are the planes?"))
        self.question.returnPressed.connect(self.ask)
        self.ask_button, self.cancel_button = QPushButton(tr("Ask")), QPushButton(tr("Cancel"))
        self.ask_button.clicked.connect(self.ask)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        question_row.addWidget(self.question, 1)
        question_row.addWidget(self.ask_button)
        question_row.addWidget(self.cancel_button)
        layout.addLayout(question_row)
        self.history = QTextBrowser()
        self.history.setOpenExternalLinks(False)
        layout.addWidget(self.history, 1)
        self.setWidget(body)

    def ask(self) -> None:
        """Send the question about the map view (or the layer's top tiles) to the runtime."""
        question = self.question.text().strip()
        layer = self.raster.currentLayer()
        if not question:
            return self._say(tr("Type a question first."), error=True)
        if not isinstance(layer, QgsRasterLayer) or not layer.isValid():
            return self._say(tr("Choose the raster to ask about."), error=True)
        model = {"name": self.model.currentText().strip(), "device": default_device(),
                 "precision": default_precision()}
        context = QgsProcessingContext()
        context.setProject(QgsProject.instance())
        view = current_map_view(context.transformContext())
        tiling = {"tile_size": 0, "overlap": 0, "resolution": 0.0, "extent": None, "bands": None}
        arguments = {"model": model, "question": question, "mode": "boxes", "max_new_tokens": 256}
        if self.top_tiles.isChecked():
            arguments.update(select="top-k", top_k=self.top_k.value(), retrieval_model={
                **model, "name": default_model("retrieve", DEFAULT_RETRIEVAL_MODEL)})
        else:
            if view is None:
                return self._say(tr("The map shows nothing yet: zoom to the layer '{}'.").format(layer.name()), True)
            extent = QgsCoordinateTransform(view.crs, layer.crs(), QgsProject.instance()).transformBoundingBox(
                view.extent)
            tiling["extent"] = (extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum())
            tiling["resolution"] = view.metres_per_pixel     # used only where a web layer is rendered
            arguments.update(select="all", one_tile=True)
        try:
            path, tiling = job_raster(layer, tiling, context, QgsProcessingFeedback(), view)
        except QgsProcessingException as exc:
            return self._say(str(exc), error=True)
        features = os.path.join(QgsProcessingUtils.tempFolder(), f"geovl-ask-{uuid.uuid4().hex}.gpkg")
        self.asking = {"question": question, "model": model["name"], "layer": layer, "features": features}
        self.jobs.submit("ask", "ask", {**arguments, "raster": path, "tiling": tiling, "features": features},
                         tr("asking"))
        self.ask_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._say(tr("Asking {}: {}").format(model["name"], question))

    def cancel(self) -> None:
        self.jobs.cancel("ask")
        self._done()
        self._say(tr("Cancelled."))

    def _answered(self, lane: str, ticket: int, values: dict) -> None:
        asking, self.asking = self.asking, None
        self._done()
        try:
            layer = self._answer_layer(asking, values["features"])
        finally:
            with contextlib.suppress(OSError):
                os.remove(values["features"])
        count = layer.featureCount() if layer is not None else 0
        self.history.append(f"<p><b>{_escape(asking['question'])}</b><br>{_escape(values['answer'])}"
                            f"<br><i>{tr('{} object(s) drawn').format(count)}</i></p>")

    def _failed(self, lane: str, ticket: int, sentence: str) -> None:
        self.asking = None
        self._done()
        self._say(sentence, error=True)

    def _done(self) -> None:
        self.ask_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _answer_layer(self, asking: dict, features: str) -> QgsVectorLayer | None:
        """The grounded objects as a memory layer named after the question (None if none)."""
        objects = QgsVectorLayer(f"{features}|layername=objects", "objects", "ogr")
        if not objects.isValid() or objects.featureCount() == 0:
            return None
        raster = asking["layer"]
        layer = QgsMemoryProviderUtils.createMemoryLayer(asking["question"], make_fields(OBJECT_FIELDS),
                                                         QgsWkbTypes.Type.Polygon, raster.crs())
        copied = []
        for source in objects.getFeatures():
            feature = QgsFeature(layer.fields())
            feature.setGeometry(source.geometry())
            for name in ("label", "score", "angle", "tile"):
                feature[name] = source[name]
            feature["question"], feature["model"] = asking["question"], asking["model"]
            copied.append(feature)
        layer.dataProvider().addFeatures(copied)
        layer.updateExtents()
        apply_style(layer, "ask_objects")
        QgsProject.instance().addMapLayer(layer, False)
        QgsProject.instance().layerTreeRoot().insertLayer(0, layer)
        self.answer_layers.append(layer)
        return layer

    def _say(self, text: str, error: bool = False) -> None:
        colour = "#b00020" if error else "#555"
        self.history.append(f'<p style="color:{colour}">{_escape(text)}</p>')

    def shut_down(self) -> None:
        self.jobs.shut_down()


def _escape(text: str) -> str:
    return html.escape(text or "").replace("\n", "<br>")
