"""Cancelling geovl:retrieve mid-index leaves no output, no index and no partial files."""
from __future__ import annotations

from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback, QgsVectorLayer

from .conftest import partial_files


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


def run(params, feedback):
    alg = QgsApplication.processingRegistry().createAlgorithmById("geovl:retrieve")
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
