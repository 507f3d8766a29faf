"""rasterio and shapely keep to their own GDAL, PROJ and GEOS when the process already has
other builds in its global symbol scope, as under qgis_process (geo/own_libraries.py).

A child Python loads the system's GEOS and GDAL globally, as qgis_process's executable
does, then imports the engine's change pipeline; the dynamic linker's own record of
bindings (LD_DEBUG=bindings) says which library each symbol went to.
"""
from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys

import pytest

import geovl

SYSTEM_LIBRARIES = ("libgeos_c.so.1", "libgdal.so.32")
SITE_PACKAGES = os.path.dirname(os.path.dirname(os.path.realpath(sys.modules["numpy"].__file__)))

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not hasattr(os, "RTLD_DEEPBIND"),
                                reason="symbol interposition between libraries is a glibc (Linux) matter")


def foreign_bindings(ld_debug_files: list[str]) -> list[str]:
    """'module -> library: symbol' for each symbol that a file of the rasterio or shapely
    wheels bound to a GDAL, GEOS or PROJ outside the wheels. Function-local statics
    (_ZZ...) are left out: the C++ ABI makes them one per process, whoever defines them."""
    found = []
    for path in ld_debug_files:
        with open(path, errors="replace") as log:
            for line in log:
                if "binding file" not in line:
                    continue
                words = line.split()
                source, target, symbol = words[words.index("file") + 1], words[words.index("to") + 1], words[-1]
                name = os.path.basename(target)
                if (os.path.realpath(source).startswith(SITE_PACKAGES)
                        and os.path.basename(os.path.dirname(os.path.realpath(source))) in (
                            "rasterio", "shapely", "rasterio.libs", "shapely.libs")
                        and name.startswith(("libgeos", "libgdal", "libproj"))
                        and not os.path.realpath(target).startswith(SITE_PACKAGES)
                        and not symbol.strip("`'").startswith("_ZZ")):
                    found.append(f"{source} -> {target}: {symbol}")
    return found


CHILD = """
import ctypes, sys
for library in sys.argv[2:]:
    ctypes.CDLL(library, mode=ctypes.RTLD_GLOBAL)   # as qgis_process's executable has them
import importlib
importlib.import_module(sys.argv[1])                # binds, then imports rasterio and shapely
import rasterio, shapely
from shapely.geometry import Polygon
polygon = Polygon([(0, 0), (3, 0), (3, 2), (0, 2)])
assert list(polygon.exterior.coords) == [(0, 0), (3, 0), (3, 2), (0, 2), (0, 0)]
print("ok")
"""


def run_child(tmp_path, libraries: list[str], module: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    env = dict(os.environ, LD_DEBUG="bindings", LD_DEBUG_OUTPUT=str(tmp_path / "ld"),
               PYTHONPATH=os.path.dirname(os.path.dirname(geovl.__file__)))
    done = subprocess.run([sys.executable, "-c", CHILD, module, *libraries], env=env, capture_output=True, text=True,
                          timeout=120)
    return done, [str(p) for p in tmp_path.glob("ld.*")]


# The first engine import of a script (geo alone) and of a job (a pipeline): either binds first.
@pytest.mark.parametrize("module", ["geovl.geo.raster", "geovl.pipelines.change"])
def test_wheels_bind_their_own_gdal_and_geos_with_the_systems_loaded_globally(tmp_path, module):
    libraries = [name for name in SYSTEM_LIBRARIES if ctypes.util.find_library(name.split(".so")[0][3:])]
    if not libraries:
        pytest.skip("no system GEOS or GDAL to load (QGIS is not installed)")
    done, logs = run_child(tmp_path, libraries, module)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    assert logs, "LD_DEBUG wrote nothing"
    assert foreign_bindings(logs) == []


def test_nothing_is_bound_where_no_other_library_is_global():
    """A plain Python has no GDAL, GEOS or PROJ in its global scope: nothing to do (and
    rasterio and shapely, already imported by this test session, are never touched)."""
    from geovl.geo.own_libraries import bind_own_libraries, foreign_libraries_in_global_scope

    assert not foreign_libraries_in_global_scope()
    assert bind_own_libraries() == []
