"""Fixtures for the QGIS-level tests: QGIS Processing initialised, the plugin loaded
through its classFactory, a private cache, and tile-grid helpers."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

QGIS_PLUGINS = "/usr/share/qgis/python/plugins"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
if QGIS_PLUGINS not in sys.path:
    sys.path.append(QGIS_PLUGINS)

ORIGIN_X, ORIGIN_Y = 500_000.0, 4_650_000.0


@pytest.fixture(scope="session")
def plugin(qgis_app, qgis_processing, qgis_iface):
    """The GeoVL plugin, loaded as QGIS loads it, with its Processing provider registered;
    once for the session, as in QGIS: unloading stops the warm worker."""
    import geovl

    loaded = geovl.classFactory(qgis_iface)
    loaded.initProcessing()
    yield loaded
    loaded.unload()


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A private GeoVL cache for the test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("GEOVL_CACHE_DIR", str(folder))
    return folder


def tile_bounds(row: int, col: int, tile: int = 64, px: float = 1.0):
    """(xmin, ymin, xmax, ymax) of tile (row, col) of a grid from the test rasters' origin."""
    xmin = ORIGIN_X + col * tile * px
    ymax = ORIGIN_Y - row * tile * px
    return xmin, ymax - tile * px, xmin + tile * px, ymax


def partial_files(folder) -> list[str]:
    """Every leftover '*.partial*' file below `folder`."""
    found = []
    for root, _, files in os.walk(folder):
        found += [os.path.join(root, f) for f in files if ".partial" in f]
    return found


# geovl:segment test rasters: UTM 31N, 0.5 m pixels from (ORIGIN_X, ORIGIN_Y).
SEGMENT_CRS = "EPSG:32631"
SEGMENT_PIXEL = 0.5


def to_map(col: float, row: float) -> tuple[float, float]:
    """Map coordinates (EPSG:32631) of a pixel position of the segment test rasters (hand-written affine)."""
    return ORIGIN_X + col * SEGMENT_PIXEL, ORIGIN_Y - row * SEGMENT_PIXEL


def write_rgb(path, image, nodata=None) -> str:
    """An (H, W, 3) uint8 image as a GeoTIFF of the segment test grid."""
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="GTiff", width=image.shape[1], height=image.shape[0], count=3,
                       dtype="uint8", crs=SEGMENT_CRS, transform=from_origin(ORIGIN_X, ORIGIN_Y, SEGMENT_PIXEL,
                                                                             SEGMENT_PIXEL), nodata=nodata) as dst:
        dst.write(image.transpose(2, 0, 1))
    return str(path)


def virtual_raster(path: str, crs: str, extent: tuple[float, float, float, float], width: int, height: int,
                   name: str):
    """A QGIS 'virtualraster' layer (formula "r@1") of width x height px over `extent`
    (xmin, ymin, xmax, ymax) from the file `path`: a raster layer with no file of its own."""
    from qgis.core import (QgsCoordinateReferenceSystem, QgsProviderRegistry, QgsRasterDataProvider, QgsRasterLayer,
                           QgsRectangle)

    if "virtualraster" not in QgsProviderRegistry.instance().providerList():
        pytest.skip("QGIS has no virtual raster provider")
    params = QgsRasterDataProvider.VirtualRasterParameters()
    params.crs = QgsCoordinateReferenceSystem(crs)
    params.extent = QgsRectangle(*extent)
    params.width, params.height = width, height
    params.formula = '"r@1"'
    source = QgsRasterDataProvider.VirtualRasterInputLayers()
    source.name, source.uri, source.provider = "r", path, "gdal"
    params.rInputLayers = [source]
    layer = QgsRasterLayer(QgsRasterDataProvider.encodeVirtualRasterProviderUri(params), name, "virtualraster")
    assert layer.isValid() and layer.providerType() == "virtualraster"
    return layer


def prompt_layer(geometry: str, features, crs: str | None = SEGMENT_CRS, label_type: str = "integer"):
    """A memory layer of prompts: `features` are (QgsGeometry, label, class name) triples;
    fields `label` and `cls`. Feature ids are 1, 2, ... in order."""
    from qgis.core import QgsFeature, QgsVectorLayer

    uri = f"{geometry}?field=label:{label_type}&field=cls:string(20)" + (f"&crs={crs}" if crs else "")
    layer = QgsVectorLayer(uri, "prompts", "memory")
    assert layer.isValid()
    added = []
    for geom, label, class_name in features:
        feature = QgsFeature(layer.fields())
        feature.setGeometry(geom)
        feature.setAttributes([label, class_name])
        added.append(feature)
    ok, _ = layer.dataProvider().addFeatures(added)
    assert ok and layer.featureCount() == len(added)
    return layer


# The deployed plugin under qgis_process (system Python; the models run in the runtime that deploy.py named).
QGIS_PROCESS = "/usr/bin/qgis_process.bin"
SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="session")
def home(tmp_path_factory):
    """A HOME whose default QGIS profile has GeoVL deployed by scripts/deploy.py."""
    home = tmp_path_factory.mktemp("home")
    profile = home / ".local" / "share" / "QGIS" / "QGIS3" / "profiles" / "default"
    done = subprocess.run([SYSTEM_PYTHON, os.path.join(REPO_ROOT, "scripts", "deploy.py"), "--profile", str(profile)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert os.path.realpath(profile / "python" / "plugins" / "geovl") == REPO_ROOT
    return home


def qgis_process(home, *args) -> subprocess.CompletedProcess:
    # No venv on the paths, and none of pytest-qgis's QGIS_CUSTOM_CONFIG_PATH / QGIS_OPTIONS_PATH:
    # qgis_process must read the profile under HOME.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QGIS_", "XDG_"))
           and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "GEOVL_RUNTIME")}  # the profile's setting names it
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen", HF_HUB_OFFLINE="1", GEOVL_CACHE_DIR=str(home / "cache"),
               PYTHONDONTWRITEBYTECODE="1")  # the deployed plugin is this checkout: leave no __pycache__ in it
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(os.path.join(REPO_ROOT, ".venv")))
    return subprocess.run([QGIS_PROCESS, *args], env=env, capture_output=True, text=True, timeout=150)
