#!/usr/bin/env bash
# Creates .venv-corruptions with NumPy, SciPy, Pillow and scikit-image for the optional comparison
# of rt's common corruptions with scripts/reference/corruptions_reference.py
# (CorruptionReferenceTests). The core test suite never needs it. Versions as measured in
# docs/ROBUSTNESS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${RT_CORRUPTIONS_VENV:-.venv-corruptions}
if ! { [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import numpy, scipy, PIL, skimage' 2>/dev/null; }; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q "numpy==2.4.6" "scipy==1.17.1" "pillow==13.0.0" "scikit-image==0.26.0" >&2
fi
echo "$VENV/bin/python"
