#!/usr/bin/env bash
# Runs rt's default study and the independent PyTorch reference (study_reference.py) with the same
# seeds and protocol, then prints the agreement table (study_agreement.py). docs/STUDY.md,
# "Agreement with an independent PyTorch implementation", has the numbers and the commands.
#
#   scripts/reference/study_agreement.sh [--protocol per-seed|fanout] [--seeds 1,2,3,4] [--jobs 2]
#                                        [--sweep FILE] [--rt-run DIR] [--reference-json FILE]... [--out DIR]
#
# --protocol per-seed (default): every seed pre-trains its own source models; the rt sweep is
#   cluster/sweeps/default.yaml with its `seeds:` replaced by --seeds.
# --protocol fanout: one pretrain and one robust-pretrain (seed 1) feed every target seed: the
#   sweep is default.yaml when it has per-stage seeds (issue 15 item 1), else give --sweep.
# --rt-run DIR: use a finished rt run instead of running the study; --reference-json FILE: use a
#   finished reference run (repeatable, pooled). RT (default .build/release/rt) is the binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
RT=${RT:-.build/release/rt}
protocol=per-seed seeds=1,2,3,4 jobs=2 sweep="" rt_run="" out=runs/agreement
references=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --protocol) protocol=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --sweep) sweep=$2; shift 2 ;;
    --rt-run) rt_run=$2; shift 2 ;;
    --reference-json) references+=("$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "study_agreement.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $protocol == per-seed || $protocol == fanout ]] || { echo "--protocol must be per-seed or fanout, got $protocol" >&2; exit 2; }
[[ $seeds =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "--seeds must be a comma-separated list of integers, got $seeds" >&2; exit 2; }
PY=$(python3 scripts/reference/torch_python.py) || { echo "no Python with torch: run scripts/reference/setup_torch.sh" >&2; exit 3; }
mkdir -p "$out"
tag="$protocol-${seeds//,/-}"

if [[ -z $rt_run ]]; then
  if [[ -z $sweep ]]; then
    if [[ $protocol == fanout ]]; then
      # default.yaml is the fan-out study once its source stages have `seeds: [1]` (issue 15, item 1).
      grep -q '^    seeds: \[1\]' cluster/sweeps/default.yaml ||
        { echo "--protocol fanout: cluster/sweeps/default.yaml has no per-stage seeds here; give --sweep" >&2; exit 2; }
      [[ $seeds == 1,2,3,4 ]] || { echo "--protocol fanout with default.yaml runs target seeds 1,2,3,4; give --sweep for others" >&2; exit 2; }
      sweep=cluster/sweeps/default.yaml
    else
      sweep="$out/default-$tag.yaml"
      sed -e "s/^seeds: .*/seeds: [${seeds//,/, }]/" -e "s/^name: default$/name: default-$tag/" cluster/sweeps/default.yaml > "$sweep"
    fi
  fi
  name=$(sed -n 's/^name: *//p' "$sweep" | head -1)
  [[ -x $RT ]] || { echo "no rt binary at $RT: swift build -c release" >&2; exit 3; }
  "$RT" study "$sweep" --runs "$out/runs" --quiet >&2
  rt_run="$out/runs/$name"
fi
"$RT" report "$rt_run" --format trials-json > "$out/rt-trials-$tag.json"

if [[ ${#references[@]} -eq 0 ]]; then
  "$PY" scripts/reference/study_reference.py --protocol "$protocol" --seeds "$seeds" --jobs "$jobs" --threads 1 \
    --out "$out/reference-$tag.json"
  references=("$out/reference-$tag.json")
fi
args=()
for r in "${references[@]}"; do args+=(--reference "$r"); done
"$PY" scripts/reference/study_agreement.py --rt "$out/rt-trials-$tag.json" "${args[@]}" --format compact
