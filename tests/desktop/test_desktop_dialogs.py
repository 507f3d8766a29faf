"""Each algorithm's dialog in the real QGIS desktop (Xvfb), as a user opens it from the
toolbox: labels that fit at the default size, the parameters that do not apply to the
default mode disabled (and enabled when the mode changes), BEFORE and AFTER on two
different layers, retrieve's query text not marked optional, the model widget's list of
presets filled from the runtime in the background, and QGIS's own widget for model
parameters in the modeler and the batch dialog. A screenshot of each dialog
goes to test-artifacts/dialogs/."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from .desktop import CHECKOUT, keep_artifacts, run_desktop

pytestmark = pytest.mark.desktop

ARTIFACTS = os.path.join(CHECKOUT, "test-artifacts", "dialogs")
TIMEOUT_S = 150

SCRIPT = r'''
import os
import time

import processing
from processing.gui.wrappers import WidgetWrapper
from qgis.core import QgsProcessingContext, QgsProject, QgsRasterLayer
from qgis.gui import QgsCollapsibleGroupBox
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import QComboBox, QGroupBox

P = PATHS
before = QgsRasterLayer(P["before"], "before")
after = QgsRasterLayer(P["after"], "after")
QgsProject.instance().addMapLayer(before)
QgsProject.instance().addMapLayer(after)  # added last: the active layer, on top of the tree
iface.setActiveLayer(after)
context = QgsProcessingContext()
context.setProject(QgsProject.instance())


def wait(condition, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end and not condition():
        QCoreApplication.processEvents()
        time.sleep(0.05)
    QCoreApplication.processEvents()
    return condition()


def widget(wrapper):
    return wrapper.widget if isinstance(wrapper, WidgetWrapper) else wrapper.wrappedWidget()


def label(wrapper):
    return wrapper.label if isinstance(wrapper, WidgetWrapper) else wrapper.wrappedLabel()


def layer_name(value):
    layer = value if hasattr(value, "name") else QgsProject.instance().mapLayer(str(value))
    return layer.name() if layer is not None else None


for name in ("retrieve", "segment", "ask", "change"):
    step(name)
    dialog = processing.createAlgorithmDialog("geovl:" + name)
    dialog.show()
    panel = dialog.mainWidget()
    wrappers = panel.wrappers
    model = [w for n, w in wrappers.items() if n == "MODEL"][0]
    combo = model.widget.findChild(QComboBox)
    listed = wait(lambda: any(combo.itemData(i) for i in range(combo.count())), 60)
    # Advanced parameters are collapsed at first: opened, so their labels are measured too.
    for box in dialog.findChildren(QGroupBox):  # PyQt knows them as QGroupBox
        if box.metaObject().className() == "QgsCollapsibleGroupBox":
            sip.cast(box, QgsCollapsibleGroupBox).setCollapsed(False)
    wait(lambda: False, 0.5)  # let the layout settle
    record = {"presets_listed": listed, "items": [combo.itemText(i) for i in range(combo.count())],
              "model_value": model.value(), "size": [dialog.width(), dialog.height()], "cut": [], "enabled": {},
              "labels": {}}
    for parameter, wrapper in wrappers.items():
        shown = label(wrapper)
        if shown is not None and shown.isVisible():
            record["labels"][parameter] = shown.text()
            if shown.sizeHint().width() > shown.width():
                record["cut"].append([parameter, shown.text(), shown.sizeHint().width(), shown.width()])
        if widget(wrapper) is not None:
            record["enabled"][parameter] = widget(wrapper).isEnabled()
    dialog.grab().save(os.path.join(OUT, f"dialog-{name}.png"))
    if name == "retrieve":  # the list of presets, as the user opens it
        combo.showPopup()
        wait(lambda: False, 0.3)
        combo.view().window().grab().save(os.path.join(OUT, "dialog-retrieve-models.png"))
        record["popup_fits"] = combo.view().viewport().width() >= combo.view().sizeHintForColumn(0)
        combo.hidePopup()
    # The parameters follow their mode once it changes.
    switch = {"change": ("METHOD", 2), "ask": ("SELECT", 1), "segment": ("MODEL", "sam3")}.get(name)
    if switch:
        wrappers[switch[0]].setParameterValue(switch[1], context)
        QCoreApplication.processEvents()
        record["enabled_after_switch"] = {p: widget(w).isEnabled() for p, w in wrappers.items()
                                          if widget(w) is not None}
    if name == "change":
        record["layers"] = [layer_name(wrappers["BEFORE"].parameterValue()),
                            layer_name(wrappers["AFTER"].parameterValue())]
    results[name] = record
    dialog.close()
    dialog.deleteLater()
    QCoreApplication.processEvents()
    del dialog, panel, wrappers, model, combo
# The modeler and the batch dialog keep QGIS's own string widget for model parameters
# (model inputs, other algorithms' outputs, fill down).
from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
from processing.modeler.ModelerParametersDialog import ModelerParametersDialog
from qgis.core import QgsApplication, QgsProcessingModelAlgorithm

graph = QgsProcessingModelAlgorithm("m", "g")
ask = QgsApplication.processingRegistry().createAlgorithmById("geovl:ask")
modeler = ModelerParametersDialog(ask, graph)
results["modeler_widgets"] = sorted({type(w).__name__ for n, w in modeler.widget.widget.wrappers.items()
                                     if n.endswith("MODEL")})
modeler.close()
batch = BatchAlgorithmDialog(ask.create())
batch.show()
QCoreApplication.processEvents()
results["batch_widgets"] = sorted({type(w).__name__ for row in batch.mainWidget().wrappers for w in row
                                   if w is not None and w.parameterDefinition().name().endswith("MODEL")})
batch.close()
del modeler, batch, ask, graph
# Nothing of QGIS may outlive the script in its globals: a context or layer still held when
# QGIS exits crashes it.
QgsProject.instance().removeAllMapLayers()
del before, after, context
'''


def write_tif(path: str, seed: int) -> str:
    from osgeo import gdal, osr

    data = np.random.default_rng(seed).integers(0, 255, (3, 64, 64), dtype=np.uint8)
    dataset = gdal.GetDriverByName("GTiff").Create(path, 64, 64, 3, gdal.GDT_Byte)
    dataset.SetGeoTransform((500000.0, 1.0, 0, 4650000.0, 0, -1.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    dataset.SetProjection(srs.ExportToWkt())
    for band in range(3):
        dataset.GetRasterBand(band + 1).WriteArray(data[band])
    dataset = None
    return path


def test_dialogs_in_the_desktop(tmp_path):
    assert shutil.which("xvfb-run"), "xvfb-run is not installed: run make setup (it installs xvfb)."
    paths = {"before": write_tif(str(tmp_path / "before.tif"), 1), "after": write_tif(str(tmp_path / "after.tif"), 2)}
    run = run_desktop(f"PATHS = {paths!r}\n" + SCRIPT, str(tmp_path / "qgis"), TIMEOUT_S,
                      env={"GEOVL_CACHE_DIR": str(tmp_path / "cache")})
    keep_artifacts(run, ARTIFACTS)
    results = run.results or {}
    assert run.returncode == 0 and not results.get("error"), run.describe()

    for name in ("retrieve", "segment", "ask", "change"):
        record = results[name]
        assert record["cut"] == [], (name, record["cut"], record["size"])
        assert "TILE_SIZE" in record["labels"], record["labels"]  # the advanced ones were measured too
        # The presets came from the runtime, each with its description and where it loads from.
        assert record["presets_listed"], (name, record["items"])
        assert all(" — " in item and ("local cache" in item or "Hugging Face hub" in item)
                   for item in record["items"]), record["items"]
        assert os.path.isfile(os.path.join(ARTIFACTS, f"dialog-{name}.png"))
    assert os.path.isfile(os.path.join(ARTIFACTS, "dialog-retrieve-models.png"))
    assert results["retrieve"]["popup_fits"]  # each preset's line whole, not elided
    assert results["retrieve"]["model_value"] == "clip-rsicd"
    assert results["retrieve"]["labels"]["QUERY"] == "Query text"  # required: a text or a query layer
    assert results["retrieve"]["enabled"]["TOP_K"]

    change = results["change"]
    assert change["layers"] == ["before", "after"]
    assert not change["enabled"]["MODEL"] and change["enabled_after_switch"]["MODEL"]
    ask = results["ask"]
    assert not ask["enabled"]["RETRIEVAL_MODEL"] and not ask["enabled"]["TOP_K"]
    assert ask["enabled_after_switch"]["RETRIEVAL_MODEL"] and ask["enabled_after_switch"]["TOP_K"]
    assert not ask["enabled"]["SEGMENT_MODEL"]  # boxes by default: no masks
    segment = results["segment"]
    assert not segment["enabled"]["TEXT"] and segment["enabled_after_switch"]["TEXT"]
    assert results["modeler_widgets"] == ["QgsProcessingModelerParameterWidget"], results["modeler_widgets"]
    assert results["batch_widgets"] == ["QgsAbstractProcessingParameterWidgetWrapper"], results["batch_widgets"]
    assert not results["torch_imported"], results["modules"]  # the model list came from the worker
