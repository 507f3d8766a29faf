"""QGIS-free, torch-free primitives: raster windows and tiling, normalisation,
pixel<->map transforms, the tile index store."""
from .own_libraries import bind_own_libraries

# First, before any module here imports rasterio or shapely: inside QGIS's process they
# would otherwise run partly on QGIS's own GDAL and GEOS (see own_libraries.py).
bind_own_libraries()
