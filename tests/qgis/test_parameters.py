"""Parameter values QGIS itself must refuse, and prompt layers that are empty."""
from __future__ import annotations

import json

import pytest
from qgis.core import QgsProcessingException, QgsVectorLayer

from ..models.conftest import scene
from .conftest import write_rgb


@pytest.mark.parametrize("tile_size", [60000, 2147483647, 2 ** 31, 10 ** 12])
def test_tile_sizes_no_tile_can_be_read_at_are_refused(plugin, tiny_clip_dir, tmp_path, cache_dir, tile_size):
    """TILE_SIZE 60000 gave a traceback and values beyond int32 silently became the default."""
    import processing

    raster = write_rgb(tmp_path / "scene.tif", scene(64, 64))
    with pytest.raises(QgsProcessingException, match="TILE_SIZE"):
        processing.run("geovl:retrieve", {"INPUT": raster, "QUERY": "a harbour", "MODEL": tiny_clip_dir,
                                          "TILE_SIZE": tile_size, "OUTPUT": "memory:"})


def test_an_empty_geojson_prompt_layer_says_it_is_empty(plugin, tiny_sam_ckpt, tmp_path, cache_dir):
    """An empty GeoJSON layer has no CRS either; the sentence names the real problem."""
    import processing

    raster = write_rgb(tmp_path / "scene.tif", scene(64, 64))
    path = tmp_path / "prompts.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    # The path, not a QgsVectorLayer: an OGR layer that outlives QGIS's exit crashes the process.
    assert not QgsVectorLayer(str(path), "prompts", "ogr").crs().isValid()
    with pytest.raises(QgsProcessingException, match=r"The prompt layer \(PROMPTS\) has no features"):
        processing.run("geovl:segment", {"INPUT": raster, "PROMPTS": str(path), "MODEL": tiny_sam_ckpt,
                                         "OUTPUT": "memory:"})


@pytest.mark.parametrize("bands, phrase", [("1,2", r"Give one band .*or three bands.* the raster has 3 bands"),
                                           ("red", r"BANDS must be band numbers, such as 1 for grey or 1,2,3"),
                                           ("1,2,9", r"\[9\] do not exist")])
def test_bands_typed_as_text_are_read_as_numbers(plugin, tiny_clip_dir, tmp_path, cache_dir, bands, phrase):
    """qgis_process and the console pass BANDS as typed; QGIS itself made [0] of "1,2",
    which was then reported as "Band number(s) [0]"."""
    import processing

    raster = write_rgb(tmp_path / "scene.tif", scene(64, 64))
    with pytest.raises(QgsProcessingException, match=phrase):
        processing.run("geovl:retrieve", {"INPUT": raster, "QUERY": "a harbour", "MODEL": tiny_clip_dir,
                                          "BANDS": bands, "OUTPUT": "memory:"})


def test_bands_typed_as_text_work(plugin, tiny_clip_dir, tmp_path, cache_dir):
    import processing

    raster = write_rgb(tmp_path / "scene.tif", scene(64, 64))
    result = processing.run("geovl:retrieve", {"INPUT": raster, "QUERY": "a harbour", "MODEL": tiny_clip_dir,
                                               "BANDS": "3, 2, 1", "TOP_K": 1, "OUTPUT": "memory:"})
    assert result["OUTPUT"].featureCount() == 1
