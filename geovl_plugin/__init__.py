"""QGIS desktop glue: plugin class, Processing provider, settings, translations."""
