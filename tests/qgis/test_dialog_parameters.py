"""What the dialogs rest on, checked without a dialog: the model parameters and their
widget, the rules of which parameter applies when, required inputs, defaults (segment's
smallest polygon), groups, tags, icons and help links, the runtime's "models" job, and
the log line each run says before loading its model."""
from __future__ import annotations

import os
import shutil

import pytest
from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProject

from ..models.conftest import scene
from .conftest import write_rgb

ALGORITHMS = ("retrieve", "segment", "ask", "change")
MODEL_KINDS = {("retrieve", "MODEL"): "embedder", ("segment", "MODEL"): "segmenter", ("ask", "MODEL"): "vlm",
               ("ask", "RETRIEVAL_MODEL"): "embedder", ("ask", "SEGMENT_MODEL"): "segmenter",
               ("change", "MODEL"): "features", ("change", "CAPTION_MODEL"): "vlm"}


class Recorder(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.lines = []

    def pushInfo(self, info):
        self.lines.append(info)
        super().pushInfo(info)


def algorithm(name):
    from qgis.core import QgsApplication
    return QgsApplication.processingRegistry().createAlgorithmById(f"geovl:{name}")


def context():
    made = QgsProcessingContext()
    made.setProject(QgsProject.instance())
    return made


@pytest.mark.parametrize("alg_name, parameter", sorted(MODEL_KINDS))
def test_model_parameters_are_strings_with_the_model_widget(plugin, alg_name, parameter):
    from geovl.processing.model_widget import ModelWidgetWrapper

    alg = algorithm(alg_name)  # kept: its parameters die with it
    definition = alg.parameterDefinition(parameter)
    assert definition.type() == "string"  # scripts and qgis_process pass the same strings
    wrapper = definition.metadata()["widget_wrapper"]
    assert wrapper["kind"] == MODEL_KINDS[(alg_name, parameter)]
    module, _, name = wrapper["class"].rpartition(".")  # the path the dialog's factory imports
    assert getattr(__import__(module, fromlist=[name]), name) is ModelWidgetWrapper
    assert "hub id" in definition.help()


def test_which_parameters_apply_when():
    from geovl.processing.parameter_rules import chosen, given, takes_text_prompts

    assert chosen(1)(1) and not chosen(1)(0) and not chosen(1)(None) and chosen(2)("2")
    assert given("florence-2-base") and not given("  ") and not given(None)
    for model in ("sam3", "facebook/sam3", "/models/SAM-3"):
        assert takes_text_prompts(model), model
    for model in ("sam-vit-b", "sam2.1-hiera-tiny", "/models/geosam_vit_h.pth", "", None):
        assert not takes_text_prompts(model), model


def test_a_sam3_folder_takes_text_prompts_by_its_config(tmp_path):
    from geovl.processing.parameter_rules import takes_text_prompts

    (tmp_path / "config.json").write_text('{"model_type": "sam3_video"}')
    assert takes_text_prompts(str(tmp_path))
    (tmp_path / "config.json").write_text('{"model_type": "sam"}')
    assert not takes_text_prompts(str(tmp_path))


@pytest.mark.parametrize("alg_name, dependent, controller, applies, does_not", [
    ("change", "MODEL", "METHOD", 2, 0), ("ask", "RETRIEVAL_MODEL", "SELECT", 1, 0),
    ("ask", "TOP_K", "SELECT", 1, 0), ("ask", "SEGMENT_MODEL", "MODE", 2, 1),
    ("segment", "TEXT", "MODEL", "sam3", "sam-vit-b"), ("change", "MAX_CAPTIONS", "CAPTION_MODEL", "kosmos-2", "")])
def test_parameters_declare_when_they_apply(plugin, alg_name, dependent, controller, applies, does_not):
    from geovl.processing.parameter_rules import ENABLED_WHEN

    alg = algorithm(alg_name)
    name, test = alg.parameterDefinition(dependent).metadata()[ENABLED_WHEN]
    assert name == controller and test(applies) and not test(does_not)
    # The default of the controller leaves the parameter disabled (what the dialog opens with).
    assert not test(alg.parameterDefinition(controller).defaultValue())


def test_retrieve_needs_a_query_or_a_query_layer(plugin, tmp_path):
    from geovl.processing.parameter_rules import REQUIRED_LABEL

    raster = write_rgb(tmp_path / "scene.tif", scene(64, 64))
    alg = algorithm("retrieve")
    ok, message = alg.checkParameterValues({"INPUT": raster, "OUTPUT": "memory:"}, context())
    assert not ok and message == "Give a query text (QUERY), or a query layer (QUERY_LAYER) with features showing " \
                                 "what to find."
    assert alg.checkParameterValues({"INPUT": raster, "QUERY": "a harbour", "OUTPUT": "memory:"}, context())[0]
    points = tmp_path / "examples.geojson"
    points.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
                      '"geometry": {"type": "Point", "coordinates": [500010, 4649990]}}]}')
    assert alg.checkParameterValues({"INPUT": raster, "QUERY_LAYER": str(points), "OUTPUT": "memory:"},
                                    context())[0]
    assert alg.parameterDefinition("QUERY").metadata()[REQUIRED_LABEL]  # the dialog drops "[optional]"


def test_processing_run_without_a_query_says_what_to_give(plugin, tmp_path):
    import processing
    from qgis.core import QgsProcessingException

    raster = write_rgb(tmp_path / "scene.tif", scene(64, 64))
    with pytest.raises(QgsProcessingException, match="Give a query text"):
        processing.run("geovl:retrieve", {"INPUT": raster, "OUTPUT": "memory:"})


def test_smallest_polygon_defaults_to_sixteen_pixels(plugin, tmp_path):
    from geovl.processing.segment import MIN_AREA_PIXELS

    raster = write_rgb(tmp_path / "scene.tif", scene(64, 64))  # 0.5 m pixels (tests/qgis/conftest.py)
    alg = algorithm("segment")
    assert alg.parameterDefinition("MIN_AREA").defaultValue() is None
    assert alg._min_area({}, context(), raster, 0.0) == pytest.approx(MIN_AREA_PIXELS * 0.25)
    assert alg._min_area({}, context(), raster, 2.0) == pytest.approx(MIN_AREA_PIXELS * 4.0)  # resampled
    assert alg._min_area({"MIN_AREA": 0}, context(), raster, 0.0) == 0.0  # 0 keeps every polygon
    assert alg._min_area({"MIN_AREA": 7.5}, context(), raster, 0.0) == 7.5


def test_smallest_polygon_on_a_geographic_raster_is_in_square_metres(plugin, tmp_path):
    from osgeo import gdal, osr

    path = str(tmp_path / "wgs84.tif")
    dataset = gdal.GetDriverByName("GTiff").Create(path, 10, 10, 1)
    dataset.SetGeoTransform((10.0, 0.0001, 0, 45.0, 0, -0.0001))  # about 7.9 m x 11.1 m at 45°N
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    dataset.SetProjection(srs.ExportToWkt())
    dataset = None
    area = algorithm("segment")._min_area({}, context(), path, 0.0)
    assert 16 * 7.8 * 11.0 < area < 16 * 8.0 * 11.2


@pytest.mark.parametrize("name", ALGORITHMS)
def test_groups_tags_icons_and_help_links(plugin, name):
    from qgis.PyQt.QtCore import QUrl

    alg = algorithm(name)
    assert alg.groupId() in ("search", "mapping") and alg.group()
    tags = alg.tags()
    assert {"retrieve": "clip", "segment": "sam", "ask": "question", "change": "change detection"}[name] in tags
    assert all(tag == tag.strip() and tag for tag in tags)
    assert os.path.isfile(alg.svgIconPath()) and not alg.icon().isNull()
    url = QUrl(alg.helpUrl())
    assert url.isLocalFile() and url.fragment() == name
    assert url.toLocalFile().endswith(os.path.join("docs", "index.html"))
    with open(url.toLocalFile(), encoding="utf-8") as page:  # the shipped help page has the anchor
        assert f'id="{name}"' in page.read()


def test_models_job_lists_the_presets_of_a_kind(plugin):
    from geovl.processing.runtime_link import run_job

    presets = run_job("models", {"kind": "segmenter"}, None, "listing the models")["presets"]
    names = [p["name"] for p in presets]
    assert names[0] == "sam-vit-b" and "sam3" in names
    assert all(isinstance(p["cached"], bool) and p["description"] and p["repo"] for p in presets)


def test_a_run_says_where_its_model_loads_from_before_loading(plugin, tiny_clip_dir, tmp_path, cache_dir):
    import processing
    from qgis.core import QgsProcessingException

    raster = write_rgb(tmp_path / "scene.tif", scene(64, 64))
    model = str(tmp_path / "clip")  # a copy: a model the warm worker has loaded before is not loaded again
    shutil.copytree(tiny_clip_dir, model)
    said = Recorder()
    processing.run("geovl:retrieve", {"INPUT": raster, "QUERY": "a harbour", "MODEL": model, "TOP_K": 1,
                                      "OUTPUT": "memory:"}, feedback=said)
    assert any(line.startswith(f"Loading {model} from the folder ") for line in said.lines), said.lines
    # Offline, a preset not in the cache is said to be so before the error (the run never sits silent).
    said = Recorder()
    with pytest.raises(QgsProcessingException, match="not in the local model cache"):
        processing.run("geovl:retrieve", {"INPUT": raster, "QUERY": "a harbour", "MODEL": "git-rsclip-base",
                                          "OUTPUT": "memory:"}, feedback=said)
    assert any("is not in the local model cache" in line and "HF_HUB_OFFLINE" in line for line in said.lines), \
        said.lines


def test_defaults_follow_the_settings(plugin):
    """A new dialog (or a run that leaves them out) starts with the models, device and
    precision chosen in Settings › Options › GeoVL; a secondary model takes the default
    of the job it serves."""
    from qgis.core import QgsSettings

    from geovl.processing.settings import DEVICE_KEY, DEVICES, MODEL_KEY, PRECISION_KEY, PRECISIONS

    settings = QgsSettings()
    chosen = {MODEL_KEY.format("retrieve"): "git-rsclip", MODEL_KEY.format("ask"): "qwen2.5-vl-3b",
              MODEL_KEY.format("segment"): "sam-vit-h", DEVICE_KEY: "cpu", PRECISION_KEY: "fp32"}
    try:
        for key, value in chosen.items():
            settings.setValue(key, value)
        ask = algorithm("ask")
        assert ask.parameterDefinition("MODEL").defaultValue() == "qwen2.5-vl-3b"
        assert ask.parameterDefinition("RETRIEVAL_MODEL").defaultValue() == "git-rsclip"
        assert ask.parameterDefinition("SEGMENT_MODEL").defaultValue() == "sam-vit-h"
        assert DEVICES[ask.parameterDefinition("DEVICE").defaultValue()] == "cpu"
        assert PRECISIONS[ask.parameterDefinition("PRECISION").defaultValue()] == "fp32"
    finally:
        for key in chosen:
            settings.remove(key)
    retrieve = algorithm("retrieve")
    assert retrieve.parameterDefinition("MODEL").defaultValue() == "clip-rsicd"
    assert retrieve.parameterDefinition("DEVICE").defaultValue() == 0
