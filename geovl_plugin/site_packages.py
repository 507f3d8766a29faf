"""Where QGIS finds the Python packages GeoVL needs.

QGIS desktop and qgis_process run the system interpreter, not the project's .venv. The
one mechanism: the QGIS setting `geovl/site_packages` names a site-packages folder (make
deploy sets it to the venv's). It goes in front of the system folders, in the same
order the venv itself uses, so QGIS imports exactly what the tests ran with.
"""
from __future__ import annotations

import os
import site
import sys

from qgis.core import QgsSettings

SETTING = "geovl/site_packages"


def configured_site_packages() -> str:
    return (QgsSettings().value(SETTING, "") or "").strip()


def add_site_packages() -> str | None:
    """Put the configured folder (and its .pth entries) on sys.path; returns it if added."""
    folder = configured_site_packages()
    if not folder or not os.path.isdir(folder) or folder in sys.path:
        return None
    before = list(sys.path)
    site.addsitedir(folder)
    added = [p for p in sys.path if p not in before]
    sys.path[:] = added + before
    return folder
