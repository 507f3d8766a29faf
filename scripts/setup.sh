#!/usr/bin/env bash
# Idempotent set-up: QGIS and Qt translation tools from the distribution, a .venv made
# from the interpreter that has PyQGIS (with --system-site-packages), requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
SYSTEM_PYTHON=${SYSTEM_PYTHON:-/usr/bin/python3}

missing=()
"$SYSTEM_PYTHON" -c "import qgis.core" 2>/dev/null || missing+=(qgis python3-qgis qgis-providers)
[ -x /usr/bin/qgis_process.bin ] || missing+=(qgis)
command -v lrelease >/dev/null || missing+=(qttools5-dev-tools qtchooser)
command -v pylupdate5 >/dev/null || missing+=(pyqt5-dev-tools)
"$SYSTEM_PYTHON" -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  apt_cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $packages"
  if [ "$(id -u)" = 0 ]; then
    echo "Installing from the distribution: $packages"
    sh -c "$apt_cmd" >/dev/null
  elif sudo -n true 2>/dev/null; then
    echo "Installing from the distribution (sudo): $packages"
    sudo sh -c "$apt_cmd" >/dev/null
  else
    echo "GeoVL needs QGIS and Qt tools from your distribution. Run, as root:" >&2
    echo "  sudo sh -c '$apt_cmd'" >&2
    echo "then run make again." >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv from $SYSTEM_PYTHON (with the system site-packages, for PyQGIS)"
  "$SYSTEM_PYTHON" -m venv --system-site-packages .venv
fi
stamp=$(sha256sum requirements.txt | cut -c1-16)
if [ "$(cat .venv/.requirements-stamp 2>/dev/null)" != "$stamp" ]; then
  echo "Installing Python packages into .venv (torch, transformers, rasterio, ...); this takes a few minutes"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$stamp" > .venv/.requirements-stamp
fi
