"""An independent PyTorch implementation of rt's default study (cluster/sweeps/default.yaml).

Written from docs/STUDY.md ("The default study's protocol, in full"), docs/ROBUSTNESS.md and
docs/DATASETS.md, not from the Swift code. Every random choice is this script's own (torch and
numpy generators seeded from the trial seed), except the attacked subset of 300 test images,
which must be the same images rt attacks for the two to be comparable; it is drawn with rt's
documented stream (xoshiro256** + Fisher-Yates, docs/STUDY.md), checked by `--check-subset`.

Roles: pretrain and robust-pretrain on Fashion-MNIST classes 0-4 (1,000 per class, 3 epochs);
standard, finetune (from pretrain), dm and trades (from robust-pretrain) on classes 5-9 (300 per
class, 8 epochs); each measured by clean accuracy on the 5,000 test images of its task and PGD-10
and FGSM (L-inf, 1/255 ... 32/255) on the attacked subset.

Protocols:
  fanout    (issue 15, item 1) the source roles run once, with --source-seed (1); every target
            seed fine-tunes from that one source model.
  per-seed  (default.yaml before item 1) every seed has its own pretrain and robust-pretrain.

    python3 scripts/reference/study_reference.py --seeds 1,2,3,4 --protocol fanout --out ref.json

Output: one JSON object {"protocol", "threads", "trials": [{"stage", "seed", "source_seed",
"clean_accuracy", "attacked_clean_accuracy", "attacks": [{"attack", "eps_label", "robust_accuracy"}],
"train_seconds", "eval_seconds"}]} in the shape of rt's trial metrics, which study_agreement.py reads.

`--evaluate-checkpoint CKPT --task source|target` instead attacks one of rt's safetensors
checkpoints with this script's attacks on the same subset; `--cross-evaluate RUN_DIR` does so for
every target-role checkpoint of an rt run and compares with rt's numbers and masks (separates
training from evaluation differences). `--source-checkpoints pretrain=CKPT,robust-pretrain=CKPT`
(fanout) fine-tunes from rt's own source models, so only the target side differs.

Threads: 1 per process by default (`--threads`); `--jobs N` runs target seeds in N processes.
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_python import ensure_torch  # noqa: E402

ensure_torch()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

EPS_LABELS = ["1/255", "2/255", "4/255", "8/255", "16/255", "32/255"]
DATA_DIRS = [os.path.join(os.environ.get("RT_DATA_DIR", os.path.expanduser("~/.local/share/rt/datasets")), "fashion-mnist"),
             "/usr/share/datasets/fashion-mnist"]

# default.yaml, as docs/STUDY.md states it.
STUDY = dict(
    source=dict(classes=range(0, 5), per_class=1000, epochs=3),
    target=dict(classes=range(5, 10), per_class=300, epochs=8),
    batch_size=64, lr=0.05, momentum=0.9, weight_decay=5e-4,
    attack_examples=300, attack_seed=0, attack_batch_size=128,
)
ROLES = {
    # stage: (task side, parent stage, objective, objective settings)
    "pretrain": ("source", None, "ce", {}),
    "robust-pretrain": ("source", None, "pgd-at", dict(eps=8 / 255, steps=3, step_scale=2.5)),
    "standard": ("target", None, "ce", {}),
    "finetune": ("target", "pretrain", "ce", {}),
    "dm": ("target", "robust-pretrain", "dm", dict(beta=500.0, eps=0.5 / 255, steps=5, step_scale=1.25)),
    "trades": ("target", "robust-pretrain", "trades", dict(beta=6.0, eps=8 / 255, steps=3, step_scale=2.5)),
}


# ---------------------------------------------------------------- data (docs/DATASETS.md, STUDY.md)

def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw[:3] != b"\x00\x00\x08":
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find_file(directory, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    return None


def load_fashion_mnist(data_dir=None):
    """{split: (images uint8 (N, 28, 28), labels int64 (N,))}, the official 60,000 / 10,000 split."""
    for directory in ([data_dir] if data_dir else DATA_DIRS):
        if directory and find_file(directory, "train-images-idx3-ubyte"):
            out = {}
            for split, prefix in (("train", "train"), ("test", "t10k")):
                images = read_idx(find_file(directory, f"{prefix}-images-idx3-ubyte"))
                labels = read_idx(find_file(directory, f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
                out[split] = (images, labels)
            return out
    raise SystemExit(f"Fashion-MNIST not found in {data_dir or DATA_DIRS}: sudo apt-get install dataset-fashion-mnist")


def select_classes(images, labels, classes):
    """Keeps `classes`, relabelled 0..<k in ascending order of the original label, in dataset order."""
    classes = sorted(classes)
    keep = np.isin(labels, classes)
    relabel = {c: i for i, c in enumerate(classes)}
    return images[keep], np.array([relabel[int(y)] for y in labels[keep]], dtype=np.int64)


def sample_per_class(images, labels, per_class, seed):
    """per_class images of every class, chosen by this script's own generator from the trial seed, in dataset order."""
    chosen = []
    for label in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == label)
        rng = np.random.default_rng([seed, 7001, label])
        chosen.append(rng.permutation(members)[:per_class])
    chosen = np.sort(np.concatenate(chosen))
    return images[chosen], labels[chosen]


def to_tensor(images):
    return torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)  # (N, 1, 28, 28) in [0, 1]


# ------------------------------------------------- rt's documented stream, for the attacked subset only

MASK64 = (1 << 64) - 1


class RTStream:
    """xoshiro256** seeded by SplitMix64 of seed XOR FNV-1a-64(label) (docs/STUDY.md, "rt's random streams")."""

    def __init__(self, seed, label):
        h = 0xCBF29CE484222325
        for byte in label.encode("utf-8"):
            h = ((h ^ byte) * 0x100000001B3) & MASK64
        sm = (seed ^ h) & MASK64
        state = []
        for _ in range(4):
            sm = (sm + 0x9E3779B97F4A7C15) & MASK64
            z = sm
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            state.append(z ^ (z >> 31))
        self.s = state

    def next(self):
        s0, s1, s2, s3 = self.s
        x = (s1 * 5) & MASK64
        result = ((((x << 7) | (x >> 57)) & MASK64) * 9) & MASK64
        t = (s1 << 17) & MASK64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & MASK64
        self.s = [s0, s1, s2, s3]
        return result

    def below(self, bound):
        m = self.next() * bound
        if (m & MASK64) < bound:
            threshold = ((1 << 64) - bound) % bound
            while (m & MASK64) < threshold:
                m = self.next() * bound
        return m >> 64

    def shuffled(self, values):
        values = list(values)
        for i in range(len(values) - 1, 0, -1):
            j = self.below(i + 1)
            values[i], values[j] = values[j], values[i]
        return values


def attacked_subset(count, total, attack_seed):
    return sorted(RTStream(attack_seed, "attack-subset").shuffled(range(total))[:count])


# ---------------------------------------------------------------- model (docs/STUDY.md, "Model")

class SmallCNN(nn.Module):
    def __init__(self, classes, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)   # PyTorch's default init = the documented one
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, classes)

    def features(self, x):
        x = (x - self.mean) / self.std
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        return F.relu(self.fc1(torch.flatten(x, 1)))

    def forward(self, x):
        return self.fc2(self.features(x))


def build_model(classes, mean, std, seed, parent=None):
    """Initialised from the trial's seed; a fine-tune then takes every parameter but fc2 (and the
    normalisation) from its parent."""
    torch.manual_seed(1_000_003 * seed + 17)
    if parent is not None:
        mean, std = parent.mean.flatten().tolist(), parent.std.flatten().tolist()
    model = SmallCNN(classes, mean, std)
    if parent is not None:
        state = {k: v for k, v in parent.state_dict().items() if not k.startswith("fc2.")}
        missing, unexpected = model.load_state_dict(state, strict=False)
        assert sorted(missing) == ["fc2.bias", "fc2.weight"] and not unexpected, (missing, unexpected)
    return model


# ------------------------------------------------- attacks and objectives (docs/ROBUSTNESS.md, STUDY.md)

def pgd_linf(loss_fn, x, eps, steps, step_size, start, generator, model):
    """L-inf projected sign-gradient ascent on loss_fn(adv) (summed over the batch); the last iterate.

    start: "uniform" (x + U(-eps, eps)), "gaussian" (x + 0.001 N(0, 1)) or "none". Every iterate,
    the start included, is projected onto the eps-ball and clipped to [0, 1]."""
    was_training = model.training
    model.eval()
    params = [p for p in model.parameters()]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        if start == "uniform":
            adv = x + (torch.rand(x.shape, generator=generator) * 2 - 1) * eps
        elif start == "gaussian":
            adv = x + 0.001 * torch.randn(x.shape, generator=generator)
        else:
            adv = x.clone()
        adv = torch.min(torch.max(adv, x - eps), x + eps).clamp(0, 1)
        for _ in range(steps):
            adv = adv.detach().requires_grad_(True)
            loss = loss_fn(adv)
            (grad,) = torch.autograd.grad(loss, adv)
            adv = adv.detach() + step_size * grad.sign()
            adv = torch.min(torch.max(adv, x - eps), x + eps).clamp(0, 1)
        return adv.detach()
    finally:
        for p, f in zip(params, flags):
            p.requires_grad_(f)
        model.train(was_training)


class Objective:
    def __init__(self, kind, settings, generator):
        self.kind, self.s, self.generator = kind, settings, generator

    def step_size(self):
        return self.s["step_scale"] * self.s["eps"] / self.s["steps"]

    def loss(self, model, x, y):
        """(loss, clean logits); the inner attack first, without parameter gradients."""
        if self.kind == "ce":
            logits = model(x)
            return F.cross_entropy(logits, y), logits
        eps, steps, alpha = self.s["eps"], self.s["steps"], self.step_size()
        if self.kind == "pgd-at":
            adv = pgd_linf(lambda z: F.cross_entropy(model(z), y, reduction="sum"), x, eps, steps, alpha, "uniform",
                           self.generator, model)
            with torch.no_grad():
                clean_logits = model(x)
            return F.cross_entropy(model(adv), y), clean_logits
        b = x.shape[0]
        if self.kind == "trades":
            with torch.no_grad():
                model.eval()
                p_clean = F.softmax(model(x), dim=1)
                model.train()
            adv = pgd_linf(lambda z: F.kl_div(F.log_softmax(model(z), dim=1), p_clean, reduction="sum"), x, eps, steps,
                           alpha, "gaussian", self.generator, model)
            logits = model(x)
            robust = F.kl_div(F.log_softmax(model(adv), dim=1), F.softmax(logits, dim=1), reduction="sum") / b
            return F.cross_entropy(logits, y) + self.s["beta"] * robust, logits
        if self.kind == "dm":
            with torch.no_grad():
                model.eval()
                g_clean = model.features(x)
                model.train()
            adv = pgd_linf(lambda z: ((model.features(z) - g_clean) ** 2).sum(), x, eps, steps, alpha, "gaussian",
                           self.generator, model)
            g = model.features(x)
            logits = model.fc2(g)
            discrepancy = F.mse_loss(model.features(adv), g)  # nn.MSELoss(): mean over B x D
            return F.cross_entropy(logits, y) + self.s["beta"] * (1.0 / b) * discrepancy, logits
        raise ValueError(self.kind)


# ---------------------------------------------------------------- training

def train(model, images, labels, epochs, objective, seed):
    batch_size = STUDY["batch_size"]
    optimizer = torch.optim.SGD(model.parameters(), lr=STUDY["lr"], momentum=STUDY["momentum"],
                                weight_decay=STUDY["weight_decay"])
    steps_per_epoch = math.ceil(len(labels) / batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * steps_per_epoch, eta_min=0)
    shuffle = torch.Generator().manual_seed(2_000_003 * seed + 29)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=shuffle)
        for start in range(0, len(labels), batch_size):
            index = order[start:start + batch_size]
            loss, _ = objective.loss(model, images[index], labels[index])
            if not torch.isfinite(loss):
                raise RuntimeError("non-finite training loss")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    model.eval()
    return model


# ---------------------------------------------------------------- measurement

def accuracy(model, images, labels, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(labels), batch):
            correct += (model(images[i:i + batch]).argmax(1) == labels[i:i + batch]).sum().item()
    return correct / len(labels)


def measure(model, test_images, test_labels, subset, attack_seed, keep_masks=False):
    """Clean accuracy on the whole test split; PGD-10 and FGSM (L-inf) on the attacked subset."""
    out = dict(clean_accuracy=accuracy(model, test_images, test_labels))
    x_all, y_all = test_images[subset], test_labels[subset]
    model.eval()
    with torch.no_grad():
        clean_correct = torch.cat([model(x_all[i:i + 128]).argmax(1) == y_all[i:i + 128]
                                   for i in range(0, len(subset), 128)])
    out["attacked_clean_accuracy"] = clean_correct.float().mean().item()
    out["clean_mask"] = clean_correct.int().tolist()
    attacks = []
    for attack in ("pgd", "fgsm"):
        for label in EPS_LABELS:
            eps = float(label.split("/")[0]) / float(label.split("/")[1])
            generator = torch.Generator().manual_seed(3_000_017 * attack_seed + int(round(eps * 255)) + (0 if attack == "pgd" else 97))
            robust = []
            for i in range(0, len(subset), STUDY["attack_batch_size"]):
                x, y = x_all[i:i + 128], y_all[i:i + 128]
                loss = lambda z, y=y: F.cross_entropy(model(z), y, reduction="sum")  # noqa: E731
                if attack == "pgd":
                    adv = pgd_linf(loss, x, eps, 10, 2.5 * eps / 10, "uniform", generator, model)
                else:
                    adv = pgd_linf(loss, x, eps, 1, eps, "none", generator, model)
                with torch.no_grad():
                    robust.append(model(adv).argmax(1) == y)
            correct = torch.cat(robust) & clean_correct
            attacks.append(dict(attack=attack, norm="linf", eps_label=label, eps=eps,
                                steps=10 if attack == "pgd" else 1, robust_accuracy=correct.float().mean().item()))
            if keep_masks:
                attacks[-1]["mask"] = correct.int().tolist()
    out["attacks"] = attacks
    return out


# ---------------------------------------------------------------- the study

class Study:
    def __init__(self, data_dir):
        data = load_fashion_mnist(data_dir)
        self.views = {}
        for side in ("source", "target"):
            classes = STUDY[side]["classes"]
            train_images, train_labels = select_classes(*data["train"], classes)
            test_images, test_labels = select_classes(*data["test"], classes)
            self.views[side] = dict(train=(train_images, train_labels),
                                    test=(to_tensor(test_images), torch.from_numpy(test_labels)))
        self.subset = {side: attacked_subset(STUDY["attack_examples"], len(v["test"][1]), STUDY["attack_seed"])
                       for side, v in self.views.items()}
        self.models = {}

    def run(self, stage, seed, parent_seed=None):
        side, parent_stage, kind, settings = ROLES[stage]
        task = STUDY[side]
        images, labels = sample_per_class(*self.views[side]["train"], task["per_class"], seed)
        x, y = to_tensor(images), torch.from_numpy(labels)
        # Population mean and std of the training view's pixels.
        mean, std = [x.mean().item()], [x.std(unbiased=False).item()]
        parent = self.models[(parent_stage, parent_seed)] if parent_stage else None
        model = build_model(5, mean, std, seed, parent)
        objective = Objective(kind, settings, torch.Generator().manual_seed(4_000_037 * seed + 41))
        start = time.time()
        train(model, x, y, task["epochs"], objective, seed)
        train_seconds = time.time() - start
        self.models[(stage, seed)] = model
        start = time.time()
        metrics = measure(model, *self.views[side]["test"], self.subset[side], STUDY["attack_seed"])
        metrics.update(stage=stage, seed=seed, source_seed=parent_seed, train_examples=len(y), task=side,
                       train_seconds=round(train_seconds, 2), eval_seconds=round(time.time() - start, 2))
        return metrics


def load_rt_checkpoint(path):
    """rt's safetensors checkpoint (PyTorch names and layouts) as this script's SmallCNN."""
    from safetensors_io import load
    tensors, metadata = load(path)
    mean, std = json.loads(metadata["mean"]), json.loads(metadata["std"])  # the model's description
    classes = tensors["fc2.weight"].shape[0]
    model = SmallCNN(classes, mean, std)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()})
    return model.eval()


def cross_evaluate(study, run_dir, stages, jobs):
    """Attacks every done trial's checkpoint of an rt run with this script's attacks and compares
    with what rt measured on the same model: clean accuracy, and per attack the robust accuracy and
    the per-example masks (rt's masks come from the run store). FGSM has no randomness, so its
    masks should match example by example; PGD's differ only through the random start."""
    import sqlite3
    store = sqlite3.connect(f"file:{os.path.join(run_dir, 'rt.sqlite')}?mode=ro", uri=True)
    masks = {}
    for trial, name, data in store.execute("SELECT trial_id, name, data FROM masks"):
        masks.setdefault(trial, {})[name] = list(bytes(data))
    import subprocess
    rt = os.environ.get("RT", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "release", "rt"))
    report = json.loads(subprocess.run([rt, "report", run_dir, "--format", "trials-json"], check=True,
                                       capture_output=True, text=True).stdout)
    trials = [t for t in report["trials"] if t.get("state") == "done" and t.get("artifact") and t["stage"] in stages]
    global _CROSS_JOB
    _CROSS_JOB = (study, run_dir)
    work = [(t["id"], t["stage"], t["artifact"]) for t in trials]
    if jobs > 1:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            ours = pool.map(_cross_one, work)
    else:
        ours = [_cross_one(w) for w in work]
    rows = []
    for t, mine in zip(trials, ours):
        theirs = {f"{a['attack']} {a['eps_label']}": a["robust_accuracy"] for a in t["metrics"]["attacks"]}
        row = dict(id=t["id"], stage=t["stage"], seed=t["seed"],
                   clean=(t["metrics"]["clean_accuracy"], mine["clean_accuracy"]),
                   clean_mask_equal=masks.get(t["id"], {}).get("clean") == mine["clean_mask"])
        for a in mine["attacks"]:
            key = f"{a['attack']} {a['eps_label']}"
            rt_mask = masks.get(t["id"], {}).get(f"{a['attack']}-linf-{a['eps_label']}")
            differing = None if rt_mask is None else sum(x != y for x, y in zip(rt_mask, a["mask"]))
            row[key] = (theirs.get(key), a["robust_accuracy"], differing)
        rows.append(row)
    return rows


_CROSS_JOB = None


def print_cross_evaluation(rows):
    """Markdown: per stage, rt's and this script's robust accuracy on rt's own checkpoints (mean over
    trials) and the mean number of the 300 examples whose verdict differs."""
    keys = [k for k in rows[0] if k.startswith(("pgd ", "fgsm "))] if rows else []
    print(f"{len(rows)} checkpoints; clean masks identical in {sum(r['clean_mask_equal'] for r in rows)}; "
          "clean accuracy (whole test split) rt vs this script: max |difference| "
          f"{max(abs(r['clean'][0] - r['clean'][1]) for r in rows):.4f}\n")
    print("| stage | n | " + " | ".join(keys) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in keys) + " |")
    for stage in dict.fromkeys(r["stage"] for r in rows):
        group = [r for r in rows if r["stage"] == stage]
        cells = []
        for k in keys:
            rt_mean = sum(r[k][0] for r in group) / len(group)
            ours = sum(r[k][1] for r in group) / len(group)
            differ = sum(r[k][2] for r in group) / len(group)
            cells.append(f"{rt_mean:.3f} / {ours:.3f} ({differ:.1f})")
        print(f"| {stage} | {len(group)} | " + " | ".join(cells) + " |")
    print("\ncells: rt / reference robust accuracy on the same checkpoints (mean over trials), "
          "and in parentheses the mean number of the 300 attacked examples whose verdict differs")


def _cross_one(work):
    trial_id, stage, artifact = work
    study, run_dir = _CROSS_JOB
    model = load_rt_checkpoint(os.path.join(run_dir, "artifacts", artifact))
    side = ROLES[stage][0]
    return measure(model, *study.views[side]["test"], study.subset[side], STUDY["attack_seed"], keep_masks=True)


_SEED_JOB = None


def _run_seed(seed):
    """Every target stage of one seed (per-seed: its own source roles first); the study comes from the parent by fork."""
    study, protocol, source_seed, sources, stages = _SEED_JOB
    out = []
    if protocol == "per-seed":
        for source in sources:
            out.append(study.run(source, seed))
    parent_seed = source_seed if protocol == "fanout" else seed
    for stage in stages:
        out.append(study.run(stage, seed, parent_seed if ROLES[stage][1] else None))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2,3,4", help="target seeds (per-seed: every seed), comma-separated")
    parser.add_argument("--protocol", choices=["fanout", "per-seed"], default="fanout")
    parser.add_argument("--source-seed", type=int, default=1, help="fanout: the one seed of the source roles")
    parser.add_argument("--stages", default="standard,finetune,dm,trades", help="target stages to run")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch.set_num_threads per process (1: on a shared 2-core machine 2 threads were 4x slower)")
    parser.add_argument("--jobs", type=int, default=1, help="target seeds trained in parallel processes (fork)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=None, help="write the JSON here (default: stdout)")
    parser.add_argument("--check-subset", action="store_true", help="print the attacked subset's first indices and exit")
    parser.add_argument("--evaluate-checkpoint", default=None, help="attack one rt checkpoint instead of training")
    parser.add_argument("--task", choices=["source", "target"], default="target", help="with --evaluate-checkpoint")
    parser.add_argument("--cross-evaluate", default=None, metavar="RUN_DIR",
                        help="attack every checkpoint of --stages in an rt run and compare with rt's numbers")
    parser.add_argument("--source-checkpoints", default=None, metavar="pretrain=CKPT,robust-pretrain=CKPT",
                        help="fanout: fine-tune from these (rt's) source checkpoints instead of training the source roles")
    parser.add_argument("--smoke", action="store_true", help="a quick test of the script: 1 epoch, 20 per class, 40 attacked")
    args = parser.parse_args()
    if args.smoke:
        for side in ("source", "target"):
            STUDY[side].update(per_class=20, epochs=1)
        STUDY["attack_examples"] = 40
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    stages = [s for s in args.stages.split(",") if s.strip()]
    for s in stages:
        if s not in ROLES or ROLES[s][0] != "target":
            raise SystemExit(f"--stages: {s!r} is not a target stage ({', '.join(k for k, v in ROLES.items() if v[0] == 'target')})")

    if args.check_subset:
        print(json.dumps(attacked_subset(STUDY["attack_examples"], 5000, STUDY["attack_seed"])))
        return
    study = Study(args.data_dir)
    if args.evaluate_checkpoint:
        model = load_rt_checkpoint(args.evaluate_checkpoint)
        metrics = measure(model, *study.views[args.task]["test"], study.subset[args.task], STUDY["attack_seed"])
        print(json.dumps(metrics))
        return

    if args.cross_evaluate:
        rows = cross_evaluate(study, args.cross_evaluate, stages, args.jobs)
        text = json.dumps(rows, indent=1)
        if args.out:
            with open(args.out, "w") as f:
                f.write(text + "\n")
        print_cross_evaluation(rows)
        return

    trials = []
    started = time.time()

    def log(m):
        pgd = {a["eps_label"]: a["robust_accuracy"] for a in m["attacks"] if a["attack"] == "pgd"}
        sys.stderr.write(f"[{time.time() - started:6.0f} s] {m['stage']:<15} seed {m['seed']}: clean {m['clean_accuracy']:.3f}, "
                         f"PGD 8/255 {pgd['8/255']:.3f}, 32/255 {pgd['32/255']:.3f} "
                         f"(train {m['train_seconds']:.0f} s, eval {m['eval_seconds']:.0f} s)\n")
        trials.append(m)

    source_seeds = [args.source_seed] if args.protocol == "fanout" else seeds
    needed = {ROLES[s][1] for s in stages} - {None}
    sources = [r for r in ("pretrain", "robust-pretrain") if r in needed]
    given = dict(item.split("=", 1) for item in args.source_checkpoints.split(",")) if args.source_checkpoints else {}
    if given and args.protocol != "fanout":
        raise SystemExit("--source-checkpoints needs --protocol fanout")
    if args.protocol == "fanout":
        for source in sources:
            if source in given:
                study.models[(source, args.source_seed)] = load_rt_checkpoint(given[source])
                sys.stderr.write(f"{source}: rt's checkpoint {given[source]}\n")
            else:
                log(study.run(source, args.source_seed))
    global _SEED_JOB
    _SEED_JOB = (study, args.protocol, args.source_seed, sources, stages)
    if args.jobs > 1 and len(seeds) > 1:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(min(args.jobs, len(seeds))) as pool:
            for results in pool.imap(_run_seed, seeds):
                for m in results:
                    log(m)
    else:
        for seed in seeds:
            for m in _run_seed(seed):
                log(m)
    result = dict(protocol=args.protocol, seeds=seeds, source_seeds=source_seeds, threads=args.threads,
                  torch=torch.__version__, seconds=round(time.time() - started, 1), trials=trials)
    text = json.dumps(result, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
