"""The GeoVL runtime installer: creates, repairs and reports on the venv the worker runs in.

Standard library only: it runs inside QGIS (the runtime dialog, any Python >= 3.8), as
`python -m geovl.runtime.install` and as a plain script (then its sentences stay English):

    python3 runtime/install.py {status,install,repair} [--folder DIR] [--constraints FILE] [--json]

The runtime is a venv made from a Python >= 3.10 found on the machine (not QGIS's, and
without its site-packages), so it has its own numpy, GDAL wheels and torch. torch and
torchvision are installed first, from the build that fits the hardware (torch_build), then
requirements.txt. The last step of a successful install writes runtime.json; without it
the folder counts as not installed, so a killed or failed install is never taken for a
working one.

Offline and air-gapped sites: GEOVL_WHEELS=/path/to/wheels installs from that folder only
(pip --no-index --find-links). GEOVL_PYTHON names the Python to build the venv from;
GEOVL_TORCH_INDEX replaces the PyTorch CPU index (a local mirror).
"""
from __future__ import annotations

import argparse
import collections
import datetime
import errno
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request

try:
    from .i18n import tr
except ImportError:  # run as a plain script (python3 runtime/install.py): no package, no translator
    def tr(text: str) -> str:
        return text

FORMAT = 1
STAMP = "runtime.json"
REQUIREMENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "requirements.txt")
MIN_PYTHON = (3, 10)
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# PyPI's Windows wheels of torch are CPU-only; CUDA ones come from PyTorch's own index.
WINDOWS_CUDA_INDEX = "https://download.pytorch.org/whl/cu128"
# Download and disk, roughly, of a whole runtime (torch dominates).
DOWNLOAD_GB = {"cuda": 5.0, "cpu": 1.5}
TORCH_PACKAGES = ("torch", "torchvision")

# Run by a candidate base Python (any version: it must answer even when too old).
_BASE_PROBE = """
import json, sys
info = {"version": list(sys.version_info[:3]), "executable": sys.executable,
        "venv": sys.prefix != getattr(sys, "base_prefix", sys.prefix)}
try:
    import venv, ensurepip
    info["missing"] = None
except ImportError as exc:
    info["missing"] = str(exc)
print(json.dumps(info))
"""

# Run by the runtime's own interpreter: its version, base Python and packages; with
# --torch also the device torch finds (importing torch takes seconds).
_ENV_PROBE = """
import importlib.metadata, json, sys
out = {"python_version": "%d.%d.%d" % sys.version_info[:3],
       "base_python": getattr(sys, "_base_executable", None), "packages": {}}
for dist in importlib.metadata.distributions():
    if dist.metadata.get("Name"):
        out["packages"][dist.metadata.get("Name")] = dist.version
if "--torch" in sys.argv:
    try:
        import torch
        device = {"kind": "cpu"}
        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            device = {"kind": "cuda", "name": props.name, "memory_bytes": props.total_memory,
                      "count": torch.cuda.device_count()}
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            device = {"kind": "mps", "name": "Apple MPS"}
        out["torch"] = {"version": torch.__version__, "cuda": torch.version.cuda, "device": device}
    except Exception as exc:
        out["torch_error"] = "%s: %s" % (type(exc).__name__, exc)
print(json.dumps(out))
"""


class InstallError(Exception):
    """An install that could not be done; the message is the sentence for the user."""


def _cancelled_error() -> InstallError:
    # Made when raised, not at import: tr() translates only once the plugin set the translator.
    return InstallError(tr("The installation was cancelled; the runtime is not installed (install again to "
                           "finish it)."))


def python_executable(folder: str) -> str:
    """The interpreter of the runtime venv in `folder`."""
    if os.name == "nt":
        return os.path.join(folder, "Scripts", "python.exe")
    return os.path.join(folder, "bin", "python")


def _child_env() -> dict:
    """The environment for the Pythons we start: QGIS sets PYTHONHOME/PYTHONPATH for its own
    interpreter (Windows, macOS), which would make another Python load QGIS's library."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONEXECUTABLE", "__PYVENV_LAUNCHER__",
                        "VIRTUAL_ENV")}
    env.update(PYTHONUNBUFFERED="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    return env


def _run_json(cmd: list, timeout: float) -> dict | None:
    """The JSON object a command prints on its last line of stdout, or None if it fails."""
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout,
                              env=_child_env())
        lines = done.stdout.strip().splitlines()
        value = json.loads(lines[-1]) if done.returncode == 0 and lines else None
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _usable_base(path: str) -> tuple:
    """(the interpreter's real path, None) if `path` is a Python >= 3.10 that can make
    venvs and is not itself a venv; else (None, why not)."""
    info = _run_json([path, "-c", _BASE_PROBE], timeout=30)
    if info is None:
        return None, tr("{} does not run as Python").format(path)
    version = tuple(info.get("version", ()))
    if version < MIN_PYTHON:
        return None, tr("{} is Python {}; GeoVL needs 3.10 or newer").format(path, ".".join(map(str, version)))
    if info.get("venv"):
        return None, tr("{} is itself a virtual environment").format(path)
    if info.get("missing"):
        return None, tr("{} cannot make virtual environments ({})").format(path, info["missing"])
    return info.get("executable") or path, None


def _candidate_pythons() -> list:
    """Pythons to try, best first. The Windows and macOS places are written from those
    platforms' installers' documentation and are not tested here."""
    versions = range(13, MIN_PYTHON[1] - 1, -1)
    names = [f"python3.{minor}" for minor in versions] + ["python3"]
    paths = [p for p in (shutil.which(name) for name in names) if p]
    if sys.platform == "win32":
        paths += _windows_pythons(versions)
    elif sys.platform == "darwin":
        for minor in versions:
            paths += [f"/opt/homebrew/bin/python3.{minor}", f"/usr/local/bin/python3.{minor}",
                      f"/Library/Frameworks/Python.framework/Versions/3.{minor}/bin/python3"]
    else:
        paths.append("/usr/bin/python3")
    return [p for p in dict.fromkeys(paths) if os.path.isfile(p)]


def _windows_pythons(versions) -> list:
    """python.org installs (per user and for all users), those the py launcher knows, and
    last the Python QGIS runs in (OSGeo4W's: apps/Python3xx, 3.12 in recent QGIS)."""
    paths = []
    for minor in versions:
        for root in (os.path.join(os.environ.get("LOCALAPPDATA", ""), "Programs", "Python"),
                     os.environ.get("ProgramFiles", r"C:\Program Files")):
            paths.append(os.path.join(root, f"Python3{minor}", "python.exe"))
    launcher = shutil.which("py")
    if launcher:
        try:
            listing = subprocess.run([launcher, "-0p"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, timeout=30).stdout
            paths += re.findall(r"([A-Za-z]:\\[^\r\n]*?python\.exe)", listing, flags=re.IGNORECASE)
        except (OSError, subprocess.SubprocessError):
            pass
    paths.append(os.path.join(sys.base_prefix, "python.exe"))
    return paths


def find_base_python() -> str | None:
    """A Python >= 3.10 that can make venvs and is not a venv: GEOVL_PYTHON when set (and
    then only that one), else the first usable of python3.13 .. python3.10 and python3 on
    PATH, /usr/bin/python3 (Linux), the usual install places (Windows, macOS)."""
    chosen = os.environ.get("GEOVL_PYTHON", "").strip()
    for path in [chosen] if chosen else _candidate_pythons():
        real, _ = _usable_base(path)
        if real:
            return real
    return None


def _no_python_message() -> str:
    chosen = os.environ.get("GEOVL_PYTHON", "").strip()
    if chosen:
        return tr("GEOVL_PYTHON names a Python GeoVL cannot use: {}. Point it at a Python 3.10 or newer that has "
                  "the venv module, or unset it, then install again.").format(_usable_base(chosen)[1])
    if sys.platform == "win32":
        how = tr("install Python 3.12 from python.org (tick \"Add python.exe to PATH\") or from the Microsoft Store")
    elif sys.platform == "darwin":
        how = tr("install Python 3.12 from python.org or with Homebrew (brew install python@3.12)")
    else:
        how = tr("install it from your distribution (Debian/Ubuntu: sudo apt install python3 python3-venv)")
    return tr("No Python 3.10 or newer that can make virtual environments was found on this machine: {}, or set "
              "the environment variable GEOVL_PYTHON to one, then install again.").format(how)


def _nvidia_gpu() -> str | None:
    """The first line of `nvidia-smi -L` ("GPU 0: ...") when an NVIDIA GPU answers."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return None
    try:
        done = subprocess.run([smi, "-L"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=15)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("GPU")]
    return lines[0] if done.returncode == 0 and lines else None


def _index_answers(url: str, timeout: float = 4.0) -> bool:
    """Whether the index's torch page answers within `timeout` seconds. In a thread: the
    socket timeout does not bound a name lookup, which a broken resolver can stall."""
    answered = []

    def ask() -> None:
        try:
            request = urllib.request.Request(url.rstrip("/") + "/torch/", method="HEAD")
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                answered.append(answer.status < 400)
        except (OSError, ValueError):
            answered.append(False)

    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    asking.join(timeout)
    return bool(answered and answered[0])


def torch_build() -> dict:
    """Which torch to install here: {"build": "cuda" | "cpu", "index_url": an index for pip
    or None for the default one, "reason": a sentence for the user}."""
    if sys.platform == "darwin":
        return {"build": "cpu", "index_url": None,
                "reason": tr("macOS: torch from PyPI, which runs on the CPU and on Apple GPUs (MPS).")}
    gpu = _nvidia_gpu()
    if gpu:
        index = WINDOWS_CUDA_INDEX if sys.platform == "win32" else None
        return {"build": "cuda", "index_url": index,
                "reason": tr("An NVIDIA GPU was found ({}): the CUDA build of torch from {}.").format(
                    gpu, index or "PyPI")}
    cpu_index = os.environ.get("GEOVL_TORCH_INDEX", "").strip() or CPU_INDEX
    if _index_answers(cpu_index):
        return {"build": "cpu", "index_url": cpu_index,
                "reason": tr("No NVIDIA GPU was found: the CPU build of torch from {} (about {:.1f} GB).").format(
                    cpu_index, DOWNLOAD_GB["cpu"])}
    if sys.platform == "win32":
        return {"build": "cpu", "index_url": None,
                "reason": tr("No NVIDIA GPU was found and {} did not answer: torch from PyPI, whose Windows "
                             "build runs on the CPU.").format(cpu_index)}
    return {"build": "cuda", "index_url": None,
            "reason": tr("No NVIDIA GPU was found, but {} (the CPU build) did not answer: torch from PyPI, whose "
                         "build carries CUDA (about {:.0f} GB) and runs on the CPU too.").format(
                cpu_index, DOWNLOAD_GB["cuda"])}


def download_estimate_gb() -> float:
    """About how many GB an install here takes (cheap: no network, no process)."""
    if sys.platform != "darwin" and shutil.which("nvidia-smi"):
        return DOWNLOAD_GB["cuda"]
    return DOWNLOAD_GB["cpu"]


def read_status(folder: str) -> dict | None:
    """runtime.json of a finished install, or None when the folder has none, it cannot be
    read, or the runtime's interpreter is gone."""
    try:
        with open(os.path.join(folder, STAMP), encoding="utf-8") as f:
            status = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(status, dict) or status.get("format") != FORMAT:
        return None
    return status if os.path.isfile(python_executable(folder)) else None


def _works(python: str) -> bool:
    try:
        return subprocess.run([python, "-c", "import sys"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=60, env=_child_env()).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _requirements_sha(requirements: str, constraints: str | None, torch: bool) -> str:
    digest = hashlib.sha256(b"torch first\n" if torch else b"no torch step\n")
    for path in (requirements, constraints):
        digest.update(b"\0")
        if path:
            try:
                with open(path, "rb") as f:
                    digest.update(f.read())
            except OSError as exc:
                raise InstallError(tr("Cannot read {} ({}): check the path and install again.").format(
                    path, exc.strerror))
    return digest.hexdigest()


def _write_atomic(path: str, text: str) -> None:
    partial = path + ".partial"
    try:
        with open(partial, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    except OSError as exc:
        hint = (tr("the disk is full: free some space") if exc.errno == errno.ENOSPC
                else tr("check the folder's permissions"))
        raise InstallError(tr("Could not write {} ({}): {}, then install again.").format(path, exc.strerror, hint))


def _check_folder(folder: str) -> None:
    """Refuse a folder that might be the user's own: it exists, is not empty, and holds
    neither a runtime.json nor a venv."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise InstallError(tr("{} is a file, not a folder: choose another folder for the runtime.").format(folder))
    if os.path.isdir(folder) and os.listdir(folder) and not any(
            os.path.exists(os.path.join(folder, name)) for name in (STAMP, "pyvenv.cfg")):
        raise InstallError(tr("{} is not empty and is not a GeoVL runtime (it has no runtime.json and no "
                              "pyvenv.cfg), so it might hold your own files and the installer leaves it alone: "
                              "choose an empty or new folder (the QGIS setting geovl/runtime, or "
                              "GEOVL_RUNTIME).").format(folder))


def _kill(process: subprocess.Popen) -> None:
    """Stop a command and what it started (pip runs builds in subprocesses)."""
    if process.poll() is not None:
        return
    if os.name == "nt":  # not tested here
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    else:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()


def _stream(cmd: list, what: str, log, cancelled) -> None:
    """Run `cmd`, each output line to `log`; cancelled() polled while it runs (then the
    command is killed). Raises InstallError naming `what` with its last lines."""
    log("$ " + " ".join(cmd))
    session = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt" else {"start_new_session": True}
    try:
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   text=True, errors="replace", env=_child_env(), **session)
    except OSError as exc:
        raise InstallError(tr("{} could not start ({}): {}.").format(what, exc.strerror, cmd[0]))
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line.rstrip("\r\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    tail = collections.deque(maxlen=12)
    disk_full = False
    try:
        while True:
            if cancelled():
                raise _cancelled_error()  # pip is killed below
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            tail.append(line)
            disk_full = disk_full or "No space left on device" in line or "[Errno 28]" in line
            log(line)
    except BaseException:  # cancelled, a failing log(), Ctrl-C: pip does not outlive the install
        _kill(process)
        raise
    status = process.wait()
    if status == 0:
        return
    if disk_full:
        raise InstallError(tr("{} failed: the disk is full (No space left on device). Free some space (the "
                              "runtime takes a few GB) or choose a folder on another disk, then install "
                              "again.").format(what))
    raise InstallError(tr("{} failed (exit status {}). Its last lines:\n{}\nFix what they name (often the network "
                          "or a proxy: pip's own settings apply), then install again.").format(
        what, status, "\n".join(tail)))


def _environment(python: str, with_torch: bool = False) -> dict:
    """What the runtime's interpreter reports about itself (see _ENV_PROBE)."""
    found = _run_json([python, "-c", _ENV_PROBE] + (["--torch"] if with_torch else []), timeout=300)
    if found is None:
        raise InstallError(tr("The runtime's Python ({}) does not start or cannot list its packages: "
                              "repair it.").format(python))
    return found


def _public(version: str) -> str:
    """2.14.1+cpu -> 2.14.1: pins that match the same release from either index."""
    return version.split("+", 1)[0]


def install(folder: str, log, progress=None, repair: bool = False, constraints: str | None = None, cancelled=None,
            *, requirements: str | None = None, torch: bool = True, wheels: str | None = None) -> dict:
    """Install the runtime into `folder` (created if missing) and return its status (what
    read_status returns). `log(line)` gets pip's output, `progress(percent)` coarse steps,
    `cancelled()` is polled between steps and while pip runs. `repair` reinstalls every
    package (--force-reinstall); a venv whose interpreter is broken is recreated either way.
    `constraints`: a pip constraints file. Returns at once when the folder already holds an
    install of the same requirements and constraints.

    For tests and offline installs: `requirements` replaces runtime/requirements.txt,
    `torch=False` skips the torch step, `wheels` (default: env GEOVL_WHEELS) installs only
    from that folder of wheels."""
    folder = os.path.abspath(folder)
    progress = progress or (lambda percent: None)
    cancelled = cancelled or (lambda: False)
    requirements = os.path.abspath(requirements or REQUIREMENTS)
    wheels = wheels or os.environ.get("GEOVL_WHEELS", "").strip() or None
    sha = _requirements_sha(requirements, constraints, torch)
    python = python_executable(folder)
    status = read_status(folder)
    if not repair and status is not None and status.get("requirements_sha") == sha and _works(python):
        log(tr("The runtime in {} is installed and up to date.").format(folder))
        progress(100)
        return status

    _check_folder(folder)
    try:
        os.remove(os.path.join(folder, STAMP))
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise InstallError(tr("Could not remove {} ({}): check the folder's permissions.").format(
            os.path.join(folder, STAMP), exc.strerror))
    progress(0)
    if not _works(python):
        base = find_base_python()
        if base is None:
            raise InstallError(_no_python_message())
        log(tr("Creating the runtime's environment in {} from {}").format(folder, base))
        # --clear: what is left of a broken venv goes; the folder is ours (checked above).
        _stream([base, "-m", "venv", "--clear", folder], tr("Creating the environment"), log, cancelled)
    progress(10)

    pip = [python, "-m", "pip", "install", "--progress-bar", "off"]
    force = ["--force-reinstall"] if repair else []
    sources = ["--no-index", "--find-links", wheels] if wheels else []
    pins = ["-c", constraints] if constraints else []
    build = None
    if torch:
        if wheels:
            build = {"build": "cuda" if _nvidia_gpu() else "cpu", "index_url": None,
                     "reason": tr("torch and torchvision from the wheel folder {}, whichever build it "
                                  "holds.").format(wheels)}
        else:
            build = torch_build()
        log(build["reason"])
        index = build["index_url"] if not wheels else None
        # Not forced: a repair reinstalls torch in the next step, from the same build.
        _stream(pip + (["--index-url", index] if index else sources) + pins + list(TORCH_PACKAGES),
                tr("pip installing torch"), log, cancelled)
        progress(55)
        # The next step keeps this torch: pinned to its release, with its index preferred
        # (pip ranks 2.14.1+cpu above PyPI's 2.14.1).
        installed = _environment(python)["packages"]
        torch_pins = os.path.join(folder, "torch-constraints.txt")
        _write_atomic(torch_pins, "".join(f"{name}=={_public(installed[name])}\n"
                                          for name in TORCH_PACKAGES if name in installed))
        pins += ["-c", torch_pins]
        if index:
            sources = ["--extra-index-url", index]
    if cancelled():
        raise _cancelled_error()
    _stream(pip + force + sources + pins + ["-r", requirements], tr("pip installing the runtime's packages"), log,
            cancelled)
    progress(95)

    found = _environment(python)
    status = {"format": FORMAT, "python": found["python_version"], "base_python": found["base_python"],
              "torch_build": build, "requirements_sha": sha,
              "installed": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "packages": found["packages"]}
    _write_atomic(os.path.join(folder, STAMP), json.dumps(status, indent=1, sort_keys=True) + "\n")
    progress(100)
    log(tr("The runtime is installed in {} (Python {}).").format(folder, status["python"]))
    return status


def _requirement_names(path: str) -> list:
    names = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line.split("#", 1)[0])
            if match:
                names.append(match.group(1))
    return names


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _cpu_bf16() -> bool:
    """Native bf16 (AVX512-BF16 or AMX) in /proc/cpuinfo's flags, as models/device.py reads them."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(re.findall(r"^flags\s*:(.*)$", f.read(), flags=re.MULTILINE)[0].split())
    except (OSError, IndexError):
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def _describe_device(device: dict) -> dict:
    device = dict(device)
    if device["kind"] == "cuda":
        device["text"] = tr("CUDA GPU {} ({:.0f} GiB)").format(device["name"], device["memory_bytes"] / 2 ** 30)
    elif device["kind"] == "mps":
        device["text"] = tr("Apple GPU (MPS)")
    else:
        device["bf16"] = _cpu_bf16()
        device["text"] = (tr("CPU with native bf16 (AVX512-BF16/AMX)") if device["bf16"]
                          else tr("CPU without native bf16 (models run in fp32)"))
    return device


def folder_bytes(folder: str) -> int:
    """Bytes in the files below `folder` (0 when it does not exist); files that vanish or
    cannot be read while counting are skipped."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def report(folder: str) -> dict:
    """What the runtime dialog shows: installed, Python (version, path, base), packages,
    device (found by the runtime's own torch: takes seconds), torch build, disk used
    (bytes) and problems (sentences)."""
    folder = os.path.abspath(folder)
    python = python_executable(folder)
    status = read_status(folder)
    result = {"folder": folder, "installed": status is not None, "python": python, "python_version": None,
              "base_python": None, "packages": {}, "device": {"kind": "unknown", "text": tr("unknown")},
              "torch_build": status["torch_build"] if status else None,
              "installed_at": status["installed"] if status else None,
              "disk_bytes": folder_bytes(folder), "problems": []}
    problems = result["problems"]
    if not os.path.isfile(python):
        problems.append(tr("The runtime is not installed in {}: press Install (about {:.1f} GB).").format(
            folder, download_estimate_gb()))
        return result
    if status is None:
        problems.append(tr("The installation in {} did not finish (it has no runtime.json): press Repair.").format(
            folder))
    if not _works(python):
        problems.append(tr("The runtime's Python ({}) does not start: press Repair.").format(python))
        return result
    found = _environment(python, with_torch=True)
    result.update(python_version=found["python_version"], base_python=found["base_python"],
                  packages=found["packages"])
    if "torch" in found:
        result["device"] = _describe_device(found["torch"]["device"])
    else:
        result["device"]["text"] = tr("unknown (torch cannot be imported)")
        problems.append(tr("torch cannot be imported in the runtime ({}): press Repair.").format(found["torch_error"]))
    present = {_normalised(name) for name in found["packages"]}
    missing = [name for name in _requirement_names(REQUIREMENTS) if _normalised(name) not in present]
    if missing:
        problems.append(tr("The runtime lacks {}: press Repair.").format(", ".join(missing)))
    gpu = _nvidia_gpu()
    if gpu and "torch" in found and result["device"]["kind"] != "cuda":
        problems.append(tr("An NVIDIA GPU is present ({}) but the runtime's torch {} cannot use it: press Repair "
                           "to install the CUDA build (or update the GPU driver).").format(
            gpu, found["torch"]["version"]))
    return result


def _print_report(found: dict) -> None:
    print(f"GeoVL runtime in {found['folder']}: " + ("installed " + found["installed_at"] if found["installed"]
                                                    else "not installed"))
    if found["python_version"]:
        print(f"Python {found['python_version']} ({found['python']}, made from {found['base_python']})")
        print(f"Device: {found['device']['text']}")
    if found["torch_build"]:
        print(f"torch build: {found['torch_build']['build']}. {found['torch_build']['reason']}")
    print(f"Disk used: {found['disk_bytes'] / 1e9:.2f} GB")
    versions = {_normalised(name): version for name, version in found["packages"].items()}
    wanted = [f"{name} {versions[_normalised(name)]}" for name in _requirement_names(REQUIREMENTS)
              if _normalised(name) in versions]
    if wanted:
        print("Packages: " + ", ".join(wanted))
    for problem in found["problems"]:
        print(f"Problem: {problem}")


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install, repair or report on GeoVL's runtime environment.")
    parser.add_argument("command", choices=("status", "install", "repair"))
    parser.add_argument("--folder", default=os.environ.get("GEOVL_RUNTIME", "").strip() or ".runtime",
                        help="the runtime's folder (default: GEOVL_RUNTIME, else ./.runtime)")
    parser.add_argument("--constraints", help="a pip constraints file (pinned versions)")
    parser.add_argument("--json", action="store_true", help="print the report or the install's status as JSON")
    args = parser.parse_args(argv)
    if args.command == "status":
        found = report(args.folder)
        if args.json:
            print(json.dumps(found, indent=1, sort_keys=True))
        else:
            _print_report(found)
        return 0 if found["installed"] and not found["problems"] else 1
    try:
        status = install(args.folder, lambda line: print(line, flush=True), repair=args.command == "repair",
                         constraints=args.constraints)
    except InstallError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(status, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
