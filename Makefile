# Hearth: `make run` starts the desktop app, `make test` runs everything CI runs.
# Every step sets up what is missing first (scripts/setup.sh is idempotent and fast when done).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# One target dir shared by every checkout on this machine (CI runs in a fresh clone).
export CARGO_TARGET_DIR ?= $(HOME)/.cache/hearth-target
export CARGO_TERM_COLOR ?= never
export CARGO_INCREMENTAL ?= 0
# The FHIR validator the export tests run (installed by scripts/setup.sh).
export HEARTH_FHIR_PYTHON ?= $(HOME)/.cache/hearth/fhir-venv/bin/python
# The models `make setup` installs in this checkout (a build reused from another checkout of the
# shared target dir would otherwise look in that checkout's models/).
export HEARTH_MODELS_DIR ?= $(CURDIR)/models
# The labelled research data of the risk model lives beside the repo (never in it). Where it is
# present, the held-out figures must be recomputed: a missing data set is then a failure.
ifneq ($(wildcard $(CURDIR)/../shared/data/risk),)
export HEARTH_RISK_DATA ?= $(abspath $(CURDIR)/../shared/data)
export HEARTH_REQUIRE_RISK_DATA ?= 1
endif
UI_WASM := $(CARGO_TARGET_DIR)/wasm32-unknown-unknown/release/hearth-ui.wasm
APP := $(CARGO_TARGET_DIR)/debug/hearth-desktop
CLI := $(CARGO_TARGET_DIR)/debug/hearth

.PHONY: run test setup ui app cli fmt-check clippy unit e2e bench screenshot clean

setup:
	@scripts/setup.sh

# The UI: yew compiled to wasm32, then wasm-bindgen (no trunk: it downloads binaries).
ui: setup
	cargo build --locked -p hearth-ui --release --target wasm32-unknown-unknown
	wasm-bindgen --target web --no-typescript --out-dir ui/dist $(UI_WASM)

cli: setup
	cargo build --locked -p hearth

app: ui
	cargo build --locked -p hearth-desktop -p hearth

run: setup
	@if [ -z "$${DISPLAY:-}" ] && [ -z "$${WAYLAND_DISPLAY:-}" ]; then \
	  $(MAKE) --no-print-directory cli; \
	  echo; \
	  echo "No display here, so the desktop app cannot open. Use the CLI instead:"; \
	  echo "  $(CLI) init                      # create a vault (asks for a passphrase)"; \
	  echo "  $(CLI) patient add --name 'Ada Lovelace' --dob 1985-12-10"; \
	  echo "  $(CLI) patient list"; \
	  echo "  $(CLI) --help"; \
	  echo "(scripts: --passphrase-file FILE or HEARTH_PASSPHRASE; --vault PATH or HEARTH_VAULT)"; \
	else \
	  $(MAKE) --no-print-directory app; \
	  exec $(APP); \
	fi

fmt-check:
	cargo fmt --all -- --check

clippy: ui
	cargo clippy --locked --all-targets -- -D warnings
	cargo clippy --locked -p hearth-ui --target wasm32-unknown-unknown -- -D warnings

# Unit, integration, doc and end-to-end tests. The app test needs a display: Xvfb.
unit: app
	xvfb-run -a --server-args="-screen 0 1280x900x24" cargo test --locked --workspace --exclude hearth-ui

test: setup
	$(MAKE) --no-print-directory fmt-check
	$(MAKE) --no-print-directory clippy
	$(MAKE) --no-print-directory unit

bench: setup
	cargo bench --locked -p hearth-vault
	cargo bench --locked -p hearth-core
	cargo bench --locked -p hearth-ledger
	# Embedding throughput (b1, b8) beside PyTorch when bench/venv.sh has made its venv.
	cargo bench --locked -p hearth-insight

# Refresh the README's screenshot from the real app under Xvfb.
screenshot: app
	HEARTH_SCREENSHOT=$(CURDIR)/docs/screenshot.png xvfb-run -a --server-args="-screen 0 1280x900x24" \
	  cargo test --locked -p hearth-e2e --test app -- --exact a_day_in_the_app

clean:
	rm -f ui/dist/hearth-ui.js ui/dist/hearth-ui_bg.wasm
