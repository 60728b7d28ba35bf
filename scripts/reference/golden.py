#!/usr/bin/env python3
"""Writes a golden file: one forward/backward pass of a model in PyTorch, for the Swift golden test.

    golden.py --model small-cnn|resnet20|resnet8|resnet18|resnet18-cifar --mode train|eval --out FILE
              [--seed 0] [--batch 8] [--classes 10] [--input-shape C,H,W]
              [--mean m1,m2,..] [--std s1,s2,..]
    golden.py --verify FILE      recomputes FILE from its own state and inputs, compares,
                                 checks the decision margins, and reports (diagnostic only)
                                 how far the float32 values are from a float64 rerun

One safetensors file, F32 little-endian only, tensors in this order:
    state.<name>            every state_dict entry before the pass (no num_batches_tracked)
    input                   (N, C, H, W) uniform in [0, 1], then nudged by ~1e-5 (see below)
    labels                  (N,) integer class labels stored as F32
    expected.logits         (N, classes)
    expected.loss           (1,) mean cross-entropy over the batch
    expected.input_grad     (N, C, H, W) d loss / d input
    expected.grad.<name>    d loss / d parameter, for every parameter
    expected.state.<name>   train mode only: running_mean / running_var after the pass
__metadata__: model, mode, num_classes, input_shape ("[C,H,W]"), mean, std (JSON lists),
seed, batch, torch_version, generator, decision_margin, input_nudge_max_abs.

Batch-norm affine parameters are randomised a little and running statistics
are set from a separate calibration batch, then perturbed (all seeded), so
eval mode differs from train mode at a realistic activation scale and the BN
affine gradients are not those of the identity. All arithmetic that produces
the file is float32 (PyTorch defaults).

The input is nudged (by ~1e-5, staying in [0, 1]) until every ReLU input and
every max-pool gap is at least 1e-4 x its layer's RMS away from a tie, so a
correct float32 engine takes the same branches as PyTorch (see DECISION_MARGIN).
Then float32 PyTorch agrees with float64 to max|diff| <= ~6e-6 x max|ref| per
tensor. Compare per tensor with max|got - want| <= 1e-4 x max|want| (or a
relative L2 norm): a purely element-wise relative test fails on near-zero
gradient entries even between PyTorch float32 and float64.
"""

import argparse
import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_python  # noqa: E402

torch_python.ensure_torch()

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import models  # noqa: E402
import safetensors_io  # noqa: E402

GOLDEN_MODELS = ("small-cnn", "resnet20", "resnet8", "resnet18", "resnet18-cifar")


def _float_list(text):
    return [float(v) for v in text.split(",")]


def _shape(text):
    dims = [int(v) for v in text.strip("[]() ").split(",")]
    if len(dims) != 3 or min(dims) <= 0:
        raise argparse.ArgumentTypeError(f"--input-shape wants C,H,W with positive sizes, got {text!r}")
    return tuple(dims)


def randomize_batch_norm(model, input_shape, generator):
    """Moves every BN's affine parameters and running statistics off their defaults.

    Affine: weight in [0.75, 1.25], bias in [-0.1, 0.1]. Running statistics:
    first set to the statistics of a separate random calibration batch (so
    eval-mode activations keep a sane scale through 20 layers, instead of
    growing as they would with mean 0 / var 1), then perturbed (mean shifted
    by up to 0.1 std, var scaled by [0.8, 1.25]) so they differ from any
    batch's statistics and eval mode is a real test.
    """
    batch_norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not batch_norms:
        return
    with torch.no_grad():
        for bn in batch_norms:
            c = bn.num_features
            bn.weight.copy_(1 + 0.25 * (2 * torch.rand(c, generator=generator) - 1))
            bn.bias.copy_(0.1 * (2 * torch.rand(c, generator=generator) - 1))
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average: after one batch, running = that batch's stats
        calibration = torch.rand(32, *input_shape, generator=generator)
        model.train()
        model(calibration)
        for bn in batch_norms:
            c = bn.num_features
            bn.momentum = 0.1
            bn.num_batches_tracked.zero_()
            std = bn.running_var.sqrt()
            bn.running_mean.add_(0.1 * std * (2 * torch.rand(c, generator=generator) - 1))
            bn.running_var.mul_(0.8 + 0.45 * torch.rand(c, generator=generator))


def shortest_float32_text(value):
    """The shortest decimal that parses back to the same float32 (0.4914, not 0.491400003)."""
    target = torch.tensor(value, dtype=torch.float32).item()
    for digits in range(1, 10):
        candidate = float(f"{target:.{digits}g}")
        if torch.tensor(candidate, dtype=torch.float32).item() == target:
            return candidate
    return target


def buffer_names(model):
    """Running-statistic buffers (state_dict names), without num_batches_tracked.

    Normalize's mean/std are non-persistent buffers: not in the state_dict, so not here.
    """
    persistent = set(model.state_dict())
    return [name for name, _ in model.named_buffers()
            if name in persistent and not name.endswith("num_batches_tracked")]


def state_tensors(model):
    return {name: t.detach().clone() for name, t in model.state_dict().items()
            if not name.endswith("num_batches_tracked")}

# ---------------------------------------------------------------------------------------------
# Decision margins. ReLU and max-pool make discrete choices (is z > 0? which element is the
# max?). If a ReLU input lies within float32 rounding of 0, a correct float32 engine that sums
# in another order can take the other branch, and one flipped unit moves every earlier
# gradient by ~0.5% (seen with resnet20, batch 8). So before writing a file we nudge the
# input (by ~1e-5, staying in [0, 1]) until every ReLU input and every max-pool gap between
# the two largest positive values of a window is at least DECISION_MARGIN x the RMS of that
# layer's input: ~7x the largest float32-vs-float64 error PyTorch itself shows there.
DECISION_MARGIN = 1e-4


class DecisionRecorder:
    """Records the input of every nn.ReLU and nn.MaxPool2d call during a forward pass."""

    def __init__(self, model):
        self.records = []
        self.handles = []
        for module in model.modules():
            if isinstance(module, (nn.ReLU, nn.MaxPool2d)):
                self.handles.append(module.register_forward_pre_hook(self._hook))

    def _hook(self, module, inputs):
        self.records.append((module, inputs[0]))

    def remove(self):
        for handle in self.handles:
            handle.remove()


def _margins(module, t):
    """Decision margins of one recorded call (differentiable), or None when it decides nothing."""
    if isinstance(module, nn.ReLU):
        return torch.where(t.detach() >= 0, t, -t)
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)
    kernel, stride, padding = pair(module.kernel_size), pair(module.stride), pair(module.padding)
    if module.dilation not in (1, (1, 1)) or module.ceil_mode:
        raise NotImplementedError("margins are implemented for max-pools without dilation or ceil_mode")
    # Every window's values (padding is -inf, as max-pool's), then the gap between its top two.
    n, c = t.shape[:2]
    padded = F.pad(t, (padding[1], padding[1], padding[0], padding[0]), value=float("-inf"))
    windows = padded.unfold(2, kernel[0], stride[0]).unfold(3, kernel[1], stride[1])
    top = windows.reshape(*windows.shape[:4], -1).topk(2, dim=-1).values
    # A window whose second value is 0 (or less) is decided by the ReLU margin of its max.
    return (top[..., 0] - top[..., 1])[top[..., 1].detach() > 0]


def margin_deficit(records, margin=DECISION_MARGIN):
    """(penalty to minimise, number of margins below `margin` x RMS, smallest margin / RMS)."""
    penalty, count, smallest = 0.0, 0, float("inf")
    for module, t in records:
        m = _margins(module, t)
        if m is None or m.numel() == 0:
            continue
        rms = t.detach().pow(2).mean().sqrt().clamp_min(1e-12)
        smallest = min(smallest, (m.detach().min() / rms).item())
        short = m.detach() < margin * rms
        if short.any():
            count += int(short.sum())
            penalty = penalty + ((2 * margin * rms - m[short]) / rms).sum()  # aim at twice the margin
    return penalty, count, smallest


def check_margins(model, mode, inputs):
    """(violations, smallest margin / RMS) of one forward pass; leaves the model's state as it was."""
    saved = copy.deepcopy(model.state_dict())
    model.train(mode == "train")
    recorder = DecisionRecorder(model)
    try:
        with torch.no_grad():
            model(inputs)
        _, count, smallest = margin_deficit(recorder.records)
    finally:
        recorder.remove()
        model.load_state_dict(saved)
    return count, smallest


def widen_decision_margins(model, mode, inputs, max_steps=200):
    """Nudges `inputs` until every decision margin is >= DECISION_MARGIN x RMS.

    Gauss-Newton steps on the summed deficit, with autograd through the whole pass in
    `mode` (in train mode BN couples the images, which this handles). The model's state
    (running statistics) is restored afterwards. Returns (inputs, stats dict).
    """
    saved = copy.deepcopy(model.state_dict())
    flags = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    model.train(mode == "train")
    recorder = DecisionRecorder(model)
    x = inputs.clone()
    first = None
    try:
        for step in range(max_steps + 1):
            recorder.records.clear()
            xv = x.clone().requires_grad_(True)
            model(xv)
            penalty, count, smallest = margin_deficit(recorder.records)
            first = count if first is None else first
            if count == 0:
                break
            if step == max_steps:
                raise RuntimeError(f"could not widen {count} decision margins in {max_steps} steps "
                                   f"(smallest margin/RMS {smallest:.2e}); try another --seed")
            (grad,) = torch.autograd.grad(penalty, xv)
            eta = penalty.detach() / grad.pow(2).sum().clamp_min(1e-30)
            x = (x - eta * grad).clamp(0, 1)
    finally:
        recorder.remove()
        for p, flag in zip(model.parameters(), flags):
            p.requires_grad_(flag)
        model.load_state_dict(saved)
    stats = {"initial_violations": first, "steps": step,
             "max_input_change": (x - inputs).abs().max().item(), "smallest_margin": smallest}
    return x, stats


def run_pass(model, mode, inputs, labels):
    """Sets the mode, runs forward + mean CE + backward; returns logits, loss, input grad, param grads."""
    model.train(mode == "train")
    model.zero_grad(set_to_none=True)
    x = inputs.clone().requires_grad_(True)
    logits = model(x)
    loss = F.cross_entropy(logits, labels)  # mean over the batch
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in model.named_parameters()}
    return logits.detach(), loss.detach().reshape(1), x.grad.detach().clone(), grads


def make_golden(model_name, mode, seed, batch, classes, input_shape, mean, std):
    """Returns (ordered tensors dict, metadata) of the golden file."""
    torch.manual_seed(seed)  # drives the default initialisation inside the model constructors
    generator = torch.Generator().manual_seed(seed + 1)  # everything else, independent of init order
    model = models.build_model(model_name, classes, input_shape, mean, std)
    randomize_batch_norm(model, input_shape, generator)
    inputs = torch.rand(batch, *input_shape, generator=generator)
    labels = torch.randint(0, classes, (batch,), generator=generator)
    inputs, margin_stats = widen_decision_margins(model, mode, inputs)

    tensors = {f"state.{name}": t for name, t in state_tensors(model).items()}
    tensors["input"] = inputs
    tensors["labels"] = labels.to(torch.float32)
    logits, loss, input_grad, grads = run_pass(model, mode, inputs, labels)
    tensors["expected.logits"] = logits
    tensors["expected.loss"] = loss
    tensors["expected.input_grad"] = input_grad
    for name, grad in grads.items():
        tensors[f"expected.grad.{name}"] = grad
    if mode == "train":
        after = model.state_dict()
        for name in buffer_names(model):
            tensors[f"expected.state.{name}"] = after[name].detach().clone()

    for name, t in tensors.items():
        assert t.dtype == torch.float32, f"{name} is {t.dtype}, golden files are F32 only"
        assert torch.isfinite(t).all(), f"{name} has non-finite values"
    mean_used = model.normalize.mean.flatten().tolist()
    std_used = model.normalize.std.flatten().tolist()
    compact = dict(separators=(",", ":"))
    metadata = {
        "model": model_name,
        "mode": mode,
        "num_classes": str(classes),
        "input_shape": json.dumps(list(input_shape), **compact),
        "mean": json.dumps([shortest_float32_text(v) for v in mean_used], **compact),
        "std": json.dumps([shortest_float32_text(v) for v in std_used], **compact),
        "seed": str(seed),
        "batch": str(batch),
        "torch_version": torch.__version__,
        "generator": "scripts/reference/golden.py",
        # Every ReLU input and max-pool top-2 gap is at least this fraction of its layer's RMS.
        "decision_margin": f"{DECISION_MARGIN:g}",
        "input_nudge_max_abs": f"{margin_stats['max_input_change']:.3g}",
    }
    return tensors, metadata, margin_stats


def verify(path, rtol=1e-4, atol=1e-6):
    """Rebuilds the model from FILE's state, reruns the pass, compares with FILE's expectations."""
    arrays, meta = safetensors_io.load(path)
    input_shape = tuple(json.loads(meta["input_shape"]))
    model = models.build_model(meta["model"], int(meta["num_classes"]), input_shape,
                               json.loads(meta["mean"]), json.loads(meta["std"]))
    state = {k[len("state."):]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("state.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit(f"{path}: state mismatch: missing {missing}, unexpected {unexpected}")
    inputs = torch.from_numpy(arrays["input"])
    labels = torch.from_numpy(arrays["labels"]).to(torch.int64)
    logits, loss, input_grad, grads = run_pass(model, meta["mode"], inputs, labels)
    got = {"expected.logits": logits, "expected.loss": loss, "expected.input_grad": input_grad}
    got.update({f"expected.grad.{n}": g for n, g in grads.items()})
    if meta["mode"] == "train":
        after = model.state_dict()
        got.update({f"expected.state.{n}": after[n] for n in buffer_names(model)})
    expected_keys = {k for k in arrays if k.startswith("expected.")}
    if expected_keys != set(got):
        raise SystemExit(f"{path}: expected.* keys differ: file-only {sorted(expected_keys - set(got))}, "
                         f"recomputed-only {sorted(set(got) - expected_keys)}")
    worst = 0.0
    for key, value in got.items():
        reference = torch.from_numpy(arrays[key])
        if reference.shape != value.shape:
            raise SystemExit(f"{path}: {key}: shape {list(reference.shape)} in file, {list(value.shape)} recomputed")
        error = ((value - reference).abs() / (atol + rtol * reference.abs())).max().item()
        worst = max(worst, error)
        if error > 1:
            raise SystemExit(f"{path}: {key} differs beyond rtol {rtol}")
    violations, smallest = check_margins(model, meta["mode"], inputs)
    if violations:
        raise SystemExit(f"{path}: {violations} decision margins below {DECISION_MARGIN:g} x RMS "
                         f"(smallest {smallest:.2e}): float32 engines may legitimately disagree")
    conditioning = float64_agreement(model, meta["mode"], inputs, labels, arrays)
    print(f"{path}: OK ({meta['model']} {meta['mode']}, {len(arrays)} tensors, worst error {worst:.3g} "
          f"of tolerance; smallest decision margin {smallest:.2e} x RMS; float32 vs float64 PyTorch: "
          f"max|diff|/max|ref| {conditioning[0]:.2e} ({conditioning[1]}))")


def float64_agreement(model, mode, inputs, labels, arrays):
    """Diagnostic only (never used to write files): how far the float32 expectations are from a
    float64 rerun, as max |f32 - f64| / max |f64| of the worst tensor. This is the noise floor a
    correct float32 engine should expect against the golden file."""
    reference = copy.deepcopy(model).double()
    logits, loss, input_grad, grads = run_pass(reference, mode, inputs.double(), labels)
    got = {"expected.logits": logits, "expected.loss": loss, "expected.input_grad": input_grad}
    got.update({f"expected.grad.{n}": g for n, g in grads.items()})
    worst = (0.0, "")
    for key, value in got.items():
        diff = (torch.from_numpy(arrays[key]).double() - value).abs().max().item()
        worst = max(worst, (diff / max(value.abs().max().item(), 1e-30), key))
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=GOLDEN_MODELS)
    parser.add_argument("--mode", choices=("train", "eval"))
    parser.add_argument("--out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--input-shape", type=_shape, help="C,H,W (default: the model's, e.g. 1,28,28 / 3,32,32)")
    parser.add_argument("--mean", type=_float_list, help="per-channel, comma-separated")
    parser.add_argument("--std", type=_float_list, help="per-channel, comma-separated")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: bit-reproducible files)")
    parser.add_argument("--verify", metavar="FILE", help="check an existing golden file instead of writing one")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.verify:
        verify(args.verify)
        return
    if not (args.model and args.mode and args.out):
        parser.error("--model, --mode and --out are required (or --verify FILE)")
    if args.batch < 1 or args.classes < 2:
        parser.error("--batch must be >= 1 and --classes >= 2")
    input_shape = args.input_shape or models.DEFAULT_INPUT_SHAPE[args.model]
    tensors, metadata, margins = make_golden(args.model, args.mode, args.seed, args.batch, args.classes,
                                             input_shape, args.mean, args.std)
    safetensors_io.save(args.out, tensors, metadata)
    print(f"wrote {args.out}: {args.model} {args.mode}, {len(tensors)} tensors, "
          f"loss {tensors['expected.loss'].item():.6f}; widened {margins['initial_violations']} decision "
          f"margins in {margins['steps']} steps (input moved <= {margins['max_input_change']:.2g})")


if __name__ == "__main__":
    main()
