"""The segment map tool: click on a raster and see SAM's mask follow.

Left click adds an object point, right click a background point, a drag draws the box;
each prompt sends the object's prompts to the runtime (job segment_object), which
decodes them on the tiles already encoded there, and the mask comes back as a picture,
drawn translucent over the map (tracing polygons and drawing them would cost more than
the decode). Enter accepts the object: its polygons are asked for then and added to the
dock's polygon layer (the fields of geovl:segment). Esc clears the object, Backspace (or
Ctrl+Z) takes back the last prompt.
Resting the cursor on the raster encodes the tiles under it in the background (job
segment_tiles), so the first click there only decodes. Before the first click of an
object, the cursor resting on an encoded tile previews, fainter, what a click there would
give (the dock's "Preview under the cursor", Geo-SAM's preview mode): a decode only, never
an encode. On a web layer the first click renders the map view, also in the background,
and is placed once it is done. Clicks and previews are in the raster's CRS; the canvas may
show another.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Callable

from qgis.core import (QgsCoordinateTransform, QgsDistanceArea, QgsFeature, QgsGeometry, QgsPointXY, QgsProject,
                       QgsRasterLayer, QgsRectangle, QgsUnitTypes, QgsWkbTypes)
from qgis.gui import QgsMapCanvasItem, QgsMapTool, QgsRubberBand
from qgis.PyQt.QtCore import QCoreApplication, Qt, QTimer, pyqtSignal
from qgis.PyQt.QtGui import QColor, QImage, QKeySequence

from ..processing.segment import ALGORITHM_VERSION
from .background_jobs import BackgroundJobs

# A press and release this many screen pixels apart is a box, closer a click.
DRAG_PX = 6
# The cursor rests this long on the raster before the tiles under it are encoded.
HOVER_ENCODE_MS = 400
# ... and this long before the object under it is previewed (a decode: about 60 ms on 2 cores).
HOVER_PREVIEW_MS = 150
FIELDS = [("class", "string"), ("score", "double"), ("area_m2", "double"), ("prompt_id", "int"),
          ("model", "string"), ("source", "string"), ("version", "string")]
PREVIEW_COLOUR = QColor(30, 144, 255, 110)
HOVER_COLOUR = QColor(30, 144, 255, 70)


def tr(text: str) -> str:
    # pylupdate5 files module-level tr() calls under the "@default" context.
    return QCoreApplication.translate("@default", text)


@dataclass(frozen=True)
class Target:
    """What the tool segments: a raster layer read from `path` (the layer's file, or a
    rendering of a web layer over `extent`), with `model` (the job's model options)."""
    layer: QgsRasterLayer
    path: str
    extent: QgsRectangle | None      # the rendering's extent (layer CRS); None: the layer's own file
    model: dict

    def arguments(self) -> dict:
        return {"raster": self.path, "model": self.model, "model_type": "auto",
                "tiling": {"tile_size": 0, "overlap": 0, "resolution": 0.0, "extent": None, "bands": None}}


def mask_image(mask: dict, colour: QColor = PREVIEW_COLOUR) -> QImage:
    """The mask bits of segment_object (rows of bits padded to 32) as a translucent picture."""
    width, height = mask["size"]
    bits = base64.b64decode(mask["bits"])
    image = QImage(bits, width, height, len(bits) // height, QImage.Format.Format_Mono)
    image.setColorTable([QColor(0, 0, 0, 0).rgba(), colour.rgba()])
    return image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)   # a copy: `bits` may go


class MaskPreview(QgsMapCanvasItem):
    """A picture of the object's mask over its map rectangle, following pans and zooms."""

    def __init__(self, canvas):
        super().__init__(canvas)
        self.canvas = canvas
        self.image: QImage | None = None
        self.setZValue(10)

    def show_mask(self, image: QImage, rect: QgsRectangle) -> None:
        self.image = image
        self.setRect(rect)
        self.show()
        self.update()

    def show_bits(self, mask: dict, crs, colour: QColor = PREVIEW_COLOUR) -> None:
        """segment_object's mask bits, in `crs` (the raster's), over the canvas."""
        to_canvas = QgsCoordinateTransform(crs, self.canvas.mapSettings().destinationCrs(), QgsProject.instance())
        self.show_mask(mask_image(mask, colour), to_canvas.transformBoundingBox(QgsRectangle(*mask["bounds"])))

    def clear(self) -> None:
        self.image = None
        self.hide()

    def paint(self, painter, option=None, widget=None) -> None:
        if self.image is not None:
            painter.drawImage(self.boundingRect(), self.image)


class SegmentMapTool(QgsMapTool):
    """Prompts (map points and a box in the raster's CRS) of one object at a time."""

    previewChanged = pyqtSignal()      # a new preview is drawn (or cleared)
    hoverPreviewChanged = pyqtSignal()   # the preview under the cursor is drawn (or cleared)

    def __init__(self, canvas, dock):
        super().__init__(canvas)
        self.dock = dock
        self.jobs = BackgroundJobs(self)
        self.jobs.finished.connect(self._job_finished)
        self.jobs.failed.connect(self._job_failed)
        self.jobs.progress.connect(self._job_progress)
        self.prompts: list[dict] = []            # MapPrompt fields, in the raster's CRS
        self.preview_mask: dict | None = None     # the previewed object's mask bits (segment_object "as": "mask")
        self.score = 0.0
        self.target: Target | None = None
        self.objects = 0
        self.decoding: int | None = None         # the ticket of the decode whose preview is awaited
        self.accepting: int | None = None        # the ticket of the accepted object's polygons
        self._pressed_at = None
        self._after_render: list[Callable[[], None]] = []   # clicks waiting for a web layer's rendering
        self._open_areas: list[QgsRectangle] = []   # tiles open in the worker (raster CRS)
        self._hover = QTimer(self)
        self._hover.setSingleShot(True)
        self._hover.setInterval(HOVER_ENCODE_MS)
        self._hover.timeout.connect(self._encode_under_cursor)
        self._hover_point: QgsPointXY | None = None
        self._hover_preview = QTimer(self)
        self._hover_preview.setSingleShot(True)
        self._hover_preview.setInterval(HOVER_PREVIEW_MS)
        self._hover_preview.timeout.connect(self._preview_under_cursor)
        self.hover_mask: dict | None = None       # the mask under the resting cursor, before any click
        self.hover = MaskPreview(canvas)
        self.hover.setZValue(9)
        self.preview = MaskPreview(canvas)
        self.box_band = self._band(QgsWkbTypes.GeometryType.PolygonGeometry, QColor(255, 200, 0), QColor(0, 0, 0, 0))
        self.object_points = self._band(QgsWkbTypes.GeometryType.PointGeometry, QColor(0, 170, 0), None)
        self.background_points = self._band(QgsWkbTypes.GeometryType.PointGeometry, QColor(220, 0, 0), None)
        self.setCursor(Qt.CursorShape.CrossCursor)
        dock.accept_button.clicked.connect(self.accept_object)
        dock.undo_button.clicked.connect(self.undo)
        dock.clear_button.clicked.connect(self.clear)
        dock.cancel_button.clicked.connect(self.cancel_background_work)
        dock.hover_preview.toggled.connect(lambda on: None if on else self._clear_hover())

    def _band(self, kind, stroke: QColor, fill: QColor | None) -> QgsRubberBand:
        band = QgsRubberBand(self.canvas(), kind)
        band.setStrokeColor(stroke)
        if fill is not None:
            band.setFillColor(fill)
            band.setWidth(2)
        else:
            band.setIcon(QgsRubberBand.IconType.ICON_CIRCLE)
            band.setIconSize(10)
            band.setWidth(3)
        return band

    # -- mouse and keys --------------------------------------------------------------

    def canvasPressEvent(self, event) -> None:
        self._pressed_at = (event.pos(), event.mapPoint(), event.button())

    def canvasMoveEvent(self, event) -> None:
        if self._pressed_at is not None and self._pressed_at[2] == Qt.MouseButton.LeftButton:
            if (event.pos() - self._pressed_at[0]).manhattanLength() >= DRAG_PX:
                corner = self._pressed_at[1]
                self.box_band.setToGeometry(QgsGeometry.fromRect(QgsRectangle(corner, event.mapPoint())), None)
            return
        self._hover_point = event.mapPoint()
        self._hover.start()
        if self.dock.hover_preview.isChecked() and not self.prompts:
            self._hover_preview.start()

    def canvasReleaseEvent(self, event) -> None:
        if self._pressed_at is None:
            return
        start_pos, start_point, button = self._pressed_at
        self._pressed_at = None
        end_point = event.mapPoint()
        dragged = (event.pos() - start_pos).manhattanLength() >= DRAG_PX
        if button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        self._with_target(end_point, lambda: self._add_prompt(start_point, end_point, button, dragged))

    def _add_prompt(self, start_point: QgsPointXY, end_point: QgsPointXY, button, dragged: bool) -> None:
        if button == Qt.MouseButton.LeftButton and dragged:
            first, second = self._to_raster(start_point), self._to_raster(end_point)
            self.prompts = [p for p in self.prompts if p["kind"] != "box"]    # an object has one box
            self.prompts.append({"kind": "box", "label": 1, "coords": [
                [min(first.x(), second.x()), min(first.y(), second.y())],
                [max(first.x(), second.x()), max(first.y(), second.y())]]})
        else:
            point = self._to_raster(end_point)
            self.prompts.append({"kind": "point", "label": 1 if button == Qt.MouseButton.LeftButton else 0,
                                 "coords": [[point.x(), point.y()]]})
        self._prompts_changed()

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.accept_object()
        elif event.key() == Qt.Key.Key_Escape:
            self.clear()
        elif event.key() == Qt.Key.Key_Backspace or event.matches(QKeySequence.StandardKey.Undo):
            self.undo()
        else:
            event.ignore()
            return
        event.accept()

    def deactivate(self) -> None:
        self._hover.stop()
        self._clear_hover()
        super().deactivate()

    def cancel_background_work(self) -> None:
        """The dock's Cancel: stop encoding tiles or rendering a web layer (and forget the
        clicks that waited for it)."""
        self.jobs.cancel("encode")
        self.jobs.cancel("render")
        self._after_render = []
        self.dock.set_idle(tr("Cancelled."))

    # -- the object ----------------------------------------------------------------

    def undo(self) -> None:
        """Take back the last prompt."""
        if self.prompts:
            self.prompts.pop()
            self._prompts_changed()

    def clear(self) -> None:
        """Drop the object's prompts and its preview."""
        self.prompts = []
        self._prompts_changed()

    def accept_object(self) -> None:
        """Add the previewed object to the dock's polygon layer: its polygons are asked of
        the runtime now (the preview is the mask's picture) and added when they come."""
        if self.preview_mask is None or self.target is None or self.decoding is not None:
            self.dock.set_idle(tr("Nothing to accept yet: click on an object and wait for its preview."), error=True)
            return
        self.accepting = self.jobs.submit("accept", "segment_object", {**self.target.arguments(),
                                                                      "prompts": self.prompts}, tr("segmenting"))

    def _add_object(self, wkb_polygons: list[str], score: float) -> int:
        """The accepted object's polygons (raster CRS) as features of the dock's layer."""
        polygons = [QgsGeometry() for _ in wkb_polygons]
        for geometry, wkb in zip(polygons, wkb_polygons):
            geometry.fromWkb(bytes.fromhex(wkb))
        layer = self.dock.output_layer(self.target.layer)
        to_layer = QgsCoordinateTransform(self.target.layer.crs(), layer.crs(), QgsProject.instance())
        shape = QgsGeometry.collectGeometry(polygons)   # disjoint areas of one mask: their union
        shape.transform(to_layer)
        parts = [shape] if QgsWkbTypes.isMultiType(layer.wkbType()) else [QgsGeometry(p.clone())
                                                                          for p in shape.constParts()]
        area = QgsDistanceArea()
        area.setSourceCrs(layer.crs(), QgsProject.instance().transformContext())
        area.setEllipsoid(QgsProject.instance().ellipsoid() or "EPSG:7030")
        self.objects += 1
        features = []
        for part in parts:
            feature = QgsFeature(layer.fields())
            if QgsWkbTypes.isMultiType(layer.wkbType()):
                part.convertToMultiType()
            feature.setGeometry(part)
            values = {"class": self.dock.class_name(), "score": score, "prompt_id": self.objects,
                      "area_m2": area.convertAreaMeasurement(area.measureArea(part),
                                                             QgsUnitTypes.AreaUnit.AreaSquareMeters),
                      "model": self.target.model["name"], "source": self.target.layer.publicSource(),
                      "version": ALGORITHM_VERSION}
            for name, value in values.items():
                if layer.fields().lookupField(name) >= 0:
                    feature[name] = value
            features.append(feature)
        if not layer.isEditable():
            layer.startEditing()
        if not layer.addFeatures(features):
            self.dock.set_idle(tr("The layer '{}' did not take the object: {}").format(
                layer.name(), "; ".join(layer.dataProvider().errors()) or tr("is it editable?")), error=True)
            return 0
        layer.triggerRepaint()
        self.prompts = []
        self._prompts_changed()
        self.dock.set_idle(tr("Added the object to '{}' (press Save Layer Edits to keep it).").format(layer.name()))
        return len(features)

    def _prompts_changed(self) -> None:
        self._clear_hover()
        self._draw_prompts()
        if not self.prompts or not any(p["label"] for p in self.prompts):
            self.jobs.cancel("decode")
            self.decoding = None
            self._set_preview(None, 0.0)
            return
        self.dock.set_busy(tr("Segmenting…"))
        self.decoding = self.jobs.submit("decode", "segment_object", {
            **self.target.arguments(), "prompts": self.prompts, "as": "mask"}, tr("segmenting"))

    def _draw_prompts(self) -> None:
        crs = self.target.layer.crs() if self.target else None
        for band, label in ((self.object_points, 1), (self.background_points, 0)):
            band.reset(QgsWkbTypes.GeometryType.PointGeometry)
            for prompt in self.prompts:
                if prompt["kind"] == "point" and prompt["label"] == label:
                    band.addGeometry(QgsGeometry.fromPointXY(QgsPointXY(*prompt["coords"][0])), crs)
        box = next((p["coords"] for p in self.prompts if p["kind"] == "box"), None)
        self.box_band.reset(QgsWkbTypes.GeometryType.PolygonGeometry)
        if box:
            self.box_band.setToGeometry(QgsGeometry.fromRect(QgsRectangle(*box[0], *box[1])), crs)

    def _set_preview(self, mask: dict | None, score: float) -> None:
        """Show the object's mask (job segment_object's mask bits), or nothing."""
        self.preview_mask, self.score = (mask if mask and mask["bounds"] else None), score
        if self.preview_mask is None:
            self.preview.clear()
        else:
            self.preview.show_bits(mask, self.target.layer.crs())
        self.previewChanged.emit()

    def _clear_hover(self) -> None:
        self._hover_preview.stop()
        self.jobs.cancel("hover")
        if self.hover_mask is not None:
            self.hover_mask = None
            self.hover.clear()
            self.hoverPreviewChanged.emit()

    # -- the runtime's answers -----------------------------------------------------

    def _job_finished(self, lane: str, ticket: int, values) -> None:
        if lane == "render":      # values: the Target of the rendering
            self._use(values)
            waiting, self._after_render = self._after_render, []
            for then in waiting:
                then()
            return
        if lane == "hover":
            if self.prompts or not self.dock.hover_preview.isChecked():
                return       # an object was begun meanwhile
            self.hover_mask = values if values["bounds"] else None
            if self.hover_mask is None:
                self.hover.clear()
            else:
                self.hover.show_bits(values, self.target.layer.crs(), HOVER_COLOUR)
            self.hoverPreviewChanged.emit()
            return
        if lane == "encode":
            self._open_areas += [QgsRectangle(*bounds) for bounds in values["bounds"]]
            self._preview_under_cursor()     # the tiles under the cursor are open now
            if self.preview_mask is not None:
                return       # the preview's line stays
            self.dock.set_idle(tr("Tiles ready: {} encoded now, the rest from the cache or already open.").format(
                values.get("encoded", 0)) if values.get("encoded") else tr("Tiles ready (from the cache)."))
            return
        if lane == "accept":
            self.accepting = None
            self._add_object(values["polygons"], float(values["score"]))
            return
        self.decoding = None
        self._set_preview(values, float(values["score"]))
        self.dock.set_idle(tr("Score {:.2f} on {} tile(s) · Enter accepts, Esc clears, Backspace undoes").format(
            self.score, len(values["tiles"])))

    def _job_failed(self, lane: str, ticket: int, sentence: str) -> None:
        if lane == "hover":       # nothing the user asked for: no sentence, no preview
            self._clear_hover()
            return
        if lane == "render":
            self._after_render = []
        if lane == "accept":
            self.accepting = None
        if lane == "decode":
            self.decoding = None
            self._set_preview(None, 0.0)
        self.dock.set_idle(sentence, error=True)

    def _job_progress(self, lane: str, percent: float) -> None:
        if lane == "encode":      # a decode is over before a bar would show
            self.dock.set_progress(percent)

    # -- where the clicks go -------------------------------------------------------

    def _with_target(self, map_point: QgsPointXY, then: Callable[[], None]) -> None:
        """Run `then` once the dock's raster and model are the target (a new one clears the
        object). A web layer is rendered first, in the background; clicks meanwhile wait
        for it. A sentence in the dock when there is nothing to segment at `map_point`."""
        try:
            target = self.dock.target(self.target, map_point)
            if target is None and not self.jobs.busy("render"):
                self.jobs.submit_call("render", self.dock.render_request())
        except ValueError as exc:
            self.dock.set_idle(str(exc), error=True)
            return
        if target is None:
            self._after_render.append(then)
            return
        self._use(target)
        then()

    def _use(self, target: Target) -> None:
        """Segment `target` from now on; another raster or model starts a new object."""
        if target != self.target:
            self.target = target
            self.prompts = []
            self._open_areas = []
            self._set_preview(None, 0.0)

    def _to_raster(self, map_point: QgsPointXY) -> QgsPointXY:
        to_raster = QgsCoordinateTransform(self.canvas().mapSettings().destinationCrs(), self.target.layer.crs(),
                                           QgsProject.instance())
        return to_raster.transform(map_point)

    def _resting_on(self) -> QgsPointXY | None:
        """The resting cursor's point in the raster's CRS, with the target set to the
        raster under it; None where there is none, or it is another raster than the
        object's, or a web layer not rendered yet."""
        if self._hover_point is None:
            return None
        try:
            target = self.dock.target(self.target, self._hover_point)
        except ValueError:
            return None
        if target is None or (target != self.target and self.prompts):
            return None
        self._use(target)
        return self._to_raster(self._hover_point)

    def _encode_under_cursor(self) -> None:
        """Encode the tiles under the resting cursor, unless they are open already or the
        tool is busy (a click in flight comes first)."""
        if self.jobs.busy("encode") or self.decoding is not None:
            return
        at = self._resting_on()
        if at is None or any(area.contains(at) for area in self._open_areas):
            return
        self.dock.set_busy(tr("Encoding the tiles under the cursor…"))
        self.jobs.submit("encode", "segment_tiles", {**self.target.arguments(), "at": [at.x(), at.y()]},
                         tr("encoding tiles"))

    def _preview_under_cursor(self) -> None:
        """Preview the object a click at the resting cursor would give, before the first
        click of an object, on tiles already open (the job decodes only)."""
        if not self.dock.hover_preview.isChecked() or self.prompts or self.decoding is not None \
                or self.accepting is not None:
            return
        at = self._resting_on()
        if at is None:
            return
        self.jobs.submit("hover", "segment_object", {
            **self.target.arguments(), "prompts": [{"kind": "point", "label": 1, "coords": [[at.x(), at.y()]]}],
            "as": "mask", "encode": False}, tr("previewing"))

    def shut_down(self) -> None:
        self._hover.stop()
        self._hover_preview.stop()
        self.jobs.shut_down()
        for item in (self.hover, self.preview, self.box_band, self.object_points, self.background_points):
            self.canvas().scene().removeItem(item)
