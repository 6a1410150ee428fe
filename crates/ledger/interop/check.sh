#!/usr/bin/env bash
# Checks hearth-ledger's signed checkpoints, cosignatures and Merkle proofs with Go's
# reference code (golang.org/x/mod/sumdb/note and sumdb/tlog), and Go-signed notes with ours.
# Needs Debian's Go packages (offline build, no module downloads):
#   apt-get install golang-go golang-golang-x-mod-dev
# Run from anywhere: crates/ledger/interop/check.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hearth-target}"

if ! command -v go >/dev/null 2>&1 || [ ! -d /usr/share/gocode/src/golang.org/x/mod/sumdb/note ]; then
  echo "interop/check.sh: needs Go and x/mod: apt-get install golang-go golang-golang-x-mod-dev" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$root"
cargo run --quiet --locked -p hearth-ledger --example interop_fixture -- write "$work"

mkdir -p "$work/go/src/hearthinterop"
cp "$here/verify.go" "$work/go/src/hearthinterop/main.go"
(
  cd "$work/go/src/hearthinterop"
  GO111MODULE=off GOPATH="$work/go:/usr/share/gocode" GOPROXY=off GOFLAGS= \
    GOCACHE="$work/gocache" go build -o "$work/verify" .
)
"$work/verify" "$work"

cargo run --quiet --locked -p hearth-ledger --example interop_fixture -- verify-go "$work"
echo "interop: 1 passed, 0 failed"
