"""GeoVL: remote-sensing vision-language models as QGIS Processing algorithms."""


def classFactory(iface):  # noqa: N802 (QGIS plugin entry point)
    from .geovl_plugin.plugin import GeoVLPlugin

    return GeoVLPlugin(iface)
