#!/usr/bin/env bash
# Creates .venv-torch with a CPU build of PyTorch for the optional reference
# comparisons (golden tests, benchmarks). The core test suite never needs it.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${RT_TORCH_VENV:-.venv-torch}
if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  echo "$VENV/bin/python"; exit 0
fi
python3 -m venv "$VENV" >&2
"$VENV/bin/pip" install -q --no-deps "torch==2.13.0+cpu" >&2
"$VENV/bin/pip" install -q numpy filelock typing-extensions sympy networkx jinja2 fsspec >&2
echo "$VENV/bin/python"
