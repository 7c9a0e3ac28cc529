#!/usr/bin/env python3
"""Turns the BENCH json lines of one bench/run into tables: each figure is the median and spread (min-max) of the
epochs after the first (warm-up) epoch, with ratios and goals. --append adds the tables to bench/RESULTS.md."""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess


def rates(r):
    eps = [e["examplesPerSecond"] for e in r["epochs"]]
    return eps[1:] if len(eps) > 1 else eps


def fig(r):
    v = rates(r)
    return statistics.median(v), min(v), max(v), len(v)


def fmt(r):
    med, lo, hi, n = fig(r)
    return f"{med:,.0f} ({lo:,.0f}-{hi:,.0f}, n={n})"


def per_cpu(r):
    """Examples per CPU-second (whole process, median of epochs 2+): steadier than wall time on a shared machine."""
    v = [e["examplesPerCpuSecond"] for e in r["epochs"] if "examplesPerCpuSecond" in e]
    v = v[1:] if len(v) > 1 else v
    return f"{statistics.median(v):,.0f}" if v else "n/a"


def ratio(a, b, goal=None):
    if not a or not b:
        return "n/a"
    x = fig(a)[0] / fig(b)[0]
    return f"{x:.2f}x" + (f" (goal >= {goal}x: {'met' if x >= goal else 'NOT met'})" if goal else "")


def machine():
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    return (f"{os.cpu_count()} cores, {mem:.0f} GiB, {platform.processor() or platform.machine()}, {java}, "
            f"ND4J nd4j-native linux-x86_64-onednn (oneDNN helpers on, OpenBLAS 0.3.19)")


def find(rs, **kw):
    for r in rs:
        if all(str(r.get(k)) == str(v) for k, v in kw.items()):
            return r
    return None


def tables(rs):
    out = []
    train = [r for r in rs if r["label"] == "train"]
    for model in dict.fromkeys(r["model"] for r in train):
        m = [r for r in train if r["model"] == model]
        out.append(f"\n### train: {model} on Fashion-MNIST, batch 64, Nesterov momentum (examples/s, median (min-max) of epochs 2+)\n")
        out.append("| configuration | threads | examples/s | per CPU-second | final validation acc | test acc |")
        out.append("|---|---|---|---|---|---|")
        for r in m:
            out.append(f"| {r['mode']} {r['master']} | {r['threads']} | {fmt(r)} | {per_cpu(r)} | "
                       f"{r['epochs'][-1]['validationAccuracy']:.4f} | {r['testAccuracy']:.4f} |")
        spark = find(m, mode="spark")
        s1 = find(m, mode="single", threads=1)
        s2 = find(m, mode="single", threads=2)
        t2 = find(m, mode="pytorch", threads=2)
        out.append(f"\nSpark local[2] / single-JVM 1 thread: {ratio(spark, s1, 1.7)}; "
                   f"/ single-JVM 2 threads: {ratio(spark, s2)}; / PyTorch 2 threads: {ratio(spark, t2, 1.0)}")
    avg = [r for r in rs if r["label"] == "averaging"]
    if avg:
        out.append("\n### averaging frequency x updater: Spark local[2], lenet5 (validation accuracy after each epoch)\n")
        out.append("| updater | every | examples/s | accuracy per epoch | test acc |")
        out.append("|---|---|---|---|---|")
        for r in avg:
            curve = " ".join(f"{e['validationAccuracy']:.3f}" for e in r["epochs"])
            out.append(f"| {r['updater']} | {r['averagingFrequency']} | {fmt(r)} | {curve} | {r['testAccuracy']:.4f} |")
    sc = [r for r in rs if r["label"] == "scaling"]
    if sc:
        one = find(sc, master="local[1]")
        two = find(sc, master="local[2]", repeat=1)
        out.append("\n### scaling: Spark parameter averaging, lenet5\n")
        out.append("| workers | data | examples/s | per CPU-second | seconds per epoch (median) | test acc |")
        out.append("|---|---|---|---|---|---|")
        for r in sc:
            secs = statistics.median([e["seconds"] for e in r["epochs"][1:] or r["epochs"]])
            out.append(f"| {r['master']} | {r['repeat']}x | {fmt(r)} | {per_cpu(r)} | {secs:.1f} | {r['testAccuracy']:.4f} |")
        out.append(f"\n2 workers / 1 worker: {ratio(two, one, 1.7)}")
        for r in sc:
            if r["repeat"] > 1 and two:
                base = statistics.median([e["seconds"] for e in two["epochs"][1:] or two["epochs"]])
                secs = statistics.median([e["seconds"] for e in r["epochs"][1:] or r["epochs"]])
                out.append(f"data {r['repeat']}x: epoch time {secs / base:.2f}x of 1x (linear = {r['repeat']}.00x)")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("results")
    p.add_argument("--append")
    a = p.parse_args()
    with open(a.results) as f:
        rs = [json.loads(line) for line in f if line.strip()]
    if not rs:
        raise SystemExit(f"bench/report.py: error: {a.results} holds no results")
    text = (f"\n## {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC\n\nMachine: {machine()}\n"
            + tables(rs) + "\n")
    print(text)
    if a.append:
        with open(a.append, "a") as f:
            f.write(text)


if __name__ == "__main__":
    main()
