"""atomic_path and scratch_folder: names that carry the owning process, leftovers of
killed processes swept by later runs (never a live process's), nested temporary names,
full and read-only disks as sentences with nothing left behind."""
import os
import signal
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

import geovl
from geovl.errors import InputError
from geovl.geo.files import atomic_path, scratch_folder, sweep_leftovers
from geovl.geo.mask_raster import MaskRasterWriter

# A run that dies mid-write: a temporary file (with an sqlite journal beside it, as an
# index build leaves) and a scratch folder, then it waits to be killed.
CHILD = """
import os, sys, time
from geovl.geo.files import atomic_path, scratch_folder
folder = sys.argv[1]
with atomic_path(os.path.join(folder, "classes.tif")) as tmp, scratch_folder("geovl-change-") as work:
    open(tmp, "wb").write(b"half a raster")
    open(tmp + "-journal", "wb").write(b"journal")
    open(os.path.join(work, "magnitude.tif"), "wb").write(b"scratch")
    print(tmp, work, flush=True)
    time.sleep(600)
"""


@pytest.fixture
def temp_dir(tmp_path, monkeypatch):
    """A private system temp folder, for this process and its children."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def start_writer(folder) -> tuple[subprocess.Popen, str, str]:
    """A child process inside atomic_path and scratch_folder; returns it, its temporary file and its scratch folder."""
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(geovl.__file__))}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(folder)], stdout=subprocess.PIPE, text=True, env=env)
    tmp, work = child.stdout.readline().split()
    return child, tmp, work


def test_kill_9_leftovers_are_swept_by_the_next_run_and_a_live_runs_stay(tmp_path, temp_dir):
    """After kill -9 of one writer, the next atomic_path in that folder removes its partial
    file and journal, the next scratch_folder its scratch folder; a live writer's stay."""
    out = tmp_path / "out"
    out.mkdir()
    killed, killed_tmp, killed_work = start_writer(out)
    live, live_tmp, live_work = start_writer(out)
    try:
        assert f".{killed.pid}-" in os.path.basename(killed_tmp) and f"-{killed.pid}-" in os.path.basename(killed_work)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait()
        assert os.path.exists(killed_tmp) and os.path.exists(killed_tmp + "-journal") and os.path.isdir(killed_work)
        with atomic_path(str(out / "other.tif")) as tmp:
            open(tmp, "wb").write(b"whole")
        with scratch_folder("geovl-change-") as mine:
            assert os.path.isdir(mine)
        assert not os.path.exists(killed_tmp) and not os.path.exists(killed_tmp + "-journal")
        assert not os.path.exists(killed_work)
        assert os.path.exists(live_tmp) and os.path.exists(live_tmp + "-journal") and os.path.isdir(live_work)
        assert sorted(os.listdir(out)) == sorted([os.path.basename(live_tmp), os.path.basename(live_tmp) + "-journal",
                                                  "other.tif"])
        assert os.listdir(temp_dir) == [os.path.basename(live_work)]  # and mine is gone
    finally:
        live.kill()
        live.wait()


def test_sweep_keeps_files_of_this_process_and_other_names(tmp_path):
    """This process's own temporary files, and files that only look alike, are not removed."""
    own = tmp_path / f".index.{os.getpid()}-0123abcd.partial.gpkg"
    user = tmp_path / ".index.partial.gpkg"
    for path in (own, user):
        path.write_bytes(b"x")
    assert sweep_leftovers(str(tmp_path)) == []
    assert sorted(os.listdir(tmp_path)) == sorted([own.name, user.name])


def test_nested_atomic_path_builds_no_temp_name_from_a_temp_name(tmp_path):
    """A writer that wraps its own atomic_path around an enclosing one's temporary name
    writes that name; the outer block alone renames it into place."""
    target = tmp_path / "magnitude.tif"
    with atomic_path(str(target)) as outer:
        with atomic_path(outer) as inner:
            assert inner == outer
            open(inner, "wb").write(b"data")
        assert os.listdir(tmp_path) == [os.path.basename(outer)]
    assert os.listdir(tmp_path) == ["magnitude.tif"] and target.read_bytes() == b"data"


def test_mask_writer_inside_atomic_path_makes_no_nested_name(tmp_path):
    """geovl:change's magnitude: a MaskRasterWriter given an atomic_path's temporary name
    (it has its own atomic_path) writes no '..name.partial.*.partial.tif' beside it."""
    target = tmp_path / "mag.tif"
    with atomic_path(str(target)) as outer:
        with MaskRasterWriter(outer, 4, 4, from_origin(0, 4, 1, 1), "EPSG:32631") as writer:
            writer.write(np.ones((4, 4), np.uint8), 0, 0)
            assert os.listdir(tmp_path) == [os.path.basename(outer)]
    assert os.listdir(tmp_path) == ["mag.tif"]
    with rasterio.open(target) as ds:
        assert (ds.read(1) == 1).all()


def test_scratch_folder_is_removed_with_its_content(temp_dir):
    """The scratch folder carries this process's id and is gone after the block, even on an error."""
    with pytest.raises(RuntimeError):
        with scratch_folder("geovl-segment-") as work:
            assert os.path.basename(work).startswith(f"geovl-segment-{os.getpid()}-")
            open(os.path.join(work, "labels.tif"), "wb").write(b"x")
            raise RuntimeError("boom")
    assert os.listdir(temp_dir) == []


def test_full_disk_is_a_sentence_and_leaves_nothing(small_disk):
    """Writing past the end of a 256 KiB disk raises InputError naming the folder; no partial file stays."""
    disk = small_disk(256)
    with pytest.raises(InputError, match=f"'{disk}'.*the disk is full"):
        with atomic_path(os.path.join(disk, "big.bin")) as tmp, open(tmp, "wb") as f:
            f.write(os.urandom(1 << 20))
    assert os.listdir(disk) == []


def test_read_only_folder_is_a_sentence(small_disk):
    """A read-only folder (even for root), or a folder to be made inside one, raises InputError naming it."""
    disk = small_disk(64, read_only=True)
    with pytest.raises(InputError, match=f"'{disk}'.*read-only"):
        with atomic_path(os.path.join(disk, "out.tif")) as tmp:
            open(tmp, "wb").write(b"x")
    inner = os.path.join(disk, "retrieval")
    with pytest.raises(InputError, match=f"'{inner}'.*read-only"):
        with atomic_path(os.path.join(inner, "index.gpkg")):
            pass


def test_errors_that_are_not_about_writing_pass_unchanged(tmp_path):
    """A read error of another file inside the block is not turned into a write sentence."""
    with pytest.raises(FileNotFoundError):
        with atomic_path(str(tmp_path / "out.tif")):
            open(tmp_path / "missing-input.tif", "rb")
    assert os.listdir(tmp_path) == []


def test_a_full_disk_named_for_another_file_is_left_to_that_files_writer(tmp_path):
    """Two writers open side by side: the one whose file the error names takes it as its
    full disk; the other (its disk has room) lets the error pass as it is."""
    import errno

    from geovl.geo.files import atomic_path

    with pytest.raises(OSError) as raised:
        with atomic_path(str(tmp_path / "beside.tif")):
            raise OSError(errno.ENOSPC, "No space left on device", "/elsewhere/.magnitude.1-0123abcd.partial.tif")
    assert not isinstance(raised.value, InputError) and raised.value.filename.startswith("/elsewhere")
    with pytest.raises(InputError, match="the disk is full"):
        with atomic_path(str(tmp_path / "own.tif")) as tmp:
            raise OSError(errno.ENOSPC, "No space left on device", tmp)
