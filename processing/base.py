"""What every GeoVL algorithm shares: the common parameters, the outputs checked before
any work, jobs sent to the runtime and their features copied into the sinks. Job
modules stay thin."""
from __future__ import annotations

import math
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from typing import Iterable

from qgis.core import (Qgis, QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsDistanceArea, QgsFeature,
                       QgsFeatureSink, QgsField, QgsFields, QgsMapLayer, QgsPointXY, QgsRectangle, QgsUnitTypes,
                       QgsProcessingAlgorithm, QgsProcessingException, QgsProcessingParameterBand,
                       QgsProcessingParameterDefinition, QgsProcessingParameterEnum, QgsProcessingParameterExtent,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterString, QgsProcessingUtils, QgsProviderRegistry, QgsVectorLayer)
from qgis.PyQt.QtCore import QCoreApplication, QThread, QUrl
from qgis.PyQt.QtGui import QIcon

from .parameter_rules import model_metadata
from .runtime_link import missing_runtime_sentence, run_job
from .settings import DEVICES, PRECISIONS, cache_folder, default_device, default_model, default_precision

PLUGIN_FOLDER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPORARY_OUTPUT = "TEMPORARY_OUTPUT"   # QgsProcessing.TEMPORARY_OUTPUT
MAX_TILE_SIZE = 8192         # px a side; a larger tile cannot be read into memory, let alone a model


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


def with_help(parameter: QgsProcessingParameterDefinition, text: str) -> QgsProcessingParameterDefinition:
    """`parameter` with `text` as its help (the dialog's tooltip): a label says what to give
    in a few words, its help the details."""
    parameter.setHelp(text)
    return parameter


def layer_file(layer: QgsMapLayer | None) -> str | None:
    """The local file behind a layer (None for memory, web and database layers)."""
    if layer is None:
        return None
    path = QgsProviderRegistry.instance().decodeUri(layer.providerType(), layer.source()).get("path")
    return os.path.realpath(path) if path and os.path.isfile(path) else None


def destination_file(value: str) -> str | None:
    """The local file an output value names ('/x/y.gpkg|layername=z' -> '/x/y.gpkg'; None
    for memory: and database outputs)."""
    path = (value or "").split("|")[0]
    return os.path.realpath(path) if os.path.isabs(path) else None


def writable_folder_problem(folder: str) -> str | None:
    """Why nothing can be written in `folder`, or None. Tried, not inferred from
    permission bits (root ignores them; a read-only mount does not)."""
    if not os.path.isdir(folder):
        return tr("the folder {} does not exist").format(folder)
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".geovl-write-test-"):
            pass
    except OSError as exc:
        return tr("GeoVL cannot write in {} ({})").format(folder, exc.strerror or exc)
    return None


@dataclass(frozen=True)
class MapView:
    """What the desktop's map canvas shows: the default extent and resolution of layers
    that have neither of their own (web map and tile layers)."""
    extent: QgsRectangle
    crs: QgsCoordinateReferenceSystem
    metres_per_pixel: float


def current_map_view(transform_context) -> MapView | None:
    """The desktop's map view; None without a desktop (qgis_process, scripts without a
    canvas), off the main thread (a model's child algorithm: widgets are not thread-safe),
    or when the canvas shows nothing yet."""
    from qgis import utils  # the desktop sets qgis.utils.iface after this module is imported

    app = QCoreApplication.instance()
    if utils.iface is None or app is None or QThread.currentThread() is not app.thread():
        return None
    canvas = utils.iface.mapCanvas()
    if canvas is None:
        return None
    crs = canvas.mapSettings().destinationCrs()
    extent = canvas.extent()
    if not crs.isValid() or extent.isEmpty() or canvas.mapUnitsPerPixel() <= 0:
        return None
    x_factor, y_factor = ground_metres_per_unit(crs, extent.center(), transform_context)
    return MapView(QgsRectangle(extent), crs, canvas.mapUnitsPerPixel() * (x_factor + y_factor) / 2)


def ground_metres_per_unit(crs: QgsCoordinateReferenceSystem, point: QgsPointXY,
                           transform_context) -> tuple[float, float]:
    """Metres on the ground per CRS unit along x and along y at `point` (in `crs`): what
    RESOLUTION (ground metres per pixel) means in a layer's CRS.

    Geographic CRS: measured on the ellipsoid (a degree of longitude shrinks with the
    latitude). Mercator (Web Mercator): CRS metres x cos(latitude), the projection's scale.
    Other projections: the unit's length (their scale error is small by design). The
    worker's geo.raster.RasterSource.metres_per_pixel follows the same rules."""
    if crs.isGeographic():
        area = QgsDistanceArea()
        area.setSourceCrs(crs, transform_context)
        area.setEllipsoid(crs.ellipsoidAcronym() or "EPSG:7030")
        step = 0.001
        x, y = point.x(), max(-89.99, min(89.99, point.y()))
        return (area.measureLine(QgsPointXY(x - step, y), QgsPointXY(x + step, y)) / (2 * step),
                area.measureLine(QgsPointXY(x, y - step), QgsPointXY(x, y + step)) / (2 * step))
    factor = QgsUnitTypes.fromUnitToUnitFactor(crs.mapUnits(), QgsUnitTypes.DistanceUnit.DistanceMeters)
    if "+proj=merc" in crs.toProj():
        to_wgs84 = QgsCoordinateTransform(crs, QgsCoordinateReferenceSystem("EPSG:4326"), transform_context)
        factor *= math.cos(math.radians(to_wgs84.transform(point).y()))
    return factor, factor


def temporary_output(parameters, name: str, context) -> bool:
    """Whether output `name` goes to a temporary file or a memory layer. Such an output is
    resolved only by the code that writes it: each parameterAsOutputLayer call makes a new
    temporary name and registers it to load when the run completes, and QGIS then reports
    the names never written as "not correctly generated" (the dialog stops there)."""
    value = parameters.get(name)
    if hasattr(value, "sink"):   # a QgsProcessingOutputLayerDefinition (the dialog, runAndLoadResults)
        value = value.sink.valueAsString(context.expressionContext(), "")[0]
    value = str(value or "")
    return value == TEMPORARY_OUTPUT or value.startswith("memory:")


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

    # Named after the algorithm: icons/<name>.svg, and the anchor <name> of the help page.
    def svgIconPath(self) -> str:
        return os.path.join(PLUGIN_FOLDER, "icons", f"{self.name()}.svg")

    def icon(self):
        return QIcon(self.svgIconPath())

    def helpUrl(self) -> str:
        url = QUrl.fromLocalFile(os.path.join(PLUGIN_FOLDER, "docs", "index.html"))
        url.setFragment(self.name())
        return url.toString()

    def check_destinations(self, parameters, context) -> None:
        """Before any work (first thing in processAlgorithm, where an exception reaches the
        caller with its message): the runtime is installed (checked here, not in
        canExecute(), so the dialog still opens and Run says why), every file output goes to
        a folder that exists and takes writes, no two outputs share a file, and no output
        overwrites an input layer."""
        problem = missing_runtime_sentence()
        if problem:
            raise QgsProcessingException(problem)
        inputs = {}
        for definition in self.parameterDefinitions():
            if isinstance(definition, QgsProcessingParameterRasterLayer):
                path = layer_file(self.parameterAsRasterLayer(parameters, definition.name(), context))
            elif isinstance(definition, QgsProcessingParameterFeatureSource):
                path = layer_file(self.parameterAsVectorLayer(parameters, definition.name(), context))
            else:
                continue
            if path:
                inputs.setdefault(path, definition.name())
        outputs = {}
        for definition in self.destinationParameterDefinitions():
            name = definition.name()
            if parameters.get(name) in (None, ""):
                continue  # an optional output that was not asked for
            if temporary_output(parameters, name, context):
                continue  # a new temporary file or a memory layer: nothing to check
            value = (self.parameterAsFileOutput(parameters, name, context)
                     if isinstance(definition, QgsProcessingParameterFileDestination)
                     else self.parameterAsOutputLayer(parameters, name, context))
            path = destination_file(value)
            if path is None:
                continue
            if path in inputs:
                raise QgsProcessingException(self.tr(
                    "{} would overwrite the input {} ({}). Choose another file name for the output.").format(
                    name, inputs[path], path))
            if path in outputs:
                raise QgsProcessingException(self.tr(
                    "{} and {} are the same file ({}). Give each output its own file name.").format(
                    outputs[path], name, path))
            outputs[path] = name
            problem = writable_folder_problem(os.path.dirname(path))
            if problem:
                raise QgsProcessingException(self.tr(
                    "Cannot write {} to {}: {}. Choose a folder that exists and that you can write to.").format(
                    name, path, problem))

    def write_sink(self, parameters, name: str, context, fields: QgsFields, geometry_type, crs,
                   features: Iterable[QgsFeature]) -> str | None:
        """Write `features` to the feature sink `name` and check that they are there: every
        addFeature and the final flush are checked, and a file output is read back once
        closed (on a full disk OGR reports success until the file is committed).
        Returns the sink's destination id (None for an optional output not asked for)."""
        target = (None if temporary_output(parameters, name, context)
                  else destination_file(self.parameterAsOutputLayer(parameters, name, context)))
        new_file = target is not None and not os.path.exists(target)
        sink, dest_id = self.parameterAsSink(parameters, name, context, fields, geometry_type, crs)
        if sink is None:
            if parameters.get(name) in (None, "") and self.parameterDefinition(name).flags() & \
                    QgsProcessingParameterDefinition.Flag.FlagOptional:
                return None  # an optional output that was not asked for
            raise QgsProcessingException(self.invalidSinkError(parameters, name))
        count = 0
        for feature in features:
            if not sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert):
                self._failed_sink(name, dest_id, sink.lastError(), new_file)
            count += 1
        if not sink.flushBuffer():
            self._failed_sink(name, dest_id, sink.lastError(), new_file)
        del sink  # closes the file: the final commit happens here
        path = destination_file(dest_id)
        if path and os.path.exists(path):
            written = QgsVectorLayer(dest_id, name, "ogr")
            if not written.isValid() or written.featureCount() != count:
                self._failed_sink(name, dest_id, self.tr("the file cannot be read back"), new_file)
        return dest_id

    def _failed_sink(self, name: str, dest_id: str, error: str, new_file: bool) -> None:
        path = destination_file(dest_id)
        if path and new_file:  # never delete a GeoPackage that held other layers before the run
            for leftover in (path, path + "-journal", path + "-wal", path + "-shm"):
                if os.path.exists(leftover):
                    os.remove(leftover)
        raise QgsProcessingException(self.tr(
            "Writing {} to {} failed ({}). Is the disk full? Free some space or choose another folder, and run "
            "again.").format(name, path or dest_id, error or self.tr("no reason given")))

    def add_model_parameters(self, fallback_model: str, kind: str, description: str = "") -> None:
        """MODEL (its widget lists the presets of `kind`, see model_parameter), DEVICE and
        PRECISION, their defaults the user's settings (Settings › Options › GeoVL), else
        `fallback_model` and auto."""
        self.addParameter(self.model_parameter(self.MODEL, description or tr("Model"),
                                               default_model(self.name(), fallback_model), kind))
        self._advanced(with_help(QgsProcessingParameterEnum(self.DEVICE, tr("Device"), options=DEVICES,
                                                            defaultValue=DEVICES.index(default_device())),
                                 tr("auto: a CUDA GPU, else Apple MPS, else the CPU.")))
        self._advanced(with_help(QgsProcessingParameterEnum(self.PRECISION, tr("Precision"), options=PRECISIONS,
                                                            defaultValue=PRECISIONS.index(default_precision())),
                                 tr("auto: bf16 where the device runs it natively (CUDA GPUs with bf16, CPUs with "
                                    "AVX512-BF16 or AMX), else fp32.")))

    @staticmethod
    def model_parameter(name: str, description: str, default: str, kind: str,
                        optional: bool = False) -> QgsProcessingParameterString:
        """A model parameter: a string (preset, hub id or local path) for scripts and
        qgis_process; the dialog shows it with the model widget, listing the presets of the
        runtime's kind of model `kind` (embedder, segmenter, vlm, features)."""
        parameter = QgsProcessingParameterString(name, description, defaultValue=default, optional=optional)
        parameter.setMetadata(model_metadata(kind))
        parameter.setHelp(tr("A preset (the list shows which are already in the local model cache; the others "
                             "download from the Hugging Face hub on first use), a hub id (org/name), or a local "
                             "checkpoint file or model folder (the … button)."))
        return parameter

    def add_tiling_parameters(self) -> None:
        self.addParameter(with_help(QgsProcessingParameterExtent(self.EXTENT, tr("Extent"), optional=True),
                                    tr("The part of the raster to work on; default: the whole raster.")))
        self._advanced(with_help(QgsProcessingParameterBand(self.BANDS, tr("Bands"),
                                                            parentLayerParameterName=self.INPUT, optional=True,
                                                            allowMultiple=True),
                                 tr("1 band for grey, or 3 for red, green, blue; default: the raster's RGB colour "
                                    "interpretation, else its first three bands.")))
        self.add_grid_parameters()

    def add_grid_parameters(self) -> None:
        """TILE_SIZE, OVERLAP and RESOLUTION: the tile grid, without a layer's extent and bands."""
        self._advanced(with_help(QgsProcessingParameterNumber(self.TILE_SIZE, tr("Tile size (px)"), minValue=0,
                                                              maxValue=MAX_TILE_SIZE, defaultValue=0),
                                 tr("Pixels a side of the tiles the model sees; 0: the model's input size.")))
        self._advanced(with_help(QgsProcessingParameterNumber(self.OVERLAP, tr("Tile overlap (px)"), minValue=0,
                                                              defaultValue=0),
                                 tr("Pixels neighbouring tiles share, for objects on tile borders.")))
        self._advanced(with_help(QgsProcessingParameterNumber(
            self.RESOLUTION, tr("Resolution (m/px)"), type=QgsProcessingParameterNumber.Type.Double, minValue=0.0,
            defaultValue=0.0, optional=True),
            tr("Ground metres per pixel the raster is resampled to before tiling; 0: the raster's own.")))

    def _advanced(self, parameter: QgsProcessingParameterDefinition) -> None:
        parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        self.addParameter(parameter)

    def model_options(self, parameters, context, name: str | None = None) -> dict:
        """The job's model: MODEL (or the parameter `name`) on DEVICE in PRECISION
        (pipelines.options.ModelOptions' fields)."""
        return {"name": self.parameterAsString(parameters, name or self.MODEL, context).strip(),
                "device": DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
                "precision": PRECISIONS[self.parameterAsEnum(parameters, self.PRECISION, context)]}

    map_view: MapView | None = None  # set by prepareAlgorithm

    def prepareAlgorithm(self, parameters, context, feedback) -> bool:
        # Runs on the main thread (processAlgorithm may not): the map view is read here,
        # the default extent and resolution of web layers (render.job_raster).
        self.map_view = current_map_view(context.transformContext())
        return True

    def tiling_options(self, parameters, context, layer) -> dict:
        """Tiling parameters, the extent in the layer's CRS (None when not set), as
        pipelines.options.TilingOptions' fields; resolution in ground metres per pixel
        (0: the raster's own)."""
        extent = None
        if parameters.get(self.EXTENT):
            rect = self.parameterAsExtent(parameters, self.EXTENT, context, layer.crs())
            if not rect.isNull():
                extent = (rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())
        return {"tile_size": self.parameterAsInt(parameters, self.TILE_SIZE, context),
                "overlap": self.parameterAsInt(parameters, self.OVERLAP, context),
                "resolution": self.parameterAsDouble(parameters, self.RESOLUTION, context) or 0.0,
                "extent": extent, "bands": self.band_numbers(parameters, context) or None}

    def band_numbers(self, parameters, context) -> list[int]:
        """BANDS as numbers. Typed text ("1,2,3", "1 2 3") is read here: QGIS reads only
        "1;2;3", and makes [0] of anything else."""
        value = parameters.get(self.BANDS)
        if not isinstance(value, str):
            return self.parameterAsInts(parameters, self.BANDS, context)
        parts = [part for part in re.split(r"[,;\s]+", value.strip()) if part]
        if not all(part.isdigit() for part in parts):
            raise QgsProcessingException(self.tr(
                "BANDS must be band numbers, such as 1 for grey or 1,2,3 for red, green, blue; not '{}'.").format(value))
        return [int(part) for part in parts]

    def run_job(self, job: str, arguments: dict, feedback, activity: str) -> dict:
        """Run `job` in the GeoVL runtime (the worker process); returns its values. Its
        features come back in the GeoPackage `arguments["features"]`, a temp file."""
        arguments = {**arguments, "environment": {"GEOVL_CACHE_DIR": cache_folder()},
                     "features": os.path.join(QgsProcessingUtils.tempFolder(), f"geovl-{uuid.uuid4().hex}.gpkg")}
        return run_job(job, arguments, feedback, activity)

    def copy_features(self, parameters, name: str, context, values: dict, table: str, fields: QgsFields,
                      geometry_type, crs, provenance: dict) -> str | None:
        """write_sink of the features of `table` in the job's features file, each with the
        attributes of its table and `provenance` (fields the job does not know: model, source, ...)."""
        source = QgsVectorLayer(f"{values['features']}|layername={table}", table, "ogr")
        if not source.isValid():
            raise QgsProcessingException(self.tr("The GeoVL runtime's result {} cannot be read ({}).").format(
                values["features"], table))
        names = source.fields().names()

        def features():
            for found in source.getFeatures():
                feature = QgsFeature(fields)
                feature.setGeometry(found.geometry())
                feature.setAttributes([found[field.name()] if field.name() in names else provenance.get(field.name())
                                       for field in fields])
                yield feature

        try:
            return self.write_sink(parameters, name, context, fields, geometry_type, crs, features())
        finally:
            # Let go of the layer even when writing failed: the exception's traceback keeps
            # this frame, and a QGIS layer still alive when QGIS exits crashes the process.
            source = None

    @staticmethod
    def discard_features(values: dict) -> None:
        """Remove the job's features file once its tables are copied."""
        for leftover in (values["features"], values["features"] + "-wal", values["features"] + "-shm"):
            if os.path.exists(leftover):
                os.remove(leftover)
