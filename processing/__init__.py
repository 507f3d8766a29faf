"""One module per Processing algorithm: parameters <-> pipeline call <-> QGIS outputs."""
