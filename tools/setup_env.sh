#!/usr/bin/env bash
# Create .venv and install the OpenMMLab stack that works on torch 2.14 (see ../shared/spec/STACK.md).
# Idempotent: a second run with the wheel cache in place takes seconds.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
CACHE="${LMIM_CACHE:-$HOME/.cache/lmim_mm}"
WHEELS="$CACHE/wheels"
PY="${PYTHON:-python3.11}"
MMCV_VERSION=2.0.1
mkdir -p "$WHEELS"

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV with $PY"
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check -q)
stamp="$VENV/.lmim_stamp"

# Chinese: a CJK font for the synthetic Chinese words (Debian fonts-wqy-zenhei), and the FudanVI
# dictionary, made from the benchmark's alphabet (not redistributed with the project) where ../shared has it.
chinese_extras() {
  if ! find /usr/share/fonts \( -name 'wqy-*.tt[cf]' -o -name 'Noto*CJK*.tt[cf]' \) 2>/dev/null | grep -q .; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "[setup] installing the CJK font fonts-wqy-zenhei"
      apt-get install -y -q fonts-wqy-zenhei >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q fonts-wqy-zenhei >/dev/null; }
    else
      echo "[setup] no CJK font found under /usr/share/fonts: install one as root, e.g." \
           "'sudo apt-get install fonts-wqy-zenhei' (Chinese synthetic words and their tests need it)" >&2
      exit 1
    fi
  fi
  local alphabet="$ROOT/../shared/data/fudanvi/alphabet.txt" dict="$ROOT/dicts/chinese_fudanvi.txt"
  if [ -f "$alphabet" ] && { [ ! -f "$dict" ] || [ "$alphabet" -nt "$dict" ]; }; then
    "$VPY" "$ROOT/tools/data/fudanvi_dict.py" "$alphabet" --out "$dict"
  fi
}
# Latin fonts for the rendered words (tools/data/synthetic.py LATIN_FONT_PATTERNS; about 25 MB to download).
# Without them the renderer falls back to matplotlib's DejaVu/STIX and says so.
LATIN_FONT_PACKAGES="fonts-liberation2 fonts-freefont-ttf fonts-crosextra-carlito fonts-crosextra-caladea fonts-lato
  fonts-open-sans fonts-roboto-unhinted fonts-inconsolata fonts-urw-base35 fonts-linuxlibertine fonts-comic-neue
  fonts-league-spartan fonts-cantarell"
latin_fonts() {
  local missing=() pkg
  for pkg in $LATIN_FONT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} = 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing Latin fonts: ${missing[*]}"
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
  else
    echo "[setup] Latin font packages missing (${missing[*]}): the rendered words use matplotlib's fonts only;" \
         "install them as root with 'sudo apt-get install ${missing[*]}'" >&2
  fi
}
want="$(cat "$ROOT/requirements/"*.txt "$ROOT/setup.py" "$0" | sha1sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VPY" -c "import lmim_mm, mmcv.ops, mmocr.models, mmpretrain.models" 2>/dev/null; then
  chinese_extras
  latin_fonts
  echo "[setup] $VENV is up to date"
  exit 0
fi

echo "[setup] torch + torchvision"
"${PIP[@]}" install -r "$ROOT/requirements/torch.txt"
"${PIP[@]}" install "numpy<2" "setuptools>=77,<82" wheel

# mmcv 2.0.1 ships only its source; tools/build_mmcv.sh builds its ops (patched for torch 2.14's C++20) once.
# CUDA ops when nvcc and a GPU are both present (or LMIM_MMCV_CUDA=1), CPU ops otherwise.
mmcv_tag="cpu"
if [ "${LMIM_MMCV_CUDA:-}" = 1 ] || { command -v nvcc >/dev/null 2>&1 && "$VPY" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())' 2>/dev/null; }; then
  mmcv_tag="cuda"
fi
torch_ver="$("$VPY" -c 'import torch; print(torch.__version__.split("+")[0])')"
mmcv_dir="$WHEELS/mmcv-$MMCV_VERSION-torch$torch_ver-$mmcv_tag"
cuda_ops="$([ "$mmcv_tag" = cuda ] && echo 1 || true)"
LMIM_MMCV_CUDA="$cuda_ops" bash "$ROOT/tools/build_mmcv.sh" "$VPY" "$mmcv_dir"
"${PIP[@]}" install --no-deps "$mmcv_dir"/mmcv-*.whl

echo "[setup] OpenMMLab stack and project"
"${PIP[@]}" install -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt" -r "$ROOT/requirements/deploy.txt" \
  -r "$ROOT/requirements/lint.txt"
"${PIP[@]}" install --no-deps -r "$ROOT/requirements/nodeps.txt"
"${PIP[@]}" install "setuptools>=77,<82"
"${PIP[@]}" install --no-deps --no-build-isolation -e "$ROOT"
# `mim train/test lmim_mm` looks for <site-packages>/lmim_mm/.mim, which an editable install lacks:
# point that path at this checkout (its .mim links configs/, tools/ and dicts/), as the old
# egg-link develop installs did.
site="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
ln -sfn "$ROOT/lmim_mm" "$site/lmim_mm"
"$VPY" -c "import lmim_mm, mmcv.ops, mmocr.models, mmpretrain.models"
chinese_extras
latin_fonts
echo "$want" > "$stamp"
echo "[setup] done: $VENV"
