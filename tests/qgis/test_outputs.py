"""Every algorithm checks its outputs before and after the work: a full disk is an error
(never a success with a GeoPackage QGIS cannot open), no output overwrites an input, and
an output that cannot be written is refused before any other output exists."""
from __future__ import annotations

import hashlib
import os

import pytest
from qgis.core import QgsGeometry, QgsPointXY, QgsProcessingException

from ..models.conftest import pair_arrays, scene, write_pair
from .conftest import partial_files, prompt_layer, to_map, write_rgb


def sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture
def pair(tmp_path):
    return write_pair(tmp_path, *pair_arrays())


@pytest.fixture
def rgb(tmp_path):
    return write_rgb(tmp_path / "scene.tif", scene(256, 256, seed=5))


def run(algorithm: str, **params):
    import processing

    return processing.run(f"geovl:{algorithm}", params)


def jobs(pair, rgb, tiny_clip_dir, tiny_sam_ckpt, tiny_florence2_dir):
    """One fast run of each algorithm, by name (fp32 on the CPU)."""
    road = prompt_layer("Point", [(QgsGeometry.fromPointXY(QgsPointXY(*to_map(100.5, 80.5))), 1, "road")])
    return {
        "change": dict(BEFORE=pair[0], AFTER=pair[1], OUTPUT_MAGNITUDE="", OUTPUT_MASK="", OUTPUT_REPORT=""),
        "retrieve": dict(INPUT=rgb, QUERY="a harbour", MODEL=tiny_clip_dir, TILE_SIZE=64, PRECISION=1),
        "segment": dict(INPUT=rgb, PROMPTS=road, MODEL=tiny_sam_ckpt, REFINE=False, OUTPUT_MASK="", PRECISION=1),
        "ask": dict(INPUT=rgb, QUESTION="airplanes", MODEL=tiny_florence2_dir, TILE_SIZE=128, MAX_NEW_TOKENS=8,
                    PRECISION=1, OUTPUT_TILES="", OUTPUT_REPORT=""),
    }


@pytest.mark.parametrize("algorithm", ["change", "retrieve", "segment", "ask"])
def test_a_full_disk_is_an_error_and_leaves_no_output(plugin, algorithm, pair, rgb, tiny_clip_dir, tiny_sam_ckpt,
                                                      tiny_florence2_dir, small_disk, cache_dir):
    """The main output on a disk with 24 KiB free: the run fails with a sentence that
    names the output and the disk, and leaves no broken GeoPackage behind."""
    params = jobs(pair, rgb, tiny_clip_dir, tiny_sam_ckpt, tiny_florence2_dir)[algorithm]
    disk = small_disk(24)
    out = os.path.join(disk, "result.gpkg")
    with pytest.raises(QgsProcessingException, match=r"Writing OUTPUT to .*result\.gpkg failed .*Is the disk full"):
        run(algorithm, OUTPUT=out, **params)
    assert os.listdir(disk) == []


@pytest.mark.parametrize("algorithm", ["change", "retrieve", "segment", "ask"])
def test_the_same_run_with_room_writes_a_layer_qgis_opens(plugin, algorithm, pair, rgb, tiny_clip_dir, tiny_sam_ckpt,
                                                          tiny_florence2_dir, small_disk, cache_dir):
    """The control for the test above: with room on the disk the same output is written
    and read back."""
    from qgis.core import QgsVectorLayer

    params = jobs(pair, rgb, tiny_clip_dir, tiny_sam_ckpt, tiny_florence2_dir)[algorithm]
    out = os.path.join(small_disk(4096), "result.gpkg")
    result = run(algorithm, OUTPUT=out, **params)
    layer = QgsVectorLayer(result["OUTPUT"], "result", "ogr")
    assert layer.isValid()


@pytest.mark.parametrize("algorithm, output, input_name", [("segment", "OUTPUT_MASK", "INPUT"),
                                                           ("change", "OUTPUT_MAGNITUDE", "BEFORE"),
                                                           ("change", "OUTPUT_REPORT", "BEFORE"),
                                                           ("change", "OUTPUT_MASK", "AFTER"),
                                                           ("retrieve", "OUTPUT_HEATMAP", "INPUT"),
                                                           ("retrieve", "OUTPUT_INDEX", "INPUT")])
def test_an_output_never_overwrites_an_input(plugin, algorithm, output, input_name, pair, rgb, tiny_clip_dir,
                                             tiny_sam_ckpt, tiny_florence2_dir, tmp_path, cache_dir):
    params = jobs(pair, rgb, tiny_clip_dir, tiny_sam_ckpt, tiny_florence2_dir)[algorithm]
    target = params[input_name]
    before = sha(target)
    params[output] = target
    with pytest.raises(QgsProcessingException, match=f"{output} would overwrite the input {input_name}"):
        run(algorithm, OUTPUT=str(tmp_path / "out.gpkg"), **params)
    assert sha(target) == before
    assert not (tmp_path / "out.gpkg").exists() and partial_files(tmp_path) == []


def test_two_outputs_in_one_file_are_refused(plugin, pair, tmp_path, cache_dir):
    same = str(tmp_path / "same.tif")
    with pytest.raises(QgsProcessingException, match="OUTPUT_MAGNITUDE and OUTPUT_MASK are the same file"):
        run("change", BEFORE=pair[0], AFTER=pair[1], OUTPUT="memory:", OUTPUT_MAGNITUDE=same, OUTPUT_MASK=same)
    assert not os.path.exists(same)


def test_an_output_folder_that_does_not_exist_is_refused_before_any_output_is_written(plugin, pair, tmp_path,
                                                                                       cache_dir):
    """The main output in a missing folder: nothing else (magnitude, mask, report) is written."""
    others = {"OUTPUT_MAGNITUDE": str(tmp_path / "magnitude.tif"), "OUTPUT_MASK": str(tmp_path / "mask.tif"),
              "OUTPUT_REPORT": str(tmp_path / "report.html")}
    missing = tmp_path / "no such folder" / "regions.gpkg"
    with pytest.raises(QgsProcessingException, match=r"Cannot write OUTPUT to .*the folder .* does not exist"):
        run("change", BEFORE=pair[0], AFTER=pair[1], OUTPUT=str(missing), **others)
    assert not any(os.path.exists(p) for p in others.values())
    assert partial_files(tmp_path) == []


def test_a_read_only_output_folder_is_refused_with_its_reason(plugin, rgb, tiny_sam_ckpt, small_disk, tmp_path,
                                                              cache_dir):
    locked = small_disk(64, read_only=True)
    road = prompt_layer("Point", [(QgsGeometry.fromPointXY(QgsPointXY(*to_map(100.5, 80.5))), 1, "road")])
    with pytest.raises(QgsProcessingException, match=r"Cannot write OUTPUT_MASK .*Read-only file system"):
        run("segment", INPUT=rgb, PROMPTS=road, MODEL=tiny_sam_ckpt, OUTPUT="memory:", PRECISION=1,
            OUTPUT_MASK=os.path.join(locked, "classes.tif"))
