#!/usr/bin/env bash
# A Python venv with PyPI sentence-transformers (and so torch) for the reference fixture and the
# PyTorch baseline of the embedding bench. Large (torch from PyPI brings its CUDA libraries,
# ~4 GB), so it is made once into ~/.cache/hearth/st-venv and is optional in CI.
# Prints the venv's python on success.
set -euo pipefail
VENV="${HEARTH_ST_VENV:-${HOME}/.cache/hearth/st-venv}"
if ! "$VENV/bin/python" -c "import sentence_transformers, torch" >/dev/null 2>&1; then
  echo "bench: installing sentence-transformers 6.2.0 into $VENV (once; several GB)" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "sentence-transformers==6.2.0" "numpy<3" >&2
fi
echo "$VENV/bin/python"
