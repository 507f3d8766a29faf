"""The runtime installer (runtime/install.py), offline: venvs made from this machine's
Python, packages from a one-module wheel built here (pip --no-index --find-links)."""
import base64
import hashlib
import http.server
import importlib.metadata
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import zipfile

import pytest

from geovl.runtime import install

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_wheel(folder, name="geovl_tiny", version="1.0"):
    """A pure-Python wheel of one module `name` (VALUE = 42), written as pip writes them."""
    dist_info = f"{name}-{version}.dist-info"
    files = {f"{name}.py": "VALUE = 42\n",
             f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n",
             f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    path = os.path.join(folder, f"{name}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w") as wheel:
        for member, text in files.items():
            wheel.writestr(member, text)
    return path


@pytest.fixture
def offline_pip(monkeypatch):
    """pip sees none of this machine's configuration (indexes, wheel folders, caps)."""
    for key in list(os.environ):
        if key.startswith("PIP_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("GEOVL_WHEELS", raising=False)
    monkeypatch.delenv("GEOVL_PYTHON", raising=False)


@pytest.fixture
def wheels(tmp_path):
    folder = tmp_path / "wheels"
    folder.mkdir()
    write_wheel(str(folder))
    return str(folder)


def text_file(path, text):
    path.write_text(text)
    return str(path)


def executable(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def pip_ran(lines):
    return [line for line in lines if line.startswith("$ ") and " -m pip " in line]


def test_finds_a_base_python_here(offline_pip):
    found = install.find_base_python()
    assert found is not None
    probe = subprocess.run([found, "-c", "import sys, venv, ensurepip; print(sys.version_info >= (3, 10), "
                                         "sys.prefix == sys.base_prefix)"],
                           stdout=subprocess.PIPE, text=True, check=True)
    assert probe.stdout.split() == ["True", "True"]


def test_refuses_a_python_below_3_10(offline_pip, tmp_path, monkeypatch):
    # A stand-in answering the installer's probe as a Python 3.8 would.
    old = executable(tmp_path / "python3.8", "#!/bin/sh\necho '{\"version\": [3, 8, 18], \"executable\": \"/opt/py38\", "
                                             "\"venv\": false, \"missing\": null}'\n")
    monkeypatch.setenv("GEOVL_PYTHON", old)
    assert install.find_base_python() is None
    with pytest.raises(install.InstallError, match=r"GEOVL_PYTHON .* is Python 3\.8\.18; GeoVL needs 3\.10"):
        install.install(str(tmp_path / "runtime"), lambda line: None, requirements=os.devnull, torch=False)
    assert not os.path.exists(tmp_path / "runtime")


def test_refuses_a_venv_as_base_python(offline_pip, monkeypatch):
    assert sys.prefix != sys.base_prefix  # the tests run in .venv
    monkeypatch.setenv("GEOVL_PYTHON", sys.executable)
    assert install.find_base_python() is None
    assert "is itself a virtual environment" in install._no_python_message()


def test_install_from_a_wheel_folder_then_again_at_once(offline_pip, wheels, tmp_path):
    folder = str(tmp_path / "runtime")
    requirements = text_file(tmp_path / "requirements.txt", "geovl-tiny\n")
    constraints = text_file(tmp_path / "constraints.txt", "geovl-tiny==1.0\n")
    lines, steps = [], []
    status = install.install(folder, lines.append, progress=steps.append, constraints=constraints,
                             requirements=requirements, torch=False, wheels=wheels)

    assert len(pip_ran(lines)) == 1 and "--no-index" in pip_ran(lines)[0]
    assert any("Successfully installed geovl-tiny-1.0" in line for line in lines)
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] == 100
    assert install.read_status(folder) == status
    with open(os.path.join(folder, "runtime.json")) as f:
        assert json.load(f) == status
    assert status["format"] == 1 and status["packages"]["geovl-tiny"] == "1.0" and status["torch_build"] is None
    python = install.python_executable(folder)
    ran = subprocess.run([python, "-c", "import sys, geovl_tiny; print(sys.version.split()[0], geovl_tiny.VALUE)"],
                         stdout=subprocess.PIPE, text=True, check=True)
    assert ran.stdout.split() == [status["python"], "42"]
    # Without QGIS's (or anyone's) site-packages: the runtime has its own numpy.
    assert subprocess.run([python, "-c", "import numpy"], stderr=subprocess.DEVNULL).returncode != 0

    again = []
    assert install.install(folder, again.append, constraints=constraints, requirements=requirements, torch=False,
                           wheels=wheels) == status
    assert again == [f"The runtime in {folder} is installed and up to date."]

    # Other constraints are another install.
    text_file(tmp_path / "constraints.txt", "geovl-tiny>=1.0\n")
    changed = []
    install.install(folder, changed.append, constraints=constraints, requirements=requirements, torch=False,
                    wheels=wheels)
    assert len(pip_ran(changed)) == 1


def test_report_on_an_install_without_torch(offline_pip, wheels, tmp_path):
    folder = str(tmp_path / "runtime")
    requirements = text_file(tmp_path / "requirements.txt", "geovl-tiny\n")
    install.install(folder, lambda line: None, requirements=requirements, torch=False, wheels=wheels)
    found = install.report(folder)
    assert found["installed"] and found["packages"]["geovl-tiny"] == "1.0"
    assert found["python"] == install.python_executable(folder) and found["python_version"]
    assert found["disk_bytes"] > 1_000_000  # pip itself
    assert any(p.startswith("torch cannot be imported in the runtime (ModuleNotFoundError") for p in found["problems"])
    assert any(p.startswith("The runtime lacks torch, torchvision, transformers") for p in found["problems"])


def test_repair_recreates_a_broken_interpreter(offline_pip, wheels, tmp_path):
    # What is left when the Python a venv was made from is gone (uninstalled, upgraded).
    folder = tmp_path / "runtime"
    folder.mkdir()
    (folder / "pyvenv.cfg").write_text("home = /nonexistent/bin\ninclude-system-site-packages = false\n")
    (folder / "bin").mkdir()
    (folder / "bin" / "python").symlink_to("/nonexistent/bin/python3")
    (folder / "runtime.json").write_text(json.dumps({"format": 1}))
    assert install.read_status(str(folder)) is None

    lines = []
    requirements = text_file(tmp_path / "requirements.txt", "geovl-tiny\n")
    status = install.install(str(folder), lines.append, repair=True, requirements=requirements, torch=False,
                             wheels=wheels)
    assert any(line.startswith("Creating the runtime's environment") for line in lines)
    assert "--force-reinstall" in pip_ran(lines)[0]
    assert install.read_status(str(folder)) == status
    assert "/nonexistent" not in (folder / "pyvenv.cfg").read_text()


def test_a_failing_pip_raises_its_last_lines_and_leaves_not_installed(offline_pip, wheels, tmp_path):
    folder = str(tmp_path / "runtime")
    good = text_file(tmp_path / "good.txt", "geovl-tiny\n")
    install.install(folder, lambda line: None, requirements=good, torch=False, wheels=wheels)
    assert install.read_status(folder) is not None

    bad = text_file(tmp_path / "bad.txt", "geovl-tiny\ngeovl-no-such-package\n")
    with pytest.raises(install.InstallError) as error:
        install.install(folder, lambda line: None, requirements=bad, torch=False, wheels=wheels)
    message = str(error.value)
    assert message.startswith("pip installing the runtime's packages failed (exit status 1). Its last lines:")
    assert "No matching distribution found for geovl-no-such-package" in message
    assert install.read_status(folder) is None
    assert not os.path.exists(os.path.join(folder, "runtime.json"))


def test_cancel_while_pip_runs_kills_it(offline_pip, wheels, tmp_path):
    folder = str(tmp_path / "runtime")
    requirements = text_file(tmp_path / "requirements.txt", "geovl-tiny\n")
    lines = []
    with pytest.raises(install.InstallError, match="cancelled"):
        install.install(folder, lines.append, cancelled=lambda: bool(pip_ran(lines)), requirements=requirements,
                        torch=False, wheels=wheels)
    assert install.read_status(folder) is None
    python = install.python_executable(folder)
    assert subprocess.run([python, "-c", "import geovl_tiny"], stderr=subprocess.DEVNULL).returncode != 0


def test_refuses_a_folder_that_is_not_a_runtime(offline_pip, tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "thesis.txt").write_text("mine")
    with pytest.raises(install.InstallError, match="is not empty and is not a GeoVL runtime"):
        install.install(str(folder), lambda line: None, requirements=os.devnull, torch=False)
    assert os.listdir(folder) == ["thesis.txt"]


def test_report_on_a_missing_folder(tmp_path):
    found = install.report(str(tmp_path / "nowhere"))
    assert not found["installed"] and found["disk_bytes"] == 0 and found["packages"] == {}
    assert found["problems"] == [f"The runtime is not installed in {tmp_path / 'nowhere'}: press Install "
                                 f"(about {install.download_estimate_gb():.1f} GB)."]


def test_status_from_the_command_line_as_a_plain_script(tmp_path):
    script = os.path.join(ROOT, "runtime", "install.py")
    done = subprocess.run([sys.executable, script, "status", "--folder", str(tmp_path / "nowhere"), "--json"],
                          stdout=subprocess.PIPE, text=True, cwd=str(tmp_path))
    assert done.returncode == 1
    assert json.loads(done.stdout)["installed"] is False


@pytest.fixture
def cpu_index(tmp_path):
    """A local stand-in for the PyTorch CPU index (a torch/ page)."""
    root = tmp_path / "index"
    (root / "torch").mkdir(parents=True)
    (root / "torch" / "index.html").write_text("<html></html>")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def test_torch_build_without_a_gpu(tmp_path, monkeypatch, cpu_index):
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi
    monkeypatch.setenv("GEOVL_TORCH_INDEX", cpu_index)
    build = install.torch_build()
    assert build == {"build": "cpu", "index_url": cpu_index, "reason": build["reason"]}
    assert build["reason"].startswith("No NVIDIA GPU was found: the CPU build of torch from")
    assert install.download_estimate_gb() == install.DOWNLOAD_GB["cpu"]

    monkeypatch.setenv("GEOVL_TORCH_INDEX", closed_port_url())
    build = install.torch_build()
    assert build["index_url"] is None and build["build"] == "cuda"  # PyPI's Linux build
    assert "did not answer: torch from PyPI" in build["reason"]


def test_torch_build_with_an_nvidia_gpu(tmp_path, monkeypatch):
    executable(tmp_path / "nvidia-smi", "#!/bin/sh\necho 'GPU 0: NVIDIA Test 80GB (UUID: GPU-1234)'\n")
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ["PATH"])
    build = install.torch_build()
    assert build["build"] == "cuda" and build["index_url"] is None
    assert "(GPU 0: NVIDIA Test 80GB (UUID: GPU-1234))" in build["reason"]
    assert install.download_estimate_gb() == install.DOWNLOAD_GB["cuda"]


def test_torch_build_when_nvidia_smi_fails(tmp_path, monkeypatch):
    # What a machine with the tool but no working driver answers.
    executable(tmp_path / "nvidia-smi", "#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("GEOVL_TORCH_INDEX", closed_port_url())
    assert "No NVIDIA GPU was found" in install.torch_build()["reason"]


RUNTIME = os.path.join(ROOT, ".runtime")


@pytest.mark.skipif(install.read_status(RUNTIME) is None, reason="make setup installs .runtime")
def test_the_checkout_runtime_matches_the_test_venv():
    found = install.report(RUNTIME)
    assert found["installed"] and found["problems"] == []
    for name in ("torch", "torchvision", "transformers", "segment-anything", "open_clip_torch", "rasterio"):
        assert found["packages"][name] == importlib.metadata.version(name), name
    if found["device"]["kind"] == "cpu":
        with open("/proc/cpuinfo") as f:
            flags = f.read()
        assert found["device"]["bf16"] == ("avx512_bf16" in flags or "amx_bf16" in flags)
