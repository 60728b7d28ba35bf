#!/usr/bin/env python3
"""Writes torchvision's ImageNet ResNet-18 weights as a checkpoint our `resnet18` loads.

    export_torchvision_resnet18.py --out FILE [--weights IMAGENET1K_V1|IMAGENET1K_V2] [--no-check]

Needs torch and torchvision (the weights are downloaded by torchvision on
first use, into its usual cache). Not run by CI.

The file: every state_dict entry except num_batches_tracked, F32 little-endian,
under torchvision's names (which are ours), and
__metadata__ {"model": "resnet18", "num_classes": "1000", "input_shape": "[3,224,224]",
              "mean": "[0.485,0.456,0.406]", "std": "[0.229,0.224,0.225]", ...}.
torchvision's models expect normalised inputs; ours normalise inside (the
Normalize layer, with the mean/std above), so both give the same logits for
the same picture. Unless --no-check, the script proves it: it loads the file
into scripts/reference/models.py's resnet18 and compares logits with
torchvision's on random images.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
import torch_python  # noqa: E402

torch_python.ensure_torch()

import torch  # noqa: E402

import models  # noqa: E402
import safetensors_io  # noqa: E402

MEAN, STD = models.IMAGENET_MEAN_STD


def checkpoint_from(tv_model, weights_name):
    """(tensors, metadata) of the checkpoint for a torchvision ResNet-18."""
    tensors = {name: t.detach().to(torch.float32).contiguous()
               for name, t in tv_model.state_dict().items() if not name.endswith("num_batches_tracked")}
    compact = dict(separators=(",", ":"))
    metadata = {
        "model": "resnet18",
        "num_classes": "1000",
        "input_shape": "[3,224,224]",
        "mean": json.dumps(list(MEAN), **compact),
        "std": json.dumps(list(STD), **compact),
        "source": f"torchvision.models.resnet18(weights=ResNet18_Weights.{weights_name})",
    }
    return tensors, metadata


def check(path, tv_model):
    """Loads `path` into our reference resnet18 and compares logits with torchvision's."""
    arrays, metadata = safetensors_io.load(path)
    ours = models.build_model("resnet18", int(metadata["num_classes"]), tuple(json.loads(metadata["input_shape"])),
                              json.loads(metadata["mean"]), json.loads(metadata["std"]))
    expected = {n for n in ours.state_dict() if not n.endswith("num_batches_tracked")}
    if set(arrays) != expected:
        raise SystemExit(f"{path}: tensor names differ from resnet18's: missing {sorted(expected - set(arrays))}, "
                         f"extra {sorted(set(arrays) - expected)}")
    ours.load_state_dict({n: torch.from_numpy(a) for n, a in arrays.items()}, strict=False)
    ours.eval()
    tv_model.eval()
    images = torch.rand(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        got = ours(images)
        want = tv_model((images - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1))
    error = (got - want).abs().max().item()
    if error > 1e-3 * max(1.0, want.abs().max().item()):
        raise SystemExit(f"{path}: logits differ from torchvision's by {error}")
    print(f"check: our resnet18 with {path} matches torchvision (max |logit difference| {error:.2e})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--weights", default="IMAGENET1K_V1", choices=("IMAGENET1K_V1", "IMAGENET1K_V2"))
    parser.add_argument("--no-check", action="store_true", help="skip the comparison with torchvision's logits")
    args = parser.parse_args()
    try:
        import torchvision
    except ImportError:
        raise SystemExit("export_torchvision_resnet18.py needs torchvision (pip install torchvision "
                         "matching your torch)") from None
    weights = getattr(torchvision.models.ResNet18_Weights, args.weights)
    tv_model = torchvision.models.resnet18(weights=weights)
    tensors, metadata = checkpoint_from(tv_model, args.weights)
    safetensors_io.save(args.out, tensors, metadata)
    print(f"wrote {args.out}: {len(tensors)} tensors, "
          f"{sum(t.numel() for t in tensors.values()):,} values, metadata {metadata}")
    if not args.no_check:
        check(args.out, tv_model)


if __name__ == "__main__":
    main()
