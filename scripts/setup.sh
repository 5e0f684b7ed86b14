#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian machine (run as root, or with sudo available):
#   1. the system packages every domain needs (apt),
#   2. a virtual environment at .venv,
#   3. editable installs of every package, pinned by constraints.txt.
# Re-running it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  festival festvox-kallpc16k festvox-kdlpc16k  # audio: singing corpus (Festival singing mode)
  espeak-ng                                    # audio: extra speech for the vocoder
  libsndfile1                                  # audio: soundfile's C library
  build-essential python3-dev                  # audio: pesq and pysptk ship no wheels, built from source
  libusb-1.0-0                                 # geometry: open3d-cpu needs it
  libcgal-demo                                 # geometry: real .off meshes
  wordnet-base dict-foldoc                     # retrieval: corpora
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check)

# The stamp records what was installed; a changed constraints/requirements/pyproject re-runs pip.
stamp=.venv/.vbound-setup-stamp
want=$(cat constraints.txt requirements-dev.txt packages/*/pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  echo "setup: .venv is up to date"
  exit 0
fi

echo "setup: installing Python packages into .venv"
"${PIP[@]}" install -q -c constraints.txt -r requirements-dev.txt
# core first: the domain packages depend on it by version range.
"${PIP[@]}" install -q -c constraints.txt -e packages/core
for pkg in audio geometry molecules retrieval; do
  "${PIP[@]}" install -q -c constraints.txt -e "packages/$pkg"
done
# molecules: MOSES's SMILES (novelty reference) ship in molsets, whose pinned pomegranate does not build;
# vmol reads its CSV without importing it, so none of its dependencies are needed.
"${PIP[@]}" install -q --no-deps -c constraints.txt molsets
echo "$want" > "$stamp"
echo "setup: done"
