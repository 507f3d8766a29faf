"""QGIS-free, torch-free primitives: raster windows and tiling, normalisation,
pixel<->map transforms, the tile index store."""
