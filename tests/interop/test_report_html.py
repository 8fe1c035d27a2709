#!/usr/bin/python3
"""The HTML parity report in a real browser: `supra validate --report out.html`
on numpy-made logits and hidden-state dumps with an error planted at layer 3's
attention, rendered by headless Chromium (Debian's `chromium`):

- the file loads nothing: no "http", no "<script", no @font-face, no url(;
- in the DOM Chromium builds, the SVG plot is there with its polyline (one
  point per step), one circle per step, the tolerance line and the marked
  first divergence; the hidden-state table marks layer 3 attn;
- a screenshot renders (a PNG of the page's size).

usage: test_report_html.py PATH_TO_SUPRA"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_harness import check as harness_check, summary  # noqa: E402

SUPRA = sys.argv[1]


def check(name, ok, detail=""):
    """The harness's check, with the detail printed only for a failure."""
    return harness_check(name, ok, "" if ok else detail)
LAYERS, SUBSTEPS = 6, ["attn", "mlp"]


def chromium(*args, timeout=180):
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-dev-shm-usage", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def make_inputs(tmp):
    rng = np.random.default_rng(3)
    T, V, D = 32, 200, 16
    a = (rng.standard_normal((T, V)) * 2).astype(np.float32)
    b = (a + rng.standard_normal((T, V)) * 0.5).astype(np.float32)
    np.save(os.path.join(tmp, "a.npy"), a)
    np.save(os.path.join(tmp, "b.npy"), b)
    json.dump(rng.integers(0, V, size=T).tolist(), open(os.path.join(tmp, "t.json"), "w"))
    ha, hb = {}, {}
    for layer in range(LAYERS):
        for sub in SUBSTEPS:
            x = rng.standard_normal((T, D)).astype(np.float32)
            noise = 1e-7 * (layer + 1) if (layer, sub) < (3, "attn") else 0.3
            ha[f"layers.{layer}.{sub}"] = x
            hb[f"layers.{layer}.{sub}"] = (x + noise * rng.standard_normal((T, D))).astype(np.float32)
    np.savez(os.path.join(tmp, "ha.npz"), **ha)
    np.savez(os.path.join(tmp, "hb.npz"), **hb)


def main():
    if not check("chromium is installed (tools/install_deps.sh)", shutil.which("chromium") is not None):
        return summary()
    with tempfile.TemporaryDirectory() as tmp:
        p = lambda name: os.path.join(tmp, name)  # noqa: E731
        make_inputs(tmp)
        r = subprocess.run([SUPRA, "validate", "--from-logits", p("a.npy"), p("b.npy"), "--tokens", p("t.json"),
                            "--hidden", p("ha.npz"), p("hb.npz"), "--report", p("report.html")],
                           capture_output=True, text=True)
        check("validate exits 6 (parity fails) and names layer 3 attn", r.returncode == 6
              and "first divergence: layer 3 attn" in r.stdout, f"exit {r.returncode}: {r.stderr}")
        html = open(p("report.html"), encoding="utf-8").read()
        for banned in ["http", "<script", "@font-face", "url("]:
            check(f"report.html holds no {banned!r}", banned not in html)

        d = chromium("--dump-dom", "file://" + p("report.html"))
        dom = d.stdout
        check("chromium --dump-dom ran", d.returncode == 0 and "<body" in dom, d.stderr[-300:])
        svg = re.search(r'<svg id="error-plot".*?</svg>', dom, re.S)
        check("rendered DOM holds the SVG plot", svg is not None)
        svg = svg.group(0) if svg else ""
        line = re.search(r'<polyline class="error-line" points="([^"]+)"', svg)
        n_points = len(line.group(1).split()) if line else 0
        steps = LAYERS * len(SUBSTEPS)
        check("polyline with one point per step", n_points == steps, f"{n_points} points for {steps} steps")
        check("one circle per step", len(re.findall(r'<circle class="step"', svg)) == steps)
        check("tolerance line and first divergence marked",
              'class="tolerance"' in svg and 'class="first-divergence"' in svg
              and "first divergence: layer 3 attn" in svg)
        row = re.search(r'<tr class="first">(.*?)</tr>', dom, re.S)
        check("hidden-state table marks the first divergence row", row is not None and ">3<" in row.group(1)
              and ">attn<" in row.group(1))

        s = chromium("--screenshot=" + p("shot.png"), "--window-size=1000,1400", "file://" + p("report.html"))
        png = open(p("shot.png"), "rb").read() if os.path.exists(p("shot.png")) else b""
        check("chromium --screenshot renders a PNG", s.returncode == 0 and png[:8] == b"\x89PNG\r\n\x1a\n"
              and len(png) > 10000, f"{len(png)} bytes {s.stderr[-200:]}")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
