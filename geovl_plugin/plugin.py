"""The plugin object QGIS creates through classFactory (desktop) and qgis_process."""
from __future__ import annotations

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication

try:  # Qt6 (QGIS 4) moved QAction to QtGui
    from qgis.PyQt.QtGui import QAction
except ImportError:
    from qgis.PyQt.QtWidgets import QAction

from ..processing.runtime_link import stop_worker
from .runtime_dialog import RuntimeDialog
from .translation import install_translator, remove_translator

MENU = "&GeoVL"


class GeoVLPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.runtime_action: QAction | None = None
        self.runtime_dialog: RuntimeDialog | None = None
        self.translator = install_translator()

    def initProcessing(self):
        """Called by qgis_process, and by initGui in QGIS desktop."""
        from .provider import GeoVLProvider
        if self.provider is None:
            self.provider = GeoVLProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        self.initProcessing()
        self.runtime_action = QAction(QCoreApplication.translate("GeoVLPlugin", "Runtime…"), self.iface.mainWindow())
        self.runtime_action.setObjectName("mActionGeoVLRuntime")
        self.runtime_action.triggered.connect(self.show_runtime_dialog)
        self.iface.addPluginToMenu(MENU, self.runtime_action)

    def show_runtime_dialog(self) -> None:
        if self.runtime_dialog is None:
            self.runtime_dialog = RuntimeDialog(self.iface.mainWindow())
        self.runtime_dialog.show()
        self.runtime_dialog.raise_()
        self.runtime_dialog.activateWindow()
        self.runtime_dialog.refresh()

    def unload(self):
        if self.runtime_dialog is not None:
            self.runtime_dialog.shut_down()
            self.runtime_dialog.deleteLater()
            self.runtime_dialog = None
        if self.runtime_action is not None:
            self.iface.removePluginMenu(MENU, self.runtime_action)
            self.runtime_action.deleteLater()
            self.runtime_action = None
        stop_worker()
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        remove_translator(self.translator)
        self.translator = None
