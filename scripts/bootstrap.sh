#!/usr/bin/env bash
# One-time set-up of a machine for Hotline's demo and tests, idempotent and quick
# when already done: Debian packages, the Python environment, the Asterisk sandbox root.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  redis-server          # event bus backend tests (Redis Streams)
  postgresql            # database tests on PostgreSQL (server binaries)
  debootstrap           # builds the Debian sid root that carries Asterisk 22
  espeak-ng sox         # renders IVR prompts into Asterisk-playable audio
  librsvg2-bin          # rsvg-convert: report charts as PNG (reports/png.py)
  chromium              # browser tests of the agent desktop and wallboard
  fonts-noto-cjk        # Chinese text in the browser screenshots
  ca-certificates make
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Node.js + npm install the desk's browser libraries (JsSIP); any recent Node will do
# (Debian 12's nodejs 18 + npm, or a NodeSource nodejs that bundles npm).
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.hotline-deps
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: installing Python dependencies"
  # A .venv made by uv (or `venv --without-pip`) has no pip: give it one first.
  .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip >/dev/null
  .venv/bin/python -m pip install -q --upgrade pip uv
  .venv/bin/uv pip install -q --python .venv/bin/python -e '.[dev]'
  touch "$stamp"
fi

# The desk's browser libraries (desk/static/vendor/package.json, pinned in its
# package-lock.json; node_modules is not committed): JsSIP for the softphone, served at
# /desk/vendor/jssip.min.js. `npm ci` installs exactly the lock file and never rewrites it.
vendor=desk/static/vendor
vendor_stamp=$vendor/node_modules/.hotline-installed
if [ ! -f "$vendor_stamp" ] || [ "$vendor/package-lock.json" -nt "$vendor_stamp" ] \
    || [ ! -f "$vendor/node_modules/jssip/dist/jssip.min.js" ]; then
  echo "bootstrap: installing the desk's browser libraries (npm)"
  (cd "$vendor" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$vendor_stamp"
fi

# The Asterisk 22 sandbox root (cached under ~/.cache/hotline; ~1 minute the first time).
.venv/bin/hotline-dev sandbox build
