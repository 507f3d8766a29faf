"""Plugins › GeoVL: its actions, the settings page of Settings › Options (round trip, the
cache sizes and Clear per kind), the documentation and the example model (installed into
the Processing models folder, loaded, and run with tiny models). pytest-qgis, offscreen."""
from __future__ import annotations

import os
import re

import pytest
from qgis.core import QgsApplication, QgsProcessingModelAlgorithm, QgsSettings, QgsVectorLayer
from qgis.PyQt.QtCore import QEvent, QObject, QTimer, QUrl, pyqtSlot
from qgis.PyQt.QtGui import QDesktopServices
from qgis.PyQt.QtWidgets import QApplication, QMessageBox

try:  # Qt6 moved QAction to QtGui
    from qgis.PyQt.QtGui import QAction
except ImportError:
    from qgis.PyQt.QtWidgets import QAction

ACTIONS = ["mActionGeoVLSegmentTool", "mActionGeoVLAskDock", "mActionGeoVLRuntime", "mActionGeoVLSettings",
           "mActionGeoVLExampleModel", "mActionGeoVLDocumentation"]
KEYS = ["geovl/cache_dir", "geovl/device", "geovl/precision"] + [f"geovl/models/{job}" for job in
                                                                  ("retrieve", "segment", "ask", "change")]
MODEL_ID = "model:Find, ask and segment"


@pytest.fixture
def settings():
    """GeoVL's settings, removed before and after the test (the profile is pytest-qgis's own)."""
    def clear():
        for key in KEYS:
            QgsSettings().remove(key)
    clear()
    yield QgsSettings()
    clear()


@pytest.fixture
def plugin(qgis_app, qgis_processing, qgis_iface):
    """The plugin as QGIS desktop loads it: classFactory(iface), then initGui()."""
    import geovl

    loaded = geovl.classFactory(qgis_iface)
    loaded.initGui()
    yield loaded
    loaded.unload()


def action(qgis_iface, name: str) -> QAction:
    found = [a for a in qgis_iface.mainWindow().findChildren(QAction) if a.objectName() == name]
    assert len(found) == 1, f"{len(found)} actions named {name}"
    return found[0]


def test_menu_has_its_actions_and_unload_takes_them_away(plugin, qgis_iface):
    texts = [action(qgis_iface, name).text() for name in ACTIONS]
    assert texts == ["Segment Tool", "Ask About the Map…", "Runtime…", "Settings…", "Install Example Model",
                     "Documentation"]
    assert [a.objectName() for a in plugin.toolbar.actions()] == ["mActionGeoVLSegmentTool", "mActionGeoVLAskDock",
                                                                   "mActionGeoVLRuntime", "mActionGeoVLDocumentation"]
    plugin.unload()
    QgsApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # deleteLater
    assert not [a for a in qgis_iface.mainWindow().findChildren(QAction) if a.objectName() in ACTIONS]


def test_settings_round_trip(qgis_app, settings, monkeypatch, tmp_path):
    from geovl.folders import cache_root
    from geovl.geovl_plugin.settings_page import GeoVLOptionsPage
    from geovl.processing import settings as geovl_settings

    monkeypatch.delenv("GEOVL_CACHE_DIR", raising=False)
    assert geovl_settings.cache_folder() == cache_root()
    assert (geovl_settings.default_device(), geovl_settings.default_precision()) == ("auto", "auto")
    assert geovl_settings.default_model("segment", "sam-vit-b") == "sam-vit-b"

    page = GeoVLOptionsPage()
    page.folder.setFilePath(str(tmp_path / "my-cache"))
    page.device.setCurrentText("cpu")
    page.precision.setCurrentText("bf16")
    page.models["segment"].setText("  /models/geosam.pth ")
    page.apply()
    assert geovl_settings.cache_folder() == str(tmp_path / "my-cache")
    assert (geovl_settings.default_device(), geovl_settings.default_precision()) == ("cpu", "bf16")
    assert geovl_settings.default_model("segment", "sam-vit-b") == "/models/geosam.pth"
    assert geovl_settings.default_model("ask", "florence-2-base") == "florence-2-base"

    again = GeoVLOptionsPage()  # a new page shows what is stored
    assert again.folder.filePath() == str(tmp_path / "my-cache")
    assert (again.device.currentText(), again.precision.currentText()) == ("cpu", "bf16")
    assert again.models["segment"].text() == "/models/geosam.pth" and again.models["ask"].text() == ""

    again.folder.setFilePath("")
    again.models["segment"].setText("")
    again.apply()
    assert geovl_settings.cache_folder() == cache_root()
    assert geovl_settings.default_model("segment", "sam-vit-b") == "sam-vit-b"
    assert not settings.contains("geovl/cache_dir") and not settings.contains("geovl/models/segment")

    settings.setValue("geovl/device", "tpu")  # a value no run can take is not passed on
    assert geovl_settings.default_device() == "auto"
    monkeypatch.setenv("GEOVL_CACHE_DIR", str(tmp_path / "env"))  # the environment wins over the setting
    settings.setValue("geovl/cache_dir", str(tmp_path / "setting"))
    assert geovl_settings.cache_folder() == str(tmp_path / "env")


def test_cache_sizes_and_clear_removes_only_that_kind(qgis_app, settings, monkeypatch, tmp_path):
    from geovl.geovl_plugin.settings_page import GeoVLOptionsPage

    root = tmp_path / "cache"
    monkeypatch.setenv("GEOVL_CACHE_DIR", str(root))
    sizes = {"retrieval": 3000, "segment": 25_000, "rendered": 700}
    for kind, size in sizes.items():
        (root / kind / "entry").mkdir(parents=True)
        (root / kind / "entry" / "a.bin").write_bytes(b"x" * (size - 100))
        (root / kind / "b.bin").write_bytes(b"y" * 100)
    (root / "other.txt").write_bytes(b"z" * 300)  # not a kind of cache: counted in the total, never cleared

    page = GeoVLOptionsPage()
    assert {kind: label.text() for kind, label in page.sizes.items()} == {
        "retrieval": "3.0 KB", "segment": "25.0 KB", "rendered": "700 B"}
    assert page.total.text().startswith("29.0 KB")
    assert not page.folder.isEnabled() and not page.environment_note.isHidden()

    page.clear_buttons["segment"].click()
    assert not (root / "segment").exists()
    assert (root / "retrieval" / "entry" / "a.bin").exists() and (root / "rendered" / "b.bin").exists()
    assert (root / "other.txt").exists()
    assert page.sizes["segment"].text() == "0 B" and not page.clear_buttons["segment"].isEnabled()
    assert page.sizes["retrieval"].text() == "3.0 KB" and page.total.text().startswith("4.0 KB")


class UrlCatcher(QObject):
    def __init__(self):
        super().__init__()
        self.urls: list[QUrl] = []

    @pyqtSlot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_documentation_opens_the_shipped_help(plugin, qgis_iface):
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        action(qgis_iface, "mActionGeoVLDocumentation").trigger()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert len(catcher.urls) == 1
    path = catcher.urls[0].toLocalFile()
    assert os.path.isfile(path) and path.endswith(os.path.join("docs", "index.html"))
    anchors = set(re.findall(r'id="([^"]+)"', open(path, encoding="utf-8").read()))
    # the algorithms' help links and metadata.txt's tracker and repository point at these
    assert {"retrieve", "segment", "ask", "change", "reporting-problems", "source"} <= anchors


def test_metadata_links_point_at_the_shipped_docs():
    import configparser

    from geovl.geovl_plugin.plugin import DOCUMENTATION

    path = os.path.join(os.path.dirname(os.path.dirname(DOCUMENTATION)), "metadata.txt")
    meta = configparser.ConfigParser()
    meta.read(path)
    general = meta["general"]
    assert not re.search(r"example\.(org|com|net)", open(path, encoding="utf-8").read())  # no placeholder left
    anchors = set(re.findall(r'id="([^"]+)"', open(DOCUMENTATION, encoding="utf-8").read()))
    for key in ("homepage", "tracker", "repository"):
        page, _, anchor = general[key].partition("#")
        assert page == "docs/index.html" and (not anchor or anchor in anchors), (key, general[key])


def answer_next_question(button: QMessageBox.StandardButton, seen: list[str]) -> None:
    """Answer the question box the next action opens, as a user's click would."""
    def answer():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append(box.text())
        box.button(button).click()
    QTimer.singleShot(0, answer)


@pytest.fixture
def models_folder(qgis_processing, tmp_path):
    """Processing's models folder (ProcessingConfig's MODELS_FOLDER) pointed at a temp folder."""
    from processing.core.ProcessingConfig import ProcessingConfig
    from processing.modeler.ModelerUtils import ModelerUtils

    folder = tmp_path / "models"
    folder.mkdir()
    before = ProcessingConfig.getSetting(ModelerUtils.MODELS_FOLDER)
    ProcessingConfig.setSettingValue(ModelerUtils.MODELS_FOLDER, str(folder))
    yield folder
    ProcessingConfig.setSettingValue(ModelerUtils.MODELS_FOLDER, before)
    QgsApplication.processingRegistry().providerById("model").refreshAlgorithms()


def test_example_model_installs_and_never_overwrites_an_edited_copy_unasked(plugin, qgis_iface, models_folder):
    from geovl.geovl_plugin.example_model import EXAMPLE_MODEL

    registry = QgsApplication.processingRegistry()
    assert registry.algorithmById(MODEL_ID) is None
    install = action(qgis_iface, "mActionGeoVLExampleModel")
    install.trigger()
    target = models_folder / os.path.basename(EXAMPLE_MODEL)
    assert target.read_bytes() == open(EXAMPLE_MODEL, "rb").read()
    model = registry.algorithmById(MODEL_ID)
    assert model is not None and model.group() == "GeoVL"
    assert set(model.childAlgorithms()) == {"retrieve", "ask", "segment"}
    assert model.shortHelpString() and model.helpContent()["question"]

    install.trigger()  # the same file again: nothing to ask
    target.write_text(target.read_text().replace("Find the tiles that match the query", "My own first step"))
    seen: list[str] = []
    answer_next_question(QMessageBox.StandardButton.No, seen)
    install.trigger()
    assert len(seen) == 1 and str(target) in seen[0]
    assert "My own first step" in target.read_text()  # kept
    answer_next_question(QMessageBox.StandardButton.Yes, seen)
    install.trigger()
    assert len(seen) == 2 and target.read_bytes() == open(EXAMPLE_MODEL, "rb").read()


def test_example_model_runs_with_tiny_models(plugin, tiny_clip_dir, tiny_florence2_dir, tiny_sam_ckpt, tmp_path,
                                             monkeypatch):
    """retrieve -> ask the top tiles -> segment the objects found, from the shipped .model3."""
    import processing

    from geovl.geovl_plugin.example_model import EXAMPLE_MODEL

    from ..models.conftest import scene
    from ..qgis.conftest import write_rgb

    monkeypatch.setenv("GEOVL_CACHE_DIR", str(tmp_path / "cache"))
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(EXAMPLE_MODEL)
    raster = write_rgb(tmp_path / "scene.tif", scene(128, 192, seed=5))  # 2 x 3 tiles of the tiny models' 64 px
    outputs = {name: str(tmp_path / f"{name.split(':')[0]}.gpkg")
               for name in ("retrieve:Matching tiles", "ask:Objects found", "segment:Segments")}
    result = processing.run(model, {"raster": raster, "query": "storage tanks", "question": "airplanes", "top_k": 6,
                                    "tile_size": 64, "retrieval_model": tiny_clip_dir, "vlm": tiny_florence2_dir,
                                    "segment_model": tiny_sam_ckpt, **outputs})
    layers = {name: QgsVectorLayer(result[name], name, "ogr") for name in outputs}
    assert all(layer.isValid() for layer in layers.values()), result
    assert layers["retrieve:Matching tiles"].featureCount() == 6
    # ask ranked the tiles with the index retrieve built (same model and tile grid), as the model's help says
    assert [p.suffix for p in (tmp_path / "cache" / "retrieval").iterdir()] == [".gpkg"]
    objects = list(layers["ask:Objects found"].getFeatures())
    assert objects, "the tiny Florence-2 grounds something on this scene"
    segments = list(layers["segment:Segments"].getFeatures())
    assert segments, "each box prompts Segment Anything"
    # classed by the VLM's labels (the tiny model's are empty: segment calls those "object")
    assert {f["class"] for f in segments} <= {f["label"] or "object" for f in objects}
    assert {f["prompt_id"] for f in segments} <= set(range(1, len(objects) + 1))
