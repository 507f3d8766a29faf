"""The algorithms' way to the GeoVL runtime: where it is installed (the QGIS setting
geovl/runtime), the warm worker of this QGIS process, and jobs run on it with a
QgsProcessingFeedback, their failures as QgsProcessingException sentences."""
from __future__ import annotations

import atexit
import os
import threading

from qgis.core import Qgis, QgsApplication, QgsMessageLog, QgsProcessingException, QgsSettings
from qgis.PyQt.QtCore import QCoreApplication

from ..runtime import install
from ..runtime.client import JobFailed, Runtime, WorkerStopped

SETTING = "geovl/runtime"
LOG_TAG = "GeoVL"

_runtime: Runtime | None = None
_lock = threading.Lock()


def tr(text: str) -> str:
    return QCoreApplication.translate("@default", text)


def runtime_folder() -> str:
    """GEOVL_RUNTIME (tests, CI), else the setting geovl/runtime, else a folder in the
    active QGIS profile."""
    return (os.environ.get("GEOVL_RUNTIME", "").strip() or (QgsSettings().value(SETTING, "") or "").strip()
            or os.path.join(QgsApplication.qgisSettingsDirPath(), "geovl-runtime"))


def missing_runtime_sentence() -> str | None:
    """Why no job can run (the runtime is not installed), or None."""
    if install.read_status(runtime_folder()) is not None:
        return None
    return tr("GeoVL's runtime is not installed: open Plugins › GeoVL › Runtime… and press Install "
              "(about {:.0f} GB).").format(install.download_estimate_gb())


def _log(line: str) -> None:
    QgsMessageLog.logMessage(line, LOG_TAG, Qgis.MessageLevel.Info)


def runtime() -> Runtime:
    """This process's runtime, on the interpreter of the configured folder."""
    global _runtime
    python = install.python_executable(runtime_folder())
    with _lock:
        if _runtime is None or _runtime.python != python:
            if _runtime is not None:
                _runtime.stop()
            _runtime = Runtime(python, _log)
        return _runtime


def stop_worker() -> None:
    """Stop the warm worker (after an install or repair, and when the plugin unloads)."""
    global _runtime
    with _lock:
        stopping, _runtime = _runtime, None
    if stopping is not None:
        stopping.stop()


atexit.register(stop_worker)


def run_job(job: str, arguments: dict, feedback, activity: str) -> dict:
    """Run `job` in the worker, its events on `feedback` (a QgsProcessingFeedback or None);
    returns the result's values. `activity` ("segmenting") names it if the worker dies."""
    problem = missing_runtime_sentence()
    if problem:
        raise QgsProcessingException(problem)

    def on_event(event: dict) -> None:
        if feedback is None:
            return
        if event["type"] == "progress":
            feedback.setProgress(event["percent"])
        elif event["type"] == "info":
            feedback.pushInfo(event["text"])
        elif event["type"] == "warning":
            feedback.pushWarning(event["text"])

    cancelled = (lambda: feedback.isCanceled()) if feedback is not None else (lambda: False)
    try:
        return runtime().run(job, arguments, on_event, cancelled, activity)
    except (JobFailed, WorkerStopped) as exc:
        raise QgsProcessingException(str(exc)) from exc
