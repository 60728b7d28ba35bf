"""Independent reference for rt's APGD-CE, APGD-T and Square: torchattacks (PyPI) on the same
checkpoint and examples, for Tests/RobustnessTests/AutoAttackReferenceTests.swift and
scripts/reference/autoattack_agreement.sh.

    python autoattack_reference.py CHECKPOINT DATA --norm linf --eps E --steps K --queries Q [--attacks apgd-ce,apgd-t,square]
    python autoattack_reference.py CHECKPOINT --idx DIR --limit N ...   (the first N images of an IDX test split)

DATA is a safetensors file with `images` (N, C, H, W) in [0, 1] and `labels` (N,) as floats.
Prints {"examples": n, "clean": n, "apgd-ce": n, ...}: examples correct on the clean input and
under each attack (rt's convention). Settings follow rt's: APGD with K iterations and one
restart, APGD-T over min(9, classes - 1) target classes, Square with p_init 0.8, the margin
loss and its schedule rescaled to the budget; rt's budget Q counts the initial query, so
torchattacks gets n_queries = Q - 1.
"""

import argparse
import gzip
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_python  # noqa: E402

torch_python.ensure_torch()

import numpy as np  # noqa: E402
import torch  # noqa: E402

from attack_reference import load_model  # noqa: E402
import safetensors_io  # noqa: E402

torchattacks = torch_python.import_torchattacks()


def read_idx(directory, limit):
    """The first `limit` test images in [0, 1] (N, 1, H, W) and labels of a (Fashion-)MNIST folder."""
    def open_any(name):
        path = os.path.join(directory, name)
        return gzip.open(path + ".gz", "rb") if os.path.exists(path + ".gz") else open(path, "rb")
    with open_any("t10k-images-idx3-ubyte") as f:
        raw = f.read()
    n, h, w = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 1, h, w)[:limit]
    with open_any("t10k-labels-idx1-ubyte") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)[:limit]
    return torch.from_numpy(images.astype(np.float32) / 255.0), torch.from_numpy(labels.astype(np.int64))


def robust_count(model, attack, x, y, clean, batch):
    kept = 0
    for start in range(0, len(y), batch):
        xs, ys, cs = x[start:start + batch], y[start:start + batch], clean[start:start + batch]
        adv = attack(xs, ys)
        with torch.no_grad():
            kept += int((cs & (model(adv).argmax(1) == ys)).sum())
    return kept


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("data", nargs="?")
    parser.add_argument("--idx", help="read the first --limit test images of this IDX folder instead of DATA")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--norm", choices=["linf", "l2"], default="linf")
    parser.add_argument("--eps", type=float, required=True)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--attacks", default="apgd-ce,apgd-t,square")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.checkpoint)
    if args.idx:
        x, y = read_idx(args.idx, args.limit)
    else:
        data, _ = safetensors_io.load(args.data)
        x = torch.from_numpy(data["images"].copy())
        y = torch.from_numpy(data["labels"].copy()).long()
    eps = torch.tensor(args.eps, dtype=torch.float32).item()
    norm = {"linf": "Linf", "l2": "L2"}[args.norm]
    with torch.no_grad():
        logits = model(x)
    classes = logits.shape[1]
    clean = logits.argmax(1) == y
    attacks = {
        "apgd-ce": lambda: torchattacks.APGD(model, norm=norm, eps=eps, steps=args.steps, n_restarts=1, seed=0, loss="ce"),
        "apgd-t": lambda: torchattacks.APGDT(model, norm=norm, eps=eps, steps=args.steps, n_restarts=1, seed=0, n_classes=classes),
        "square": lambda: torchattacks.Square(model, norm=norm, eps=eps, n_queries=args.queries - 1, n_restarts=1, p_init=0.8,
                                              loss="margin", resc_schedule=True, seed=0),
    }
    counts = {"examples": len(y), "clean": int(clean.sum())}
    for name in args.attacks.split(","):
        counts[name] = robust_count(model, attacks[name](), x, y, clean, args.batch)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
