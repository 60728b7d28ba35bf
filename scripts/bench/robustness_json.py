#!/usr/bin/env python3
"""Folds the runs of scripts/bench/robustness.sh into a "table" section for BENCHMARKS.md.

    robustness_json.py --runs runs.jsonl --commands F --threads N --load-at-start "a b c"
                       --waited-seconds S --tmp DIR --out scripts/bench/results/60-robustness.json

Each line of runs.jsonl is one measured command: its name (benchK, pgdK, uap, cka), wall and CPU
seconds of the process, the load average before it, the CPU-seconds other processes used
meanwhile, and the command's JSON output.
"""

import argparse
import datetime
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
from benchmarks_md import machine_description  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    for name in ("--runs", "--commands", "--load-at-start", "--tmp", "--out"):
        p.add_argument(name, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--waited-seconds", type=int, default=0)
    args = p.parse_args()

    runs = [json.loads(line) for line in open(args.runs) if line.strip()]
    bench = [r for r in runs if r["name"].startswith("bench")]
    pgd = [r for r in runs if r["name"].startswith("pgd")]
    uap = next(r for r in runs if r["name"] == "uap")
    cka = next(r for r in runs if r["name"] == "cka")

    # Engine: median of its timed rounds, as `rt bench engine` reports it.
    b_ips = [r["output"]["workloads"][0]["images_per_second"] for r in bench]
    b_cpu = [r["output"]["workloads"][0]["images_per_cpu_second"] for r in bench]
    # rt attack: its own per-attack seconds (crafting + judging the result), i.e. without process
    # start-up, checkpoint and data loading, and the clean pass.
    n = pgd[0]["output"]["examples"]
    a_ips = [n / r["output"]["results"][0]["seconds"] for r in pgd]
    a_cpu = [n / r["output"]["results"][0]["cpu_seconds"] for r in pgd]
    a_cmd = [n / r["wall_seconds"] for r in pgd]
    med = statistics.median
    # Paired by round (each attack right after its bench): on a shared machine a load change between
    # rounds then moves both sides of a ratio, not just one; the median ratio drops the odd round.
    ratios = [a / b for a, b in zip(a_ips, b_ips)]
    ratio, ratio_cpu = med(ratios), med(a / b for a, b in zip(a_cpu, b_cpu))

    u = uap["output"]["results"][0]
    k_stages = ", ".join(f'{s["stage"]} {s["cka"]:.3f}' for s in cka["output"]["stages"])

    def minutes(s):
        return f"{s:.1f} s" if s < 10 else f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"

    def other(r):
        return r["other_cpu_seconds"] / max(r["wall_seconds"], 1e-9)

    rows = [
        ["`rt bench engine --workloads small-cnn/pgd10` (random 1×28×28, batch 128; median of "
         f"{len(bench)} runs)", f"{med(b_ips):,.1f} images/s ({med(b_cpu):,.1f} per CPU-s)", ""],
        [f"`rt attack --attack pgd` PGD-10 L∞ 8/255 on {n:,} Fashion-MNIST test images, batch 128, "
         f"attack time only (median of {len(pgd)} runs)",
         f"{med(a_ips):,.1f} images/s ({med(a_cpu):,.1f} per CPU-s)", ""],
        ["rt attack / rt bench engine (median of the per-round ratios)",
         f"**{ratio:.2f}×** wall, {ratio_cpu:.2f}× per CPU-s",
         "≥ 0.90× (within 10%)"],
        ["`rt attack` PGD-10, whole command (start-up, loading, clean pass included)",
         f"{med(a_cmd):,.1f} images/s", ""],
        [f'`rt attack --attack uap` L∞ 8/255, {u["steps"]} passes over {uap["output"]["examples"]:,} test images',
         f'**{minutes(uap["wall_seconds"])}** wall ({minutes(u["seconds"])} crafting + applying, '
         f'{uap["cpu_seconds"]:.0f} CPU-s)', "minutes, not hours"],
        [f'`rt analyze cka`, two small-cnn checkpoints, {cka["output"]["examples"]:,} test images',
         f'**{minutes(cka["wall_seconds"])}** wall ({cka["cpu_seconds"]:.0f} CPU-s)', "minutes, not hours"],
    ]
    per_round = "; ".join(f"{b:,.1f} / {a:,.1f} = {a / b:.2f}× (other processes {other(rb):.2f} / {other(ra):.2f} cores)"
                          for b, a, rb, ra in zip(b_ips, a_ips, bench, pgd))
    loads = "; ".join(f'{r["name"]} {r["load_average_before"].split()[0]}' for r in runs)
    others = "; ".join(f'{r["name"]} {other(r):.2f}' for r in (uap, cka))
    notes = [
        f"{args.threads} threads for every command (`--threads {args.threads}`; also the default of "
        "`rt attack`, `rt analyze cka` and `rt bench engine`). Both PGD numbers run the same "
        "`ProjectedGradientAttack.run` (eps 8/255, step 2/255 = the default 2.5·eps/10, random start, "
        "final forward pass on the result), so their ratio is the overhead `rt attack` adds around the "
        "engine. The attack's time is the `seconds` / `cpu_seconds` of its `--json` result: the PGD calls "
        "plus judging their logits, per batch — not start-up, loading the checkpoint and the data, or "
        "the clean pass (the loader's one background thread prefetches the next batch meanwhile, and "
        "its CPU time is counted). The bench times whole calls on one fixed random batch (median of "
        "5 rounds of at least 1 s after a warm-up).",
        f"Bench / attack images/s in each of the {len(bench)} alternating rounds: {per_round}. "
        "Per CPU-second the two agree however busy the machine is; wall-clock ratios move with what "
        "else runs, which the cores used by other processes during each command show.",
        f'UAP: `--steps` (default 10) is its number of passes over the data; its wall time includes '
        f'start-up, loading and the clean pass. Robust accuracy {100 * u["robust_accuracy"]:.1f}% '
        f'(clean {100 * uap["output"]["clean_accuracy"]:.1f}%; small-cnn, 1 epoch, seed 1). '
        f"CKA by stage (seeds 1 and 2): {k_stages}.",
        f"Load: 1/5/15-min load average {args.load_at_start} when measuring started"
        + (f" (after waiting {args.waited_seconds} s for the 1-minute load to fall below 1.0)" if args.waited_seconds else "")
        + f"; 1-minute load before each command: {loads} (these include the previous command). "
        f"CPU cores other processes used on average during the UAP and CKA commands: {others} "
        f"(machine busy time from /proc/stat minus the command's own; 0 means it had the machine to itself).",
    ]
    m = machine_description(args.load_at_start)
    commands = [line.rstrip("\n").replace(args.tmp + "/", "") for line in open(args.commands) if line.strip()]
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = {
        "kind": "table",
        "title": "Robustness: rt attack against the engine, UAP and CKA on 10,000 images",
        "description": f"One run of `scripts/bench/robustness.sh` on {date}: Fashion-MNIST (real data), "
                       "`small-cnn` checkpoints trained for 1 epoch by the script. Targets from issue 6.",
        "columns": ["measure", "measured", "target (issue 6)"],
        "rows": rows,
        "notes": notes,
        "machine": {"CPU": f'{m["cpu_model"]} (`nproc` = {m["nproc"]})', "OS": f'{m["os"]}, kernel {m["kernel"]}',
                    "toolchain": f'{m["swift"]}; OpenBLAS {m["openblas"]}', "date": date},
        "commands": commands,
        "raw": {"threads": args.threads, "load_average_at_start": args.load_at_start,
                "waited_seconds": args.waited_seconds, "ratio_wall": ratio, "ratio_cpu": ratio_cpu, "runs": runs},
    }
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(section, f, indent=1)
        f.write("\n")
    os.replace(tmp, args.out)
    print(f"recorded {args.out}: attack {med(a_ips):.1f} images/s, bench {med(b_ips):.1f} images/s, "
          f"ratio {ratio:.2f} (per CPU-s {ratio_cpu:.2f}); UAP {uap['wall_seconds']:.0f} s; CKA {cka['wall_seconds']:.0f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
