"""The plugin object QGIS creates through classFactory (desktop) and qgis_process."""
from __future__ import annotations

import os

from qgis.core import Qgis, QgsApplication, QgsRasterLayer
from qgis.PyQt.QtCore import QCoreApplication, Qt, QUrl
from qgis.PyQt.QtGui import QDesktopServices, QIcon
from qgis.PyQt.QtWidgets import QMessageBox

try:  # Qt6 (QGIS 4) moved QAction to QtGui
    from qgis.PyQt.QtGui import QAction
except ImportError:
    from qgis.PyQt.QtWidgets import QAction

from ..processing.runtime_link import stop_worker
from .ask_dock import GeoVLAskDock
from .example_model import install_example_model, models_folder
from .provider import ICON
from .runtime_dialog import RuntimeDialog
from .segment_dock import GeoVLSegmentDock
from .segment_tool import SegmentMapTool
from .settings_page import PAGE_NAME, GeoVLOptionsFactory
from .translation import install_translator, remove_translator

MENU = "&GeoVL"
PLUGIN_FOLDER = os.path.dirname(os.path.dirname(__file__))
DOCUMENTATION = os.path.join(PLUGIN_FOLDER, "docs", "index.html")


def tr(text: str) -> str:
    # pylupdate5 files module-level tr() calls under the "@default" context.
    return QCoreApplication.translate("@default", text)


class GeoVLPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.runtime_action: QAction | None = None
        self.runtime_dialog: RuntimeDialog | None = None
        self.actions: list[QAction] = []  # every menu action, the runtime's included
        self.toolbar = None
        self.options_factory: GeoVLOptionsFactory | None = None
        self.segment_action: QAction | None = None
        self.segment_dock: GeoVLSegmentDock | None = None
        self.segment_tool: SegmentMapTool | None = None
        self.ask_action: QAction | None = None
        self.ask_dock: GeoVLAskDock | None = None
        self.translator = install_translator()

    def initProcessing(self):
        """Called by qgis_process, and by initGui in QGIS desktop."""
        from .provider import GeoVLProvider
        if self.provider is None:
            self.provider = GeoVLProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        self.initProcessing()
        self.segment_action = self.add_action("mActionGeoVLSegmentTool", tr("Segment Tool"), self.use_segment_tool)
        self.segment_action.setCheckable(True)
        self.segment_action.setIcon(QIcon(os.path.join(PLUGIN_FOLDER, "icons", "segment.svg")))
        self.segment_action.setToolTip(tr("Click on a raster to segment an object (left: object, right: background, "
                                          "drag: box; Enter accepts)"))
        self.ask_action = self.add_action("mActionGeoVLAskDock", tr("Ask About the Map…"), self.show_ask_dock)
        self.ask_action.setIcon(QIcon(os.path.join(PLUGIN_FOLDER, "icons", "ask.svg")))
        self.ask_action.setToolTip(tr("Ask a vision-language model about the map view"))
        self.runtime_action = self.add_action("mActionGeoVLRuntime", tr("Runtime…"), self.show_runtime_dialog)
        self.add_action("mActionGeoVLSettings", tr("Settings…"), self.show_settings)
        self.add_action("mActionGeoVLExampleModel", tr("Install Example Model"), self.install_example_model)
        documentation = self.add_action("mActionGeoVLDocumentation", tr("Documentation"), self.show_documentation)
        documentation.setIcon(QgsApplication.getThemeIcon("/mActionHelpContents.svg"))
        self.runtime_action.setIcon(QIcon(ICON))
        self.toolbar = self.iface.addToolBar(tr("GeoVL"))
        self.toolbar.setObjectName("mGeoVLToolBar")
        self.toolbar.addAction(self.segment_action)
        self.toolbar.addAction(self.ask_action)
        self.toolbar.addAction(self.runtime_action)
        self.toolbar.addAction(documentation)
        self.options_factory = GeoVLOptionsFactory()
        self.iface.registerOptionsWidgetFactory(self.options_factory)

    def add_action(self, name: str, text: str, slot) -> QAction:
        """A Plugins › GeoVL menu action; `name` is its objectName (tests find it by that)."""
        action = QAction(text, self.iface.mainWindow())
        action.setObjectName(name)
        action.triggered.connect(slot)
        self.iface.addPluginToMenu(MENU, action)
        self.actions.append(action)
        return action

    def use_segment_tool(self, checked: bool) -> None:
        """Make the segment tool the canvas's map tool (and show its dock), or stop using it."""
        canvas = self.iface.mapCanvas()
        if not checked:
            if self.segment_tool is not None and canvas.mapTool() is self.segment_tool:
                canvas.unsetMapTool(self.segment_tool)
            return
        if self.segment_dock is None:
            self.segment_dock = GeoVLSegmentDock(self.iface, self.iface.mainWindow())
            self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.segment_dock)
            self.segment_tool = SegmentMapTool(canvas, self.segment_dock)
            self.segment_tool.setAction(self.segment_action)
        active = self.iface.activeLayer()
        if isinstance(active, QgsRasterLayer):
            self.segment_dock.raster.setLayer(active)
        self.segment_dock.show()
        canvas.setMapTool(self.segment_tool)

    def show_ask_dock(self) -> None:
        if self.ask_dock is None:
            self.ask_dock = GeoVLAskDock(self.iface, self.iface.mainWindow())
            self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.ask_dock)
        active = self.iface.activeLayer()
        if isinstance(active, QgsRasterLayer):
            self.ask_dock.raster.setLayer(active)
        self.ask_dock.show()
        self.ask_dock.raise_()
        self.ask_dock.question.setFocus()

    def show_settings(self) -> None:
        self.iface.showOptionsDialog(self.iface.mainWindow(), currentPage=PAGE_NAME)

    def show_documentation(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(DOCUMENTATION))

    def install_example_model(self) -> None:
        def replace(path: str) -> bool:
            answer = QMessageBox.question(
                self.iface.mainWindow(), tr("Install Example Model"),
                tr("{} exists and differs from GeoVL's example model (you may have edited it). Replace it with the "
                   "original?").format(path),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            return answer == QMessageBox.StandardButton.Yes

        try:
            path = install_example_model(models_folder(), replace)
        except OSError as exc:
            self.iface.messageBar().pushMessage(tr("GeoVL"), tr(
                "The example model could not be installed ({}). Check that the Processing models folder (Settings › "
                "Options › Processing › Models) exists and can be written to.").format(exc),
                Qgis.MessageLevel.Critical)
            return
        if path:
            self.iface.messageBar().pushMessage(tr("GeoVL"), tr(
                "The example model is installed as {}: find it in the Processing Toolbox under Models › GeoVL, "
                "or open it in the Model Designer.").format(path), Qgis.MessageLevel.Success)

    def show_runtime_dialog(self) -> None:
        if self.runtime_dialog is None:
            self.runtime_dialog = RuntimeDialog(self.iface.mainWindow())
        self.runtime_dialog.show()
        self.runtime_dialog.raise_()
        self.runtime_dialog.activateWindow()
        self.runtime_dialog.refresh()

    def unload(self):
        if self.segment_tool is not None:
            self.iface.mapCanvas().unsetMapTool(self.segment_tool)
            self.segment_tool.shut_down()
            self.segment_tool.deleteLater()
            self.segment_tool = None
        if self.ask_dock is not None:
            self.ask_dock.shut_down()
        for dock in (self.segment_dock, self.ask_dock):
            if dock is not None:
                self.iface.removeDockWidget(dock)
                dock.deleteLater()
        self.segment_dock = self.ask_dock = None
        if self.runtime_dialog is not None:
            self.runtime_dialog.shut_down()
            self.runtime_dialog.deleteLater()
            self.runtime_dialog = None
        if self.options_factory is not None:
            self.iface.unregisterOptionsWidgetFactory(self.options_factory)
            self.options_factory = None
        if self.toolbar is not None:
            self.toolbar.deleteLater()  # takes it out of the main window
            self.toolbar = None
        for action in self.actions:
            self.iface.removePluginMenu(MENU, action)
            action.deleteLater()
        self.actions = []
        self.runtime_action = self.segment_action = self.ask_action = None
        stop_worker()
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        remove_translator(self.translator)
        self.translator = None
