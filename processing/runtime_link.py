"""The algorithms' way to the GeoVL runtime: where it is installed (the QGIS setting
geovl/runtime), the warm worker of this QGIS process or a GeoVL server (Plugins › GeoVL ›
Runtime…, or GEOVL_SERVER and GEOVL_SERVER_TOKEN for scripts), and jobs run there with a
QgsProcessingFeedback, their failures as QgsProcessingException sentences.

A server's token lives in QGIS's authentication database (an auth config the settings
name by id), never in a project file or a log."""
from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass

from qgis.core import (Qgis, QgsApplication, QgsAuthMethodConfig, QgsMessageLog, QgsProcessingException,
                       QgsSettings)
from qgis.PyQt.QtCore import QCoreApplication

from ..runtime import install
from ..runtime.client import JobFailed, Runtime, WorkerStopped
from ..runtime.remote import RemoteRuntime

SETTING = "geovl/runtime"
MODE_SETTING = "geovl/runtime_mode"        # "local" or "remote"
SERVER_URL_SETTING = "geovl/server_url"
SERVER_AUTH_SETTING = "geovl/server_authcfg"
SERVER_CA_SETTING = "geovl/server_ca"
LOG_TAG = "GeoVL"

_runtime: Runtime | RemoteRuntime | None = None
_lock = threading.Lock()


def tr(text: str) -> str:
    return QCoreApplication.translate("@default", text)


def runtime_folder() -> str:
    """GEOVL_RUNTIME (tests, CI), else the setting geovl/runtime, else a folder in the
    active QGIS profile."""
    return (os.environ.get("GEOVL_RUNTIME", "").strip() or (QgsSettings().value(SETTING, "") or "").strip()
            or os.path.join(QgsApplication.qgisSettingsDirPath(), "geovl-runtime"))


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    ca_file: str


def chosen_server() -> Server | None:
    """The GeoVL server jobs run on: GEOVL_SERVER (with GEOVL_SERVER_TOKEN), else the one
    chosen in Plugins › GeoVL › Runtime…; None: the local runtime."""
    url = os.environ.get("GEOVL_SERVER", "").strip()
    if url:
        return Server(url, os.environ.get("GEOVL_SERVER_TOKEN", "").strip(), os.environ.get("GEOVL_SERVER_CA", ""))
    settings = QgsSettings()
    if settings.value(MODE_SETTING, "local") != "remote":
        return None
    return Server((settings.value(SERVER_URL_SETTING, "") or "").strip(),
                  stored_token(settings.value(SERVER_AUTH_SETTING, "") or ""),
                  settings.value(SERVER_CA_SETTING, "") or "")


def stored_token(auth_id: str) -> str:
    """The token kept in QGIS's authentication database under `auth_id` ("" if none)."""
    if not auth_id:
        return ""
    config = QgsAuthMethodConfig()
    if not QgsApplication.authManager().loadAuthenticationConfig(auth_id, config, True):
        return ""
    return config.config("password", "")


def choose_server(url: str, token: str, ca_file: str = "") -> None:
    """Run jobs on the server at `url` from now on; `token` goes into QGIS's
    authentication database (which may ask for its master password)."""
    settings = QgsSettings()
    manager = QgsApplication.authManager()
    config = QgsAuthMethodConfig("Basic")
    auth_id = settings.value(SERVER_AUTH_SETTING, "") or ""
    if auth_id and manager.loadAuthenticationConfig(auth_id, config, True):
        config.setConfig("password", token)
        config.setUri(url)
        stored = manager.updateAuthenticationConfig(config)
    else:
        config.setName(tr("GeoVL server"))
        config.setUri(url)
        config.setConfig("username", "geovl")
        config.setConfig("password", token)
        stored = manager.storeAuthenticationConfig(config)
    if not stored:
        raise QgsProcessingException(tr("QGIS could not keep the token in its authentication database (Settings › "
                                        "Options › Authentication): set its master password, then try again."))
    settings.setValue(SERVER_AUTH_SETTING, config.id())
    settings.setValue(SERVER_URL_SETTING, url.strip())
    settings.setValue(SERVER_CA_SETTING, ca_file)
    settings.setValue(MODE_SETTING, "remote")
    stop_worker()


def choose_local() -> None:
    """Run jobs in this machine's runtime from now on (the server's token stays stored)."""
    QgsSettings().setValue(MODE_SETTING, "local")
    stop_worker()


def missing_runtime_sentence() -> str | None:
    """Why no job can run (the runtime is not installed, or the server has no token), or None."""
    server = chosen_server()
    if server is not None:
        if server.url and server.token:
            return None
        return tr("GeoVL is set to run on a server, but its address or token is missing: open Plugins › GeoVL › "
                  "Runtime… and give both (or choose Local).")
    if install.read_status(runtime_folder()) is not None:
        return None
    return tr("GeoVL's runtime is not installed: open Plugins › GeoVL › Runtime… and press Install "
              "(about {:.0f} GB).").format(install.download_estimate_gb())


def _log(line: str) -> None:
    QgsMessageLog.logMessage(line, LOG_TAG, Qgis.MessageLevel.Info)


def runtime() -> Runtime | RemoteRuntime:
    """This process's runtime: the chosen server, else the warm worker on the interpreter
    of the configured folder."""
    global _runtime
    server = chosen_server()
    with _lock:
        if server is not None:
            if not isinstance(_runtime, RemoteRuntime) or (_runtime.url, _runtime.token, _runtime.ca_file or "") != \
                    (server.url.rstrip("/"), server.token, server.ca_file):
                if _runtime is not None:
                    _runtime.stop()
                try:
                    _runtime = RemoteRuntime(server.url, server.token, server.ca_file)
                except JobFailed as exc:
                    raise QgsProcessingException(str(exc)) from exc
            return _runtime
        python = install.python_executable(runtime_folder())
        if not isinstance(_runtime, Runtime) or _runtime.python != python:
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
