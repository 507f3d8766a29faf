"""The algorithms on the GeoVL runtime: without one, each says how to install it; with
one, a QGIS process that ran all four jobs has imported none of the engine's libraries."""
from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from safetensors.numpy import load_file
from qgis.core import QgsGeometry, QgsPointXY, QgsProcessingException, QgsProcessingFeedback, QgsVectorLayer

from ..conftest import write_raster
from ..models.conftest import scene
from .conftest import REPO_ROOT, partial_files, prompt_layer, to_map, write_rgb

ENGINE_MODULES = ("torch", "transformers", "rasterio", "shapely", "open_clip", "segment_anything",
                  "geovl.pipelines", "geovl.geo", "geovl.models")


@pytest.mark.parametrize("algorithm, parameters", [
    ("geovl:retrieve", {"QUERY": "ships"}), ("geovl:segment", {"TEXT": "road"}),
    ("geovl:ask", {"QUESTION": "What is here?"}), ("geovl:change", {})])
def test_without_a_runtime_every_algorithm_says_how_to_install_it(plugin, tmp_path, monkeypatch, algorithm,
                                                                   parameters):
    """The dialog still opens (canExecute), and Run says where to press Install."""
    import processing
    from qgis.core import QgsApplication

    monkeypatch.setenv("GEOVL_RUNTIME", str(tmp_path / "no-runtime-here"))
    raster = write_rgb(tmp_path / "scene.tif", np.zeros((32, 32, 3), np.uint8))
    assert QgsApplication.processingRegistry().algorithmById(algorithm).canExecute()[0]
    inputs = {"BEFORE": raster, "AFTER": raster} if algorithm == "geovl:change" else {"INPUT": raster}
    with pytest.raises(QgsProcessingException) as refused:
        processing.run(algorithm, {**inputs, **parameters, "OUTPUT": "memory:"})
    message = str(refused.value)
    assert message.startswith("GeoVL's runtime is not installed: open Plugins › GeoVL › Runtime… and press Install")
    assert " GB)." in message


SCRIPT = """
import json, os, sys
sys.path.insert(0, {link_dir!r})
sys.path.append("/usr/share/qgis/python/plugins")
from qgis.core import QgsApplication
app = QgsApplication([], False)
app.initQgis()
from processing.core.Processing import Processing
Processing.initialize()
import processing
import geovl
plugin = geovl.classFactory(None)
plugin.initProcessing()
fp32 = {{"DEVICE": 1, "PRECISION": 1}}
runs = {{
    "retrieve": processing.run("geovl:retrieve", {{"INPUT": {raster!r}, "QUERY": "ships", "MODEL": {clip!r},
                                                  "TILE_SIZE": 64, "OUTPUT": "memory:", **fp32}}),
    "segment": processing.run("geovl:segment", {{"INPUT": {rgb!r}, "PROMPTS": {prompts!r}, "MODEL": {sam!r},
                                                "OUTPUT": "memory:", **fp32}}),
    "ask": processing.run("geovl:ask", {{"INPUT": {rgb!r}, "QUESTION": "What is here?", "MODEL": {vlm!r},
                                        "MAX_NEW_TOKENS": 5, "OUTPUT": "memory:", "OUTPUT_TILES": "memory:",
                                        **fp32}}),
    "change": processing.run("geovl:change", {{"BEFORE": {raster!r}, "AFTER": {after!r}, "OUTPUT": "memory:"}}),
}}
counts = {{name: result["OUTPUT"].featureCount() for name, result in runs.items()}}
loaded = sorted(name for name in sys.modules if name.split(".")[0] in {top!r}
                or any(name == p or name.startswith(p + ".") for p in {prefixes!r}))
print(json.dumps({{"counts": counts, "loaded": loaded}}))
plugin.unload()
del runs
app.exitQgis()
"""


def test_a_qgis_process_that_ran_all_four_jobs_imported_no_engine(tmp_path, tiny_clip_dir, tiny_sam_ckpt,
                                                                  tiny_florence2_dir):
    """In a QGIS process of its own (offscreen, this interpreter, where torch & co. could
    be imported), all four algorithms run and then sys.modules holds none of the engine."""
    rng = np.random.default_rng(0)
    before = rng.integers(0, 255, (3, 128, 128), dtype=np.uint8)
    after = before.copy()
    after[:, 30:70, 30:70] = 255 - after[:, 30:70, 30:70]
    raster, after_path = write_raster(tmp_path / "before.tif", before), write_raster(tmp_path / "after.tif", after)
    rgb = write_rgb(tmp_path / "rgb.tif", before.transpose(1, 2, 0))
    prompts = tmp_path / "prompts.geojson"
    x, y = to_map(40.5, 40.5)
    prompts.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {
        "name": "urn:ogc:def:crs:EPSG::32631"}}, "features": [{"type": "Feature", "properties": {}, "geometry": {
            "type": "Point", "coordinates": [x, y]}}]}))
    link_dir = next(p for p in sys.path if os.path.islink(os.path.join(p, "geovl")))
    script = tmp_path / "all_four.py"
    script.write_text(textwrap.dedent(SCRIPT.format(
        link_dir=link_dir, raster=raster, after=after_path, rgb=rgb, prompts=str(prompts), clip=tiny_clip_dir,
        sam=tiny_sam_ckpt, vlm=tiny_florence2_dir, top=tuple(m for m in ENGINE_MODULES if "." not in m),
        prefixes=tuple(m for m in ENGINE_MODULES if "." in m))))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, env=env,
                          cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["loaded"] == []
    assert set(report["counts"]) == {"retrieve", "segment", "ask", "change"}
    assert report["counts"]["retrieve"] > 0 and report["counts"]["segment"] > 0 and report["counts"]["change"] > 0
    assert os.path.realpath(REPO_ROOT) == os.path.realpath(os.path.join(link_dir, "geovl"))


class KillWorkerOnFirstProgress(QgsProcessingFeedback):
    """Kills the runtime's worker (as the out-of-memory killer would) when the job reports
    progress for the first time."""

    def __init__(self):
        super().__init__()
        self.progressChanged.connect(self._on_progress)
        self.killed = None

    def _on_progress(self, percent):
        from geovl.processing.runtime_link import runtime

        if percent > 0 and self.killed is None:
            self.killed = runtime().worker().pid
            os.kill(self.killed, signal.SIGKILL)


def test_a_worker_killed_mid_run_fails_the_run_with_a_sentence_and_the_next_run_works(plugin, tiny_sam_ckpt,
                                                                                       tmp_path, cache_dir):
    """kill -9 of the worker while it segments: the algorithm fails with a sentence that
    names what it was doing and the signal, no output and no partial file or cache entry is
    left, QGIS goes on, and the same run then succeeds on a new worker."""
    import processing
    from geovl.processing.runtime_link import runtime

    raster = write_rgb(tmp_path / "three_tiles.tif", scene(256, 768, seed=7))
    line = QgsGeometry.fromPolylineXY([QgsPointXY(*to_map(20, 128)), QgsPointXY(*to_map(700, 128))])
    outputs = {"OUTPUT": tmp_path / "out.gpkg", "OUTPUT_MASK": tmp_path / "classes.tif"}
    params = {"INPUT": raster, "PROMPTS": prompt_layer("LineString", [(line, 1, "road")]), "MODEL": tiny_sam_ckpt,
              "DEVICE": 1, "PRECISION": 1, **{k: str(v) for k, v in outputs.items()}}
    feedback = KillWorkerOnFirstProgress()
    with pytest.raises(QgsProcessingException) as died:
        processing.run("geovl:segment", params, feedback=feedback)
    assert feedback.killed is not None
    message = str(died.value)
    assert "The GeoVL runtime stopped while segmenting" in message and "signal 9" in message
    assert "Nothing was written" in message
    assert [name for name, path in outputs.items() if path.exists()] == []
    # Tile embeddings in the cache are whole (renamed into place once written), or not there.
    for tile in glob.glob(str(cache_dir / "segment" / "*" / "tile_*.safetensors")):
        assert set(load_file(tile)) == {"image_embeddings"}

    result = processing.run("geovl:segment", params)   # the sweep of the next run removes the dead one's temp files
    assert runtime().worker().pid != feedback.killed
    assert QgsVectorLayer(result["OUTPUT"], "out", "ogr").featureCount() > 0 and outputs["OUTPUT_MASK"].exists()
    assert partial_files(tmp_path) == []
