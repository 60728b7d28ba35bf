"""PyTorch reference for rt's FGSM and PGD (no random start): robust-correct counts on the same
checkpoint and data, for Tests/RobustnessTests/PyTorchComparisonTests.swift.

    python attack_reference.py CHECKPOINT DATA --eps E --steps K

DATA is a safetensors file with `images` (N, C, H, W) in [0, 1] and `labels` (N,) as floats.
Prints {"clean": n, "fgsm": n, "pgd": n}: examples correct on clean inputs (and under the attack),
with rt's conventions: eval mode, CE loss, sign steps of 2.5*eps/steps for PGD, projection onto
the L-inf ball and clipping to [0, 1] at every step, robust = correct on clean and adversarial.
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

import models  # noqa: E402
import safetensors_io  # noqa: E402


def load_model(path):
    tensors, meta = safetensors_io.load(path)
    model = models.build_model(meta["model"], int(meta["num_classes"]), json.loads(meta["input_shape"]),
                               json.loads(meta["mean"]), json.loads(meta["std"]))
    state = model.state_dict()
    for name in state:
        state[name] = torch.from_numpy(tensors[name].copy()).reshape(state[name].shape)
    model.load_state_dict(state)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def gradient(model, x, y):
    x = x.clone().requires_grad_(True)
    F.cross_entropy(model(x), y).backward()
    return x.grad


def pgd(model, x, y, eps, alpha, steps):
    adv = x.clone()
    for _ in range(steps):
        adv = adv + alpha * gradient(model, adv, y).sign()
        adv = torch.min(torch.max(adv, x - eps), x + eps).clamp(0, 1)
    return adv


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("data")
    parser.add_argument("--eps", type=float, required=True)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.checkpoint)
    data, _ = safetensors_io.load(args.data)
    x = torch.from_numpy(data["images"].copy())
    y = torch.from_numpy(data["labels"].copy()).long()
    eps = torch.tensor(args.eps, dtype=torch.float32).item()
    with torch.no_grad():
        clean = model(x).argmax(1) == y
    fgsm = pgd(model, x, y, eps, eps, 1)
    adv = pgd(model, x, y, eps, 2.5 * eps / args.steps, args.steps)
    with torch.no_grad():
        counts = {"clean": int(clean.sum()),
                  "fgsm": int((clean & (model(fgsm).argmax(1) == y)).sum()),
                  "pgd": int((clean & (model(adv).argmax(1) == y)).sum())}
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
