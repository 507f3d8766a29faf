"""Every output is styled when Processing loads it (processing.runAndLoadResults, the
path the dialog and the modeler take too) and lands on top of the layer tree: the styled
layers are rendered headless and their pixels checked. Screenshots go to
test-artifacts/styles/."""
from __future__ import annotations

import os

import numpy as np
import pytest
import rasterio
from qgis.core import (QgsCategorizedSymbolRenderer, QgsGeometry, QgsGraduatedSymbolRenderer, QgsLayerTreeLayer,
                       QgsLayerTreeRegistryBridge, QgsMapRendererSequentialJob, QgsMapSettings, QgsPointXY,
                       QgsProcessingFeedback, QgsProject, QgsRasterLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

from ..models.conftest import pair_arrays, scene, write_pair
from .conftest import REPO_ROOT, prompt_layer, to_map, write_rgb

ARTIFACTS = os.path.join(REPO_ROOT, "test-artifacts", "styles")
TEMPORARY = "TEMPORARY_OUTPUT"


@pytest.fixture
def project(plugin, tmp_path):
    """The project with an input raster already in it, and new layers inserted at the
    bottom of the tree (as the desktop does when the bottom layer is the current one):
    results must still end on top."""
    project = QgsProject.instance()
    project.clear()
    base = QgsRasterLayer(write_rgb(tmp_path / "base.tif", scene(64, 64, seed=1)), "input raster")
    project.addMapLayer(base)
    root = project.layerTreeRoot()
    bridge = project.layerTreeRegistryBridge()
    bridge.setLayerInsertionPoint(QgsLayerTreeRegistryBridge.InsertionPoint(root, 1))
    yield project
    bridge.setLayerInsertionPoint(QgsLayerTreeRegistryBridge.InsertionPoint(root, 0))
    project.clear()


def loaded(project, source: str):
    """The project layer whose source is `source` (a path or a memory layer id)."""
    for layer in project.mapLayers().values():
        if layer.id() == source or os.path.realpath(layer.source().split("|")[0]) == os.path.realpath(source):
            return layer
    raise AssertionError(f"{source} was not loaded; the project has {[l.name() for l in project.mapLayers().values()]}")


def top_layers(project, count: int) -> list:
    return [node.layer() for node in project.layerTreeRoot().children()[:count]
            if isinstance(node, QgsLayerTreeLayer)]


def render(layers, extent, name: str, size: int = 256):
    """The layers drawn headless on a transparent background; (image, map settings).
    The image is kept as test-artifacts/styles/<name>.png."""
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(layers[0].crs())
    settings.setOutputSize(QSize(size, size))
    settings.setExtent(extent)
    settings.setBackgroundColor(QColor(0, 0, 0, 0))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    os.makedirs(ARTIFACTS, exist_ok=True)
    image.save(os.path.join(ARTIFACTS, f"{name}.png"))
    return image, settings


def pixel_at(image, settings, x: float, y: float) -> QColor:
    point = settings.mapToPixel().transform(x, y)
    return image.pixelColor(int(point.x()), int(point.y()))


def cell_centre(path: str, row: int, col: int) -> tuple[float, float]:
    with rasterio.open(path) as dataset:
        return dataset.xy(row, col)


def read_band(path: str) -> np.ndarray:
    with rasterio.open(path) as dataset:
        return dataset.read(1, masked=True)


def deep_cell(values: np.ndarray, code: int) -> tuple[int, int]:
    """(row, col) of a cell of `code` whose 5 x 5 neighbourhood is all `code`, so that
    resampling to the screenshot cannot reach another value."""
    filled = np.ma.getdata(values) == code   # nodata cells too (0 is nodata in class rasters)
    core = filled[2:-2, 2:-2].copy()
    for dr in range(5):
        for dc in range(5):
            core &= filled[dr:dr + core.shape[0], dc:dc + core.shape[1]]
    row, col = np.argwhere(core)[0]
    return row + 2, col + 2


def check_labels(layer, field_text: str) -> None:
    assert layer.labelsEnabled()
    assert field_text in layer.labeling().settings().fieldName


def check_ramp_low_end_clear(layer, path: str, name: str) -> None:
    """The layer's lowest cell renders transparent and its highest nearly opaque."""
    values = read_band(path)
    low = np.unravel_index(np.ma.argmin(values), values.shape)
    high = np.unravel_index(np.ma.argmax(values), values.shape)
    image, settings = render([layer], layer.extent(), name)
    assert pixel_at(image, settings, *cell_centre(path, *low)).alpha() == 0
    assert pixel_at(image, settings, *cell_centre(path, *high)).alpha() > 150


def test_change_outputs_are_styled_and_on_top(project, tmp_path, cache_dir):
    import processing

    before, after = write_pair(tmp_path, *pair_arrays())
    feedback = QgsProcessingFeedback()
    result = processing.runAndLoadResults("geovl:change", {
        "BEFORE": before, "AFTER": after, "OUTPUT": TEMPORARY, "OUTPUT_MASK": TEMPORARY,
        "OUTPUT_MAGNITUDE": TEMPORARY, "OUTPUT_REPORT": str(tmp_path / "report.html")}, feedback=feedback)
    # Each output loaded once; none registered under a name never written (the dialog
    # stops at "The following layers were not correctly generated").
    assert "not correctly generated" not in feedback.textLog(), feedback.textLog()
    assert len(project.mapLayers()) == 4
    regions = loaded(project, result["OUTPUT"])
    mask = loaded(project, result["OUTPUT_MASK"])
    magnitude = loaded(project, result["OUTPUT_MAGNITUDE"])
    assert top_layers(project, 3) == [regions, mask, magnitude]   # the mask over the magnitude it thresholds
    assert project.layerTreeRoot().children()[3].layer().name() == "input raster"

    # The mask: 1 in colour, 0 transparent, one legend entry (not 256).
    values = read_band(result["OUTPUT_MASK"])
    changed, unchanged = deep_cell(values, 1), deep_cell(values, 0)
    image, settings = render([mask], mask.extent(), "change_mask")
    assert pixel_at(image, settings, *cell_centre(result["OUTPUT_MASK"], *unchanged)).alpha() == 0
    assert pixel_at(image, settings, *cell_centre(result["OUTPUT_MASK"], *changed)).alpha() == 255
    assert [label for label, _ in mask.legendSymbologyItems()] == ["change"]

    # The magnitude: a ramp whose low end is transparent.
    check_ramp_low_end_clear(magnitude, result["OUTPUT_MAGNITUDE"], "change_magnitude")

    # The regions: outlines (inside is transparent), labelled by area.
    check_labels(regions, "area_m2")
    feature = max(regions.getFeatures(), key=lambda f: f["area_m2"])
    box = feature.geometry().boundingBox()   # the planted changes are rectangles; their label is in the middle
    corner = QgsPointXY(box.xMinimum() + 0.2 * box.width(), box.yMinimum() + 0.2 * box.height())
    assert feature.geometry().contains(corner)
    image, settings = render([regions], regions.extent(), "change_regions")
    assert pixel_at(image, settings, corner.x(), corner.y()).alpha() == 0
    assert any(image.pixelColor(x, y).alpha() for x in range(image.width()) for y in range(0, image.height(), 4))
    render([regions, mask, magnitude, QgsRasterLayer(after, "after")], regions.extent().buffered(20), "change")


def test_segment_classes_have_their_names_and_two_colours(project, tiny_sam_ckpt, tmp_path, cache_dir):
    import processing

    raster = write_rgb(tmp_path / "one_tile.tif", scene(256, 256, seed=5))
    feedback = QgsProcessingFeedback()
    prompts = prompt_layer("Point", [(QgsGeometry.fromPointXY(QgsPointXY(*to_map(100.5, 80.5))), 1, "road"),
                                     (QgsGeometry.fromPointXY(QgsPointXY(*to_map(200.5, 30.5))), 0, "road"),
                                     (QgsGeometry.fromPointXY(QgsPointXY(*to_map(40.5, 200.5))), 1, "sidewalk")])
    result = processing.runAndLoadResults("geovl:segment", {
        "INPUT": raster, "PROMPTS": prompts, "MODEL": tiny_sam_ckpt, "REFINE": False, "PRECISION": 1,
        "LABEL_FIELD": "label", "CLASS_FIELD": "cls", "OUTPUT": str(tmp_path / "segments.gpkg"),
        "OUTPUT_MASK": TEMPORARY, "OUTPUT_CENTERLINES": TEMPORARY}, feedback=feedback)
    assert "not correctly generated" not in feedback.textLog(), feedback.textLog()
    assert len(project.mapLayers()) == 4   # the input and the three results, each once
    polygons = loaded(project, result["OUTPUT"])
    classes = loaded(project, result["OUTPUT_MASK"])
    lines = loaded(project, result["OUTPUT_CENTERLINES"])
    assert set(top_layers(project, 3)) == {polygons, classes, lines}
    assert top_layers(project, 3)[2] == classes   # the raster under the vectors

    assert [label for label, _ in classes.legendSymbologyItems()] == ["road", "sidewalk"]
    values = read_band(result["OUTPUT_MASK"])
    image, settings = render([classes], classes.extent(), "segment_classes")
    colours = {code: pixel_at(image, settings, *cell_centre(result["OUTPUT_MASK"], *deep_cell(values, code)))
               for code in (0, 1, 2)}
    assert colours[0].alpha() == 0
    assert colours[1].alpha() == colours[2].alpha() == 255
    assert colours[1].rgb() != colours[2].rgb()

    renderer = polygons.renderer()
    assert isinstance(renderer, QgsCategorizedSymbolRenderer) and renderer.classAttribute() == "class"
    categories = {category.value(): category.symbol().color() for category in renderer.categories()}
    assert list(categories) == ["road", "sidewalk"]
    raster_colours = dict(classes.legendSymbologyItems())
    for name, colour in categories.items():   # polygons and raster share the class colours
        assert colour.rgb() == raster_colours[name].rgb()
    render([lines, polygons, QgsRasterLayer(raster, "input")], classes.extent(), "segment")


def test_retrieved_tiles_are_graduated_with_rank_labels_and_the_heatmap_low_end_is_clear(
        project, tiny_clip_dir, tmp_path, cache_dir):
    import processing

    raster = write_rgb(tmp_path / "scene.tif", scene(256, 256, seed=5))
    result = processing.runAndLoadResults("geovl:retrieve", {
        "INPUT": raster, "QUERY": "a harbour", "MODEL": tiny_clip_dir, "TILE_SIZE": 64, "PRECISION": 1,
        "TOP_K": 6, "OUTPUT": TEMPORARY, "OUTPUT_HEATMAP": TEMPORARY})
    tiles = loaded(project, result["OUTPUT"])
    heatmap = loaded(project, result["OUTPUT_HEATMAP"])
    assert top_layers(project, 2) == [tiles, heatmap]

    renderer = tiles.renderer()
    assert isinstance(renderer, QgsGraduatedSymbolRenderer) and renderer.classAttribute() == "score"
    assert len(renderer.ranges()) > 1
    scores = [f["score"] for f in tiles.getFeatures()]
    assert renderer.ranges()[0].lowerValue() <= min(scores) and renderer.ranges()[-1].upperValue() >= max(scores)
    check_labels(tiles, "rank")

    check_ramp_low_end_clear(heatmap, result["OUTPUT_HEATMAP"], "retrieve_heatmap")
    render([tiles, heatmap, QgsRasterLayer(raster, "input")], heatmap.extent(), "retrieve")


def test_ask_boxes_are_outlines_labelled_by_label(project, tiny_florence2_dir, tmp_path, cache_dir):
    import processing

    raster = write_rgb(tmp_path / "scene.tif", scene(256, 256, seed=5))
    result = processing.runAndLoadResults("geovl:ask", {
        "INPUT": raster, "QUESTION": "airplanes", "MODEL": tiny_florence2_dir, "TILE_SIZE": 128,
        "MAX_NEW_TOKENS": 8, "PRECISION": 1, "OUTPUT": TEMPORARY, "OUTPUT_TILES": TEMPORARY,
        "OUTPUT_REPORT": str(tmp_path / "report.html")})
    boxes = loaded(project, result["OUTPUT"])
    tiles = loaded(project, result["OUTPUT_TILES"])
    assert set(top_layers(project, 2)) == {boxes, tiles}
    check_labels(boxes, "label")
    for layer in (boxes, tiles):
        symbol = layer.renderer().symbol()
        assert symbol.color().alpha() == 0 or symbol.symbolLayer(0).brushStyle() == 0   # no fill: outlines only
    # The tiles asked: their outlines are drawn, their inside is clear.
    image, settings = render([tiles], tiles.extent(), "ask_tiles")
    centre = tiles.extent().center()
    assert pixel_at(image, settings, centre.x() + 5, centre.y() + 5).alpha() == 0
    assert any(image.pixelColor(x, 128).alpha() for x in range(image.width()))
    render([boxes, tiles, QgsRasterLayer(raster, "input")], tiles.extent(), "ask")


def test_outputs_of_a_model_are_styled(project, tiny_clip_dir, tmp_path, cache_dir):
    """geovl:retrieve as a child of a graphical model whose outputs are the child's: the
    modeler deletes its child algorithms before the results load, the styles still apply."""
    import processing
    from qgis.core import (QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                           QgsProcessingModelChildParameterSource, QgsProcessingModelOutput,
                           QgsProcessingModelParameter, QgsProcessingParameterRasterLayer,
                           QgsSingleBandPseudoColorRenderer)

    model = QgsProcessingModelAlgorithm("styled", "tests")
    model.addModelParameter(QgsProcessingParameterRasterLayer("raster", "Raster"), QgsProcessingModelParameter("raster"))
    static = QgsProcessingModelChildParameterSource.fromStaticValue
    retrieve = QgsProcessingModelChildAlgorithm("geovl:retrieve")
    retrieve.setChildId("retrieve")
    retrieve.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromModelParameter("raster")])
    for name, value in (("QUERY", "a harbour"), ("MODEL", tiny_clip_dir), ("TILE_SIZE", 64), ("PRECISION", 1)):
        retrieve.addParameterSources(name, [static(value)])
    outputs = {}
    for name, child_output in (("tiles", "OUTPUT"), ("heatmap", "OUTPUT_HEATMAP")):
        outputs[name] = QgsProcessingModelOutput(name, name)
        outputs[name].setChildId("retrieve")
        outputs[name].setChildOutputName(child_output)
    retrieve.setModelOutputs(outputs)
    model.addChildAlgorithm(retrieve)
    model.updateDestinationParameters()

    raster = write_rgb(tmp_path / "scene.tif", scene(256, 256, seed=5))
    result = processing.runAndLoadResults(model, {"raster": raster, "retrieve:tiles": TEMPORARY,
                                                  "retrieve:heatmap": TEMPORARY})
    tiles = loaded(project, result["retrieve:tiles"])
    heatmap = loaded(project, result["retrieve:heatmap"])
    assert isinstance(tiles.renderer(), QgsGraduatedSymbolRenderer) and len(tiles.renderer().ranges()) > 1
    assert isinstance(heatmap.renderer(), QgsSingleBandPseudoColorRenderer)
    assert top_layers(project, 2) == [tiles, heatmap]


def hand_styled(layer, kind: str):
    """`layer` with the .qml of `kind` applied as a user does (Layer Properties › Style ›
    Load Style), without the post-processor."""
    from geovl.processing.styles import style_path

    message, ok = layer.loadNamedStyle(style_path(kind))
    assert ok, message
    return layer


def polygons(fields: str, rows) -> "QgsVectorLayer":
    """A memory layer (EPSG:32631) of 10 m squares side by side from x = 0, one per row of attributes."""
    from qgis.core import QgsFeature, QgsRectangle, QgsVectorLayer

    layer = QgsVectorLayer(f"Polygon?crs=EPSG:32631&{fields}", "by hand", "memory")
    features = []
    for index, attributes in enumerate(rows):
        feature = QgsFeature(layer.fields())
        feature.setAttributes(list(attributes))
        feature.setGeometry(QgsGeometry.fromRect(QgsRectangle(10 * index, 0, 10 * index + 10, 10)))
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)[0]
    return layer


def test_retrieved_tiles_styled_by_hand_are_coloured_by_score(qgis_app):
    """retrieved_tiles.qml applied by hand: each tile's colour follows its score within
    the layer's range (the best the darkest red), labelled by rank, no Classify needed."""
    tiles = hand_styled(polygons("field=rank:integer&field=score:double", [(2, 0.21), (1, 0.29), (3, 0.20)]),
                        "retrieved_tiles")
    check_labels(tiles, "rank")
    image, settings = render([tiles], tiles.extent(), "retrieved_tiles_by_hand")
    best, worst = pixel_at(image, settings, 12, 2), pixel_at(image, settings, 22, 2)   # off the centred labels
    assert best.alpha() > 100 and worst.alpha() > 100
    assert best.rgb() != worst.rgb() and best.green() < worst.green()   # the ramp goes light yellow -> dark red


def test_segments_styled_by_hand_have_the_class_raster_colours(qgis_app):
    """segments.qml applied by hand: each class in the colour the class raster gives it
    (classes numbered in the order of their first prompt, geo.mask_raster.class_colours)."""
    from geovl.geo.mask_raster import class_colours

    layer = hand_styled(polygons("field=class:string&field=prompt_id:integer",
                                 [("sidewalk", 4), ("road", 1), ("road", 2)]), "segments")
    image, settings = render([layer], layer.extent(), "segments_by_hand")
    colours = class_colours(2)
    for x, code in ((5, 2), (15, 1), (25, 1)):   # sidewalk is the second class: its first prompt is 4
        drawn = pixel_at(image, settings, x, 5)
        assert drawn.alpha() > 50
        assert all(abs(a - b) <= 3 for a, b in zip(drawn.getRgb()[:3], colours[code][:3])), (code, drawn.getRgb())


def test_a_class_raster_styled_by_hand_keeps_its_colour_table(qgis_app, tmp_path):
    """segment_classes.qml applied by hand draws the colours the worker wrote into the
    GeoTIFF (0 transparent, two classes, two colours); names need the post-processor."""
    from affine import Affine

    from geovl.geo.mask_raster import MaskRasterWriter, class_colours, class_tags

    path = str(tmp_path / "classes.tif")
    values = np.zeros((64, 64), np.uint8)
    values[:, :32], values[:, 32:48] = 1, 2
    with MaskRasterWriter(path, 64, 64, Affine(1, 0, 0, 0, -1, 64), "EPSG:32631", colormap=class_colours(2),
                          tags=class_tags(["road", "sidewalk"])) as writer:
        writer.write(values, 0, 0)
    layer = hand_styled(QgsRasterLayer(path, "classes"), "segment_classes")
    image, settings = render([layer], layer.extent(), "segment_classes_by_hand")
    road, sidewalk, nothing = (pixel_at(image, settings, x, 32) for x in (16, 40, 56))
    assert nothing.alpha() == 0 and road.alpha() == sidewalk.alpha() == 255
    assert road.getRgb()[:3] == class_colours(2)[1][:3] and sidewalk.getRgb()[:3] == class_colours(2)[2][:3]
