#!/usr/bin/env python3
"""Writes a golden file for one training objective, for Tests/RobustnessTests/ObjectiveGoldenTests.

    objective_golden.py --objective ce|pgd-at|trades|dm --model small-cnn|resnet8 --out FILE
                        [--seed 0] [--batch 4] [--classes 5] [--beta B] [--eps E] [--steps K]

Each objective is written here from its formula, independently of rt's code:

    ce       CE(f(x), y)                                             (mean over the batch)
    pgd-at   CE(f(x_adv), y),  x_adv = L-inf PGD on CE from a uniform start
    trades   CE(f(x), y) + beta * (1/B) * KL(softmax f(x) || softmax f(x_adv))
             (KLDivLoss(size_average=False), i.e. summed, as in the TRADES reference code)
    dm       CE(f(x), y) + beta * (1/B) * mean((g(x_adv) - g(x))^2)
             (nn.MSELoss() default: the mean over all B x D elements, then 1/B once more, as the
             authors' train_dm.py; g = the penultimate features)

The inner maximisation runs in eval mode, the outer loss in train mode (both as rt and the
reference codes do). Inner losses: CE (pgd-at), KL from the clean eval-mode probabilities
(trades), the summed squared feature distance from the clean eval-mode features (dm); each step
is x <- clip01(proj_eps(x + alpha * sign(grad))), from a start projected the same way.

One safetensors file (F32), tensors:
    state.<name>              the model before the step
    input, labels             the clean batch (labels as F32)
    start                     the inner attack's first iterate (robust objectives)
    expected.adversarial      the inner attack's result from `start`
    adversarial               the adversarial examples the step test feeds the outer loss: the
                              inner attack's result, nudged (~1e-5) for decision margins
    expected.loss             (1,) the outer loss at `adversarial`
    expected.grad.<name>      its gradient for every parameter
    expected.param.<name>     every parameter after one SGD step (lr, momentum, weight_decay)
    expected.state.<name>     BN running statistics after the step (models with BN)
__metadata__: model, num_classes, input_shape, mean, std, objective, beta, eps, steps, step_size,
lr, momentum, weight_decay, robust_term (the robust part of expected.loss), sign_margin.

Conditioning: ReLU and max-pool decisions of the outer passes are widened as golden.py does
(on x and on `adversarial`). The attack's sign(grad) is a discrete choice too: a pixel whose
gradient is within float32 noise of zero can step either way in a correct engine. So the start
is redrawn (seed, seed+1, ...) until every nonzero gradient entry of every step is at least
SIGN_MARGIN x that example's max |grad| away from 0, and float64 PyTorch lands on the same
adversarial examples as float32 PyTorch.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_python  # noqa: E402

torch_python.ensure_torch()

import copy  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import golden  # noqa: E402
import models  # noqa: E402
import safetensors_io  # noqa: E402

OBJECTIVES = ("ce", "pgd-at", "trades", "dm")
# Defaults chosen so that the robust term is a sizeable part of the loss and its gradients (a
# wrong reduction or a missing gradient path then shows far above the tolerance); eps 8/255
# rather than DM's 0.5/255 for the same reason: at 0.5/255 the DM term is ~1e-5 of the CE.
DEFAULTS = {"pgd-at": dict(beta=0.0, eps=8 / 255, steps=4, step_scale=2.5),
            "trades": dict(beta=6.0, eps=32 / 255, steps=4, step_scale=2.5),  # at 8/255 the KL is 0.2% of the loss
            "dm": dict(beta=500.0, eps=8 / 255, steps=4, step_scale=1.25)}
SGD = dict(lr=0.05, momentum=0.9, weight_decay=5e-4)
# Every sign decision of the attack is at least the golden tolerance (1e-4 of the example's largest
# gradient entry) away from a tie. A correct float32 engine's input gradients differ from
# PyTorch's by ~1e-6..1e-5 of their max, and a flipped sign moves a pixel by 2·alpha and the rest
# of the trajectory with it; a looser 1e-5 margin did flip one (resnet8, trades).
SIGN_MARGIN = 1e-4
# Small images keep the number of sign decisions (pixels x steps) low enough that a start with
# every decision clear comes within a few draws (at 28x28 or 32x32 almost none does at 1e-4).
INPUT_SHAPE = {"small-cnn": (1, 12, 12), "resnet8": (3, 8, 8)}
MAX_REDRAWS = 200


def head(model):
    return model.fc2 if hasattr(model, "fc2") else model.fc


def logits_and_features(model, x):
    g = model.features(x)
    return head(model)(g), g


def draw_start(objective, x, eps, generator):
    """rt's random starts: uniform in the eps-ball (pgd-at) or x + 0.001 N(0, 1), then projected."""
    if objective == "pgd-at":
        noise = eps * (2 * torch.rand(x.shape, generator=generator, dtype=x.dtype) - 1)
    else:
        noise = 0.001 * torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return project(x + noise, x, eps)


def project(x_adv, x, eps):
    return torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1)


def inner_loss(objective, model, x, labels):
    """The summed inner loss as a function of the iterate, its references taken at x in eval mode."""
    with torch.no_grad():
        logits, g0 = logits_and_features(model, x)
        p_clean = F.softmax(logits, dim=1)
    if objective == "pgd-at":
        return lambda z: F.cross_entropy(model(z), labels, reduction="sum")
    if objective == "trades":
        return lambda z: F.kl_div(F.log_softmax(model(z), dim=1), p_clean, reduction="sum")
    return lambda z: (model.features(z) - g0).pow(2).sum()


def inner_attack(objective, model, x, labels, start, eps, steps, step_size):
    """(x_adv, gradients of every step). Leaves the model in eval mode."""
    model.eval()
    loss = inner_loss(objective, model, x, labels)
    x_adv, gradients = start.clone(), []
    for _ in range(steps):
        z = x_adv.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(loss(z), z)
        gradients.append(grad)
        x_adv = project(x_adv + step_size * grad.sign(), x, eps)
    return x_adv, gradients


def sign_margin(gradients):
    """Smallest |grad| / (that example's max |grad|) over every nonzero entry of every step."""
    smallest = float("inf")
    for g in gradients:
        flat = g.flatten(1).abs()
        scale = flat.max(dim=1, keepdim=True).values.clamp_min(1e-30)
        ratio = flat / scale
        nonzero = ratio[flat > 0]
        if nonzero.numel():
            smallest = min(smallest, nonzero.min().item())
    return smallest


def outer_loss(objective, model, x, x_adv, labels, beta):
    """(loss, robust term) in the model's current (train) mode, in rt's forward order."""
    b = labels.shape[0]
    if objective == "ce":
        return F.cross_entropy(model(x), labels), torch.zeros(())
    if objective == "pgd-at":
        return F.cross_entropy(model(x_adv), labels), torch.zeros(())
    if objective == "trades":
        logits = model(x)
        adv_logits = model(x_adv)
        robust = beta * (1.0 / b) * F.kl_div(F.log_softmax(adv_logits, dim=1), F.softmax(logits, dim=1), reduction="sum")
        return F.cross_entropy(logits, labels) + robust, robust
    logits, g = logits_and_features(model, x)
    _, g_adv = logits_and_features(model, x_adv)
    robust = beta * (1.0 / b) * F.mse_loss(g_adv, g)  # nn.MSELoss(): mean over all B x D elements
    return F.cross_entropy(logits, labels) + robust, robust


def sgd_step(model, objective, x, x_adv, labels, beta):
    """One torch.optim.SGD step on the outer loss: (loss, robust term, grads, params, buffers after)."""
    model.train()
    model.zero_grad(set_to_none=True)
    optimizer = torch.optim.SGD(model.parameters(), **SGD)
    loss, robust = outer_loss(objective, model, x, x_adv, labels, beta)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    optimizer.step()
    params = {n: p.detach().clone() for n, p in model.named_parameters()}
    state = model.state_dict()
    buffers = {n: state[n].detach().clone() for n in golden.buffer_names(model)}
    return loss.detach().reshape(1), robust.item(), grads, params, buffers


def conditioned_attack(objective, model, x, labels, settings, seed):
    """Redraws the start until the sign decisions are clear and float64 agrees (see the docstring)."""
    eps, steps, step_size = settings["eps"], settings["steps"], settings["step_size"]
    reference = copy.deepcopy(model).double()
    for redraw in range(MAX_REDRAWS):
        generator = torch.Generator().manual_seed(seed + 1000 + redraw)
        start = draw_start(objective, x, eps, generator)
        x_adv, gradients = inner_attack(objective, model, x, labels, start, eps, steps, step_size)
        margin = sign_margin(gradients)
        if margin < SIGN_MARGIN:
            continue
        x_adv64, _ = inner_attack(objective, reference, x.double(), labels, start.double(), eps, steps, step_size)
        if (x_adv64 - x_adv.double()).abs().max().item() > 1e-6:
            continue
        return start, x_adv, margin, redraw
    raise SystemExit(f"no start with sign margins >= {SIGN_MARGIN:g} in {MAX_REDRAWS} draws; try another --seed")


def make_golden(objective, model_name, seed, batch, classes, overrides):
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed + 1)
    input_shape = INPUT_SHAPE[model_name]
    model = models.build_model(model_name, classes, input_shape)
    golden.randomize_batch_norm(model, input_shape, generator)
    x = torch.rand(batch, *input_shape, generator=generator)
    labels = torch.randint(0, classes, (batch,), generator=generator)
    x, _ = golden.widen_decision_margins(model, "train", x)

    settings = dict(DEFAULTS.get(objective, dict(beta=0.0, eps=0.0, steps=0, step_scale=0.0)))
    settings.update({k: v for k, v in overrides.items() if v is not None})
    settings["step_size"] = settings["step_scale"] * settings["eps"] / max(settings["steps"], 1)

    tensors = {f"state.{n}": t for n, t in golden.state_tensors(model).items()}
    tensors["input"] = x
    tensors["labels"] = labels.to(torch.float32)
    x_adv, margin = x, float("nan")
    if objective != "ce":
        start, attacked, margin, redraws = conditioned_attack(objective, model, x, labels, settings, seed)
        tensors["start"] = start
        tensors["expected.adversarial"] = attacked
        x_adv, _ = golden.widen_decision_margins(model, "train", attacked)
        tensors["adversarial"] = x_adv
    loss, robust, grads, params, buffers = sgd_step(model, objective, x, x_adv, labels, settings["beta"])
    tensors["expected.loss"] = loss
    for n, g in grads.items():
        tensors[f"expected.grad.{n}"] = g
    for n, p in params.items():
        tensors[f"expected.param.{n}"] = p
    for n, b in buffers.items():
        tensors[f"expected.state.{n}"] = b
    for n, t in tensors.items():
        assert t.dtype == torch.float32 and torch.isfinite(t).all(), f"{n}: not finite float32"

    compact = dict(separators=(",", ":"))
    metadata = {
        "model": model_name, "num_classes": str(classes),
        "input_shape": json.dumps(list(input_shape), **compact),
        "mean": json.dumps([golden.shortest_float32_text(v) for v in model.normalize.mean.flatten().tolist()], **compact),
        "std": json.dumps([golden.shortest_float32_text(v) for v in model.normalize.std.flatten().tolist()], **compact),
        "objective": objective, "seed": str(seed), "torch_version": torch.__version__,
        "generator": "scripts/reference/objective_golden.py",
        "robust_term": f"{robust:.9g}", "sign_margin": f"{margin:.3g}",
    }
    for key in ("beta", "eps", "steps", "step_size"):
        metadata[key] = repr(float(settings[key])) if key != "steps" else str(int(settings[key]))
    for key, value in SGD.items():
        metadata[key] = repr(value)
    return tensors, metadata


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objective", choices=OBJECTIVES, required=True)
    parser.add_argument("--model", choices=("small-cnn", "resnet8"), default="small-cnn")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=4, help="small: every pixel of every step is a sign decision")
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--beta", type=float)
    parser.add_argument("--eps", type=float)
    parser.add_argument("--steps", type=int)
    args = parser.parse_args()
    torch.set_num_threads(1)
    tensors, metadata = make_golden(args.objective, args.model, args.seed, args.batch, args.classes,
                                    dict(beta=args.beta, eps=args.eps, steps=args.steps))
    safetensors_io.save(args.out, tensors, metadata)
    print(f"wrote {args.out}: {args.objective} on {args.model}, loss {tensors['expected.loss'].item():.6f} "
          f"(robust term {metadata['robust_term']}), sign margin {metadata['sign_margin']}")


if __name__ == "__main__":
    main()
