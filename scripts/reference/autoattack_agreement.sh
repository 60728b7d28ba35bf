#!/usr/bin/env bash
# rt's APGD-CE, APGD-T and Square against torchattacks on the same checkpoint and the same first
# N Fashion-MNIST test images (issue 16: within 1 point of robust accuracy). By hand, not in CI:
# about 20 minutes on 2 cores at the defaults.
#
#   scripts/reference/autoattack_agreement.sh [--checkpoint CKPT] [--examples 1000] [--steps 100] [--queries 1000]
#
# Without --checkpoint it trains small-cnn on all 10 classes (2,000 per class, 2 epochs, seed 1).
# Prints one JSON line per (norm, attack) and a table; exits 1 when a difference exceeds 1 point.
set -euo pipefail
cd "$(dirname "$0")/../.."
checkpoint="" examples=1000 steps=100 queries=1000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --checkpoint) checkpoint=$2; shift 2 ;;
    --examples) examples=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
data_dir=${RT_DATA_DIR:-/usr/share/datasets}/fashion-mnist
[[ -d $data_dir ]] || { echo "no Fashion-MNIST in $data_dir (scripts/setup.sh fetches it)" >&2; exit 77; }
# A torch Python found as the tests find it (here, or the main checkout's .venv-torch), else a new one.
python=$(python3 scripts/reference/torch_python.py || scripts/reference/setup_torch.sh)
"$python" -c 'import torchattacks' 2>/dev/null || { echo "torchattacks is missing: run scripts/reference/setup_torch.sh" >&2; exit 77; }
# $RT: an rt already built (e.g. the test build); otherwise a release build.
rt=${RT:-}
if [[ -z $rt ]]; then swift build -c release >&2; rt=.build/release/rt; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -z $checkpoint ]]; then
  checkpoint=$work/fmnist10.safetensors
  $rt train --model small-cnn --dataset fashion-mnist --per-class 2000 --epochs 2 --seed 1 --output "$checkpoint" --json >&2
fi

status=0
for setting in "linf 8/255 0.03137254901960784" "l2 0.5 0.5"; do
  read -r norm label eps <<<"$setting"
  $rt attack --checkpoint "$checkpoint" --dataset fashion-mnist --examples "$examples" --attack apgd-ce,apgd-t,square \
      --norm "$norm" --eps "$label" --steps "$steps" --queries "$queries" --json > "$work/rt.json"
  "$python" scripts/reference/autoattack_reference.py "$checkpoint" --idx "$data_dir" --limit "$examples" \
      --norm "$norm" --eps "$eps" --steps "$steps" --queries "$queries" > "$work/ta.json"
  "$python" - "$work/rt.json" "$work/ta.json" "$norm" "$label" "$steps" "$queries" <<'PY' || status=1
import json, sys
rt, ta = (json.load(open(p)) for p in sys.argv[1:3])
norm, label, steps, queries = sys.argv[3:]
n = rt["examples"]
worst = 0.0
for r in rt["results"]:
    theirs = ta[r["attack"]] / ta["examples"]
    diff = 100 * (r["robust_accuracy"] - theirs)
    worst = max(worst, abs(diff))
    print(json.dumps({"norm": norm, "eps": label, "attack": r["attack"], "examples": n, "steps": steps, "queries": queries,
                      "rt": round(r["robust_accuracy"], 4), "torchattacks": round(theirs, 4), "difference_points": round(diff, 2),
                      "rt_seconds": round(r["seconds"], 1)}))
print(f"clean: rt {rt['clean_accuracy']:.4f}, torchattacks {ta['clean'] / ta['examples']:.4f}", file=sys.stderr)
sys.exit(0 if worst <= 1.0 else 1)
PY
done
exit $status
