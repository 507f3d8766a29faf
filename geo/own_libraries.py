"""rasterio and shapely on their own GDAL, PROJ and GEOS, also inside QGIS's process.

The rasterio and shapely wheels bundle their own GDAL, PROJ and GEOS under renamed file
names but with the usual symbol names. QGIS links its own builds (Debian: GDAL 3.6,
GEOS 3.11) into qgis_process and the desktop, so these are in the process's global ELF
symbol scope, which the dynamic linker searches first. There a wheel's calls go to
QGIS's library wherever the name exists in it and to the wheel's own elsewhere
(GEOSHasM_r is new in GEOS 3.12), and the bundled GEOS itself runs on QGIS's C++
internals: objects made by one build are read by the other, which fails at random
(an empty GEOSException from `polygon.exterior.coords`, nothing burnt by rasterio).

Loading the packages' extension modules with RTLD_DEEPBIND before they are imported
puts each module's own libraries ahead of the global scope; Python's import then finds
them already loaded. Only glibc has RTLD_DEEPBIND, and only there do symbols interpose
this way (macOS resolves by library, Windows by DLL).
"""
from __future__ import annotations

import ctypes
import glob
import importlib.util
import os
import sys

PACKAGES = ("rasterio", "shapely")
# A symbol each library QGIS may have loaded exports: GDAL, GEOS, PROJ.
FOREIGN_SYMBOLS = ("GDALOpen", "GEOS_init_r", "proj_context_create")


def foreign_libraries_in_global_scope() -> bool:
    """Whether the process's global symbol scope already has a GDAL, GEOS or PROJ (as under
    QGIS; a plain Python loads extension modules locally, so theirs are not there)."""
    process = ctypes.CDLL(None)
    return any(hasattr(process, symbol) for symbol in FOREIGN_SYMBOLS)


def bind_own_libraries(packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """Load the compiled modules of `packages` that are not imported yet with their own
    libraries ahead of the global scope, where another GDAL, GEOS or PROJ is in it.
    Returns the packages bound. Call it before the first import of rasterio or shapely:
    a module already loaded keeps the bindings it has."""
    deepbind = getattr(os, "RTLD_DEEPBIND", None)
    if deepbind is None or not foreign_libraries_in_global_scope():
        return []
    bound = []
    for package in packages:
        spec = None if package in sys.modules else importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for folder in spec.submodule_search_locations:
            for extension in sorted(glob.glob(os.path.join(folder, "**", "*.so"), recursive=True)):
                ctypes.CDLL(extension, mode=os.RTLD_NOW | deepbind)
        bound.append(package)
    return bound
