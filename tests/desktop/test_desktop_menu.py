"""Plugins › GeoVL in the real QGIS desktop (Xvfb): the menu bar's Plugins menu holds a GeoVL
menu with its four actions, the GeoVL toolbar is shown, Settings… opens QGIS's Options at
the GeoVL page with the cache sizes of the cache folder (a screenshot of it is kept),
Documentation opens the shipped docs/index.html, and Install Example Model puts the model
in the profile's models folder, where the Processing Toolbox lists it."""
from __future__ import annotations

import os
import shutil

import pytest

from .desktop import CHECKOUT, keep_artifacts, run_desktop

pytestmark = pytest.mark.desktop

ARTIFACTS = os.path.join(CHECKOUT, "test-artifacts", "desktop-menu")
TIMEOUT_S = 90  # a hard kill; the run takes about 10 s here

SCRIPT = r'''
import os

from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QApplication, QLabel, QStackedWidget, QToolBar, QWidget

window = iface.mainWindow()
plugins = iface.pluginMenu()
results["plugins_menu_in_menu_bar"] = plugins.menuAction() in window.menuBar().actions()
menus = [a.menu() for a in plugins.actions() if a.menu() is not None and a.menu().title().replace("&", "") == "GeoVL"]
results["geovl_menus"] = len(menus)
results["menu"] = [[a.objectName(), a.text()] for a in menus[0].actions()] if menus else []
toolbar = window.findChild(QToolBar, "mGeoVLToolBar")
results["toolbar"] = None if toolbar is None else {"visible": toolbar.isVisible(),
                                                    "actions": [a.objectName() for a in toolbar.actions()]}
step("menu read")


def inspect(tries=[0]):
    dialog = QApplication.activeModalWidget()
    if dialog is None:
        tries[0] += 1
        if tries[0] < 100:
            QTimer.singleShot(100, inspect)
        return
    page = dialog.findChild(QWidget, "geovlOptionsPage")
    stack = page.parent() if page is not None else None
    while stack is not None and not isinstance(stack, QStackedWidget):
        stack = stack.parent()
    QApplication.processEvents()
    cut = [label.text() for label in page.findChildren(QLabel) if label.isVisible() and label.text()
           and not label.wordWrap() and label.width() < label.sizeHint().width()] if page is not None else []
    results["settings"] = {
        "dialog": type(dialog).__name__, "page_found": page is not None,
        "page_shown": page is not None and page.isVisible(),
        "current_page": stack is not None and stack.currentWidget() is page,
        "sizes": {kind: label.text() for kind, label in page.sizes.items()} if page is not None else {},
        "cut_labels": cut}
    if not dialog.grab().save(os.path.join(OUT, "settings.png"), "PNG"):
        results["settings"]["screenshot_failed"] = True
    dialog.reject()


step("settings")
QTimer.singleShot(300, inspect)
[a for a in menus[0].actions() if a.objectName() == "mActionGeoVLSettings"][0].trigger()  # returns once closed
step("settings closed")

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QObject, QUrl, pyqtSlot
from qgis.PyQt.QtGui import QDesktopServices


class Catcher(QObject):  # the URL Documentation opens, instead of a browser under Xvfb
    urls = []

    @pyqtSlot(QUrl)
    def open(self, url):
        self.urls.append(url.toString())


catcher = Catcher()
QDesktopServices.setUrlHandler("file", catcher, "open")
actions = {a.objectName(): a for a in menus[0].actions()}
actions["mActionGeoVLDocumentation"].trigger()
QDesktopServices.unsetUrlHandler("file")
results["documentation"] = catcher.urls
actions["mActionGeoVLExampleModel"].trigger()
model = QgsApplication.processingRegistry().algorithmById("model:Find, ask and segment")
results["example_model"] = None if model is None else {"group": model.group(),
                                                       "children": sorted(model.childAlgorithms())}
'''


def test_plugins_menu_and_settings_page_in_the_desktop(tmp_path):
    assert shutil.which("xvfb-run"), "xvfb-run is not installed: run make setup (it installs xvfb)."
    cache = tmp_path / "cache"
    (cache / "retrieval").mkdir(parents=True)
    (cache / "retrieval" / "index.gpkg").write_bytes(b"x" * 2000)
    run = run_desktop(SCRIPT, str(tmp_path / "qgis"), TIMEOUT_S, env={"GEOVL_CACHE_DIR": str(cache)})
    keep_artifacts(run, ARTIFACTS)
    results = run.results or {}

    assert run.returncode == 0 and not results.get("error"), run.describe()
    assert results["plugins_menu_in_menu_bar"] and results["geovl_menus"] == 1, run.describe()
    assert results["menu"] == [["mActionGeoVLSegmentTool", "Segment Tool"],
                               ["mActionGeoVLAskDock", "Ask About the Map…"], ["mActionGeoVLRuntime", "Runtime…"],
                               ["mActionGeoVLSettings", "Settings…"],
                               ["mActionGeoVLExampleModel", "Install Example Model"],
                               ["mActionGeoVLDocumentation", "Documentation"]], results["menu"]
    assert results["toolbar"] == {"visible": True, "actions": ["mActionGeoVLSegmentTool", "mActionGeoVLAskDock",
                                                                   "mActionGeoVLRuntime", "mActionGeoVLDocumentation"]}

    settings = results.get("settings") or {}
    assert settings.get("page_found") and settings["current_page"] and settings["page_shown"], run.describe()
    assert settings["sizes"] == {"retrieval": "2.0 KB", "segment": "0 B", "rendered": "0 B"}, settings
    assert settings["cut_labels"] == [], settings
    assert [os.path.basename(p) for p in run.screenshots] == ["settings.png"], run.screenshots
    assert [os.path.realpath(url[len("file://"):]) for url in results["documentation"]] == [
        os.path.join(CHECKOUT, "docs", "index.html")], results["documentation"]  # through the profile's plugin link
    # Install Example Model: in the fresh profile's models folder, listed by the Processing Toolbox
    assert results["example_model"] == {"group": "GeoVL", "children": ["ask", "retrieve", "segment"]}, results
    assert os.path.isfile(os.path.join(tmp_path, "qgis", "profiles", "default", "processing", "models",
                                       "geovl_find_ask_segment.model3"))
