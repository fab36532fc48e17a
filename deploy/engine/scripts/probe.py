"""Runs inside a helper container, on the volumes mounted there (standard library only, Python 3.9+).

    probe inventory ROOT    one JSON object per line for ROOT (path ".") and every entry below:
                            {path, kind: file|link|dir|other, size, mode, uid, gid, sha256}
                            (a link's sha256 is of its target; a dir has none)
    probe copy SPEC         copy what SPEC (a JSON file) lists from its `source` root into its
                            `target` root: {source, target, uid, gid, dir_mode,
                            files: [{from, to, mode}]}; everything below the target root,
                            the root included, is owned by uid:gid; then sync

The pipeline never reads these volumes through host paths: this script runs in a throw-away
container that mounts them (`deploy.rebuild.engineops`, as `deploy.engine.scripts.argv` runs it).
"""

import hashlib
import json
import os
import shutil
import stat
import sys


def digest(path, st):
    if stat.S_ISLNK(st.st_mode):
        return hashlib.sha256(os.readlink(path).encode("utf-8", "surrogateescape")).hexdigest()
    if not stat.S_ISREG(st.st_mode):
        return None
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def kind_of(mode):
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    return "file" if stat.S_ISREG(mode) else "other"


def describe(root, path):
    st = os.lstat(path)
    return {
        "path": os.path.relpath(path, root).replace(os.sep, "/"),
        "kind": kind_of(st.st_mode),
        "size": st.st_size if stat.S_ISREG(st.st_mode) else 0,
        "mode": stat.S_IMODE(st.st_mode),
        "uid": st.st_uid,
        "gid": st.st_gid,
        "sha256": digest(path, st),
    }


def inventory(root):
    print(json.dumps(dict(describe(root, root), path="."), sort_keys=True))
    for here, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs) + sorted(files):
            print(json.dumps(describe(root, os.path.join(here, name)), sort_keys=True))


def copy(spec_path):
    with open(spec_path) as handle:
        spec = json.load(handle)
    source, target = spec["source"], spec["target"]
    for item in spec["files"]:
        dest = os.path.join(target, item["to"])
        os.makedirs(os.path.dirname(dest), mode=spec["dir_mode"], exist_ok=True)
        shutil.copyfile(os.path.join(source, item["from"]), dest, follow_symlinks=False)
        if not os.path.islink(dest):
            os.chmod(dest, item["mode"])
    for here, _dirs, files in os.walk(target):
        os.chown(here, spec["uid"], spec["gid"])
        os.chmod(here, spec["dir_mode"])
        for name in files:
            os.lchown(os.path.join(here, name), spec["uid"], spec["gid"])
    os.sync()


if __name__ == "__main__":
    {"inventory": inventory, "copy": copy}[sys.argv[1]](sys.argv[2])
