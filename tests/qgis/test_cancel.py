"""Cancelling geovl:retrieve mid-index, or geovl:segment mid-raster, leaves no output, no
index, no partial files, and only complete tile embeddings in the cache."""
from __future__ import annotations

import glob

from qgis.core import (QgsApplication, QgsGeometry, QgsPointXY, QgsProcessingContext, QgsProcessingFeedback,
                       QgsVectorLayer)
from safetensors.torch import load_file

from ..models.conftest import scene
from .conftest import partial_files, prompt_layer, to_map, write_rgb


class CancelOnFirstProgress(QgsProcessingFeedback):
    """Cancels itself at the first progress report above zero."""

    def __init__(self):
        super().__init__()
        self.reports = []
        self.progressChanged.connect(self._on_progress)

    def _on_progress(self, percent):
        self.reports.append(percent)
        if percent > 0:
            self.cancel()


def run(params, feedback, algorithm="geovl:retrieve"):
    alg = QgsApplication.processingRegistry().createAlgorithmById(algorithm)
    assert alg is not None
    context = QgsProcessingContext()
    try:
        results, ok = alg.run(params, context, feedback)
    except Exception as exc:  # noqa: BLE001 (either way the run must end unsuccessfully)
        return None, False, str(exc)
    return results, ok, feedback.textLog()


def test_cancel_then_rerun(plugin, tiny_clip_dir, rgb_raster, cache_dir, tmp_path):
    """A run cancelled after its first batch writes nothing; the next run completes."""
    out = tmp_path / "out.gpkg"
    params = {"INPUT": rgb_raster, "QUERY": "a harbour", "MODEL": tiny_clip_dir, "TILE_SIZE": 64,
              "BATCH_SIZE": 4, "OUTPUT": str(out), "OUTPUT_HEATMAP": str(tmp_path / "heat.tif")}
    feedback = CancelOnFirstProgress()
    results, ok, log = run(params, feedback)
    assert feedback.isCanceled() and feedback.reports and feedback.reports[0] < 100
    assert not ok
    assert "The run was cancelled" in log
    assert not out.exists() and not (tmp_path / "heat.tif").exists()
    index_dir = cache_dir / "retrieval"
    assert not index_dir.exists() or list(index_dir.iterdir()) == []
    assert partial_files(tmp_path) == []

    results, ok, log = run(params, QgsProcessingFeedback())
    assert ok, log
    assert QgsVectorLayer(str(out), "out", "ogr").featureCount() == 10
    assert (tmp_path / "heat.tif").exists()
    assert [p.suffix for p in (cache_dir / "retrieval").iterdir()] == [".gpkg"]
    assert partial_files(tmp_path) == []


def test_cancel_segment_then_rerun(plugin, tiny_sam_ckpt, cache_dir, tmp_path):
    """A line over three tiles, cancelled after the first tile: no outputs, complete tile
    embeddings in the cache for the tiles done; the next run encodes only the others."""
    raster = write_rgb(tmp_path / "three_tiles.tif", scene(256, 768, seed=7))
    line = QgsGeometry.fromPolylineXY([QgsPointXY(*to_map(20, 128)), QgsPointXY(*to_map(700, 128))])
    outputs = {"OUTPUT": tmp_path / "out.gpkg", "OUTPUT_MASK": tmp_path / "classes.tif",
               "OUTPUT_CENTERLINES": tmp_path / "lines.gpkg"}
    params = {"INPUT": raster, "PROMPTS": prompt_layer("LineString", [(line, 1, "road")]), "MODEL": tiny_sam_ckpt,
              **{k: str(v) for k, v in outputs.items()}}
    feedback = CancelOnFirstProgress()
    results, ok, log = run(params, feedback, "geovl:segment")
    assert feedback.isCanceled() and feedback.reports and feedback.reports[0] < 100
    assert not ok
    assert "The run was cancelled" in log
    assert [name for name, path in outputs.items() if path.exists()] == []
    assert partial_files(tmp_path) == []
    tiles = glob.glob(str(cache_dir / "segment" / "*" / "tile_*"))
    # The cancel crosses to the worker while it works on: it stops before the last tile.
    assert 1 <= len(tiles) < 3 and "tile_0_0.safetensors" in [t.rsplit("/", 1)[1] for t in tiles]
    assert all(set(load_file(tile)) == {"image_embeddings"} for tile in tiles)

    feedback = QgsProcessingFeedback()
    results, ok, log = run(params, feedback, "geovl:segment")
    assert ok, log
    assert f"3 tile(s) decoded, {3 - len(tiles)} encoded in this run" in log
    assert all(path.exists() for path in outputs.values())
    assert QgsVectorLayer(str(outputs["OUTPUT"]), "out", "ogr").featureCount() > 0
    assert len(glob.glob(str(cache_dir / "segment" / "*" / "tile_*"))) == 3
    assert partial_files(tmp_path) == []
