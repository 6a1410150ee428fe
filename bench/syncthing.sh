#!/usr/bin/env bash
# Syncthing baseline of `cargo bench -p hearth --bench sync`: two Syncthing instances on
# loopback, FILES files of the same sizes as the bench's session notes, first sync from A to B.
#
#   bench/syncthing.sh [FILES]        (default 1000)
#
# Prints one line on stdout:
#   syncthing first_sync_s=1.452 files=1000 bytes=2045000 fsync=on version=v1.19.2-ds1
# or, when Syncthing cannot be run (exit status 2):
#   syncthing unavailable reason=<why>
# Progress goes to stderr. Installs Debian's `syncthing` if missing (as root). Nothing leaves
# loopback: no discovery, relays, NAT, usage reports or upgrades. The recipe, and why the
# timing starts at the scan, is in /work/shared/notes/syncthing-baseline.md.
set -euo pipefail

FILES=${1:-1000}
FOLDER=bench

unavailable() {
  echo "syncthing unavailable reason=$*"
  exit 2
}
log() { echo "syncthing.sh: $*" >&2; }

# --- the binary ------------------------------------------------------------------------------
if ! command -v syncthing >/dev/null; then
  [ "$(id -u)" = 0 ] || unavailable "syncthing is not installed (apt-get install syncthing, as root)"
  log "installing Debian's syncthing (once)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq syncthing >&2; then
    apt-get update -qq >&2 || true
    apt-get install -y -qq syncthing >&2 || unavailable "apt-get install syncthing failed"
  fi
fi
command -v curl >/dev/null || unavailable "curl is not installed"
VERSION=$(syncthing --version | awk '{print $2}')

# --- two homes on loopback -------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hearth-syncthing.XXXXXX")
PIDS=()
KEYS=()
GUIS=()
cleanup() {
  local i
  for i in "${!PIDS[@]}"; do
    curl -s -m 2 -X POST -H "X-API-Key: ${KEYS[$i]}" "http://${GUIS[$i]}/rest/system/shutdown" \
      >/dev/null 2>&1 || true
  done
  for i in "${!PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "${PIDS[$i]}" 2>/dev/null || break; sleep 0.1; done
    kill "${PIDS[$i]}" 2>/dev/null || true
    wait "${PIDS[$i]}" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port: nothing answers on it (there is a small race with other programs).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

GUI_A=127.0.0.1:$(free_port)
GUI_B=127.0.0.1:$(free_port)
PORT_A=$(free_port)
PORT_B=$(free_port)
for n in a b; do
  syncthing generate --home="$WORK/$n" --no-default-folder --skip-port-probing >/dev/null 2>&1 ||
    unavailable "syncthing generate failed"
done
ID_A=$(syncthing serve --home="$WORK/a" --device-id)
ID_B=$(syncthing serve --home="$WORK/b" --device-id)

# configure HOME GUI LISTEN_PORT PEER_ID PEER_PORT KEY
configure() {
  local cfg=$1/config.xml
  sed -i \
    -e "s|<address>127.0.0.1:8384</address>|<address>$2</address>|" \
    -e "s|<apikey>.*</apikey>|<apikey>$6</apikey>|" \
    -e "s|<gui enabled=\"true\" tls=\"[a-z]*\"|<gui enabled=\"true\" tls=\"false\"|" \
    -e "s|<listenAddress>.*</listenAddress>|<listenAddress>tcp://127.0.0.1:$3</listenAddress>|" \
    -e "s|<globalAnnounceEnabled>.*<|<globalAnnounceEnabled>false<|" \
    -e "s|<localAnnounceEnabled>.*<|<localAnnounceEnabled>false<|" \
    -e "s|<relaysEnabled>.*<|<relaysEnabled>false<|" \
    -e "s|<natEnabled>.*<|<natEnabled>false<|" \
    -e "s|<urAccepted>.*<|<urAccepted>-1<|" \
    -e "s|<urSeen>.*<|<urSeen>3<|" \
    -e "s|<crashReportingEnabled>.*<|<crashReportingEnabled>false<|" \
    -e "s|<autoUpgradeIntervalH>.*<|<autoUpgradeIntervalH>0<|" \
    -e "s|<startBrowser>.*<|<startBrowser>false<|" \
    -e "s|<announceLANAddresses>.*<|<announceLANAddresses>false<|" \
    -e "s|<reconnectionIntervalS>.*<|<reconnectionIntervalS>5<|" \
    -e "s|<setLowPriority>.*<|<setLowPriority>false<|" \
    -e "s|^    <gui |    <device id=\"$4\" name=\"peer\" compression=\"metadata\" introducer=\"false\"><address>tcp://127.0.0.1:$5</address></device>\n    <gui |" \
    "$cfg"
  grep -q "tcp://127.0.0.1:$5" "$cfg" || unavailable "could not edit $cfg"
}
KEY_A=hearth-bench-a-$RANDOM$RANDOM
KEY_B=hearth-bench-b-$RANDOM$RANDOM
configure "$WORK/a" "$GUI_A" "$PORT_A" "$ID_B" "$PORT_B" "$KEY_A"
configure "$WORK/b" "$GUI_B" "$PORT_B" "$ID_A" "$PORT_A" "$KEY_B"

start() {
  STNOUPGRADE=1 STNODEFAULTFOLDER=1 syncthing serve --home="$WORK/$1" --no-browser --no-restart \
    --no-upgrade >"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
}
start a
KEYS+=("$KEY_A")
GUIS+=("$GUI_A")
start b
KEYS+=("$KEY_B")
GUIS+=("$GUI_B")

# api KEY GUI METHOD PATH [BODY]
api() {
  if [ $# -ge 5 ]; then
    curl -sf -m 30 -X "$3" -H "X-API-Key: $1" -H 'Content-Type: application/json' \
      --data "$5" "http://$2$4"
  else
    curl -sf -m 30 -X "$3" -H "X-API-Key: $1" "http://$2$4"
  fi
}
# wait_for SECONDS WHAT COMMAND...: retry COMMAND every 20 ms.
wait_for() {
  local until=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    [ "$SECONDS" -lt "$until" ] || {
      log "gave up waiting for $what; logs:"
      tail -n 20 "$WORK/a.log" "$WORK/b.log" >&2
      unavailable "timed out waiting for $what"
    }
    sleep 0.02
  done
}
pinged() { api "$KEY_A" "$GUI_A" GET /rest/system/ping >/dev/null && api "$KEY_B" "$GUI_B" GET /rest/system/ping >/dev/null; }
# The peer's entry in the connections JSON has no nested object: match up to its "}".
connected() {
  api "$1" "$2" GET /rest/system/connections | tr -d ' \n' | grep -q "\"$3\":{[^}]*\"connected\":true"
}
both_connected() { connected "$KEY_A" "$GUI_A" "$ID_B" && connected "$KEY_B" "$GUI_B" "$ID_A"; }
wait_for 30 "both REST APIs" pinged
wait_for 60 "the two devices to connect" both_connected

# --- share one folder, wait until a sentinel file has crossed --------------------------------
# No watcher and no periodic rescan: the first sync starts at the scan that the timing triggers.
# fsync on (disableFsync=false, the default), as Hearth's vault writes are durable.
folder_json() {
  printf '{"id":"%s","label":"%s","path":"%s","type":"sendreceive","devices":[{"deviceID":"%s"},{"deviceID":"%s"}],"fsWatcherEnabled":false,"rescanIntervalS":3600,"disableFsync":false}' \
    "$FOLDER" "$FOLDER" "$1" "$ID_A" "$ID_B"
}
DIR_A=$WORK/a-folder
DIR_B=$WORK/b-folder
api "$KEY_B" "$GUI_B" PUT "/rest/config/folders/$FOLDER" "$(folder_json "$DIR_B")" >/dev/null
api "$KEY_A" "$GUI_A" PUT "/rest/config/folders/$FOLDER" "$(folder_json "$DIR_A")" >/dev/null
idle() { api "$1" "$2" GET "/rest/db/status?folder=$FOLDER" | tr -d ' \n' | grep -q '"state":"idle"'; }
wait_for 30 "folder idle on A" idle "$KEY_A" "$GUI_A"
wait_for 30 "folder idle on B" idle "$KEY_B" "$GUI_B"
echo sentinel >"$DIR_A/sentinel"
api "$KEY_A" "$GUI_A" POST "/rest/db/scan?folder=$FOLDER" >/dev/null
wait_for 60 "the sentinel file on B" test -f "$DIR_B/sentinel"

# --- the files: the same texts as the bench's notes (crates/cli/benches/sync.rs `text`) ------
SENTENCE="Reports sleeping better; practised the breathing exercise twice a day. "
for ((i = 0; i < FILES; i++)); do
  s="Session $i. "
  while [ ${#s} -lt 2000 ]; do s+=$SENTENCE; done
  printf '%s' "$s" >"$DIR_A/note-$(printf '%05d' "$i").txt"
done
BYTES=$(cat "$DIR_A"/note-*.txt | wc -c)
# Durable before the clock starts, as the bench's notes are (only these files: a global `sync`
# would also flush whatever else the machine is writing).
sync "$DIR_A"/note-*.txt

# --- the timing: scan triggered on A → B at 100% with every file -----------------------------
EXPECTED=$((FILES + 1))
done_on_b() {
  local c
  c=$(api "$KEY_B" "$GUI_B" GET "/rest/db/completion?folder=$FOLDER&device=$ID_B" | tr -d ' \n')
  [[ $c == *'"completion":100,'* || $c == *'"completion":100}'* ]] &&
    [[ $c == *'"needItems":0,'* || $c == *'"needItems":0}'* ]] &&
    [[ $c == *"\"globalItems\":$EXPECTED,"* || $c == *"\"globalItems\":$EXPECTED}"* ]]
}
log "timing the first sync of $FILES files ($BYTES bytes)"
T0=$EPOCHREALTIME
# The scan call returns when the scan ends: run it beside the polling.
api "$KEY_A" "$GUI_A" POST "/rest/db/scan?folder=$FOLDER" >/dev/null &
SCAN=$!
wait_for 300 "B to have all $FILES files" done_on_b
T1=$EPOCHREALTIME
wait "$SCAN" || true

# Every file on B, byte for byte.
(cd "$DIR_A" && sha256sum note-*.txt) >"$WORK/a.sum"
(cd "$DIR_B" && sha256sum -c --quiet "$WORK/a.sum") >&2 || unavailable "files on B differ from A"

SECS=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.3f", b - a }')
echo "syncthing first_sync_s=$SECS files=$FILES bytes=$BYTES fsync=on version=$VERSION"
