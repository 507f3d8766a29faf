"""QGIS-free jobs: raster paths in, geo results out."""
# geo first: it binds rasterio and shapely to their own libraries before a pipeline
# module imports them (see geo/own_libraries.py).
from .. import geo  # noqa: F401
