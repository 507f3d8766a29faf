"""Write-then-rename, so a failed or cancelled run never leaves a half-written file, and
scratch folders; both named after the process that owns them, so that later runs can
remove what a killed process (kill -9, a crash, a power cut) left behind.

A temporary file is `.{name}.{pid}-{random}.partial{ext}` beside its target, a scratch
folder `{prefix}{pid}-{random}` in the system's temp folder. A sweep removes those whose
process no longer exists, never those of a live process.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
import uuid
from typing import Iterator

from ..errors import GeoVLError, InputError

# .{name}.{pid}-{random}.partial{ext}, and what sqlite and GDAL add beside it (-journal, .aux.xml)
_TEMP_NAME = re.compile(r"^\..*\.(?P<pid>\d+)-[0-9a-f]{8}\.partial")
_DISK_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DISK_FULL_TEXTS = ("no space left on device", "disk is full", "not enough space on the disk")
_NOT_WRITABLE_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
# bytes: after a failed write, less free space than 1 % of the disk (at least 64 KiB, at
# most 1 MiB) means the disk is full
_FULL_DISK_MARGIN = 1 << 20
_FULL_DISK_FLOOR = 64 << 10


@contextlib.contextmanager
def atomic_path(path: str, sweep: bool = True) -> Iterator[str]:
    """Yield a temporary name beside `path`; it replaces `path` only if the block succeeds.

    A full disk or a folder that cannot be written raises InputError naming the folder,
    and nothing is left behind. `path` that is itself a temporary name of this process
    (an enclosing atomic_path's) is yielded as it is: the enclosing block renames it.
    With `sweep`, leftovers of dead processes are first removed from the folder (a
    writer of many files into one folder sweeps it once itself: a sweep lists the folder).
    """
    if _own_temp_name(path):
        yield path
        return
    folder = os.path.dirname(os.path.abspath(path))
    _make_writable_folder(folder)
    if sweep:
        sweep_leftovers(folder)
    base, ext = os.path.splitext(os.path.basename(path))
    tmp = os.path.join(folder, f".{base}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial{ext}")
    try:
        yield tmp
        os.replace(tmp, path)
    except Exception as exc:
        reason = _write_failure(exc, tmp, folder)
        if reason:
            raise InputError(_write_error_sentence(os.path.basename(path), folder, reason)) from exc
        raise
    finally:
        for leftover in (tmp, tmp + "-journal", tmp + "-wal", tmp + "-shm", tmp + ".aux.xml"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(leftover)


@contextlib.contextmanager
def scratch_folder(prefix: str) -> Iterator[str]:
    """A new empty folder `{prefix}{pid}-{random}` in the system's temp folder, removed
    with its content when the block ends. Scratch folders of this prefix left by
    processes that no longer run are removed first."""
    temp = tempfile.gettempdir()
    sweep_leftovers(temp, prefix)
    try:
        folder = tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=temp)
    except OSError as exc:
        raise InputError(_write_error_sentence("", temp, _folder_failure(exc, temp),
                                               "set TMPDIR (TEMP on Windows) to another folder")) from exc
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sweep_leftovers(folder: str, scratch_prefix: str | None = None) -> list[str]:
    """Remove from `folder` the temporary files of atomic_path (or, with `scratch_prefix`,
    the scratch folders of that prefix) whose owning process no longer exists.
    Returns the paths removed."""
    pattern = re.compile(re.escape(scratch_prefix) + r"(?P<pid>\d+)-") if scratch_prefix else _TEMP_NAME
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no folder yet, or not readable: nothing of ours to remove
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if not match or _process_exists(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to remove
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.remove(entry.path)
            removed.append(entry.path)
    return removed


def _own_temp_name(path: str) -> bool:
    match = _TEMP_NAME.match(os.path.basename(path))
    return bool(match) and int(match["pid"]) == os.getpid()


def _make_writable_folder(folder: str) -> None:
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise InputError(_write_error_sentence("", folder, _folder_failure(exc, folder))) from exc
    # root may write anywhere but on a read-only mount, and access() says so for both.
    # Not on Windows: there it reads the folder's read-only attribute, which Windows sets
    # on folders such as Documents that take writes.
    if os.name != "nt" and not os.access(folder, os.W_OK):
        raise InputError(_write_error_sentence("", folder, "read-only"))


def _write_failure(exc: BaseException, tmp: str, folder: str) -> str | None:
    """'disk full', 'read-only' or the system's reason when `exc` says writing in
    `folder` failed; None for any other error (a failed read of an input, a cancel)."""
    if isinstance(exc, GeoVLError):  # already a sentence (a nested write's, a cancel)
        return None
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    filename = str(getattr(exc, "filename", None) or "")
    about_tmp = bool(tmp) and filename.startswith(tmp)
    if code in _DISK_FULL_ERRNOS or any(t in text for t in _DISK_FULL_TEXTS):
        # not when it names another file: a full disk elsewhere (another output, the
        # scratch folder) passing through is named by the block that writes there
        return None if filename and not about_tmp and not _disk_nearly_full(folder) else "disk full"
    if not isinstance(exc, OSError):
        return None
    if code == errno.EROFS or (about_tmp and code in _NOT_WRITABLE_ERRNOS):
        return "read-only"
    if _disk_nearly_full(folder):  # GDAL reports a full disk as a bare 'Write failed'
        return "disk full"
    return (exc.strerror or str(exc)) if about_tmp else None


def _folder_failure(exc: OSError, folder: str) -> str:
    """Why a folder could not be made (every error there is about writing)."""
    if exc.errno in _NOT_WRITABLE_ERRNOS:
        return "read-only"
    return _write_failure(exc, "", folder) or exc.strerror or str(exc)


def _disk_nearly_full(folder: str) -> bool:
    try:
        usage = shutil.disk_usage(folder)
    except OSError:
        return False
    return usage.free < max(_FULL_DISK_FLOOR, min(_FULL_DISK_MARGIN, usage.total // 100))


def _write_error_sentence(name: str, folder: str, reason: str,
                          elsewhere: str = "for GeoVL's caches, set GEOVL_CACHE_DIR") -> str:
    what = f"'{name}' in the folder '{folder}'" if name else f"in the folder '{folder}'"
    if reason == "disk full":
        return (f"Could not write {what}: the disk is full. Free some space on it, or choose a folder on "
                f"another disk ({elsewhere}). Nothing was left half-written.")
    if reason == "read-only":
        return (f"Could not write {what}: it is read-only, or you may not write there. Choose a folder you "
                f"can write to ({elsewhere}).")
    return f"Could not write {what}: {reason}. Check the folder, or choose another one ({elsewhere})."


def _process_exists(pid: int) -> bool:
    """Whether process `pid` is running (a zombie, dead but not yet reaped, is not).
    Unsure answers are yes: a live run's files must never be removed."""
    if pid == os.getpid():
        return True
    if os.name == "nt":
        return _windows_process_exists(pid)
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # no such process (or no such pid at all)
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc (macOS): trust kill()
        return True


def _windows_process_exists(pid: int) -> bool:
    # os.kill(pid, 0) on Windows would send CTRL_C_EVENT, so ask the kernel instead
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.restype = ctypes.c_void_p
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # ERROR_ACCESS_DENIED: it exists
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(ctypes.c_void_p(handle), ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(ctypes.c_void_p(handle))
