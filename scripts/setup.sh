#!/usr/bin/env bash
# Set up dffkit on a fresh Debian machine: system libraries, then .venv/ with dffkit and its tools.
# Idempotent and quick on a second run. Usage: bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }

# 1. Debian packages: OSMesa for headless OpenGL rendering; libusb, Vulkan and Mesa's Vulkan drivers for
#    open3d (mesh files); Chromium for the book's browser test; npm to fetch MathJax (step 3).
need_apt=()
for pkg in libosmesa6 libgl1 libusb-1.0-0 libvulkan1 mesa-vulkan-drivers chromium; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ! -f .venv/share/mathjax/tex-svg-full.js ] && ! command -v npm >/dev/null; then need_apt+=(npm); fi
if ((${#need_apt[@]})); then
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${need_apt[*]}" >&2; exit 2; }
        sudo_cmd=(sudo)
    fi
    log "installing Debian packages: ${need_apt[*]}"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# 2. The virtual environment.
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    log "creating .venv with $($PY --version)"
    "$PY" -m venv .venv
fi
stamp=".venv/.dffkit-setup-$(cat pyproject.toml scripts/setup.sh | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ] || ! .venv/bin/python -c 'import dffkit' 2>/dev/null; then
    log "installing Python packages into .venv"
    .venv/bin/python -m pip install -q --upgrade pip
    # The CPU build of torch: pinning 2.13.0 takes the local CPU wheel; a bare 'torch' pulls a CUDA build.
    .venv/bin/python -m pip install -q "torch==2.13.0"
    .venv/bin/python -m pip install -q -e ".[learn,book,test,cluster]"
    .venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
    rm -f .venv/.dffkit-setup-*
    touch "$stamp"
fi
# 3. MathJax, from the npm registry, for the book's equations offline (copied into each build's _static).
if [ ! -f .venv/share/mathjax/tex-svg-full.js ]; then
    log "fetching MathJax 3.2.2 from the npm registry"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack mathjax@3.2.2 --silent >/dev/null)
    tar -xzf "$tmp/mathjax-3.2.2.tgz" -C "$tmp"
    mkdir -p .venv/share/mathjax
    cp "$tmp/package/es5/tex-svg-full.js" "$tmp/package/LICENSE" .venv/share/mathjax/
    rm -rf "$tmp"
fi
log "ready: $(.venv/bin/dffkit --version)"
