"""Independent reference for rt's DI-MI-FGSM (input diversity): PyTorch and torchattacks' DIFGSM on
the same checkpoint and examples, for Tests/RobustnessTests/InputDiversityReferenceTests.swift.

    python input_diversity_reference.py CHECKPOINT DATA OUT --eps E --steps K --prob P --resize-rate R
                                         --placements 10,1,0;11,0,0 --seeds 5

DATA is a safetensors file with `images` (N, C, H, W) in [0, 1] and `labels` (N,) as floats.

The deterministic part: for each placement "side,top,left", T(x) = F.pad(F.interpolate(x, side,
bilinear, align_corners=False), zeros) is written to OUT (safetensors, `transformed_<i>`), and the
gradient of sum(T(x) * w) with w[k] = (k mod 7) / 7 - 0.5 (`gradient_<i>`): the transform an rt attack
step differentiates through, forward and backward, without a network's kinks in between.

The random part: torchattacks.DIFGSM with rt's MI-FGSM settings (step eps/K, decay 1, no random
start) and the given diversity, once per torch seed 0..seeds-1, and once with diversity_prob 0
(plain MI-FGSM). Prints {"examples": n, "clean": n, "di": [robust count per seed], "p0": n}.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_python  # noqa: E402

torch_python.ensure_torch()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from attack_reference import load_model  # noqa: E402
import safetensors_io  # noqa: E402

torchattacks = torch_python.import_torchattacks()


def transform_and_gradient(x, side, top, left):
    x = x.clone().requires_grad_(True)
    h, w = x.shape[2], x.shape[3]
    resized = F.interpolate(x, size=[side, side], mode="bilinear", align_corners=False)
    padded = F.pad(resized, [left, w - side - left, top, h - side - top], value=0)
    weights = (torch.arange(padded.numel()) % 7).float().reshape(padded.shape) / 7 - 0.5
    (padded * weights).sum().backward()
    return padded.detach(), x.grad


def robust_count(model, attack, x, y, clean):
    adv = attack(x, y)
    with torch.no_grad():
        return int((clean & (model(adv).argmax(1) == y)).sum())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("data")
    parser.add_argument("out")
    parser.add_argument("--eps", type=float, required=True)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--prob", type=float, default=0.5)
    parser.add_argument("--resize-rate", type=float, default=0.9)
    parser.add_argument("--placements", default="")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.checkpoint)
    data, _ = safetensors_io.load(args.data)
    x = torch.from_numpy(data["images"].copy())
    y = torch.from_numpy(data["labels"].copy()).long()

    gradients = {}
    for i, placement in enumerate(p for p in args.placements.split(";") if p):
        side, top, left = (int(v) for v in placement.split(","))
        gradients[f"transformed_{i}"], gradients[f"gradient_{i}"] = transform_and_gradient(x, side, top, left)
    safetensors_io.save(args.out, gradients or {"none": torch.zeros(1)})

    eps = torch.tensor(args.eps, dtype=torch.float32).item()
    alpha = eps / args.steps
    with torch.no_grad():
        clean = model(x).argmax(1) == y

    def attack(prob):
        return torchattacks.DIFGSM(model, eps=eps, alpha=alpha, steps=args.steps, decay=1.0,
                                   resize_rate=args.resize_rate, diversity_prob=prob, random_start=False)

    counts = {"examples": len(y), "clean": int(clean.sum()), "di": []}
    for seed in range(args.seeds):
        torch.manual_seed(seed)
        counts["di"].append(robust_count(model, attack(args.prob), x, y, clean))
    counts["p0"] = robust_count(model, attack(0.0), x, y, clean)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
