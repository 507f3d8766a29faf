"""Where the plugin finds its Python packages, and the dependency check of the algorithm."""
from __future__ import annotations

import importlib
import sys

import pytest
from qgis.core import QgsSettings

SETTING = "geovl/site_packages"


@pytest.fixture
def restore_path_and_setting():
    path, modules = list(sys.path), set(sys.modules)
    settings = QgsSettings()
    had, old = settings.contains(SETTING), settings.value(SETTING)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if name.startswith("geovl_fake_"):
            del sys.modules[name]
    if had:
        settings.setValue(SETTING, old)
    else:
        settings.remove(SETTING)


def test_site_packages_setting_goes_first(qgis_app, restore_path_and_setting, tmp_path):
    """The folder named by geovl/site_packages, then its .pth entries, go in front of sys.path."""
    from geovl.geovl_plugin.site_packages import add_site_packages

    folder, extra = tmp_path / "site-packages", tmp_path / "extra"
    folder.mkdir()
    extra.mkdir()
    (folder / "geovl_fake_dep.py").write_text("WHERE = 'site-packages'\n")
    (extra / "geovl_fake_extra.py").write_text("WHERE = 'pth'\n")
    (folder / "fake.pth").write_text(f"{extra}\n")
    QgsSettings().setValue(SETTING, f"  {folder}  ")

    assert add_site_packages() == str(folder)
    assert sys.path[:2] == [str(folder), str(extra)]
    assert importlib.import_module("geovl_fake_dep").WHERE == "site-packages"
    assert importlib.import_module("geovl_fake_extra").WHERE == "pth"
    before = list(sys.path)
    assert add_site_packages() is None  # already there: nothing added twice
    assert sys.path == before


def test_missing_setting_folder_is_ignored(qgis_app, restore_path_and_setting, tmp_path):
    """A setting naming a folder that does not exist leaves sys.path alone."""
    from geovl.geovl_plugin.site_packages import add_site_packages

    QgsSettings().setValue(SETTING, str(tmp_path / "nowhere"))
    before = list(sys.path)
    assert add_site_packages() is None
    assert sys.path == before


def test_nothing_missing_in_this_environment(qgis_app):
    """Every required package imports here, so the algorithm can execute."""
    from geovl.processing.base import missing_packages
    from geovl.processing.retrieve import RetrieveAlgorithm

    assert missing_packages() == []
    assert RetrieveAlgorithm().canExecute() == (True, "")
