#!/usr/bin/python3
"""Parity metrics against numpy: logits made with numpy go through
`supra validate --from-logits A.npy B.npy --tokens T.json --json`, and every
metric it reports is recomputed here with numpy (float64) to 1e-9:

- PPL of A and B, the PPL ratio, KLD mean and percentiles (numpy's linear
  percentile, as llama-perplexity), Δp percentiles and RMS, same top-1, top-5
  overlap, max abs and relative L2 logit error, llama-perplexity's errors;
- several sequences ([S, T, V] logits, a list of token arrays), f64 logits;
- --save-base / --base: the .npz opens with np.load and holds numpy's top-32
  ids, log-probs, tail mass and next-token log-probs; the KLD against it is
  numpy's KL over {top-32, the rest};
- a parity failure exits 6 naming the failed checks; bad tokens exit 3.

usage: test_parity_metrics.py PATH_TO_SUPRA"""
import json
import os
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
LEVELS = {"max": 100, "p99.9": 99.9, "p99": 99, "p95": 95, "p90": 90, "p75": 75, "median": 50,
          "p25": 25, "p10": 10, "p5": 5, "p1": 1, "p0.1": 0.1, "min": 0}


def supra(*args):
    return subprocess.run([SUPRA, *args], capture_output=True, text=True)


def log_softmax(z):
    z = z.astype(np.float64)
    m = z.max(-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))


def mean_error(x):
    """llama-perplexity's mean and standard error."""
    x = np.asarray(x, dtype=np.float64)
    var = ((x - x.mean()) ** 2).mean()
    return x.mean(), (np.sqrt(var / (len(x) - 1)) if len(x) > 10 and var > 0 else 0.0)


def top_ids(z, k):
    return np.argsort(-z.astype(np.float64), axis=-1, kind="stable")[..., :k]


def expected(a, b, tokens):
    """Every metric from the [rows, V] logits and per-row next tokens (-1: none)."""
    la, lb = log_softmax(a), log_softmax(b)
    pa, pb = np.exp(la), np.exp(lb)
    kld = (pa * (la - lb)).sum(-1)
    rows = np.arange(len(a))
    scored = tokens >= 0
    nxt = tokens[scored]
    nll_a, nll_b = -la[rows[scored], nxt], -lb[rows[scored], nxt]
    dp = pb[rows[scored], nxt] - pa[rows[scored], nxt]
    ta, tb = top_ids(a, 5), top_ids(b, 5)
    overlap = np.mean([len(set(x) & set(y)) / 5 for x, y in zip(ta, tb)])
    diff = b.astype(np.float64) - a.astype(np.float64)
    e = {"kld.mean": mean_error(kld)[0], "kld.error": mean_error(kld)[1],
         "ppl_a.value": np.exp(nll_a.mean()), "ppl_b.value": np.exp(nll_b.mean()),
         "ppl_a.error": np.exp(nll_a.mean()) * mean_error(nll_a)[1],
         "ln_ppl_ratio.value": (nll_b - nll_a).mean(), "ln_ppl_ratio.error": mean_error(nll_b - nll_a)[1],
         "ppl_ratio.value": np.exp((nll_b - nll_a).mean()), "nll_correlation": np.corrcoef(nll_a, nll_b)[0, 1],
         "delta_p.mean": dp.mean(), "delta_p.rms": np.sqrt((dp ** 2).mean()),
         "same_top1.value": np.mean(a.argmax(-1) == b.argmax(-1)), "top5_overlap": overlap,
         "max_abs_logit_error": np.abs(diff).max(),
         "rel_l2_logit_error": np.linalg.norm(diff) / np.linalg.norm(a.astype(np.float64))}
    for key, q in LEVELS.items():
        e["kld." + key] = np.percentile(kld, q)
        e["delta_p." + key] = np.percentile(dp, q)
    return e


def lookup(j, dotted):
    """'kld.p99.9' -> j['kld']['p99.9'] (the level keys hold dots themselves)."""
    for part in dotted.split(".", 1):
        j = j[part]
    return j


def compare_all(name, report, exp, rtol=1e-9, atol=1e-12):
    bad = []
    for key, want in exp.items():
        got = lookup(report["logits"], key)
        if got is None or not np.isclose(got, want, rtol=rtol, atol=atol):
            bad.append(f"{key}: supra {got} numpy {want}")
    check(f"{name}: {len(exp)} metrics match numpy to 1e-9", not bad, "; ".join(bad[:4]))


def next_tokens(seqs, rows):
    out = []
    for s in seqs:
        out += [s[t + 1] if t + 1 < len(s) else -1 for t in range(rows)]
    return np.array(out)


def run_json(*args):
    r = supra("validate", *args, "--json")
    try:
        return r, json.loads(r.stdout)
    except json.JSONDecodeError:
        return r, None


def main():
    rng = np.random.default_rng(8)
    with tempfile.TemporaryDirectory() as tmp:
        p = lambda name: os.path.join(tmp, name)  # noqa: E731
        T, V = 96, 500
        a = (rng.standard_normal((T, V)) * 2.5).astype(np.float32)
        b = (a + rng.standard_normal((T, V)) * 0.05).astype(np.float32)
        toks = rng.integers(0, V, size=T).tolist()
        np.save(p("a.npy"), a)
        np.save(p("b.npy"), b)
        json.dump(toks, open(p("t.json"), "w"))

        r, j = run_json("--from-logits", p("a.npy"), p("b.npy"), "--tokens", p("t.json"), "--tol-basis", "q4")
        check("one sequence: exit 0 under q4 tolerances", r.returncode == 0 and j is not None, r.stderr)
        if j:
            check("positions / scored", j["logits"]["positions"] == T and j["logits"]["scored"] == T - 1)
            compare_all("one sequence f32", j, expected(a, b, next_tokens([toks], T)))

        # Several sequences, f64 logits, one token more than rows (every row scored).
        S, T2 = 3, 20
        a3 = rng.standard_normal((S, T2, V)) * 3
        b3 = a3 + rng.standard_normal((S, T2, V)) * 0.2
        seqs = rng.integers(0, V, size=(S, T2 + 1)).tolist()
        np.save(p("a3.npy"), a3)
        np.save(p("b3.npy"), b3)
        json.dump(seqs, open(p("t3.json"), "w"))
        r, j = run_json("--from-logits", p("a3.npy"), p("b3.npy"), "--tokens", p("t3.json"), "--tol-basis", "q2")
        if check("three sequences: report produced", j is not None, r.stderr):
            check("every row scored", j["logits"]["scored"] == S * T2)
            compare_all("three sequences f64", j, expected(a3.reshape(-1, V), b3.reshape(-1, V), next_tokens(seqs, T2)))

        # A baseline, then B against it.
        r = supra("validate", "--from-logits", p("a.npy"), "--tokens", p("t.json"), "--save-base", p("base.npz"))
        check("--save-base exits 0", r.returncode == 0, r.stderr)
        base = np.load(p("base.npz"))
        la = log_softmax(a)
        ids = top_ids(a, 32)
        rows = np.arange(T)[:, None]
        tail = np.log(1 - np.exp(la[rows, ids]).sum(-1))
        nxt = next_tokens([toks], T)
        check("baseline arrays: tokens, top-32 ids, log-probs, tail mass, next log-prob",
              np.array_equal(base["tokens"], np.array([toks])) and np.array_equal(base["top_ids"], ids)
              and np.allclose(base["top_logprobs"], la[rows, ids], rtol=0, atol=1e-12)
              and np.allclose(base["tail_logmass"], tail, rtol=1e-9, atol=1e-12)
              and np.allclose(base["next_logprob"][:-1], la[np.arange(T - 1), nxt[:-1]], rtol=0, atol=1e-12)
              and np.isnan(base["next_logprob"][-1]) and int(base["vocab_size"][0]) == V)
        r, j = run_json("--from-logits", p("b.npy"), "--base", p("base.npz"), "--tol-basis", "q4")
        if check("--base: report produced", j is not None, r.stderr):
            lb = log_softmax(b)
            pa_top, pb_top = np.exp(la[rows, ids]), np.exp(lb[rows, ids])
            ta, tb = 1 - pa_top.sum(-1), 1 - pb_top.sum(-1)
            coarse = (pa_top * (la[rows, ids] - lb[rows, ids])).sum(-1) + ta * np.log(ta / tb)
            exp = expected(a, b, nxt)
            want = {"kld.mean": coarse.mean(), "kld.max": coarse.max(), "kld.median": np.median(coarse),
                    "ppl_a.value": exp["ppl_a.value"], "ppl_b.value": exp["ppl_b.value"],
                    "delta_p.rms": exp["delta_p.rms"], "same_top1.value": exp["same_top1.value"],
                    "top5_overlap": exp["top5_overlap"]}
            compare_all("against the top-32 baseline", j, want, rtol=1e-8, atol=1e-11)
            check("baseline report: reference and no raw-logit error",
                  j["logits"]["reference"] == "baseline" and j["logits"]["baseline_top_k"] == 32
                  and j["logits"]["rel_l2_logit_error"] is None)

        # Failing parity names its checks and exits 6.
        r, j = run_json("--from-logits", p("a.npy"), p("b.npy"), "--tokens", p("t.json"))
        check("f32 tolerances on noisy logits: exit 6", r.returncode == 6, f"exit {r.returncode} {r.stderr}")
        check("failed checks named", j is not None and "kld_mean" in j["failed_checks"]
              and "logit_rel_l2" in j["failed_checks"], j and j["failed_checks"])
        json.dump([V + 5] * T, open(p("bad.json"), "w"))
        r = supra("validate", "--from-logits", p("a.npy"), p("b.npy"), "--tokens", p("bad.json"))
        check("token outside the vocabulary: exit 3, [validate.tokens]",
              r.returncode == 3 and r.stderr.startswith("[validate.tokens]"), r.stderr)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
