#!/usr/bin/env bash
# Gather, where a package index is reachable, what tools/install_into_env.sh needs to install lmim_mm offline
# into an existing PyTorch environment: the wheels of requirements/wheelhouse.txt (not torch/torchvision, not
# what a GPU image already has), mmcv 2.0.1's source archive, and in OUT_DIR/build setuptools < 82, wheel and
# packaging: build tools only (mmcv's build, lmim_mm's isolated build), not installed.
#
# usage: tools/make_wheelhouse.sh OUT_DIR [PYTHON_VERSION [PLATFORM]]   (defaults: 312, manylinux2014_x86_64)
# env: BASE=1 also gathers requirements/wheelhouse-base.txt with its dependencies (for an env with only torch)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$1"; PYVER="${2:-312}"; PLATFORM="${3:-manylinux2014_x86_64}"
mkdir -p "$OUT"
target=(--only-binary :all: --python-version "$PYVER" --platform "$PLATFORM" --platform manylinux_2_28_x86_64
        --platform manylinux_2_17_x86_64 --platform linux_x86_64 --implementation cp)
pip_download() { python3 -m pip download -q --disable-pip-version-check "${target[@]}" -d "$OUT" "$@"; }

pip_download --no-deps -r "$ROOT/requirements/wheelhouse.txt"
pip_download --no-deps -d "$OUT/build" "setuptools>=77,<82" wheel packaging
if [ "${BASE:-}" = 1 ]; then
  pip_download -r "$ROOT/requirements/wheelhouse-base.txt"
fi
bash "$ROOT/tools/build_mmcv.sh" --download "$OUT"
echo "[wheelhouse] $(find "$OUT" -type f | wc -l) files, $(du -sh "$OUT" | cut -f1) in $OUT (python $PYVER, $PLATFORM)"
