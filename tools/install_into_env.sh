#!/usr/bin/env bash
# Install lmim_mm offline into an existing PyTorch environment (a cluster's or GPU image's own Python), from a
# folder made by `make wheelhouse`, without touching its torch, torchvision or CUDA:
#   1. every wheel of the folder with --no-index --no-deps (not those of WHEELHOUSE/build: build tools only);
#   2. mmcv 2.0.1 built from the folder's source archive against this torch with all cores (tools/build_mmcv.sh),
#      cached under ~/.cache/lmim_mm/wheels per torch version, Python version, op kind and build script;
#   3. lmim_mm itself (editable, --no-deps; built in pip's isolated env from WHEELHOUSE/build);
#   4. a check that torch / torchvision report the versions they had before, and benchmarks/self_check.py (imports,
#      one recognizer forward + backward on cuda when available, else cpu).
# CPU ops by default: nothing lmim_mm or mmocr's recognition path runs calls an mmcv op. They import compiled
# mmcv (`import mmocr.models` -> text detection -> mmcv.ops -> mmcv._ext), but the recognizers, the ViT encoder,
# the pretraining heads and the transforms they use are plain torch / numpy / cv2. LMIM_MMCV_CUDA=1 builds the
# CUDA ops too (nvcc needed; text detection models).
#
# usage: tools/install_into_env.sh WHEELHOUSE        env: PYTHON (default python3), LMIM_MMCV_CUDA, MAX_JOBS
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WH="$(cd "$1" && pwd)"
PY="${PYTHON:-python3}"
CACHE="${LMIM_CACHE:-$HOME/.cache/lmim_mm}"
PIP=("$PY" -m pip install -q --disable-pip-version-check --no-index --find-links "$WH" --find-links "$WH/build"
     --no-deps)
versions() {  # torch, torchvision ("none" if absent) and CUDA versions
  "$PY" -c 'import torch, importlib.util as u
tv = __import__("torchvision").__version__ if u.find_spec("torchvision") else "none"
print(torch.__version__, tv, torch.version.cuda)'
}

before="$(versions)"
echo "[install] $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])'):" \
     "torch, torchvision, CUDA = $before"
wheels=("$WH"/*.whl)
"${PIP[@]}" "${wheels[@]}"

kind="cpu"; [ "${LMIM_MMCV_CUDA:-}" = 1 ] && kind="cuda"
tag="$("$PY" -c 'import sys, torch; print(f"torch{torch.__version__}-py{sys.version_info[0]}{sys.version_info[1]}")')"
patch="$(sha1sum "$ROOT/tools/build_mmcv.sh" | cut -c1-8)"  # a changed build patch builds a new wheel
mmcv_dir="$CACHE/wheels/mmcv-2.0.1-$tag-$kind-$patch"
start=$SECONDS
bash "$ROOT/tools/build_mmcv.sh" "$PY" "$mmcv_dir" "$(ls "$WH"/mmcv-2.0.1.tar.gz)" "$WH/build"
echo "[install] mmcv wheel ready after $((SECONDS - start)) s"
"${PIP[@]}" "$mmcv_dir"/mmcv-*.whl
"${PIP[@]}" -e "$ROOT"

after="$(versions)"
if [ "$after" != "$before" ]; then
  echo "[install] torch / torchvision / CUDA changed: $before -> $after" >&2
  exit 1
fi
echo "[install] torch, torchvision, CUDA unchanged: $after"
(cd "$ROOT" && "$PY" -m benchmarks.self_check)
