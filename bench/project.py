#!/usr/bin/env python3
"""Projects time to the target accuracy on a real cluster from a bench/run workers results file: the epochs W workers
need against one JVM (measured, E(W)) divided by the hardware speed-up of docs/scaling.md's cost model (S(W), rounds in
one barrier stage averaging through the workers' block managers, as a cluster runs them; a job per round beside it). A
model, not a measurement: beyond the measured W, E(W) is extrapolated."""
import argparse
import collections
import json
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no bench/__pycache__ left behind by the import below
from report import policy_label, target_text, worker_batch, workers_grid, workers_runs  # noqa: E402  (the same grid, medians and target as report.py)

PROG = "bench/project.py"
# docs/scaling.md, "The model": Spark's fixed cost per round; a real cluster's per-task scheduling (assumed there).
T0, T_TASK = 0.025, 0.003
# Parameters and one minibatch on one core, as docs/scaling.md measured them. Only models with a measured t_mb belong
# here: the docs' t_mb of the two large models are estimates at an assumed GFLOP/s (and never ran workers).
# candle-cnn-5: every value of DL4J's parameter vector crosses a round, batch norm's running means and variances too
# (155,522 against the paper's 155,138 trainable); t_mb at its own batch, 128: process CPU-seconds per minibatch of
# single-JVM epochs (1 OpenMP thread; 128 / 232 examples per CPU-second, the median of 10 epochs), since the machine
# was never quiet enough for wall time (load 7-31, docs/scaling.md).
MODELS = {"lenet5": {"params": 61_706, "t_mb": 0.017, "batch": 64, "updater": "nesterovs"},
          "candle-cnn-5": {"params": 155_522, "t_mb": 0.55, "batch": 128, "updater": "adam"}}
# t_mb at a smaller minibatch per worker (sync cuts shards among the workers), relative to t_mb at the model's batch:
# single-JVM CPU seconds per minibatch at each batch, measured in one run (bench/RESULTS.md, 2026-12-07 session 8;
# lenet5: the second of two epochs over 12,000 images, quiet; candle-cnn-5: the mean of two epochs over its 3,458
# windows, load 6-10).
# LeNet-5's cost per minibatch shrinks far slower than the batch (~6.6 CPU-ms per minibatch whatever its size);
# candle-cnn-5's faster than the batch (an example costs 0.75x at 8 what it costs at 128). Other batches: interpolated
# in log(batch).
T_MB_RATIO = {"lenet5": {4: 0.194, 8: 0.281, 16: 0.463, 32: 0.582, 64: 1.0},
              "candle-cnn-5": {8: 0.047, 16: 0.090, 128: 1.0}}
STATE = {"nesterovs": 1, "adam": 2, "sgd": 0}  # updater state, in multiples of P, that crosses every round with it
NETWORKS = {"1 Gbit/s": 125e6, "10 Gbit/s": 1.25e9}  # beta, bytes/s
# docs/scaling.md, "Rounds inside one Spark job": two barrier syncs per round (a coordinator round trip each, assumed),
# and about 10 s of rounds per job (SparkTrainer's progress chunk), over which the job's launch is spread.
T_SYNC, CHUNK_SECONDS = 0.002, 10.0
MAX_EXCHANGE_BYTES = 64 * 2**20  # Rounds.MAX_EXCHANGE_BYTES: larger parameters + state run a job per round
WS = [2, 4, 8, 16, 32, 64]
GOAL_W, GOAL_NET, GOAL = 16, "10 Gbit/s", 1 / 8
# docs/scaling.md, "Where averaging stops paying": lenet5, averaging every 10, Nesterov state.
DOC_TABLE = {"1 Gbit/s": [1.6, 3.0, 5.5, 9.8, 16.0, 24.0], "10 Gbit/s": [1.7, 3.3, 6.1, 11.0, 18.4, 27.6]}


def fail(msg):
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    sys.exit(2)


def round_bytes(model, updater="nesterovs"):
    """B = 4·(P + S): parameters and updater state, as floats."""
    return 4 * MODELS[model]["params"] * (1 + STATE.get(updater, 1))


def t_mb_at(model, batch):
    """A minibatch's time at `batch` examples: t_mb at the model's own batch times T_MB_RATIO, between measured
    batches through the cost per example, interpolated in log(batch)."""
    own = MODELS[model]["batch"]
    if batch == own:
        return MODELS[model]["t_mb"]
    per_example = sorted((b, r * own / b) for b, r in T_MB_RATIO.get(model, {}).items())
    if not per_example or not per_example[0][0] <= batch <= per_example[-1][0]:
        fail(f"{model}: no measured t_mb near a minibatch of {batch} (T_MB_RATIO)")
    for (b0, c0), (b1, c1) in zip(per_example, per_example[1:]):
        if b0 <= batch <= b1:
            x = math.log(batch / b0) / math.log(b1 / b0)
            return MODELS[model]["t_mb"] * (c0 + x * (c1 - c0)) * batch / own


def speedup(model, w, f, beta, updater="nesterovs", shards=None, in_job=False, worker_batch=None):
    """S(W) = one JVM's time for the examples of a round / T_round. A job per round: T_round = T0 + t_task·W + F·t_mb +
    B/β + 2·√W·B/β. Rounds in one job (in_job; PeerAverage): T_round = F·t_mb + 2·(W−1)/W·B/β + 2·t_sync + (T0 +
    t_task·W)/R, R the rounds in CHUNK_SECONDS. t_mb is at the workers' minibatch (worker_batch: sync cuts each shard
    into batch / worker_batch pieces, F = 1), one JVM's at the model's batch. With the epoch's minibatches (shards)
    given, per epoch as RoundLayout lays it out: R = ceil(pieces / (W·F)) rounds whose slowest worker fits
    m = ceil(pieces / (W·R)) minibatches, S = shards·t_mb(batch) / (R·T_round(m)): a small data set gives W workers
    fewer than F minibatches a round (candle-cnn-5's 28 at W = 16: one round of at most 2)."""
    batch, b = MODELS[model]["batch"], round_bytes(model, updater)
    wb = worker_batch or batch
    t_one, t_w = MODELS[model]["t_mb"], t_mb_at(model, wb)
    def t_round(m):
        if in_job and b <= MAX_EXCHANGE_BYTES:
            per_job = max(1.0, CHUNK_SECONDS / (m * t_w))
            return m * t_w + 2 * (w - 1) / w * b / beta + 2 * T_SYNC + (T0 + T_TASK * w) / per_job
        return T0 + T_TASK * w + m * t_w + b / beta + 2 * math.sqrt(w) * b / beta
    if shards is None:
        return w * f * wb / batch * t_one / t_round(f)
    pieces = shards * (batch // wb)
    rounds = -(-pieces // (w * f))
    return shards * t_one / (rounds * t_round(-(-pieces // (w * rounds))))


def self_check():
    """Recomputes docs/scaling.md's lenet5 table (F = 10); exit 1 if any entry is more than 0.05 away."""
    bad = 0
    for net, want in DOC_TABLE.items():
        got = [speedup("lenet5", w, 10, NETWORKS[net]) for w in WS]
        bad += sum(abs(g - x) > 0.05 for g, x in zip(got, want))
        print(f"lenet5, F=10, {net}: " + ", ".join(f"W={w} {g:.2f}x (docs {x}x)" for w, g, x in zip(WS, got, want)))
    print(f"self-check: {'OK' if not bad else f'{bad} entries differ by more than 0.05'}")
    return 0 if not bad else 1


WAYS = {True: "in one job", False: "a job per round"}


def model_text(model, updater):
    """The cost model's constants, for a table's heading."""
    return (f"in one job: t_sync {T_SYNC * 1e3:.0f} ms x 2 per round, a job per {CHUNK_SECONDS:.0f} s of rounds; a job "
            f"per round: T0 {T0 * 1e3:.0f} ms, t_task {T_TASK * 1e3:.0f} ms; P {MODELS[model]['params']:,}, t_mb "
            f"{MODELS[model]['t_mb'] * 1e3:.0f} ms, {updater}, B {round_bytes(model, updater) / 1e6:.2f} MB")


def hardware(model, f, shards, policy=""):
    """S(W) alone, for a model without workers runs to project: and the E(16) the goal allows, S(16) / 8. With policy
    sync[:b], each worker's minibatch is its piece of a shard and F = 1."""
    updater, batch = MODELS[model]["updater"], MODELS[model]["batch"]
    f = 1 if policy.startswith("sync") else f
    wb = {w: worker_batch(policy, w, batch) for w in WS}
    per = f"per epoch of {shards:,} minibatches" if shards else "full rounds"
    if policy.startswith("sync"):
        per += f", {policy} (minibatch per worker: " + ", ".join(str(wb[w]) for w in WS) + ")"
    head = "| network, F | " + " | ".join(f"W={w}" for w in WS) + " |\n|---|" + "---|" * len(WS)
    out = [f"### Hardware speed-up S(W) of {model}, {per} ({model_text(model, updater)}); speed-up (efficiency)\n", head]
    for in_job in (True, False):
        for net, beta in NETWORKS.items():
            out.append(f"| {net}, F={f}, {WAYS[in_job]} | " + " | ".join(f"{x:.1f}x ({x / w:.2f})" for x, w in (
                (speedup(model, w, f, beta, updater, shards, in_job, wb[w]), w) for w in WS)) + " |")
    s16 = speedup(model, GOAL_W, f, NETWORKS[GOAL_NET], updater, shards, True, worker_batch(policy, GOAL_W, batch))
    out.append(f"\nGoal (time to the target at W={GOAL_W} on {GOAL_NET} <= 1/8 of one JVM's) holds while E({GOAL_W}) <= "
               f"S({GOAL_W}) / 8 = {s16 / 8:.2f} epochs per one JVM's epoch.")
    return "\n".join(out)


def factors(grid):
    """{policy: {W: (E, extrapolated)}}: median epochs at W / median at W = 1 (not reached = +inf); W not measured:
    E = 1 + a·log2(W), a fitted by least squares over the reached W >= 2 through E(1) = 1, clamped to >= 1;
    no fit when the largest measured W was not reached (more workers would not reach it either)."""
    out = {}
    for p, cells in grid.items():
        med = {w: statistics.median([e if e is not None else math.inf for _, e in c]) for w, c in cells.items()}
        one = med.get(1)
        if one is None or one == math.inf:
            out[p] = {}
            continue
        meas = {w: m / one for w, m in med.items() if w > 1}
        pts = [(math.log2(w), e) for w, e in meas.items() if e != math.inf]
        a = (sum(x * (e - 1) for x, e in pts) / sum(x * x for x, _ in pts)
             if pts and meas[max(meas)] != math.inf else None)
        out[p] = {w: (meas[w], False) for w in meas}
        if a is not None:
            out[p].update({w: (max(1.0, 1 + a * math.log2(w)), True) for w in WS if w not in meas})
        out[p]["slope"] = a
    return out


def cell(x, star, fmt):
    return "-" if x is None or x == math.inf else fmt(x) + ("*" if star else "")


def projection(rs, model):
    runs = workers_runs(rs, model)
    updater, batch = runs[0].get("updater", "nesterovs"), runs[0]["batch"]
    if model not in MODELS:
        fail(f"model {model} is not modelled (no measured t_mb in docs/scaling.md)")
    shards = -(-runs[0]["examplesPerEpoch"] // batch)
    spark = [r for r in runs if r["mode"] == "spark"]
    # sync averages after every piece of a shard: F = 1 and the workers' minibatch recorded by the run
    freq = {p: collections.Counter(1 if r["averagingPolicy"].startswith("sync") else r["averagingFrequency"]
                                   for r in spark if policy_label(r) == p)
            for p in dict.fromkeys(policy_label(r) for r in spark)}
    freq = {p: c.most_common(1)[0][0] for p, c in freq.items()}
    for r in spark:  # the rule below is AveragingPolicy.pieces: the runs say what the product did
        if "workerBatch" in r and r["workerBatch"] != worker_batch(r["averagingPolicy"], r["workers"], batch):
            fail(f"a {r['averagingPolicy']} run at W={r['workers']} fitted minibatches of {r['workerBatch']}, the model "
                 f"says {worker_batch(r['averagingPolicy'], r['workers'], batch)}")
    label_policy = {policy_label(r): r["averagingPolicy"] for r in spark}
    grid = workers_grid(rs, model)
    fac = factors(grid)
    target = target_text(rs, runs)
    head = "| | " + " | ".join(f"W={w}" for w in WS) + " |\n|---|" + "---|" * len(WS)
    out = [f"\n## Projection: time to {target} on a cluster, {model}, batch {batch}, {updater} "
           f"({len(runs)} workers runs; model: docs/scaling.md)\n",
           f"### Hardware speed-up S(W) per epoch of {shards:,} minibatches ({model_text(model, updater)}); speed-up "
           "over one JVM's arithmetic (efficiency)\n",
           head.replace("| |", "| network, F, rounds |", 1)]
    for f, policy in sorted(set((freq[p], label_policy[p] if label_policy[p].startswith("sync") else "") for p in freq)):
        for in_job in (True, False):
            for net, beta in NETWORKS.items():
                s = [speedup(model, w, f, beta, updater, shards, in_job, worker_batch(policy, w, batch)) for w in WS]
                cut = f", {policy} (minibatch per worker: " + ", ".join(
                    str(worker_batch(policy, w, batch)) for w in WS) + ")" if policy else ""
                out.append(f"| {net}, F={f}{cut}, {WAYS[in_job]} | "
                           + " | ".join(f"{x:.1f}x ({x / w:.2f})" for x, w in zip(s, WS)) + " |")
    out += [f"\n### Statistical factor E(W): median epochs to the target at W / at W = 1 (one JVM)\n",
            head.replace("| |", "| policy | W=1 epochs |", 1).replace("|---|", "|---|---|", 1)]
    for p, cells in grid.items():
        one = statistics.median([e if e is not None else math.inf for _, e in cells.get(1, [(0, None)])])
        out.append(f"| {p} | {cell(one, False, lambda x: f'{x:.2f}')} | "
                   + " | ".join(cell(*fac[p].get(w, (None, False)), lambda x: f"{x:.2f}") for w in WS) + " |")
    proj = {p: {net: {w: (fac[p][w][0] / speedup(model, w, freq.get(p, 5), beta, updater, shards, True,
                                                  worker_batch(label_policy.get(p, ""), w, batch)), fac[p][w][1])
                      for w in WS if w in fac[p]} for net, beta in NETWORKS.items()} for p in grid}
    for net in NETWORKS:
        out += [f"\n### Projected time to the target relative to one JVM, P(W) = E(W) / S(W), {net} (1/x: x times "
                "faster)\n", head.replace("| |", "| policy, F |", 1)]
        for p in grid:
            label = p if " F=" in p else f"{p}, F={freq.get(p, '?')}"  # a label that names its F already
            out.append(f"| {label} | " + " | ".join(
                cell(*proj[p][net].get(w, (None, False)), lambda x: f"{x:.2f} (1/{1 / x:.1f})") for w in WS) + " |")
    out.append("")
    for p in grid:
        x, star = proj[p][GOAL_NET].get(GOAL_W, (None, False))
        fig = ("n/a (not reached, or not extrapolated)" if x is None or x == math.inf else
               f"{x:.3f}{'*' if star else ''} of one JVM's (goal <= 1/8 = {GOAL}: {'met' if x <= GOAL else 'NOT met'})")
        out.append(f"{model}, {p}: projected time to {target} at W={GOAL_W} on {GOAL_NET}: {fig}")
    slopes = ", ".join(f"{p} a = {fac[p]['slope']:.3f}" for p in grid if fac[p].get("slope") is not None)
    b = round_bytes(model, updater)
    out += ["\nNotes:",
            f"- * = extrapolated (W not measured): E = 1 + a·log2(W), least squares over the reached measured W >= 2 "
            f"with E(1) = 1, clamped to >= 1 ({slopes or 'no fit'}); '-' = not reached in the runs (or no W = 1 run), "
            "or not extrapolated because the largest measured W did not reach the target.",
            "- P(W) takes the rounds in one job (a barrier stage, PeerAverage), as a cluster with a task slot per worker "
            "runs them; a job per round (more workers than slots, dynamic allocation) is the second row of each F."]
    if any(p.startswith("post-local") for p in grid):
        out.append("- post-local: its warm-up epochs average every minibatch (F = 1); S(W) ignores them and uses the "
                   "runs' F, so it overstates post-local's speed-up during the warm-up.")
    if batch != MODELS[model]["batch"]:
        out.append(f"- the runs' batch is {batch}, t_mb was measured at batch {MODELS[model]['batch']}: S(W) is off.")
    return "\n".join(out), proj, target


def plot(proj, target, model, png):
    """P(W) against W (log-log): a colour per policy, solid 10 Gbit/s, dashed 1 Gbit/s, grey the ideal 1/W."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"{PROG}: SKIPPED the plot: no matplotlib (apt-get install python3-matplotlib)")
        return
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.plot([1] + WS, [1 / w for w in [1] + WS], color="grey", linewidth=0.8, label="ideal 1/W")
    for i, (p, nets) in enumerate(proj.items()):
        for net, style in (("10 Gbit/s", "-"), ("1 Gbit/s", "--")):
            pts = [(w, x, star) for w, (x, star) in sorted(nets[net].items()) if x != math.inf]
            if pts:
                ax.plot([w for w, _, _ in pts], [x for _, x, _ in pts], linestyle=style, color=f"C{i}",
                        label=f"{p}, {net}")
                for w, x, star in pts:  # filled: E(W) measured; hollow: extrapolated
                    ax.plot(w, x, marker="o", markersize=4, color=f"C{i}", markerfacecolor="white" if star else f"C{i}")
    ax.axhline(GOAL, color="grey", linestyle=":", linewidth=0.8)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks([1] + WS)
    ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.set_yticks([1 / 2**k for k in range(7)], ["1"] + [f"1/{2**k}" for k in range(1, 7)])
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("workers W (projected cluster; a job per averaging round)")
    ax.set_ylabel("time to the target / one JVM's")
    ax.set_title(f"{model}: projected time to {target} on a cluster, E(W) / S(W)", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, title_fontsize=7, handlelength=3, title="hollow: E(W) extrapolated; dotted: goal 1/8")
    fig.tight_layout()
    fig.savefig(png)
    print(f"{PROG}: wrote {png}")


def main():
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument("results", nargs="*", help="bench results files (JSON lines) with bench/run workers runs; each "
                   "model in them is projected (lenet5's runs and candle-cnn-5's come from separate bench/run workers)")
    p.add_argument("--plot", metavar="PNG", help="also draw projected time against W (several models: PNG-MODEL.png)")
    p.add_argument("--self-check", action="store_true", help="recompute docs/scaling.md's lenet5 table and exit")
    p.add_argument("--hardware", metavar="MODEL", choices=sorted(MODELS),
                   help="print MODEL's S(W) alone and the E(16) the goal allows, without runs")
    p.add_argument("--frequency", type=int, default=5, help="--hardware: minibatches per round F (default 5)")
    p.add_argument("--shards", type=int, help="--hardware: minibatches per epoch (default: full rounds of F)")
    p.add_argument("--policy", default="", help="--hardware: an averaging policy that sets the workers' minibatch (sync[:b])")
    a = p.parse_args()
    if a.self_check:
        sys.exit(self_check())
    if a.hardware:
        print(hardware(a.hardware, a.frequency, a.shards, a.policy))
        return
    if not a.results:
        fail("a results file is required (or --self-check)")
    rs = []
    for path in a.results:
        try:
            with open(path) as f:
                rs += [json.loads(line) for line in f if line.strip()]
        except (OSError, ValueError) as e:
            fail(f"cannot read {path}: {e}")
    models = list(dict.fromkeys(r["model"] for r in rs if r.get("label") == "workers" and "tta" in r))
    if not models:
        fail(f"no 'workers' results in {', '.join(a.results)} (bench/run workers writes them)")
    for model in models:
        if workers_runs(rs, model)[0]["tta"]["target"] <= 0:
            print(f"\n{model}: its workers runs had no target (WORKERS_TARGET=0, loss curves only): no time to project")
            continue
        text, proj, target = projection(rs, model)
        print(text)
        if a.plot:
            stem, ext = os.path.splitext(a.plot)
            plot(proj, target, model, a.plot if len(models) == 1 else f"{stem}-{model}{ext}")


if __name__ == "__main__":
    main()
