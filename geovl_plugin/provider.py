"""The `geovl` Processing provider."""
from __future__ import annotations

import os

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..processing.ask import AskAlgorithm
from ..processing.change import ChangeAlgorithm
from ..processing.index_archive import IndexArchiveAlgorithm
from ..processing.retrieve import RetrieveAlgorithm
from ..processing.segment import SegmentAlgorithm
from ..processing.segment_archive import SegmentArchiveAlgorithm

ICON = os.path.join(os.path.dirname(os.path.dirname(__file__)), "icon.svg")


class GeoVLProvider(QgsProcessingProvider):
    def id(self):
        return "geovl"

    def name(self):
        return QCoreApplication.translate("GeoVLProvider", "GeoVL (vision-language)")

    def longName(self):
        return QCoreApplication.translate("GeoVLProvider", "GeoVL: remote-sensing vision-language models")

    def icon(self):
        return QIcon(ICON)

    def svgIconPath(self):
        return ICON

    def supportedOutputRasterLayerExtensions(self):
        return ["tif"]  # the engine writes GeoTIFF

    def loadAlgorithms(self):
        for algorithm in (RetrieveAlgorithm(), IndexArchiveAlgorithm(), SegmentAlgorithm(), SegmentArchiveAlgorithm(),
                          AskAlgorithm(), ChangeAlgorithm()):
            self.addAlgorithm(algorithm)
