"""Plugins › GeoVL › Runtime…: the menu action opens the runtime dialog, which reports on
the runtime folder and runs the installer in a QgsTask (pytest-qgis, offscreen)."""
from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import time
import zipfile

import pytest
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QLabel

try:  # Qt6 moved QAction to QtGui
    from qgis.PyQt.QtGui import QAction
except ImportError:
    from qgis.PyQt.QtWidgets import QAction

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
ARTIFACTS = os.path.join(REPO_ROOT, "test-artifacts")
CHECKOUT_RUNTIME = os.path.join(REPO_ROOT, ".runtime")
TASK_CAP_S = 300  # a cap on waiting (the report imports torch in the runtime), not a timing assertion


@pytest.fixture
def plugin(qgis_app, qgis_iface, monkeypatch):
    """The plugin as QGIS desktop loads it: classFactory(iface), then initGui()."""
    import geovl

    # The dialog asks whether PyTorch's CPU index answers; tests never leave the machine,
    # so point it at a local port that refuses at once.
    monkeypatch.setenv("GEOVL_TORCH_INDEX", "http://127.0.0.1:9/")

    loaded = geovl.classFactory(qgis_iface)
    loaded.initGui()
    yield loaded
    loaded.unload()


def open_dialog(plugin, qgis_iface):
    """Trigger the menu action as a click does; the dialog it opens, once its report is read."""
    actions = [a for a in qgis_iface.mainWindow().findChildren(QAction) if a.objectName() == "mActionGeoVLRuntime"]
    assert len(actions) == 1, "initGui made no (or more than one) mActionGeoVLRuntime action"
    actions[0].trigger()
    dialog = plugin.runtime_dialog
    assert dialog is not None and dialog.isVisible()
    wait_idle(dialog)
    return dialog


def wait_idle(dialog) -> None:
    deadline = time.monotonic() + TASK_CAP_S
    while dialog.busy():
        if time.monotonic() > deadline:
            pytest.fail(f"the dialog's installer task did not finish within {TASK_CAP_S} s")
        QTest.qWait(50)
    QTest.qWait(50)  # let the layout settle on the new texts


def hidden_texts(dialog) -> list[str]:
    """Texts of visible labels smaller than they need to be at the dialog's size, and a
    note if the texts above the table need scrolling."""
    cut = ["(the texts scroll)"] if dialog.scroll.verticalScrollBar().isVisible() else []
    for label in dialog.findChildren(QLabel):
        if not label.isVisible() or not label.text():
            continue
        if label.wordWrap():
            short = label.height() < label.heightForWidth(label.width())
        else:
            short = label.width() < label.sizeHint().width()
        if short:
            cut.append(label.text())
    return cut


def save_png(dialog, name: str) -> str:
    """grab() the dialog to test-artifacts/NAME, checking the picture is not blank."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, name)
    partial = path + ".partial.png"
    image = dialog.grab().toImage()
    assert image.save(partial, "PNG"), f"could not write {partial}"
    os.replace(partial, path)
    colours = {image.pixel(x, y) for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)}
    assert image.width() > 200 and image.height() > 200
    assert len(colours) > 10, f"{path} looks blank ({len(colours)} colours)"
    return path


# A stand-in torch for an offline install: what the installer's device probe asks of it.
FAKE_TORCH = """__version__ = "99.0"
class cuda:
    is_available = staticmethod(lambda: False)
class version:
    cuda = None
class backends:
    mps = None
"""


def write_wheel(folder, name: str, version: str, module: str) -> None:
    """A pure-Python wheel of one module, the way pip writes them (hashes in RECORD)."""
    dist = re.sub(r"[-.]+", "_", name)
    dist_info = f"{dist}-{version}.dist-info"
    files = {f"{dist}.py": module,
             f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = [f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()},"
              f"{len(text.encode())}" for path, text in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(os.path.join(folder, f"{dist}-{version}-py3-none-any.whl"), "w") as wheel:
        for member, text in files.items():
            wheel.writestr(member, text)


@pytest.fixture
def offline_wheels(tmp_path, monkeypatch):
    """GEOVL_WHEELS: a folder with a one-module wheel for every package the runtime needs
    (torch a stand-in the device probe can import), versions that meet its requirements;
    pip sees none of this machine's own settings."""
    from geovl.runtime import install

    folder = tmp_path / "wheels"
    folder.mkdir()
    with open(install.REQUIREMENTS, encoding="utf-8") as f:
        requirements = [line.split("#", 1)[0].strip() for line in f]
    for requirement in filter(None, requirements):
        name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
        version = "2.99" if "<3" in requirement else "99.0"
        write_wheel(str(folder), name, version, FAKE_TORCH if name == "torch" else "")
    for name in [name for name in os.environ if name.startswith("PIP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("GEOVL_WHEELS", str(folder))
    return folder


def test_missing_runtime_says_not_installed_and_offers_install(plugin, qgis_iface, tmp_path, monkeypatch):
    """On a runtime folder that does not exist: 'Not installed', Install enabled, Repair not,
    no package listed, every label whole at the default size; a PNG of it is saved."""
    folder = tmp_path / "no-runtime-here"
    monkeypatch.setenv("GEOVL_RUNTIME", str(folder))
    dialog = open_dialog(plugin, qgis_iface)

    assert dialog.folder_label.text() == str(folder)
    assert "not installed" in dialog.status_label.text().lower()
    assert dialog.install_button.isVisible() and dialog.install_button.isEnabled()
    assert not dialog.repair_button.isEnabled()
    assert not dialog.cancel_button.isEnabled()
    assert dialog.packages.rowCount() == 0
    assert dialog.build_label.text()  # which torch build Install would take, and why
    assert hidden_texts(dialog) == []
    save_png(dialog, "runtime-dialog-not-installed.png")
    assert not folder.exists()  # looking installs nothing


def test_installed_runtime_lists_torch_and_the_device(plugin, qgis_iface, monkeypatch):
    """On the checkout's runtime (.runtime, made by make setup): the report task finishes,
    torch is listed with the version installed in the runtime, and a device line."""
    from geovl.runtime import install

    if install.read_status(CHECKOUT_RUNTIME) is None:
        pytest.skip(f"no installed runtime at {CHECKOUT_RUNTIME} yet: run `make setup`")
    monkeypatch.setenv("GEOVL_RUNTIME", CHECKOUT_RUNTIME)
    torch_version = subprocess.run(
        [install.python_executable(CHECKOUT_RUNTIME), "-c",
         "import importlib.metadata as m; print(m.version('torch'))"],
        capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    dialog = open_dialog(plugin, qgis_iface)

    assert dialog.status_label.text() == "Installed"
    listed = {dialog.packages.item(row, 0).text().lower(): dialog.packages.item(row, 1).text()
              for row in range(dialog.packages.rowCount())}
    assert listed.get("torch") == torch_version
    device = dialog.device_label.text()
    assert any(word in device for word in ("CUDA", "MPS", "CPU")), device
    assert dialog.repair_button.isEnabled() and not dialog.install_button.isEnabled()
    assert hidden_texts(dialog) == []
    save_png(dialog, "runtime-dialog-installed.png")


def test_refused_install_shows_the_sentence_and_reenables_buttons(plugin, qgis_iface, tmp_path, monkeypatch):
    """Install into a non-empty folder that is not a runtime: the installer refuses; the
    dialog shows its sentence, the user's file is untouched, the buttons work again."""
    from geovl.runtime import install

    folder = tmp_path / "my-documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n")
    with pytest.raises(install.InstallError) as refused:
        install.install(str(folder), lambda line: None)
    monkeypatch.setenv("GEOVL_RUNTIME", str(folder))
    dialog = open_dialog(plugin, qgis_iface)

    dialog.install_button.click()
    assert dialog.busy() and not dialog.install_button.isEnabled() and dialog.cancel_button.isEnabled()
    wait_idle(dialog)

    assert str(refused.value) in dialog.message.text()
    assert dialog.message.isVisible()
    assert dialog.install_button.isEnabled() and not dialog.cancel_button.isEnabled()
    assert sorted(os.listdir(folder)) == ["notes.txt"]
    assert hidden_texts(dialog) == []
    save_png(dialog, "runtime-dialog-refused.png")


def test_unload_removes_the_action(plugin, qgis_iface, tmp_path, monkeypatch):
    """unload() deletes the menu action and the dialog (the plugin can be reloaded)."""
    monkeypatch.setenv("GEOVL_RUNTIME", str(tmp_path / "none"))
    open_dialog(plugin, qgis_iface)
    plugin.unload()
    QTest.qWait(50)  # deleteLater runs in the event loop
    assert plugin.runtime_dialog is None and plugin.runtime_action is None
    assert [a for a in qgis_iface.mainWindow().findChildren(QAction) if a.objectName() == "mActionGeoVLRuntime"] == []


def test_failing_pip_streams_its_lines_and_progress(plugin, qgis_iface, tmp_path, monkeypatch):
    """An install from an empty wheel folder (GEOVL_WHEELS: no network): the venv is made,
    pip finds no torch; pip's lines reach the log and the progress bar moves through the
    task's signals, and the failure is shown with pip's last lines. Not installed after."""
    from geovl.runtime import install

    folder, wheels = tmp_path / "runtime", tmp_path / "no-wheels"
    wheels.mkdir()
    for name in [name for name in os.environ if name.startswith("PIP_")]:  # pip settings of this machine
        monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("GEOVL_WHEELS", str(wheels))
    monkeypatch.setenv("GEOVL_RUNTIME", str(folder))
    dialog = open_dialog(plugin, qgis_iface)
    dialog.install_button.click()
    wait_idle(dialog)

    log = dialog.log.toPlainText().splitlines()
    assert any(line.startswith("$ ") and "-m venv" in line for line in log)  # the installer's commands
    pip_errors = [line for line in log if line.startswith("ERROR:") and "torch" in line]  # pip's own output
    assert pip_errors, log
    assert dialog.progress.value() >= 10  # the venv step was reported done
    assert "Install failed: pip installing torch failed" in dialog.message.text()
    assert pip_errors[-1] in dialog.message.text()
    assert install.read_status(str(folder)) is None
    assert "not installed" in dialog.status_label.text().lower()
    assert dialog.install_button.isEnabled() and dialog.repair_button.isEnabled()  # the venv is there to repair
    save_png(dialog, "runtime-dialog-pip-failed.png")


def test_install_succeeds_stops_the_worker_and_shows_the_new_runtime(plugin, qgis_iface, tmp_path, monkeypatch,
                                                                    offline_wheels):
    """Install from a wheel folder into a new folder: progress reaches 100, the warm worker
    is stopped (the next run starts in the new environment), the report is read again and
    shows it installed with its packages and device; then Repair is what is offered."""
    from geovl.geovl_plugin import runtime_dialog
    from geovl.runtime import install

    stopped = []
    monkeypatch.setattr(runtime_dialog, "stop_worker", lambda: stopped.append(True))
    folder = tmp_path / "runtime"
    monkeypatch.setenv("GEOVL_RUNTIME", str(folder))
    dialog = open_dialog(plugin, qgis_iface)
    dialog.install_button.click()
    wait_idle(dialog)

    assert dialog.message.text() == "Install finished.", dialog.log.toPlainText()
    assert stopped == [True]
    assert dialog.progress.value() == 100
    assert install.read_status(str(folder)) is not None
    assert dialog.status_label.text() == "Installed"
    listed = {dialog.packages.item(row, 0).text(): dialog.packages.item(row, 1).text()
              for row in range(dialog.packages.rowCount())}
    assert listed["torch"] == "99.0" and listed["affine"] == "2.99"
    assert dialog.device_label.text().startswith("CPU")
    assert dialog.repair_button.isEnabled() and not dialog.install_button.isEnabled()
    assert hidden_texts(dialog) == []
    save_png(dialog, "runtime-dialog-installed-offline.png")


def test_cancel_stops_the_running_install(plugin, qgis_iface, tmp_path, monkeypatch):
    """Cancel while the installer runs its first command: the install stops, says so, and
    the folder is not an installed runtime."""
    from geovl.runtime import install

    folder = tmp_path / "runtime"
    monkeypatch.setenv("GEOVL_WHEELS", str(tmp_path))  # never reaches pip; no network either way
    monkeypatch.setenv("GEOVL_RUNTIME", str(folder))
    dialog = open_dialog(plugin, qgis_iface)
    dialog.install_button.click()
    deadline = time.monotonic() + TASK_CAP_S
    while "$ " not in dialog.log.toPlainText():
        assert dialog.busy(), f"the install ended before its first command: {dialog.message.text()}"
        assert time.monotonic() < deadline, "the installer started no command"
        QTest.qWait(20)
    dialog.cancel_button.click()
    wait_idle(dialog)

    assert dialog.message.text() == "Install cancelled."
    assert install.read_status(str(folder)) is None
    assert dialog.install_button.isEnabled() and not dialog.cancel_button.isEnabled()


def test_unload_during_an_install_cancels_it(plugin, qgis_iface, tmp_path, monkeypatch):
    """The plugin unloads while Install runs: the install is cancelled and waited for, and
    the task's late signals start nothing on the dialog that is going away."""
    from qgis.core import QgsApplication

    from geovl.runtime import install

    def geovl_tasks() -> list[str]:
        return [t.description() for t in QgsApplication.taskManager().tasks() if t.description().startswith("GeoVL")]

    folder = tmp_path / "runtime"
    monkeypatch.setenv("GEOVL_WHEELS", str(tmp_path))
    monkeypatch.setenv("GEOVL_RUNTIME", str(folder))
    dialog = open_dialog(plugin, qgis_iface)
    dialog.install_button.click()
    assert dialog.busy()
    plugin.unload()
    assert not dialog.busy()
    deadline = time.monotonic() + TASK_CAP_S
    while geovl_tasks():
        assert time.monotonic() < deadline, f"tasks still running after unload: {geovl_tasks()}"
        QTest.qWait(50)
    QTest.qWait(200)  # any late signal, and deleteLater
    assert geovl_tasks() == []  # no report started on the way out
    assert plugin.runtime_dialog is None
    assert install.read_status(str(folder)) is None


def test_connecting_to_a_server_runs_jobs_there_and_keeps_the_token_out_of_the_settings(plugin, qgis_iface,
                                                                                       tmp_path, monkeypatch):
    """Choose "A GeoVL server", give its address and token, press Connect: a wrong token
    says so and changes nothing; the right one makes jobs run there (the `models` job
    answers through the server), the token field empties and the settings hold no token.
    Choosing "This computer" goes back."""
    from qgis.core import QgsApplication, QgsSettings
    from geovl.processing.runtime_link import chosen_server, run_job

    from ..remote_server import ServerProcess

    monkeypatch.setenv("GEOVL_RUNTIME", CHECKOUT_RUNTIME)
    monkeypatch.delenv("GEOVL_SERVER", raising=False)
    manager = QgsApplication.authManager()
    if not manager.masterPasswordIsSet():
        assert manager.setMasterPassword("test master password", True)
    server = ServerProcess(tmp_path / "server")
    try:
        dialog = open_dialog(plugin, qgis_iface)
        dialog.remote_choice.setChecked(True)
        assert dialog.url_edit.isEnabled() and dialog.connect_button.isEnabled()
        dialog.url_edit.setText(server.url)
        dialog.token_edit.setText("not the token")
        QTest.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
        wait_idle(dialog)
        assert "refused the token" in dialog.server_label.text() and chosen_server() is None
        dialog.token_edit.setText(server.token)
        QTest.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
        wait_idle(dialog)
        assert dialog.server_label.text().startswith(f"Connected: jobs now run on {server.url}")
        assert chosen_server().url == server.url and dialog.token_edit.text() == ""
        settings = QgsSettings()
        assert not [key for key in settings.allKeys() if server.token in str(settings.value(key))]
        presets = run_job("models", {"kind": "embedder"}, None, "listing models")["presets"]
        assert presets and open(server.log).read().count("Traceback") == 0
        save_png(dialog, "runtime-dialog-server.png")
        dialog.local_choice.setChecked(True)
        assert chosen_server() is None and not dialog.url_edit.isEnabled()
        dialog.close()
    finally:
        from geovl.processing.runtime_link import choose_local
        choose_local()
        server.stop()
