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
    layer = QgsVectorLayer(str(path), "prompts", "ogr")
    with pytest.raises(QgsProcessingException, match=r"The prompt layer \(PROMPTS\) has no features"):
        processing.run("geovl:segment", {"INPUT": raster, "PROMPTS": layer, "MODEL": tiny_sam_ckpt,
                                         "OUTPUT": "memory:"})
