"""Opens an rt checkpoint the way a PyTorch user would, and classifies images with it.

    python scripts/reference/load_rt_checkpoint.py CHECKPOINT --input INPUT.safetensors --out LOGITS.safetensors

The checkpoint is read with the official `safetensors.torch.load_file`; its `__metadata__`
(model, num_classes, input_shape, mean, std) builds the matching network from models.py, which
takes the weights with `load_state_dict(strict=True)`: every name and shape must match, with
nothing missing or left over. The model in eval mode classifies the `input` tensor of INPUT,
and the logits are written to OUT as `logits`. Prints one JSON line describing what it loaded.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_python  # noqa: E402

torch_python.ensure_torch()

import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

import models  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--input", required=True, help="safetensors file with an `input` tensor (N, C, H, W)")
    parser.add_argument("--out", required=True, help="where to write the `logits` tensor")
    args = parser.parse_args(argv)

    with safe_open(args.checkpoint, framework="pt") as f:
        metadata = f.metadata() or {}
    state = load_file(args.checkpoint)
    try:
        net = models.build_model(metadata["model"], int(metadata["num_classes"]), json.loads(metadata["input_shape"]),
                                 json.loads(metadata["mean"]), json.loads(metadata["std"]))
    except KeyError as missing:
        sys.exit(f"{args.checkpoint}: __metadata__ has no {missing}; not an rt checkpoint?")
    net.load_state_dict(state, strict=True)
    net.eval()
    with torch.no_grad():
        logits = net(load_file(args.input)["input"])
    save_file({"logits": logits.contiguous()}, args.out)
    print(json.dumps({"model": metadata["model"], "tensors": len(state), "logits": list(logits.shape)}))


if __name__ == "__main__":
    main()
