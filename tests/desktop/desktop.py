"""Run a Python script inside the real QGIS desktop under Xvfb with Mesa GL.

The desktop is the one place where the GUI loads Mesa's GL (libGLX_mesa, swrast_dri and
the libLLVM they bring); offscreen QGIS and qgis_process load no GL, so what only breaks
in the desktop breaks here and nowhere else in the suite.

run_desktop() makes a QGIS profile with the checkout linked as the geovl plugin, starts
`qgis.bin` under xvfb-run, and runs `script` in the GUI process once the main window and
the plugins are loaded. The script sees these globals:

    iface              QGIS's interface object
    OUT                the output folder (str)
    results            a dict; it is written to OUT/results.json when the script ends
    screenshot(name)   redraws the map canvas and waits until it is drawn, saves the main
                       window as OUT/<name>.png and returns the path; the canvas's place
                       in it, [x, y, width, height], goes in results["canvas_in_screenshot"]
                       (None while QGIS shows its welcome page instead of the canvas)
    step(name)         records that the script reached `name` (results["steps"], and
                       OUT/steps.log, written at once, so a crash still shows the last step)
    show_raster(path, name)   adds a raster layer, shows its whole extent in its CRS; returns it
    trigger(object_name)      triggers the main window's action of that objectName (a menu entry)
    find_dock(object_name)    the main window's dock widget of that objectName, or None

QGIS then quits with exit code 0 if the script returned and 1 if it raised (the traceback
goes into results["error"]). Whatever happens, results also record the GL libraries mapped
into the process (results["gl"]) and which heavy modules the GUI process imported
(results["modules"], results["torch_imported"]). A segfault leaves the Python traceback in
OUT/faulthandler.log; a script that hangs is stopped by faulthandler's watchdog (traceback
in the same file) and, failing that, the whole process group is killed at timeout_s.
Standard library only, no pytest: other tests and scripts reuse it.
"""
from __future__ import annotations

import glob
import json
import os
import signal
import shutil
import subprocess
from dataclasses import dataclass, field

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QGIS_BIN = "/usr/bin/qgis.bin"
SCREEN = "1280x1024x24"
# Modules the QGIS process must never import (DESIGN.md, "Layers"); recorded after the script.
HEAVY_MODULES = ("torch", "triton", "torchvision", "transformers", "rasterio", "shapely", "open_clip",
                 "segment_anything", "geovl.pipelines", "geovl.geo", "geovl.models")
# Seconds the in-process watchdog leaves before the hard kill, to dump tracebacks and exit.
WATCHDOG_MARGIN_S = 10
ABORT_GRACE_S = 5  # seconds between SIGABRT (tracebacks) and SIGKILL of a run past its timeout


@dataclass
class DesktopRun:
    returncode: int            # QGIS's exit status, passed on by xvfb-run; a segfault gives 134 (QGIS's
                               # crash handler aborts), with "Segmentation fault" in faults
    stdout: str
    stderr: str
    screenshots: list[str]     # PNG files the script saved, sorted by name
    results: dict | None       # OUT/results.json, None if QGIS died before writing it
    timed_out: bool = False    # the process group was killed at timeout_s
    out_dir: str = ""
    steps: list[str] = field(default_factory=list)  # OUT/steps.log: the steps reached, even after a crash
    faults: str = ""           # OUT/faulthandler.log: Python tracebacks of a crash or hang

    def describe(self) -> str:
        """Everything a failing assertion should show about the run."""
        tail = "\n".join(self.stderr.splitlines()[-40:])
        return (f"QGIS exit status {self.returncode}{' (killed at the timeout)' if self.timed_out else ''}\n"
                f"steps reached: {self.steps}\nresults: {json.dumps(self.results, indent=1)}\n"
                f"faulthandler:\n{self.faults}\nstderr (end):\n{tail}")


BOOTSTRAP = r'''
import faulthandler, json, os, sys, time, traceback

OUT = {out!r}
_SCRIPT = {script_path!r}
_HEAVY = {heavy!r}
_WATCHDOG_S = {watchdog_s!r}
_QUIT_BY_MENU = {quit_by_menu!r}
_faults = open(os.path.join(OUT, "faulthandler.log"), "w")
faulthandler.enable(file=_faults, all_threads=True)
faulthandler.dump_traceback_later(_WATCHDOG_S, exit=True, file=_faults)

from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QPoint, QTimer
from qgis.utils import iface

results = {{"steps": []}}


def step(name):
    results["steps"].append(name)
    with open(os.path.join(OUT, "steps.log"), "a") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())


def screenshot(name):
    _draw_canvas()
    path = os.path.join(OUT, name + ".png")
    window, canvas = iface.mainWindow(), iface.mapCanvas()
    if not window.grab().save(path, "PNG"):
        raise OSError("Could not save the screenshot " + path + ".")
    corner = canvas.mapTo(window, QPoint(0, 0))
    box = [corner.x(), corner.y(), canvas.width(), canvas.height()] if canvas.isVisible() else None
    results.setdefault("canvas_in_screenshot", {{}})[name] = box
    return path


def _draw_canvas(settle_s=1.0, limit_s=20.0):
    """Redraw the map canvas and wait until it is drawn: a redraw has finished and none has
    started for settle_s (showing the canvas resizes it, which starts another redraw a
    moment later); at most limit_s, so a canvas that never settles cannot hang the run."""
    canvas = iface.mapCanvas()
    # A project without layers does not draw, and would never say it is done. (The canvas
    # itself gets a new layer from the layer tree a moment later, so it is not asked.)
    if not QgsProject.instance().count():
        QgsApplication.processEvents()
        return
    finished = []

    def on_finished():
        finished.append(True)

    canvas.mapCanvasRefreshed.connect(on_finished)
    canvas.refreshAllLayers()
    start = time.monotonic()
    idle_since = None
    while time.monotonic() - start < limit_s:
        QgsApplication.processEvents()
        if canvas.isDrawing() or not finished:
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= settle_s:
            break
        time.sleep(0.02)
    canvas.mapCanvasRefreshed.disconnect(on_finished)


def show_raster(path, name):
    from qgis.core import QgsRasterLayer
    layer = QgsRasterLayer(path, name)
    QgsProject.instance().addMapLayer(layer)
    iface.mapCanvas().setDestinationCrs(layer.crs())
    iface.mapCanvas().setExtent(layer.extent())
    return layer


def trigger(object_name):
    try:
        from qgis.PyQt.QtGui import QAction
    except ImportError:
        from qgis.PyQt.QtWidgets import QAction
    action = iface.mainWindow().findChild(QAction, object_name)
    if action is None:
        raise LookupError("no action named " + object_name)
    action.trigger()
    return action


def find_dock(object_name):
    from qgis.PyQt.QtWidgets import QDockWidget
    return iface.mainWindow().findChild(QDockWidget, object_name)


def _gl_libraries():
    """The GL and LLVM libraries mapped into this process (the configuration that crashed)."""
    with open("/proc/self/maps") as f:
        paths = {{line.split()[-1] for line in f if "/" in line}}
    keys = ("swrast_dri", "libGLX_mesa", "libLLVM", "libGL.so", "libGLX.so", "libEGL_mesa")
    return sorted(p for p in paths if any(k in os.path.basename(p) for k in keys))


def _finish(code):
    results["gl"] = _gl_libraries()
    results["modules"] = sorted(m for m in sys.modules if m in _HEAVY or m.startswith(tuple(h + "." for h in _HEAVY)))
    results["torch_imported"] = "torch" in sys.modules
    results["exit_code"] = code
    tmp = os.path.join(OUT, "results.json.partial")
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1, default=str)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(OUT, "results.json"))
    if _QUIT_BY_MENU:
        _quit_by_menu()
        return
    # File > Exit closes the project while the window still stands; QgsApplication.exit alone
    # leaves that to ~QgisApp, which then updates docks it has already deleted (QGIS 3.22
    # segfaults when the active layer is not the last one removed). Edits a script left
    # unsaved are dropped first: closing would ask whether to save them, and wait.
    for layer in QgsProject.instance().mapLayers().values():
        if getattr(layer, "isEditable", lambda: False)():
            layer.rollBack()
    QgsProject.instance().clear()
    QgsApplication.exit(code)


def _quit_by_menu():
    """Quit as a user does, through File > Exit, answering QGIS's questions as one who
    keeps nothing: temporary layers may go (Yes), the project is not saved (Discard). The
    questions asked go to OUT/quit.log."""
    from qgis.PyQt.QtWidgets import QApplication, QMessageBox

    def answer():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            with open(os.path.join(OUT, "quit.log"), "a") as f:
                f.write(box.text() + "\n")
            for button in (QMessageBox.StandardButton.Discard, QMessageBox.StandardButton.No,
                           QMessageBox.StandardButton.Yes):
                if box.button(button) is not None:
                    box.button(button).click()
                    break
        QTimer.singleShot(200, answer)

    QTimer.singleShot(200, answer)
    iface.actionExit().trigger()


def _run():
    code = 1
    try:
        step("started")
        with open(_SCRIPT) as f:
            source = f.read()
        scope = {{"iface": iface, "OUT": OUT, "results": results, "screenshot": screenshot, "step": step,
                  "show_raster": show_raster, "trigger": trigger, "find_dock": find_dock,
                  "__name__": "geovl_desktop_script"}}
        exec(compile(source, _SCRIPT, "exec"), scope)
        step("finished")
        code = 0
    except BaseException:
        results["error"] = traceback.format_exc()
    try:
        _finish(code)
    except BaseException:
        traceback.print_exc()
        os._exit(2)


# Runs on the first pass of the event loop: the main window is shown and plugins are loaded.
QTimer.singleShot(0, _run)
'''


def _ini_value(value) -> str:
    """A value as QSettings writes it in an INI file: quoted, with backslash escapes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def make_profile(profile_dir: str, settings: dict | None = None) -> str:
    """Make the QGIS profile `default` under profile_dir: the checkout linked as the geovl
    plugin and enabled, the plugin's runtime at <checkout>/.runtime (made by make setup),
    plus `settings` ("section/key": value). Returns the profile folder."""
    profile = os.path.join(profile_dir, "profiles", "default")
    plugins = os.path.join(profile, "python", "plugins")
    os.makedirs(plugins, exist_ok=True)
    os.makedirs(os.path.join(profile, "QGIS"), exist_ok=True)
    link = os.path.join(plugins, "geovl")
    if not os.path.islink(link):
        os.symlink(CHECKOUT, link)
    values = {"PythonPlugins/geovl": True, "geovl/runtime": os.path.join(CHECKOUT, ".runtime"), **(settings or {})}
    sections: dict[str, list[str]] = {}
    for key, value in values.items():
        section, _, name = key.rpartition("/")
        sections.setdefault(section or "General", []).append(f"{name}={_ini_value(value)}")
    text = "".join(f"[{section}]\n" + "\n".join(lines) + "\n\n" for section, lines in sections.items())
    ini = os.path.join(profile, "QGIS", "QGIS3.ini")
    with open(ini + ".partial", "w") as f:
        f.write(text)
    os.replace(ini + ".partial", ini)
    return profile


def _write(path: str, text: str) -> None:
    with open(path + ".partial", "w") as f:
        f.write(text)
    os.replace(path + ".partial", path)


def run_desktop(script: str, profile_dir: str, timeout_s: float, env: dict | None = None,
                settings: dict | None = None, quit_by_menu: bool = False) -> DesktopRun:
    """Run `script` (Python source, see the module docstring) in the QGIS desktop with a
    fresh profile under profile_dir; `env` is added to this process's environment.
    `quit_by_menu`: QGIS quits through File > Exit, as a user quits, instead of closing the
    project and leaving the event loop."""
    make_profile(profile_dir, settings)
    out = os.path.join(profile_dir, "out")
    os.makedirs(out, exist_ok=True)
    script_path = os.path.join(profile_dir, "script.py")
    startup = os.path.join(profile_dir, "startup.py")
    _write(script_path, script)
    _write(startup, BOOTSTRAP.format(out=out, script_path=script_path, heavy=HEAVY_MODULES,
                                     watchdog_s=max(1, int(timeout_s - WATCHDOG_MARGIN_S)),
                                     quit_by_menu=quit_by_menu))
    run_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONFAULTHANDLER": "1",
               **(env or {})}
    run_env.pop("QT_QPA_PLATFORM", None)  # offscreen crashes the desktop at start (QgsClipboard)
    command = ["xvfb-run", "-a", "-e", os.path.join(profile_dir, "xvfb.log"), "-s", f"-screen 0 {SCREEN}",
               QGIS_BIN, "--noversioncheck", "--nologo", "--profiles-path", profile_dir, "--profile", "default",
               "--code", startup]
    # A session of its own: on timeout the whole group (xvfb-run, Xvfb, QGIS, its workers) is killed.
    process = subprocess.Popen(command, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               errors="replace", start_new_session=True)
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        # SIGABRT first: Python's fault handler (PYTHONFAULTHANDLER) prints where QGIS's Python
        # was stuck, even when it hung before the script started (a modal dialog at start-up).
        for pid in _group_processes(process.pid, "qgis.bin"):
            os.kill(pid, signal.SIGABRT)
        try:
            stdout, stderr = process.communicate(timeout=ABORT_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    results_path = os.path.join(out, "results.json")
    results = None
    if os.path.exists(results_path):
        with open(results_path) as f:
            results = json.load(f)
    return DesktopRun(returncode=process.returncode, stdout=stdout, stderr=stderr,
                      screenshots=sorted(glob.glob(os.path.join(out, "*.png"))), results=results,
                      timed_out=timed_out, out_dir=out, steps=_read(os.path.join(out, "steps.log")).splitlines(),
                      faults=_read(os.path.join(out, "faulthandler.log")))


def _group_processes(pgid: int, name: str) -> list[int]:
    """Ids of the processes of process group `pgid` whose command is `name`."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except (OSError, ValueError):
            continue  # not a process, or it just ended
        command, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if command == name and int(fields[2]) == pgid:
            found.append(int(entry))
    return found


def _read(path: str) -> str:
    """A text file the QGIS process may or may not have written."""
    if not os.path.exists(path):
        return ""
    with open(path, errors="replace") as f:
        return f.read()


def keep_artifacts(run: DesktopRun, folder: str) -> None:
    """Replace `folder` with the run's screenshots, results and logs (CI keeps test-artifacts/)."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for name in os.listdir(run.out_dir):
        if name.endswith((".png", ".json", ".log")):
            shutil.copy(os.path.join(run.out_dir, name), folder)
