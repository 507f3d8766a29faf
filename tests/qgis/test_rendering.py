"""A raster layer that is not a file (QGIS virtual raster) is rendered to a cached GeoTIFF first."""
from __future__ import annotations

import pytest
from qgis.core import QgsGeometry, QgsProcessingException, QgsProcessingFeedback, QgsRasterLayer, QgsRectangle

from .conftest import partial_files, tile_bounds, virtual_raster

pytestmark = pytest.mark.usefixtures("qgis_app")


@pytest.fixture
def virtual_layer(qgis_app, rgb_raster):
    """A 'virtualraster' layer (formula "r@1") over rgb_raster: 300 x 200 px of 1 m, no file of its own."""
    return virtual_raster(rgb_raster, "EPSG:32633", (500_000, 4_649_800, 500_300, 4_650_000), 300, 200, "virtual")


def run_retrieve(layer, model, **extra):
    import processing

    feedback = QgsProcessingFeedback()
    params = {"INPUT": layer, "QUERY": "a harbour", "MODEL": model, "TILE_SIZE": 64, "TOP_K": 5,
              "OUTPUT": "memory:", **extra}
    return processing.run("geovl:retrieve", params, feedback=feedback), feedback.textLog()


def test_virtual_raster_is_rendered_once(plugin, tiny_clip_dir, virtual_layer, cache_dir):
    """The first run renders the layer to the cache; the second reuses that GeoTIFF and its index."""
    result, log = run_retrieve(virtual_layer, tiny_clip_dir)
    assert "Rendering layer 'virtual' to a 300 x 200 px GeoTIFF." in log
    rendered = sorted((cache_dir / "rendered").glob("*.tif"))
    assert len(rendered) == 1
    check = QgsRasterLayer(str(rendered[0]), "rendered", "gdal")
    assert check.isValid() and (check.width(), check.height()) == (300, 200)
    assert check.crs().authid() == "EPSG:32633"

    hits = result["OUTPUT"]
    assert hits.crs().authid() == "EPSG:32633" and hits.featureCount() == 5
    for f in hits.getFeatures():
        expected = QgsGeometry.fromRect(QgsRectangle(*tile_bounds(f["tile_row"], f["tile_col"])))
        assert f.geometry().isGeosEqual(expected)
        assert f["source"] == virtual_layer.publicSource()

    mtime = rendered[0].stat().st_mtime_ns
    again, log = run_retrieve(virtual_layer, tiny_clip_dir, QUERY="a forest")
    assert "Reusing the rendering of layer 'virtual'" in log and "Rendering layer" not in log
    assert "Reusing the tile index" in log
    assert again["OUTPUT_INDEX"] == result["OUTPUT_INDEX"]
    assert sorted((cache_dir / "rendered").glob("*.tif")) == rendered
    assert rendered[0].stat().st_mtime_ns == mtime
    assert again["OUTPUT"].featureCount() == 5
    assert partial_files(cache_dir) == []


def test_rendering_too_large_is_refused(plugin, tiny_clip_dir, virtual_layer, cache_dir):
    """RESOLUTION=0.001 m over 300 x 200 m would be 60 000 Mpx: refused before rendering."""
    with pytest.raises(QgsProcessingException, match="Mpx") as info:
        run_retrieve(virtual_layer, tiny_clip_dir, RESOLUTION=0.001)
    assert "300000 x 200000 px" in str(info.value)
    assert not (cache_dir / "rendered").exists() or not any((cache_dir / "rendered").iterdir())


def test_a_damaged_rendering_in_the_cache_is_rendered_again(plugin, tiny_clip_dir, virtual_layer, cache_dir):
    """A cached rendering cut short (a full disk, a killed run) is detected and replaced."""
    run_retrieve(virtual_layer, tiny_clip_dir)
    rendered = sorted((cache_dir / "rendered").glob("*.tif"))[0]
    data = rendered.read_bytes()
    rendered.write_bytes(data[:len(data) // 2])
    _, log = run_retrieve(virtual_layer, tiny_clip_dir)
    assert "is damaged; rendering layer 'virtual' again" in log and "Rendering layer 'virtual'" in log
    check = QgsRasterLayer(str(rendered), "rendered", "gdal")
    assert check.isValid() and rendered.stat().st_size == len(data)


def test_a_read_only_cache_is_a_sentence(plugin, tiny_clip_dir, virtual_layer, small_disk, monkeypatch):
    monkeypatch.setenv("GEOVL_CACHE_DIR", small_disk(64, read_only=True))
    with pytest.raises(QgsProcessingException, match=r"Cannot render layer 'virtual' into GeoVL's cache: .*"
                                                     r"Read-only file system.*GEOVL_CACHE_DIR"):
        run_retrieve(virtual_layer, tiny_clip_dir)


def test_a_full_cache_disk_is_a_sentence_and_leaves_no_partial_file(plugin, tiny_clip_dir, virtual_layer, small_disk,
                                                                    monkeypatch):
    cache = small_disk(16)
    monkeypatch.setenv("GEOVL_CACHE_DIR", cache)
    with pytest.raises(QgsProcessingException, match=r"Rendering layer 'virtual' into .* failed .*Is the disk full"):
        run_retrieve(virtual_layer, tiny_clip_dir)
    assert partial_files(cache) == []
