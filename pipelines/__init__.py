"""QGIS-free jobs: raster paths in, geo results out."""
