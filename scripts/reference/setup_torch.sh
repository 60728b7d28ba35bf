#!/usr/bin/env bash
# Creates .venv-torch with a CPU build of PyTorch, torchattacks and safetensors for the optional reference
# comparisons (golden tests, AutoAttack agreement, benchmarks). The core test suite never needs it.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${RT_TORCH_VENV:-.venv-torch}
if ! { [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import torch' 2>/dev/null; }; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q --no-deps "torch==2.13.0+cpu" >&2
  "$VENV/bin/pip" install -q numpy filelock typing-extensions sympy networkx jinja2 fsspec >&2
fi
# torchattacks (the independent APGD/APGD-T/Square) without its declared torchvision/requests/tqdm,
# which it does not import; scipy it does.
if ! "$VENV/bin/python" -c 'import torchattacks' 2>/dev/null; then
  "$VENV/bin/pip" install -q scipy >&2
  "$VENV/bin/pip" install -q --no-deps "torchattacks==3.5.1" >&2
fi
# The format's own implementation: the reference scripts read and write rt checkpoints with it.
if ! "$VENV/bin/python" -c 'import safetensors' 2>/dev/null; then
  "$VENV/bin/pip" install -q "safetensors==0.8.0" >&2
fi
echo "$VENV/bin/python"
