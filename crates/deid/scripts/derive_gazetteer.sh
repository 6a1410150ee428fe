#!/usr/bin/env bash
# Derive the committed name gazetteers in crates/deid/data/ from registry packages.
#
#   names (PyPI) 0.3.0, MIT (c) 2013 Trey Hunner: dist.male.first, dist.female.first,
#     dist.all.last = the US Census Bureau 1990 name frequency files (a US government work,
#     public domain).
#   wamerican (Debian) 2020.12.07-2, SCOWL licence (permissive, notice kept in SOURCES.md):
#     its lower-case words decide which names are also common English words.
#
# Idempotent and deterministic: rerun it and `git diff crates/deid/data` must be empty.
# Needs python3, pip and apt-get (root) once; nothing here runs at build or test time.
set -euo pipefail
cd "$(dirname "$0")/.."

NAMES_VERSION="0.3.0"
NAMES_SHA256="726e46254f2ed03f1ffb5d941dae3bc67c35123941c29becd02d48d0caa2a671"
WAMERICAN_VERSION="2020.12.07-2"
CACHE="${HOME}/.cache/hearth/deid"
mkdir -p "$CACHE"

sdist="$CACHE/names-${NAMES_VERSION}.tar.gz"
if [ ! -f "$sdist" ]; then
  pip download -q --no-deps --no-binary :all: "names==${NAMES_VERSION}" -d "$CACHE"
fi
echo "${NAMES_SHA256}  ${sdist}" | sha256sum -c --quiet -
rm -rf "$CACHE/names-${NAMES_VERSION}"
tar xzf "$sdist" -C "$CACHE"

if ! dpkg-query -W -f='${Version}' wamerican 2>/dev/null | grep -qx "$WAMERICAN_VERSION"; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "wamerican=${WAMERICAN_VERSION}" >/dev/null
fi
DICT=/usr/share/dict/american-english
DICT_SHA256="$(sha256sum "$DICT" | cut -d' ' -f1)"

python3 - "$CACHE/names-${NAMES_VERSION}/names" "$DICT" <<'PY'
import sys
src, dict_path = sys.argv[1], sys.argv[2]
def names(f):
    out = []
    for line in open(f"{src}/{f}", encoding="ascii"):
        n = line.split()[0].lower()
        if len(n) >= 2 and n.isalpha() and n not in out:
            out.append(n)
    return out
first = sorted(set(names("dist.male.first")) | set(names("dist.female.first")))
last = sorted(set(names("dist.all.last")))
words = {w.strip() for w in open(dict_path, encoding="utf-8") if w.strip().islower()}
common = sorted((set(first) | set(last)) & words)
for path, items in (("data/first_names.txt", first), ("data/surnames.txt", last), ("data/name_words.txt", common)):
    with open(path, "w", encoding="ascii") as f:
        f.write("\n".join(items) + "\n")
    print(f"{path}: {len(items)}")
PY
sha256sum data/first_names.txt data/surnames.txt data/name_words.txt
echo "names sdist sha256 ${NAMES_SHA256}; ${DICT} sha256 ${DICT_SHA256}"
