"""Install the checkout into a QGIS profile: link it as plugins/geovl, enable it, and point
the plugin at the checkout's runtime, .runtime/ (the setting geovl/runtime), which make
setup installs. The QGIS process imports no torch, so the old geovl/site_packages setting
(the .venv's packages on QGIS's path) is removed.

Run with the system interpreter (it has PyQt): python3 scripts/deploy.py [--profile DIR]
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNTIME = os.path.join(ROOT, ".runtime")
DEFAULT_PROFILE = os.path.join(os.path.expanduser("~"), ".local", "share", "QGIS", "QGIS3", "profiles", "default")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default=os.environ.get("QGIS_PROFILE") or DEFAULT_PROFILE)
    args = parser.parse_args()
    from qgis.PyQt.QtCore import QSettings

    plugins = os.path.join(args.profile, "python", "plugins")
    os.makedirs(plugins, exist_ok=True)
    link = os.path.join(plugins, "geovl")
    if os.path.islink(link):
        os.remove(link)
    elif os.path.exists(link):
        sys.exit(f"{link} exists and is not a link made by make deploy; remove it first.")
    os.symlink(ROOT, link)

    ini = os.path.join(args.profile, "QGIS", "QGIS3.ini")
    os.makedirs(os.path.dirname(ini), exist_ok=True)
    settings = QSettings(ini, QSettings.Format.IniFormat)
    settings.setValue("geovl/runtime", RUNTIME)
    settings.remove("geovl/site_packages")
    settings.setValue("PythonPlugins/geovl", True)
    settings.sync()
    if settings.status() != QSettings.Status.NoError:
        sys.exit(f"Could not write {ini}: check that the profile folder is writable.")
    print(f"GeoVL linked at {link}, enabled, its runtime {RUNTIME}")


if __name__ == "__main__":
    main()
