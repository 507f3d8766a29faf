"""The plugin object QGIS creates through classFactory (desktop) and qgis_process."""
from __future__ import annotations

from qgis.core import QgsApplication, QgsMessageLog, Qgis

from .site_packages import add_site_packages
from .translation import install_translator, remove_translator


class GeoVLPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.translator = install_translator()
        folder = add_site_packages()
        if folder:
            QgsMessageLog.logMessage(f"Using Python packages from {folder}", "GeoVL", Qgis.MessageLevel.Info)

    def initProcessing(self):
        """Called by qgis_process, and by initGui in QGIS desktop."""
        from .provider import GeoVLProvider
        if self.provider is None:
            self.provider = GeoVLProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        remove_translator(self.translator)
        self.translator = None
