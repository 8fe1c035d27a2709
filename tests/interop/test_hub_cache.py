#!/usr/bin/python3
"""The Hugging Face hub cache as huggingface_hub lays it out (issue 13):
models--org--name/{blobs/<sha256>, snapshots/<commit>/<file> -> ../../blobs/<sha256>,
refs/main = <commit>}. Built here with torch.save'd weights for two revisions.
- the repo folder resolves refs/main to its snapshot: inspect and convert read
  that revision (equal to torch.load of it), not the other one;
- without refs/main and with two snapshots, supra refuses (exit 3) and lists
  both snapshot folders; with one, it reads it;
- refs/main naming a snapshot that is not there is refused, naming it.

usage: test_hub_cache.py PATH_TO_SUPRA"""
import collections
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_harness import check, summary  # noqa: E402

SUPRA = sys.argv[1]


def supra(*args):
    return subprocess.run([SUPRA, *args], capture_output=True, text=True)


def add_revision(repo, commit, state_dict, tmp):
    """Stores the files of one revision as the hub does: content-addressed blobs, relative symlinks."""
    staging = os.path.join(tmp, "staging_" + commit)
    os.makedirs(staging)
    torch.save(state_dict, os.path.join(staging, "pytorch_model.bin"))
    with open(os.path.join(staging, "config.json"), "w") as f:
        json.dump({"model_type": "test", "revision": commit}, f)
    snapshot = os.path.join(repo, "snapshots", commit)
    os.makedirs(snapshot)
    os.makedirs(os.path.join(repo, "blobs"), exist_ok=True)
    for name in os.listdir(staging):
        data = open(os.path.join(staging, name), "rb").read()
        blob = hashlib.sha256(data).hexdigest()
        shutil.move(os.path.join(staging, name), os.path.join(repo, "blobs", blob))
        os.symlink(os.path.join("..", "..", "blobs", blob), os.path.join(snapshot, name))


def inspected_names(path):
    r = supra("inspect", path, "--json")
    return (sorted(t["name"] for t in json.loads(r.stdout)["tensors"]) if r.returncode == 0 else None), r


def main():
    g = torch.Generator().manual_seed(5)
    old = collections.OrderedDict(old_weight=torch.randn(3, 4, generator=g))
    new = collections.OrderedDict(weight=torch.randn(4, 5, generator=g), bias=torch.randn(5, generator=g).half())
    c_old, c_new = "a" * 40, "b" * 40
    with tempfile.TemporaryDirectory() as tmp:
        repo = os.path.join(tmp, "hub", "models--org--name")
        add_revision(repo, c_old, old, tmp)
        add_revision(repo, c_new, new, tmp)
        os.makedirs(os.path.join(repo, "refs"))
        with open(os.path.join(repo, "refs", "main"), "w") as f:
            f.write(c_new)  # the hub writes the bare commit, no newline

        names, r = inspected_names(repo)
        check("repo folder: inspect reads the snapshot refs/main names", names == sorted(new), r.stderr.strip() or names)
        out = os.path.join(tmp, "out.npz")
        r = supra("convert", repo, out, "--dtype", "f32")
        ok = r.returncode == 0
        if ok:
            with np.load(out) as z:
                ok = sorted(z.files) == sorted(new) and all(
                    z[k].tobytes() == new[k].float().numpy().tobytes() for k in new)
        check("repo folder: convert writes that revision, equal to torch.load's", ok, r.stderr.strip())

        os.remove(os.path.join(repo, "refs", "main"))
        r = supra("inspect", repo)
        check("no refs/main, two snapshots: refused, both listed", r.returncode == 3 and "[hub.102]" in r.stderr
              and c_old in r.stderr and c_new in r.stderr, r.stderr.strip())

        with open(os.path.join(repo, "refs", "main"), "w") as f:
            f.write("c" * 40 + "\n")
        r = supra("inspect", repo)
        check("refs/main naming a missing snapshot: refused, named", r.returncode == 3 and "[hub.101]" in r.stderr
              and "c" * 40 in r.stderr, r.stderr.strip())

        os.remove(os.path.join(repo, "refs", "main"))
        shutil.rmtree(os.path.join(repo, "snapshots", c_old))
        names, r = inspected_names(repo)
        check("no refs/main, one snapshot: read", names == sorted(new), r.stderr.strip() or names)
        names, r = inspected_names(os.path.join(repo, "snapshots", c_new))
        check("a snapshot folder itself still reads", names == sorted(new), r.stderr.strip() or names)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
