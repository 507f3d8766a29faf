"""The look of GeoVL's results: one .qml file in styles/ per kind of output, completed
from the data when a result is loaded (class names, score classes, value ranges), by
Processing layer post-processors that also put the result on top of the layer tree. They
run wherever Processing loads results: the algorithm dialog, the modeler,
processing.runAndLoadResults.

A user can also apply a .qml by hand (Layer Properties › Style › Load Style): retrieved
tiles and segment polygons are then coloured by expressions over the layer's own values
(score range; class in order of first prompt, as the class raster numbers them), and the
class raster keeps the colour table the worker wrote into it (a .qml cannot name its
classes: their names are in the GeoTIFF's tags, which only the post-processor reads)."""
from __future__ import annotations

import json
import os

from osgeo import gdal
from qgis.core import (QgsCategorizedSymbolRenderer, QgsGraduatedSymbolRenderer, QgsMapLayer,
                       QgsPalettedRasterRenderer, QgsProcessingLayerPostProcessorInterface, QgsProject,
                       QgsRasterBandStats, QgsRasterLayer, QgsRendererCategory, QgsSingleBandPseudoColorRenderer)
from qgis.PyQt.QtGui import QColor

from .base import tr

STYLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "styles")
CLASSES_TAG = "GEOVL_CLASSES"   # geo.mask_raster.CLASSES_TAG; not imported: the QGIS process never imports geo
SCORE_CLASSES = 5               # graduated classes of retrieval scores
# Where a run's results stack, top first: outlines and polygons, then class rasters and
# masks, then the continuous rasters they are read against.
LAYER_RANKS = {"heatmap": 2, "magnitude": 2, "change_mask": 1, "segment_classes": 1}

# Post-processors Processing will call: QGIS keeps only a pointer to a Python
# post-processor, so each is held here until it has run (the algorithm instance may be
# gone by then: the modeler deletes its child algorithms before loading their results).
_PENDING: set["StyleResult"] = set()


def style_path(kind: str) -> str:
    """The .qml file of an output kind (e.g. "change_mask")."""
    return os.path.join(STYLES_DIR, f"{kind}.qml")


def class_table(path: str) -> dict[int, str]:
    """Pixel value -> class name, from the tags the worker writes into a class raster;
    empty for a raster without them."""
    dataset = gdal.Open(path) if path and os.path.isfile(path) else None
    text = dataset.GetMetadataItem(CLASSES_TAG) if dataset is not None else None
    dataset = None
    try:
        return {int(code): str(name) for code, name in json.loads(text or "{}").items()}
    except (ValueError, AttributeError):   # not JSON, not an object, or a key that is not a number
        return {}


def apply_style(layer: QgsMapLayer, kind: str, class_raster: str | None = None) -> None:
    """Give `layer` the look of `kind`: its .qml, then what depends on the data. For
    segment polygons, `class_raster` (the run's class raster) gives class order and colours."""
    message, ok = layer.loadNamedStyle(style_path(kind))
    if not ok:
        raise ValueError(tr("The style {} cannot be read ({}).").format(style_path(kind), message))
    if kind in ("heatmap", "magnitude"):
        _stretch_ramp(layer)
    elif kind == "segment_classes":
        layer.setRenderer(_paletted(layer, _raster_classes(layer)))
    elif kind == "segments":
        _categorise(layer, _raster_classes(QgsRasterLayer(class_raster, "classes")) if class_raster else [])
    elif kind == "retrieved_tiles" and isinstance(layer.renderer(), QgsGraduatedSymbolRenderer):
        layer.renderer().updateClasses(layer, SCORE_CLASSES)
    layer.triggerRepaint()


def _stretch_ramp(layer: QgsRasterLayer) -> None:
    """The .qml's colour ramp goes from 0 to 1: stretch it over the layer's values, so the
    low end (transparent in the .qml) is the layer's lowest values."""
    renderer = layer.renderer()
    if not isinstance(renderer, QgsSingleBandPseudoColorRenderer):
        return
    stats = layer.dataProvider().bandStatistics(1, QgsRasterBandStats.Stats.Min | QgsRasterBandStats.Stats.Max)
    low, high = stats.minimumValue, stats.maximumValue
    if not high > low:   # one value everywhere (or no valid cell): a ramp of any width draws it
        high = low + 1.0
    ramp = renderer.shader().rasterShaderFunction()
    items = ramp.colorRampItemList()
    for item in items:
        item.value = low + item.value * (high - low)
        item.label = f"{item.value:.3g}"
    ramp.setColorRampItemList(items)
    ramp.setMinimumValue(low)
    ramp.setMaximumValue(high)
    renderer.shader().setMinimumValue(low)
    renderer.shader().setMaximumValue(high)
    renderer.setClassificationMin(low)
    renderer.setClassificationMax(high)


def _raster_classes(layer: QgsRasterLayer) -> list[tuple[int, str, QColor]]:
    """(value, class name, colour) of a class raster: names from its tags, colours from
    its colour table (the worker writes both)."""
    if not layer.isValid():
        return []
    names = class_table(layer.source())
    colours = {int(item.value): item.color for item in layer.dataProvider().colorTable(1)}
    return [(code, name, colours.get(code, QColor())) for code, name in sorted(names.items())]


def _paletted(layer: QgsRasterLayer, classes: list[tuple[int, str, QColor]]) -> QgsPalettedRasterRenderer:
    """A paletted renderer with one entry per class, named, in the raster's colours (0,
    nothing, has none: transparent)."""
    entries = [QgsPalettedRasterRenderer.Class(code, colour, name) for code, name, colour in classes]
    return QgsPalettedRasterRenderer(layer.dataProvider(), 1, entries)


def _categorise(layer, classes: list[tuple[int, str, QColor]]) -> None:
    """One category per value of `class`: the class raster's classes first, in its order
    and colours (the polygons look like the raster), then any other value, sorted."""
    renderer = layer.renderer()
    if not isinstance(renderer, QgsCategorizedSymbolRenderer):
        return
    index = layer.fields().lookupField(renderer.classAttribute())
    values = {str(value) for value in layer.uniqueValues(index) if value not in (None, "")} if index >= 0 else set()
    known = [(name, colour) for _, name, colour in classes]
    named = {name for name, _ in known}
    known += [(name, QColor()) for name in sorted(values - named)]
    renderer.deleteAllCategories()   # the .qml's one category, coloured by expression, is for styling by hand
    ramp = renderer.sourceColorRamp()
    for position, (name, colour) in enumerate(known):
        if not colour.isValid():
            colour = _ramp_colour(ramp, position)
        symbol = renderer.sourceSymbol().clone()
        fill = QColor(colour)
        fill.setAlpha(renderer.sourceSymbol().color().alpha())  # the .qml's fill opacity, the class's colour
        symbol.setColor(fill)
        if symbol.symbolLayerCount():
            symbol.symbolLayer(0).setStrokeColor(colour)
        renderer.addCategory(QgsRendererCategory(name, symbol, name))


def _ramp_colour(ramp, position: int) -> QColor:
    """The `position`-th colour of a preset ramp (cycling), or a point along a gradient."""
    count = ramp.count() if ramp is not None else 0
    if count < 1:
        return QColor(127, 127, 127)
    return ramp.color((position % count) / max(1, count - 1))


class _Placement:
    """Puts a run's results on top of the layer tree, in LAYER_RANKS order whatever order
    they load in."""

    def __init__(self):
        self.placed: list[int] = []   # ranks of the results placed so far

    def place(self, layer: QgsMapLayer, kind: str, project: QgsProject) -> None:
        node = project.layerTreeRoot().findLayer(layer.id())
        if node is None:
            return
        rank = LAYER_RANKS.get(kind, 0)
        parent = node.parent()
        index = sum(1 for placed in self.placed if placed <= rank)
        moved = node.clone()
        parent.insertChildNode(index, moved)
        parent.removeChildNode(node)
        self.placed.append(rank)


class StyleResult(QgsProcessingLayerPostProcessorInterface):
    """Styles one loaded result and puts it on top of the layer tree."""

    def __init__(self, kind: str, placement: _Placement, class_raster: str | None = None):
        super().__init__()
        self.kind, self.placement, self.class_raster = kind, placement, class_raster

    def postProcessLayer(self, layer, context, feedback):
        try:
            apply_style(layer, self.kind, self.class_raster)
            self.placement.place(layer, self.kind, layer.project() or context.project() or QgsProject.instance())
        except Exception as exc:   # a style is never worth failing a run whose results are written
            feedback.pushWarning(tr("The result {} was loaded without its style: {}").format(layer.name(), exc))
        finally:
            _PENDING.discard(self)


def style_outputs(context, kinds: dict[str | None, str], class_raster: str | None = None) -> None:
    """Register a StyleResult for each output of `kinds` (destination id or path -> kind)
    that Processing will load when the run completes; outputs that are None (not asked
    for) or not loaded are skipped."""
    placement = _Placement()
    for destination, kind in kinds.items():
        if destination and context.willLoadLayerOnCompletion(destination):
            post = StyleResult(kind, placement, class_raster)
            _PENDING.add(post)
            context.layerToLoadOnCompletionDetails(destination).setPostProcessor(post)
