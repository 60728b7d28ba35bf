#!/usr/bin/env python3
"""PyTorch CPU reference for `rt bench engine`: the same six workloads, the same JSON.

    pytorch_engine.py [--threads N] [--json] [--rounds 5] [--warmup 2] [--min-round-seconds 1.0]
                      [--only NAME[,NAME...]] [--layouts contiguous,channels_last]

Workloads (random data drawn once: inputs uniform in [0, 1], labels uniform, 10 classes):
    small-cnn/train   small-cnn, 1x28x28, batch 128: train mode, forward, mean CE,
                      backward, SGD(lr 0.01, momentum 0.9) step
    small-cnn/pgd10   eval mode, parameters frozen, PGD L-inf: eps 8/255, step 2/255,
                      uniform random start in the eps-ball, 10 x (forward, mean CE,
                      gradient w.r.t. the input only, signed step, project, clip to [0, 1])
    resnet20/train    as small-cnn/train on resnet20, 3x32x32, batch 128
    resnet20/pgd10    as small-cnn/pgd10 on resnet20
    resnet18/train    as small-cnn/train on resnet18 (torchvision's ResNet-18 layout:
                      7x7/2 stem, max-pool, 4 stages), 3x64x64, batch 64
    resnet18/pgd10    as small-cnn/pgd10 on resnet18
images/s counts batch images per training step, or per complete 10-step attack.

Layouts: every workload runs twice, once per memory format. `contiguous` is NCHW as
written; `channels_last` is what a PyTorch user who wants CPU speed writes:
model.to(memory_format=torch.channels_last) and the same for the inputs (the same maths;
oneDNN's convolutions are much faster on it). Each result names its `layout`.

Each workload and layout runs in its own fresh subprocess, so its peak RSS (getrusage
ru_maxrss) is its own; the top-level peak_rss_bytes is the largest of them.
Timing: one step to calibrate, then --warmup untimed rounds, then --rounds
timed rounds of k steps each (k chosen so a round takes >= --min-round-seconds);
images/s is the median over the timed rounds.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "reference")
sys.path.insert(0, REFERENCE)

WORKLOADS = {
    # name: (model, input shape, kind, batch); Sources/Benchmarks/EngineWorkload.swift has the same table
    "small-cnn/train": ("small-cnn", (1, 28, 28), "train", 128),
    "small-cnn/pgd10": ("small-cnn", (1, 28, 28), "pgd10", 128),
    "resnet20/train": ("resnet20", (3, 32, 32), "train", 128),
    "resnet20/pgd10": ("resnet20", (3, 32, 32), "pgd10", 128),
    "resnet18/train": ("resnet18", (3, 64, 64), "train", 64),
    "resnet18/pgd10": ("resnet18", (3, 64, 64), "pgd10", 64),
}
LAYOUTS = ("contiguous", "channels_last")
NUM_CLASSES = 10
PGD_EPS, PGD_STEP, PGD_STEPS = 8 / 255, 2 / 255, 10
SGD_LR, SGD_MOMENTUM = 0.01, 0.9


def _train_step_fn(model, x, y):
    import torch
    import torch.nn.functional as F
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=SGD_LR, momentum=SGD_MOMENTUM)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    return step


def _pgd_attack_fn(model, x, y, generator, memory_format):
    import torch
    import torch.nn.functional as F
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)

    def attack():
        delta = (torch.rand(x.shape, generator=generator) * 2 - 1) * PGD_EPS
        # The random start keeps the input's layout, so every step's input is channels_last too.
        x_adv = (x + delta.contiguous(memory_format=memory_format)).clamp(0, 1)
        for _ in range(PGD_STEPS):
            x_adv.requires_grad_(True)
            loss = F.cross_entropy(model(x_adv), y)
            (grad,) = torch.autograd.grad(loss, x_adv)
            with torch.no_grad():
                x_adv = x_adv + PGD_STEP * grad.sign()
                x_adv = torch.min(torch.max(x_adv, x - PGD_EPS), x + PGD_EPS).clamp(0, 1)
        # An attack ends by classifying what it made (rt's PGD does the same no-grad forward).
        with torch.no_grad():
            model(x_adv)
        return x_adv
    return attack


def run_workload(name, layout, threads, rounds, warmup, min_round_seconds, seed=0):
    """Runs one workload in this process with the given memory layout; returns its result object."""
    import resource
    import torch
    import models

    torch.set_num_threads(threads)
    model_name, shape, kind, batch = WORKLOADS[name]
    memory_format = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed + 1)
    model = models.build_model(model_name, NUM_CLASSES, shape).to(memory_format=memory_format)
    x = torch.rand(batch, *shape, generator=generator).contiguous(memory_format=memory_format)
    y = torch.randint(0, NUM_CLASSES, (batch,), generator=generator)
    step = (_train_step_fn(model, x, y) if kind == "train"
            else _pgd_attack_fn(model, x, y, generator, memory_format))

    start = time.perf_counter()
    step()
    first = time.perf_counter() - start
    steps_per_round = max(1, int(-(-min_round_seconds // max(first, 1e-9))))
    for _ in range(warmup):
        for _ in range(steps_per_round):
            step()
    # Re-calibrate on a warm step: the first one includes one-time allocation.
    start = time.perf_counter()
    step()
    warm = time.perf_counter() - start
    steps_per_round = max(1, int(-(-min_round_seconds // max(warm, 1e-9))))
    per_round = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps_per_round):
            step()
        elapsed = time.perf_counter() - start
        per_round.append(batch * steps_per_round / elapsed)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "name": name,
        "layout": layout,
        "images_per_second": round(statistics.median(per_round), 3),
        "batch": batch,
        "peak_rss_bytes": peak_kib * 1024,
        "steps_per_round": steps_per_round,
        "rounds_images_per_second": [round(v, 3) for v in per_round],
    }


def run_in_subprocess(name, layout, args):
    """Runs one workload in a fresh interpreter so its peak RSS is its own."""
    env = dict(os.environ)
    # Same thread count for every pool torch might use (set_num_threads covers intra-op).
    env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    command = [sys.executable, os.path.abspath(__file__), "--worker", name, "--layouts", layout,
               "--threads", str(args.threads),
               "--rounds", str(args.rounds), "--warmup", str(args.warmup),
               "--min-round-seconds", str(args.min_round_seconds)]
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pytorch_engine.py: workload {name} ({layout}) failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the rt bench engine shape)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (median is reported), at least 5")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds, at least 2")
    parser.add_argument("--min-round-seconds", type=float, default=1.0)
    parser.add_argument("--only", help="comma-separated subset of: " + ", ".join(WORKLOADS))
    parser.add_argument("--layouts", default=",".join(LAYOUTS),
                        help="comma-separated memory layouts, each workload runs in every one: " + ", ".join(LAYOUTS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run one workload, print its JSON
    args = parser.parse_args()
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    if args.rounds < 5 or args.warmup < 2:
        parser.error("--rounds must be >= 5 and --warmup >= 2")

    import torch_python
    torch_python.ensure_torch()

    layouts = [v.strip() for v in args.layouts.split(",") if v.strip()]
    if not layouts or any(v not in LAYOUTS for v in layouts):
        parser.error(f"--layouts wants a comma-separated subset of {', '.join(LAYOUTS)}, got {args.layouts!r}")
    if args.worker:
        result = run_workload(args.worker, layouts[0], args.threads, args.rounds, args.warmup, args.min_round_seconds)
        print(json.dumps(result))
        return

    names = list(WORKLOADS)
    if args.only:
        names = [n.strip() for n in args.only.split(",")]
        unknown = [n for n in names if n not in WORKLOADS]
        if unknown:
            parser.error(f"unknown workload(s) {unknown}; known: {', '.join(WORKLOADS)}")
    results = []
    for name in names:
        # The layouts of one workload run back to back, so they see the same minutes of the machine.
        for layout in layouts:
            if not args.json:
                print(f"running {name} ({layout}) ...", file=sys.stderr, flush=True)
            results.append(run_in_subprocess(name, layout, args))
    import torch
    report = {
        "threads": args.threads,
        "workloads": results,
        "peak_rss_bytes": max(r["peak_rss_bytes"] for r in results),
        "implementation": "pytorch",
        "torch_version": torch.__version__,
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"PyTorch {torch.__version__} CPU, {args.threads} thread(s), "
          f"median of {args.rounds} rounds after {args.warmup} warm-up rounds")
    print(f"{'workload':18s} {'layout':14s} {'batch':>5s} {'images/s':>10s} {'peak RSS MiB':>13s}  rounds (images/s)")
    for r in results:
        rounds = " ".join(f"{v:.1f}" for v in r["rounds_images_per_second"])
        print(f"{r['name']:18s} {r['layout']:14s} {r['batch']:5d} {r['images_per_second']:10.1f} "
              f"{r['peak_rss_bytes'] / 2**20:13.1f}  {rounds}")


if __name__ == "__main__":
    main()
