#!/usr/bin/env bash
# Regenerate crates/insight/tests/fixtures/reference.json with PyPI sentence-transformers.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 models/fetch.py
PY="$(bench/venv.sh)"
"$PY" bench/make_fixture.py
