"""What every GeoVL algorithm shares: the common parameters, the dependency check,
feedback and error translation. Job modules stay thin."""
from __future__ import annotations

import importlib.util

from qgis.core import (Qgis, QgsField, QgsFields, QgsGeometry, QgsProcessingAlgorithm, QgsProcessingException,
                       QgsProcessingParameterBand,
                       QgsProcessingParameterDefinition, QgsProcessingParameterEnum,
                       QgsProcessingParameterExtent, QgsProcessingParameterNumber, QgsProcessingParameterString)
from qgis.PyQt.QtCore import QCoreApplication

# Import name -> pip name of what the algorithms need at run time.
REQUIRED_PACKAGES = {"torch": "torch", "transformers": "transformers", "rasterio": "rasterio",
                     "shapely": "shapely", "affine": "affine", "PIL": "pillow"}

DEVICES = ["auto", "cpu", "cuda", "mps"]
PRECISIONS = ["auto", "fp32", "bf16", "fp16"]


def tr(text: str) -> str:
    # pylupdate5 files module-level tr() calls under the "@default" context.
    return QCoreApplication.translate("@default", text)


def make_fields(spec: list[tuple[str, str]]) -> QgsFields:
    """Fields from (name, "int" | "double" | "string") pairs, Qt5 and Qt6 alike."""
    if Qgis.QGIS_VERSION_INT >= 33800:
        from qgis.PyQt.QtCore import QMetaType
        types = {"int": QMetaType.Type.Int, "double": QMetaType.Type.Double, "string": QMetaType.Type.QString}
    else:
        from qgis.PyQt.QtCore import QVariant
        types = {"int": QVariant.Type.Int, "double": QVariant.Type.Double, "string": QVariant.Type.String}
    fields = QgsFields()
    for name, kind in spec:
        fields.append(QgsField(name, types[kind]))
    return fields


def geometry_from_wkb(wkb: bytes) -> QgsGeometry:
    geometry = QgsGeometry()
    geometry.fromWkb(wkb)
    return geometry


def missing_packages() -> list[str]:
    return [pip for module, pip in REQUIRED_PACKAGES.items() if importlib.util.find_spec(module) is None]


class QgisFeedback:
    """pipelines.feedback.Feedback on top of a QgsProcessingFeedback."""

    def __init__(self, feedback):
        self._feedback = feedback

    def progress(self, percent: float) -> None:
        if self._feedback:
            self._feedback.setProgress(percent)

    def info(self, message: str) -> None:
        if self._feedback:
            self._feedback.pushInfo(message)

    def warning(self, message: str) -> None:
        if self._feedback:
            self._feedback.pushWarning(message)

    def cancelled(self) -> bool:
        return bool(self._feedback and self._feedback.isCanceled())


class GeoVLAlgorithm(QgsProcessingAlgorithm):
    INPUT = "INPUT"
    EXTENT = "EXTENT"
    MODEL = "MODEL"
    DEVICE = "DEVICE"
    PRECISION = "PRECISION"
    BANDS = "BANDS"
    TILE_SIZE = "TILE_SIZE"
    OVERLAP = "OVERLAP"
    RESOLUTION = "RESOLUTION"
    OUTPUT = "OUTPUT"

    def tr(self, text: str) -> str:
        return QCoreApplication.translate(type(self).__name__, text)

    def createInstance(self):
        return type(self)()

    def canExecute(self):
        missing = missing_packages()
        if missing:
            return False, tr(
                "GeoVL needs Python packages that this QGIS cannot import: {}. Run `make setup deploy` in the "
                "GeoVL folder (it installs them and points the plugin at them), or set the QGIS setting "
                "geovl/site_packages to a site-packages folder that has them.").format(", ".join(missing))
        return True, ""

    def prepareAlgorithm(self, parameters, context, feedback):
        # processing.run and qgis_process do not ask canExecute(); refuse here with its sentence.
        ok, message = self.canExecute()
        if not ok:
            raise QgsProcessingException(message)
        return True

    def add_model_parameters(self, default_model: str, description: str = "") -> None:
        self.addParameter(QgsProcessingParameterString(
            self.MODEL, description or tr("Model (preset, hub id or local path)"), defaultValue=default_model))
        self._advanced(QgsProcessingParameterEnum(self.DEVICE, tr("Device"), options=DEVICES, defaultValue=0))
        self._advanced(QgsProcessingParameterEnum(self.PRECISION, tr("Precision"), options=PRECISIONS,
                                                  defaultValue=0))

    def add_tiling_parameters(self) -> None:
        self.addParameter(QgsProcessingParameterExtent(self.EXTENT, tr("Extent (default: the whole raster)"),
                                                       optional=True))
        self._advanced(QgsProcessingParameterBand(self.BANDS, tr("Bands (1 for grey, or red, green, blue)"),
                                                  parentLayerParameterName=self.INPUT, optional=True,
                                                  allowMultiple=True))
        self._advanced(QgsProcessingParameterNumber(self.TILE_SIZE, tr("Tile size in pixels (0: the model's input)"),
                                                    minValue=0, defaultValue=0))
        self._advanced(QgsProcessingParameterNumber(self.OVERLAP, tr("Tile overlap in pixels"),
                                                    minValue=0, defaultValue=0))
        self._advanced(QgsProcessingParameterNumber(
            self.RESOLUTION, tr("Resolution in metres per pixel (0: the raster's own)"),
            type=QgsProcessingParameterNumber.Type.Double, minValue=0.0, defaultValue=0.0, optional=True))

    def _advanced(self, parameter: QgsProcessingParameterDefinition) -> None:
        parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        self.addParameter(parameter)

    def model_options(self, parameters, context):
        from ..pipelines.options import ModelOptions
        return ModelOptions(self.parameterAsString(parameters, self.MODEL, context).strip(),
                            DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
                            PRECISIONS[self.parameterAsEnum(parameters, self.PRECISION, context)])

    def tiling_options(self, parameters, context, layer):
        """Tiling parameters, the extent in the layer's CRS (None when not set)."""
        from ..pipelines.options import TilingOptions
        extent = None
        if parameters.get(self.EXTENT):
            rect = self.parameterAsExtent(parameters, self.EXTENT, context, layer.crs())
            if not rect.isNull():
                extent = (rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())
        bands = self.parameterAsInts(parameters, self.BANDS, context)
        return TilingOptions(tile_size=self.parameterAsInt(parameters, self.TILE_SIZE, context),
                             overlap=self.parameterAsInt(parameters, self.OVERLAP, context),
                             resolution=self.parameterAsDouble(parameters, self.RESOLUTION, context) or 0.0,
                             extent=extent, bands=tuple(bands) if bands else None)

    def run_engine(self, job, *args, **kwargs):
        """Call a pipeline function, turning engine errors into QgsProcessingException."""
        from ..errors import GeoVLError
        try:
            return job(*args, **kwargs)
        except GeoVLError as exc:
            raise QgsProcessingException(str(exc)) from exc
