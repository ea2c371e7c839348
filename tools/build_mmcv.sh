#!/usr/bin/env bash
# Build mmcv 2.0.1 with its compiled ops into a wheel, against the torch of the given interpreter.
# The one place that knows how (used by tools/setup_env.sh and tools/install_into_env.sh):
# PyPI has only mmcv 2.0.1's source; its setup.py compiles with -std=c++14, torch >= 2.1 headers need
# C++17 and torch 2.14 needs C++20, so that flag is patched to -std=c++20; adjust_hue is patched for numpy 2
# (below); setup.py imports torch (-> --no-build-isolation) and pkg_resources (-> setuptools < 82).
#
# usage: tools/build_mmcv.sh --download DIR       (only fetch the source archive into DIR)
#        tools/build_mmcv.sh PYTHON OUT_DIR [SOURCE_ARCHIVE [FIND_LINKS]]
#   PYTHON          interpreter whose torch the ops are built against
#   OUT_DIR         the wheel lands in OUT_DIR/mmcv-*.whl; nothing is done when one is already there
#   SOURCE_ARCHIVE  mmcv-2.0.1.tar.gz (default: pip download from the package index)
#   FIND_LINKS      a folder with setuptools < 82 wheels, used (offline) when PYTHON lacks pkg_resources
# env: LMIM_MMCV_CUDA=1 -> CUDA ops (FORCE_CUDA=1, needs nvcc), CPU ops otherwise; MAX_JOBS (default: all cores)
set -euo pipefail
MMCV_VERSION=2.0.1

# The archive's metadata step runs its setup.py (pkg_resources): give pip's isolated build env setuptools < 82.
download_source() {
  local dir="$1" constraint
  mkdir -p "$dir"
  constraint="$(mktemp)"
  echo "setuptools>=77,<82" > "$constraint"
  PIP_CONSTRAINT="$constraint" python3 -m pip download -q --no-deps --no-binary :all: "mmcv==$MMCV_VERSION" -d "$dir"
  rm -f "$constraint"
}
if [ "$1" = --download ]; then
  download_source "$2"
  exit 0
fi
PY="$1"; OUT="$2"; ARCHIVE="${3:-}"; FIND_LINKS="${4:-}"
if ls "$OUT"/mmcv-*.whl >/dev/null 2>&1; then
  echo "[build_mmcv] reusing $(ls "$OUT"/mmcv-*.whl)"
  exit 0
fi
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
if [ -z "$ARCHIVE" ]; then
  download_source "$build"
  ARCHIVE="$(ls "$build"/mmcv-*.tar.gz)"
fi
tar -xzf "$ARCHIVE" -C "$build"
src="$build/mmcv-$MMCV_VERSION"
sed -i "s/'-std=c++14'/'-std=c++20'/g" "$src/setup.py"
grep -q "std=c++20" "$src/setup.py" || { echo "[build_mmcv] could not patch mmcv's C++ standard" >&2; exit 1; }
# adjust_hue (mmpretrain's ColorJitter in LMIM's guidance view): np.uint8(hue_factor * 255) wraps a negative shift
# around on numpy 1 and raises OverflowError on numpy 2 (NEP 50); the same wrap-around, written out, works on both.
sed -i 's/np\.uint8(hue_factor \* 255)/np.uint8(int(hue_factor * 255) % 256)/' "$src/mmcv/image/photometric.py"
! grep -q 'np\.uint8(hue_factor \* 255)' "$src/mmcv/image/photometric.py" \
  || { echo "[build_mmcv] could not patch mmcv's adjust_hue" >&2; exit 1; }

# setup.py needs pkg_resources; where the interpreter's setuptools lacks it (>= 82), put setuptools < 82
# on PYTHONPATH for this build only, so that the environment's own setuptools stays as it is.
if ! "$PY" -c "import pkg_resources" >/dev/null 2>&1; then
  index=(); [ -n "$FIND_LINKS" ] && index=(--no-index --find-links "$FIND_LINKS")
  "$PY" -m pip install -q "${index[@]}" --target "$build/buildtools" "setuptools>=77,<82"
  export PYTHONPATH="$build/buildtools${PYTHONPATH:+:$PYTHONPATH}"
fi
# No debug information (-g0 after Python's -g): with the torch headers' debug info the compile takes about
# twice as long and the wheel is 16 times larger; the optimisation level stays mmcv's.
export CFLAGS="-g0${CFLAGS:+ $CFLAGS}"
export MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}"
if [ "${LMIM_MMCV_CUDA:-}" = 1 ]; then export FORCE_CUDA=1; else export FORCE_CUDA=0 CUDA_HOME=""; fi
echo "[build_mmcv] building mmcv $MMCV_VERSION ($([ "$FORCE_CUDA" = 1 ] && echo CUDA || echo CPU) ops," \
     "MAX_JOBS=$MAX_JOBS) against torch $("$PY" -c 'import torch; print(torch.__version__)') into $OUT"
start=$SECONDS
mkdir -p "$OUT.tmp"
(cd "$src" && "$PY" -m pip wheel -q --no-deps --no-build-isolation --no-index . -w "$OUT.tmp")
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "[build_mmcv] built $(ls "$OUT"/mmcv-*.whl) in $((SECONDS - start)) s"
