#!/usr/bin/env bash
# Idempotent set-up: QGIS and Qt translation tools from the distribution, a .venv made
# from the interpreter that has PyQGIS (with --system-site-packages), requirements.txt, and
# the worker's runtime at .runtime/ (runtime/install.py).
set -euo pipefail
cd "$(dirname "$0")/.."
SYSTEM_PYTHON=${SYSTEM_PYTHON:-/usr/bin/python3}

missing=()
"$SYSTEM_PYTHON" -c "import qgis.core" 2>/dev/null || missing+=(qgis python3-qgis qgis-providers)
[ -x /usr/bin/qgis_process.bin ] || missing+=(qgis)
command -v lrelease >/dev/null || missing+=(qttools5-dev-tools qtchooser)
command -v pylupdate5 >/dev/null || missing+=(pyqt5-dev-tools)
"$SYSTEM_PYTHON" -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
# The desktop test (tests/desktop) runs the real QGIS under Xvfb with Mesa's GL, as users have it.
command -v xvfb-run >/dev/null || missing+=(xvfb)
command -v xauth >/dev/null || missing+=(xauth)
# The remote runtime's TLS test makes a self-signed certificate with it.
command -v openssl >/dev/null || missing+=(openssl)
for gl in libgl1-mesa-dri libglx-mesa0; do
  dpkg -s "$gl" >/dev/null 2>&1 || missing+=("$gl")
done
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
    echo "GeoVL needs QGIS, Qt tools, Xvfb and Mesa GL from your distribution. Run, as root:" >&2
    echo "  sudo sh -c '$apt_cmd'" >&2
    echo "then run make again." >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv from $SYSTEM_PYTHON (with the system site-packages, for PyQGIS)"
  "$SYSTEM_PYTHON" -m venv --system-site-packages .venv
fi
stamp=$(cat requirements.txt runtime/requirements.txt | sha256sum | cut -c1-16)
if [ "$(cat .venv/.requirements-stamp 2>/dev/null)" != "$stamp" ]; then
  echo "Installing Python packages into .venv (torch, transformers, rasterio, ...); this takes a few minutes"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$stamp" > .venv/.requirements-stamp
fi

# The worker's runtime for the tests and the demo, at .runtime/, made from the same
# interpreter as .venv and pinned to .venv's versions (numpy aside: the runtime has its
# own), so tests compare the two processes' results exactly. Local version labels go
# (Debian's +dfsg is on no index; torch==X matches X+cpu). Debian's requests and its HTTP
# libraries are left free too: its requests 2.28 is patched to take charset-normalizer 3,
# which pip (resolving Ray's requests) refuses. install.py returns at once when
# requirements and constraints are unchanged (its runtime.json stamps both).
constraints=.venv/runtime-constraints.txt
.venv/bin/python -m pip freeze --disable-pip-version-check \
  | grep -E '^[A-Za-z0-9._-]+==' | grep -viE '^(numpy|pip|setuptools|wheel|requests|charset-normalizer|urllib3|chardet)==' \
  | sed 's/+.*//' > "$constraints.partial"
mv "$constraints.partial" "$constraints"
GEOVL_PYTHON="${GEOVL_PYTHON:-$SYSTEM_PYTHON}" "$SYSTEM_PYTHON" runtime/install.py install --folder .runtime \
  --constraints "$constraints"
