"""geovl:ask through processing.run, a graphical model and qgis_process with tiny VLMs:
grounded boxes at hand-computed map coordinates, the answer as a string output, the
tiles asked, the HTML report, top-k selection, bad input and cancellation."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from qgis.core import (NULL, QgsApplication, QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback,
                       QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                       QgsProcessingModelChildParameterSource, QgsProcessingModelOutput, QgsProcessingModelParameter,
                       QgsProcessingParameterRasterLayer, QgsVectorLayer)
from qgis.PyQt.QtGui import QTextDocument

from ..models.conftest import scene
from .conftest import partial_files, to_map, write_rgb

TILE = 64  # the tiny Florence-2's input
FIELDS = ["label", "score", "angle", "tile", "question", "model", "source", "version"]


def run_ask(raster, model, question="airplanes", feedback=None, **extra):
    import processing

    # cpu, fp32: the tests compare with the model run by hand in fp32 (auto is bf16 on CPUs with native bf16)
    params = {"INPUT": raster, "QUESTION": question, "MODEL": model, "DEVICE": 1, "PRECISION": 1,
              "MAX_NEW_TOKENS": 40, "OUTPUT": "memory:", "OUTPUT_TILES": "memory:", **extra}
    return processing.run("geovl:ask", params, feedback=feedback)


def map_box(box, row: int, col: int) -> tuple[float, float, float, float]:
    """A tile-pixel box on the map: (xmin, ymin, xmax, ymax) by hand from the test grid."""
    (xmin, ymax), (xmax, ymin) = (to_map(col * TILE + box.x0, row * TILE + box.y0),
                                  to_map(col * TILE + box.x1, row * TILE + box.y1))
    return xmin, ymin, xmax, ymax


@pytest.fixture
def raster(tmp_path):
    image = scene(2 * TILE, 3 * TILE, seed=5)
    return write_rgb(tmp_path / "scene.tif", image), image


def test_boxes_answer_tiles_and_report(plugin, tiny_florence2_dir, raster, tmp_path, cache_dir):
    from geovl.models.resolver import load_vlm

    path, image = raster
    report = str(tmp_path / "report.html")
    result = run_ask(path, tiny_florence2_dir, OUTPUT_REPORT=report)
    objects, tiles = result["OUTPUT"], result["OUTPUT_TILES"]
    assert objects.crs().authid() == "EPSG:32631" and objects.fields().names() == FIELDS
    assert tiles.featureCount() == 6 and result["OUTPUT_REPORT"] == report

    vlm = load_vlm(tiny_florence2_dir, "cpu", "fp32")
    expected = set()
    for row in range(2):
        for col in range(3):
            tile = image[row * TILE:(row + 1) * TILE, col * TILE:(col + 1) * TILE]
            for b in vlm.ask(tile, "airplanes", grounded=True, max_new_tokens=40).boxes:
                expected.add((b.label, f"{row},{col}", *(round(v, 6) for v in map_box(b, row, col))))
    features = list(objects.getFeatures())
    assert features, "the tiny model should ground something"
    for f in features:
        bounds = f.geometry().boundingBox()
        key = (f["label"], f["tile"], *(round(v, 6) for v in (bounds.xMinimum(), bounds.yMinimum(),
                                                               bounds.xMaximum(), bounds.yMaximum())))
        assert key in expected
        assert (f["question"], f["model"], f["source"], f["angle"]) == ("airplanes", tiny_florence2_dir, path, 0)

    answers = {f["tile"]: f["answer"] for f in tiles.getFeatures()}
    assert all(f"Tile {tile} at" in result["OUTPUT_ANSWER"] for tile in answers if answers[tile])
    document = QTextDocument()
    document.setHtml(open(report, encoding="utf-8").read())
    text = document.toPlainText()
    assert result["OUTPUT_ANSWER"].splitlines()[0] in text and "Tiles asked (6)" in text


def test_top_k_asks_k_tiles(plugin, tiny_florence2_dir, tiny_clip_dir, raster, cache_dir):
    result = run_ask(raster[0], tiny_florence2_dir, question="How many boats?", SELECT=1,
                     RETRIEVAL_MODEL=tiny_clip_dir, TOP_K=3, MODE=0)
    tiles = list(result["OUTPUT_TILES"].getFeatures())
    assert len(tiles) == 3 and all(t["retrieval_score"] is not None for t in tiles)
    assert result["OUTPUT"].featureCount() == 0
    assert "in total over 3 tile(s)" in result["OUTPUT_ANSWER"].splitlines()[0]


@pytest.mark.parametrize("extra, message", [
    (dict(QUESTION="   "), "question is empty"),
    (dict(MODE=2, SEGMENT_MODEL=""), "segmentation model"),
    (dict(SELECT=1, RETRIEVAL_MODEL=""), "retrieval model"),
    (dict(MODEL="no/such-model-here"), "not in the local model cache"),
    (dict(MODEL=__file__), "is a file"),
])
def test_bad_input_gets_a_sentence(plugin, raster, tiny_florence2_dir, extra, message, cache_dir):
    with pytest.raises(QgsProcessingException, match=message):
        run_ask(raster[0], tiny_florence2_dir, **extra)


def test_a_model_that_is_not_a_vlm_is_named(plugin, raster, tiny_clip_dir, cache_dir):
    with pytest.raises(QgsProcessingException, match="'clip' model, which GeoVL cannot ask questions of"):
        run_ask(raster[0], tiny_clip_dir)


class CancelOnFirstProgress(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.progressChanged.connect(lambda percent: percent > 0 and self.cancel())


def test_cancel_between_tiles_writes_nothing(plugin, tiny_florence2_dir, raster, tmp_path, cache_dir):
    out, report = tmp_path / "objects.gpkg", tmp_path / "report.html"
    alg = QgsApplication.processingRegistry().createAlgorithmById("geovl:ask")
    params = {"INPUT": raster[0], "QUESTION": "ships", "MODEL": tiny_florence2_dir, "MAX_NEW_TOKENS": 5,
              "OUTPUT": str(out), "OUTPUT_REPORT": str(report)}
    feedback = CancelOnFirstProgress()
    with pytest.raises(QgsProcessingException, match="cancelled"):
        alg.run(params, QgsProcessingContext(), feedback, catchExceptions=False)
    assert feedback.isCanceled()
    assert not out.exists() and not report.exists() and not partial_files(tmp_path)


def test_answer_feeds_the_next_step_of_a_model(plugin, tiny_florence2_dir, tiny_clip_dir, raster, cache_dir):
    """ask -> retrieve in a graphical model: the answer string is retrieve's query."""
    import processing

    model = QgsProcessingModelAlgorithm("ask_then_retrieve", "tests")
    model.addModelParameter(QgsProcessingParameterRasterLayer("raster", "Raster"), QgsProcessingModelParameter("raster"))
    static = QgsProcessingModelChildParameterSource.fromStaticValue
    raster_source = QgsProcessingModelChildParameterSource.fromModelParameter("raster")
    ask = QgsProcessingModelChildAlgorithm("geovl:ask")
    ask.setChildId("ask")
    for name, value in (("QUESTION", "What is in this image?"), ("MODEL", tiny_florence2_dir), ("MODE", 0),
                        ("MAX_NEW_TOKENS", 10)):
        ask.addParameterSources(name, [static(value)])
    ask.addParameterSources("INPUT", [raster_source])
    model.addChildAlgorithm(ask)
    retrieve = QgsProcessingModelChildAlgorithm("geovl:retrieve")
    retrieve.setChildId("retrieve")
    retrieve.addParameterSources("INPUT", [raster_source])
    retrieve.addParameterSources("QUERY", [QgsProcessingModelChildParameterSource.fromChildOutput("ask", "OUTPUT_ANSWER")])
    for name, value in (("MODEL", tiny_clip_dir), ("TILE_SIZE", 64), ("TOP_K", 2)):
        retrieve.addParameterSources(name, [static(value)])
    output = QgsProcessingModelOutput("tiles", "Matching tiles")
    output.setChildId("retrieve")
    output.setChildOutputName("OUTPUT")
    retrieve.setModelOutputs({"tiles": output})
    model.addChildAlgorithm(retrieve)
    model.updateDestinationParameters()

    result = processing.run(model, {"raster": raster[0], "retrieve:tiles": "memory:"})
    layer = result["retrieve:tiles"]
    layer = layer if isinstance(layer, QgsVectorLayer) else QgsVectorLayer(layer)
    queries = {f["query"] for f in layer.getFeatures()}
    assert len(queries) == 1 and queries.pop().strip()


def test_qwen_boxes_land_at_hand_computed_map_coordinates(plugin, memorised_qwen2_5_vl_dir, tmp_path, cache_dir):
    """A Qwen2.5-VL that answers two plane boxes in pixels of its 56 px input, on 70 px
    tiles (resized to 56 by smart_resize: x 1.25) of a 2 x 2-tile raster."""
    raster = write_rgb(tmp_path / "planes.tif", scene(140, 140, seed=7))
    result = run_ask(raster, memorised_qwen2_5_vl_dir, question="How many planes are there?", TILE_SIZE=70,
                     MAX_NEW_TOKENS=120)
    expected = set()
    for row in range(2):
        for col in range(2):
            for x0, y0, x1, y1 in ((10, 20, 30, 40), (28, 0, 56, 12)):
                (xmin, ymax) = to_map(col * 70 + x0 * 1.25, row * 70 + y0 * 1.25)
                (xmax, ymin) = to_map(col * 70 + x1 * 1.25, row * 70 + y1 * 1.25)
                expected.add((f"{row},{col}", xmin, ymin, xmax, ymax))
    got = set()
    for f in result["OUTPUT"].getFeatures():
        b = f.geometry().boundingBox()
        assert (f["label"], f["score"]) == ("plane", NULL)  # Qwen gives no scores
        got.add((f["tile"], b.xMinimum(), b.yMinimum(), b.xMaximum(), b.yMaximum()))
    assert got == expected
    assert result["OUTPUT_ANSWER"].splitlines()[0] == "8 in total over 4 tile(s)."


def test_geochat_llava_runs_end_to_end(plugin, tiny_geochat_llava_dir, tmp_path, cache_dir):
    """A converted GeoChat (Llava) asks on its 504 px tiles; whatever boxes its parser
    yields lie inside the tile that gave them."""
    raster = write_rgb(tmp_path / "scene.tif", scene(504, 600, seed=8))
    result = run_ask(raster, tiny_geochat_llava_dir, question="Where are the planes?", MAX_NEW_TOKENS=12)
    tiles = {f["tile"]: f.geometry() for f in result["OUTPUT_TILES"].getFeatures()}
    assert set(tiles) == {"0,0", "0,1"}
    assert tiles["0,0"].boundingBox().toRectF().getCoords() == pytest.approx((*to_map(0, 504), *to_map(504, 0)))
    for f in result["OUTPUT"].getFeatures():
        assert tiles[f["tile"]].contains(f.geometry().centroid())


def test_geochat_rotated_box_is_a_rotated_polygon_on_the_map(plugin, memorised_geochat_dir, tmp_path, cache_dir):
    """A converted GeoChat answering `{<10><20><50><40>|<60>}` on each 504 px tile: the
    written box x 50.4-252, y 100.8-201.6 px turned θ = 60 degrees anticlockwise on screen
    about its centre, as GeoChat's demo turns it (OpenCV's getRotationMatrix2D), on the map
    by hand. GeoVL stores it as the quarter-turned box (extents swapped) turned 30 degrees
    back, clockwise: angle 30."""
    import math

    from ..conftest import geochat_tile

    raster = write_rgb(tmp_path / "planes.tif", np.concatenate([geochat_tile()] * 2, axis=1))
    result = run_ask(raster, memorised_geochat_dir, question="Where are the planes?", MAX_NEW_TOKENS=60)
    features = sorted(result["OUTPUT"].getFeatures(), key=lambda f: f["tile"])
    assert [(f["tile"], f["label"], f["angle"]) for f in features] == [("0,0", "plane", 30), ("0,1", "plane", 30)]
    cos, sin = math.cos(math.radians(60)), math.sin(math.radians(60))
    for feature, col0 in zip(features, (0, 504)):
        cx, cy, hw, hh = 151.2, 151.2, 100.8, 50.4
        # OpenCV's matrix [[cos, sin], [-sin, cos]] about the centre: (dx, dy) ->
        # (dx cos + dy sin, -dx sin + dy cos), anticlockwise on screen (pixel y points down)
        corners = [(col0 + cx + dx * cos + dy * sin, cy - dx * sin + dy * cos)
                   for dx, dy in ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh))]
        expected = sorted((round(x, 6), round(y, 6)) for x, y in (to_map(*c) for c in corners))
        ring = feature.geometry().asPolygon()[0][:-1]
        assert sorted((round(p.x(), 6), round(p.y(), 6)) for p in ring) == expected
        assert feature.geometry().area() == pytest.approx(2 * hw * 2 * hh * 0.25)
