"""make package: dist/geovl-<version>.zip for the QGIS plugin repository (a top folder
`geovl/`, tracked plugin files and compiled translations; no tests, bench, scripts, nor
the development files). It holds the runtime installer (runtime/install.py and
runtime/requirements.txt): a user of the ZIP installs the runtime from the plugin's
Runtime dialog, without this checkout's Makefile."""
import configparser
import os
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXCLUDED_DIRS = ("tests/", "bench/", "scripts/", ".ci/", "demo_out/", "docs/screenshots/")
EXCLUDED_FILES = {"conftest.py", "pytest.ini", "Makefile", ".gitignore", "requirements.txt", "requirements-dev.txt"}
REQUIRED = ("__init__.py", "metadata.txt", "runtime/install.py", "runtime/requirements.txt")


def main() -> None:
    meta = configparser.ConfigParser()
    meta.read(os.path.join(ROOT, "metadata.txt"))
    version = meta["general"]["version"]
    tracked = subprocess.check_output(["git", "ls-files"], cwd=ROOT, text=True).split()
    files = [f for f in tracked if not f.startswith(EXCLUDED_DIRS) and f not in EXCLUDED_FILES]
    files += sorted(f"i18n/{f}" for f in os.listdir(os.path.join(ROOT, "i18n")) if f.endswith(".qm"))
    missing = [name for name in REQUIRED if name not in files]
    if missing:
        sys.exit(f"The package would lack {', '.join(missing)}: commit them (git add) and run make package again.")
    os.makedirs(os.path.join(ROOT, "dist"), exist_ok=True)
    target = os.path.join(ROOT, "dist", f"geovl-{version}.zip")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in files:
            archive.write(os.path.join(ROOT, name), f"geovl/{name}")
    print(f"{target} ({len(files)} files)")


if __name__ == "__main__":
    main()
