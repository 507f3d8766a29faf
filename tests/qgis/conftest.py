"""Fixtures for the QGIS-level tests: QGIS Processing initialised, the plugin loaded
through its classFactory, a private cache, and tile-grid helpers."""
from __future__ import annotations

import os
import sys

import pytest

QGIS_PLUGINS = "/usr/share/qgis/python/plugins"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
if QGIS_PLUGINS not in sys.path:
    sys.path.append(QGIS_PLUGINS)

ORIGIN_X, ORIGIN_Y = 500_000.0, 4_650_000.0


@pytest.fixture
def plugin(qgis_app, qgis_processing, qgis_iface):
    """The GeoVL plugin, loaded as QGIS loads it, with its Processing provider registered."""
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
