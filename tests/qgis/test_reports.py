"""The reports of geovl:ask and geovl:change: listed in QGIS's Results Viewer under the
run's answer or caption when the run succeeded, nothing listed for a failed run, and no
HTML output that would make the dialog announce "HTML output has been generated" after
a failure."""
from __future__ import annotations

import pytest
from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingOutputFile

from ..models.conftest import pair_arrays, scene, write_pair
from .conftest import write_rgb


def listed_since(count: int) -> list[tuple[str, str]]:
    from processing.core.ProcessingResults import resultsList

    return [(result.name, result.filename) for result in resultsList.getResults()[count:]]


def results_count() -> int:
    from processing.core.ProcessingResults import resultsList

    return len(resultsList.getResults())


@pytest.mark.parametrize("algorithm", ["ask", "change"])
def test_the_report_is_a_plain_file_output(plugin, algorithm):
    """QGIS's dialog prints its "HTML output has been generated" line whenever it stays
    open (a failed run) for an algorithm with an HTML output: the report is a file output."""
    instance = QgsApplication.processingRegistry().createAlgorithmById(f"geovl:{algorithm}")
    assert not instance.hasHtmlOutputs()
    assert isinstance(instance.outputDefinition("OUTPUT_REPORT"), QgsProcessingOutputFile)
    assert "*.html" in instance.parameterDefinition("OUTPUT_REPORT").fileFilter()


def test_a_change_run_lists_its_report_under_the_caption(plugin, tmp_path, cache_dir):
    import processing

    before, after = write_pair(tmp_path, *pair_arrays())
    report = str(tmp_path / "report.html")
    count = results_count()
    result = processing.run("geovl:change", {"BEFORE": before, "AFTER": after, "OUTPUT": "memory:",
                                             "OUTPUT_MAGNITUDE": "", "OUTPUT_MASK": "", "OUTPUT_REPORT": report})
    [(name, filename)] = listed_since(count)
    assert filename == report
    caption = " ".join(result["OUTPUT_CAPTION"].split())
    assert caption and name.startswith("Overall caption: " + caption[:200])


def test_an_ask_run_lists_its_report_under_the_answer(plugin, tiny_florence2_dir, tmp_path, cache_dir):
    import processing

    raster = write_rgb(tmp_path / "scene.tif", scene(256, 256, seed=5))
    report = str(tmp_path / "report.html")
    count = results_count()
    result = processing.run("geovl:ask", {"INPUT": raster, "QUESTION": "airplanes", "MODEL": tiny_florence2_dir,
                                          "TILE_SIZE": 128, "MAX_NEW_TOKENS": 8, "PRECISION": 1, "OUTPUT": "memory:",
                                          "OUTPUT_TILES": "", "OUTPUT_REPORT": report})
    [(name, filename)] = listed_since(count)
    assert filename == report
    answer = " ".join(result["OUTPUT_ANSWER"].split())
    assert name.startswith("Answer")
    assert answer[:200] in name


def test_a_failed_run_lists_nothing(plugin, tmp_path, cache_dir):
    import processing
    from rasterio.transform import from_origin
    from tests.conftest import write_raster

    before, after = pair_arrays()
    b = write_raster(tmp_path / "b.tif", before, crs="EPSG:32631", transform=from_origin(448_000, 5_412_000, 0.5, 0.5))
    a = write_raster(tmp_path / "a.tif", after, crs="EPSG:32631", transform=from_origin(458_000, 5_412_000, 0.5, 0.5))
    count = results_count()
    with pytest.raises(QgsProcessingException):
        processing.run("geovl:change", {"BEFORE": b, "AFTER": a, "OUTPUT": "memory:",
                                        "OUTPUT_REPORT": str(tmp_path / "report.html")})
    assert listed_since(count) == []
