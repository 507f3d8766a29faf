"""Plugins › GeoVL › Runtime…: where jobs run (this computer, or a GeoVL server), what the
runtime environment holds, and Install / Repair.

The installer's calls (report, install) take seconds to minutes, so each runs in a
QgsTask on QGIS's task manager; what they log reaches the dialog through a Qt signal,
which Qt queues into the GUI thread.
"""
from __future__ import annotations

import os

from qgis.core import QgsApplication, QgsProcessingException, QgsSettings, QgsTask
from qgis.gui import QgsFileWidget
from qgis.PyQt.QtCore import QCoreApplication, Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QFormLayout, QFrame, QGroupBox,
                                 QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPlainTextEdit, QProgressBar,
                                 QPushButton, QRadioButton, QScrollArea, QTableWidget, QTableWidgetItem, QVBoxLayout,
                                 QWidget)

from ..processing.runtime_link import (SERVER_AUTH_SETTING, SERVER_CA_SETTING, SERVER_URL_SETTING, choose_local,
                                       choose_server, chosen_server, runtime_folder, stop_worker, stored_token)
from ..runtime import install
from ..runtime.client import JobFailed
from ..runtime.remote import RemoteRuntime

LOG_LINES = 5000  # pip is chatty; keep the log's memory bounded
INFO_LINES = 20  # lines of text above the table before they scroll


class InstallerTask(QgsTask):
    """One installer call, `work(task)`, in the task manager's thread. Its outcome is
    `value` (what work returned) or `error` (the sentence for the user)."""

    logged = pyqtSignal(str)

    def __init__(self, description: str, work):
        super().__init__(description, QgsTask.Flag.CanCancel)
        self.work = work
        self.value = None
        self.error: str | None = None

    def run(self) -> bool:
        try:
            self.value = self.work(self)
        except install.InstallError as exc:
            self.error = str(exc)
            return False
        except Exception as exc:  # a bug in the installer: show it instead of losing it in the task manager
            self.error = QCoreApplication.translate(
                "InstallerTask", "The installer failed unexpectedly: {0}: {1}").format(type(exc).__name__, exc)
            return False
        return not self.isCanceled()


def human_bytes(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    for unit in ("KB", "MB", "GB"):
        size /= 1000
        if size < 1000 or unit == "GB":
            return f"{size:.1f} {unit}"


class RuntimeDialog(QDialog):
    """Shows the runtime folder's report and runs Install / Repair on it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("GeoVL runtime"))
        self.task: InstallerTask | None = None
        self.folder = ""

        self.message = self.wrapping_label()
        self.folder_label = self.wrapping_label()
        self.status_label = self.wrapping_label()
        self.python_label = self.wrapping_label()
        self.device_label = self.wrapping_label()
        self.build_label = self.wrapping_label()
        self.disk_label = self.wrapping_label()
        self.problems_label = self.wrapping_label()
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        for caption, label in ((self.tr("Folder:"), self.folder_label), (self.tr("Status:"), self.status_label),
                               (self.tr("Python:"), self.python_label), (self.tr("Device:"), self.device_label),
                               (self.tr("Install chooses:"), self.build_label),
                               (self.tr("Disk used:"), self.disk_label), (self.tr("Problems:"), self.problems_label)):
            form.addRow(caption, label)

        self.packages = QTableWidget(0, 2)
        self.packages.setHorizontalHeaderLabels([self.tr("Package"), self.tr("Version")])
        self.packages.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.packages.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.packages.verticalHeader().setVisible(False)
        self.packages.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.packages.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)

        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.install_button = self.buttons.addButton(self.tr("Install"), QDialogButtonBox.ButtonRole.ActionRole)
        self.repair_button = self.buttons.addButton(self.tr("Repair"), QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = self.buttons.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.ActionRole)
        self.install_button.clicked.connect(lambda: self.start_install(repair=False))
        self.repair_button.clicked.connect(lambda: self.start_install(repair=True))
        self.cancel_button.clicked.connect(self.cancel)
        self.buttons.rejected.connect(self.reject)

        # The texts above the table can grow long (pip's last lines in a failure): they get
        # the height they need up to INFO_LINES lines, then scroll.
        self.info = QWidget()
        info_layout = QVBoxLayout(self.info)
        info_layout.setContentsMargins(0, 0, 0, 0)
        info_layout.addWidget(self.message)
        info_layout.addLayout(form)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.info)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        layout = QVBoxLayout(self)
        layout.addWidget(self.where_group())
        layout.addWidget(self.scroll)
        layout.addWidget(QLabel(self.tr("Packages:")))
        layout.addWidget(self.packages, 1)
        layout.addWidget(self.progress)
        layout.addWidget(QLabel(self.tr("Installer log:")))
        layout.addWidget(self.log, 1)
        layout.addWidget(self.buttons)
        self.resize(760, 880)
        self.message.setVisible(False)
        self.set_busy(False, installed=False)

    def where_group(self) -> QGroupBox:
        """Local or a GeoVL server: its address, token (kept in QGIS's authentication
        database, never shown again) and the certificate to trust, if its own."""
        group = QGroupBox(self.tr("Where GeoVL runs"))
        self.local_choice = QRadioButton(self.tr("This computer (the runtime below)"))
        self.remote_choice = QRadioButton(self.tr("A GeoVL server"))
        settings = QgsSettings()
        self.url_edit = QLineEdit(settings.value(SERVER_URL_SETTING, "") or "")
        self.url_edit.setPlaceholderText("https://gpu-server:8765")
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        # whether a token is stored, without decrypting it (which asks for the master password)
        has_token = (settings.value(SERVER_AUTH_SETTING, "") or "") in QgsApplication.authManager().configIds()
        self.token_edit.setPlaceholderText(self.tr("stored; paste a new one to replace it") if has_token
                                           else self.tr("the token `python -m geovl.runtime.serve` printed"))
        self.token_edit.setToolTip(self.tr("Kept in QGIS's authentication database, never in project files."))
        self.ca_widget = QgsFileWidget()
        self.ca_widget.setFilePath(settings.value(SERVER_CA_SETTING, "") or "")
        self.ca_widget.setFilter(self.tr("Certificates (*.pem *.crt)"))
        self.ca_widget.setToolTip(self.tr("Only for a server whose certificate is its own (self-signed)."))
        self.connect_button = QPushButton(self.tr("Connect"))
        self.connect_button.clicked.connect(self.connect_server)
        self.server_label = self.wrapping_label()
        server_form = QFormLayout()
        server_form.addRow(self.tr("Address:"), self.url_edit)
        server_form.addRow(self.tr("Token:"), self.token_edit)
        server_form.addRow(self.tr("Certificate:"), self.ca_widget)
        buttons = QHBoxLayout()
        buttons.addWidget(self.server_label, 1)
        buttons.addWidget(self.connect_button)
        layout = QVBoxLayout(group)
        layout.addWidget(self.local_choice)
        layout.addWidget(self.remote_choice)
        layout.addLayout(server_form)
        layout.addLayout(buttons)
        remote = chosen_server() is not None
        (self.remote_choice if remote else self.local_choice).setChecked(True)
        self.show_server_fields(remote)
        self.local_choice.toggled.connect(self.local_toggled)
        return group

    def show_server_fields(self, remote: bool) -> None:
        for widget in (self.url_edit, self.token_edit, self.ca_widget, self.connect_button):
            widget.setEnabled(remote)

    def local_toggled(self, local: bool) -> None:
        self.show_server_fields(not local)
        if local:
            choose_local()
            self.server_label.setText(self.tr("Jobs run on this computer."))

    def connect_server(self) -> None:
        """Ask the server for its status (in a task: it may take seconds to answer); on an
        answer, run jobs there from now on."""
        if self.busy():
            return
        url, ca = self.url_edit.text().strip(), self.ca_widget.filePath().strip()
        token = self.token_edit.text().strip() or stored_token(QgsSettings().value(SERVER_AUTH_SETTING, "") or "")
        self.server_label.setText(self.tr("Connecting…"))

        def work(task: InstallerTask) -> dict:
            try:
                return RemoteRuntime(url, token, ca).status()
            except JobFailed as exc:
                raise install.InstallError(str(exc)) from exc

        self.start_task(self.tr("GeoVL: connecting to the server"), work,
                        lambda task: self.connected(task, url, token, ca), shows_progress=False)

    def connected(self, task: InstallerTask, url: str, token: str, ca: str) -> None:
        self.refresh()
        if task.error or task.value is None:
            self.server_label.setText(task.error or self.tr("The connection was cancelled."))
            return
        try:
            choose_server(url, token, ca)
        except QgsProcessingException as exc:
            self.server_label.setText(str(exc))
            return
        self.token_edit.clear()
        self.token_edit.setPlaceholderText(self.tr("stored; paste a new one to replace it"))
        self.server_label.setText(self.tr("Connected: jobs now run on {0} ({1} running there).").format(
            url, task.value.get("jobs_running", 0)))

    def fit_info(self) -> None:
        """Size the scrolling texts to their height at the current width (up to INFO_LINES lines)."""
        info = self.info
        info.layout().activate()  # new texts: the form's cached heights are stale until then
        needed = info.heightForWidth(self.scroll.viewport().width()) if info.hasHeightForWidth() \
            else info.sizeHint().height()
        self.scroll.setMinimumHeight(min(needed, INFO_LINES * self.fontMetrics().lineSpacing()))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.fit_info()

    @staticmethod
    def wrapping_label() -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def busy(self) -> bool:
        return self.task is not None

    def set_busy(self, busy: bool, installed: bool, repairable: bool = False) -> None:
        self.install_button.setEnabled(not busy and not installed)
        self.repair_button.setEnabled(not busy and (installed or repairable))
        self.cancel_button.setEnabled(busy)

    def say(self, text: str) -> None:
        """The outcome of the last action, above everything else."""
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.fit_info()

    def start_task(self, description: str, work, on_done, shows_progress: bool) -> None:
        task = InstallerTask(description, work)
        task.logged.connect(self.log.appendPlainText)
        if shows_progress:
            task.progressChanged.connect(self.show_progress)
        # taskCompleted / taskTerminated are emitted in the GUI thread once run() has returned.
        task.taskCompleted.connect(lambda: self.task_done(task, on_done))
        task.taskTerminated.connect(lambda: self.task_done(task, on_done))
        self.task = task
        self.set_busy(True, installed=False)
        QgsApplication.taskManager().addTask(task)

    def show_progress(self, percent: float) -> None:
        self.progress.setValue(int(percent))

    def task_done(self, task: InstallerTask, on_done) -> None:
        if task is not self.task:  # let go by shut_down: the dialog is going away
            return
        self.task = None
        on_done(task)

    def refresh(self) -> None:
        """Read the runtime folder's report (and the torch build Install would choose) in a task."""
        if self.busy():
            return
        self.folder = runtime_folder()
        self.folder_label.setText(self.folder)
        self.status_label.setText(self.tr("Checking…"))
        self.fit_info()
        folder = self.folder
        self.start_task(self.tr("GeoVL: checking the runtime"),
                        lambda task: (install.report(folder), install.torch_build()), self.show_report,
                        shows_progress=False)

    def show_report(self, task: InstallerTask) -> None:
        if task.error or task.value is None:
            self.status_label.setText(self.tr("Unknown"))
            self.problems_label.setText(task.error or self.tr("The check was cancelled."))
            self.packages.setRowCount(0)
            self.set_busy(False, installed=False)
            self.fit_info()
            return
        report, build = task.value
        installed = bool(report["installed"])
        self.status_label.setText(self.tr("Installed") if installed else self.tr("Not installed"))
        if report["python_version"]:
            self.python_label.setText(f"{report['python_version']} ({report['python']})")
            self.device_label.setText(report["device"]["text"])
        else:
            self.python_label.setText(self.tr("None yet"))
            self.device_label.setText(self.tr("Found once the runtime is installed"))
        self.build_label.setText(build["reason"])
        self.install_button.setToolTip(
            self.tr("Downloads about {0:.1f} GB.").format(install.DOWNLOAD_GB[build["build"]]))
        self.disk_label.setText(human_bytes(report["disk_bytes"]))
        problems = report["problems"]
        self.problems_label.setText("\n".join(f"• {p}" for p in problems) if problems else self.tr("None"))
        packages = sorted(report["packages"].items(), key=lambda item: item[0].lower())
        self.packages.setRowCount(len(packages))
        for row, (name, version) in enumerate(packages):
            self.packages.setItem(row, 0, QTableWidgetItem(name))
            self.packages.setItem(row, 1, QTableWidgetItem(version))
        # A venv whose install did not finish, or whose Python is broken, is what Repair is for.
        self.set_busy(False, installed=installed, repairable=os.path.isfile(report["python"]))
        self.fit_info()

    def start_install(self, repair: bool) -> None:
        if self.busy():
            return
        self.say("")
        self.log.clear()
        self.progress.setValue(0)
        folder = self.folder

        def work(task: InstallerTask) -> dict:
            return install.install(folder, task.logged.emit, progress=task.setProgress, repair=repair,
                                   cancelled=task.isCanceled)

        description = self.tr("GeoVL: repairing the runtime") if repair else self.tr("GeoVL: installing the runtime")
        self.start_task(description, work, lambda task: self.install_done(task, repair), shows_progress=True)

    def install_done(self, task: InstallerTask, repair: bool) -> None:
        if task.isCanceled():
            self.say(self.tr("Repair cancelled.") if repair else self.tr("Install cancelled."))
        elif task.error:
            self.log.appendPlainText(task.error)
            self.say(self.tr("Repair failed: {0}").format(task.error) if repair
                     else self.tr("Install failed: {0}").format(task.error))
        else:
            stop_worker()  # the next run starts its worker in the new environment
            self.say(self.tr("Repair finished.") if repair else self.tr("Install finished."))
        self.refresh()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def shut_down(self) -> None:
        """Cancel a running task and wait for it (the plugin is unloading)."""
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            task.waitForFinished(30000)
        self.close()
