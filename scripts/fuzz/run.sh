#!/usr/bin/env bash
# Builds the libFuzzer harnesses (sweep parser, safetensors reader, wire envelope decoder) with
# swiftc's -sanitize=fuzzer,address and runs each for a bounded time on its committed seed corpus.
#   scripts/fuzz/run.sh [SECONDS per harness, default 60] [HARNESS ...: sweep safetensors wire]
# Crashes are written to .build/fuzz/<harness>/crash-*; new inputs to .build/fuzz/<harness>/corpus
# (the committed corpus in scripts/fuzz/corpus is only read). Exit status non-zero on a finding.
# Each harness is compiled from the few sources it needs, and again only when they (or the
# flags) change: a stamp of their hash sits beside the binary. scripts/test.sh runs all three.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
harnesses=("$@")
[[ ${#harnesses[@]} -gt 0 ]] || harnesses=(sweep safetensors wire)
for h in "${harnesses[@]}"; do
  [[ $h == sweep || $h == safetensors || $h == wire ]] || { echo "run.sh: unknown harness '$h' (sweep, safetensors, wire)" >&2; exit 2; }
done
out=.build/fuzz
mkdir -p "$out"
flags=(-O -parse-as-library -sanitize=fuzzer,address -g)

# Yams as the release build made it (scripts/test.sh builds it first; here with the same flags,
# so nothing else is rebuilt): compiling Yams with the sanitizers took most of a harness's build
# (121 s of 138 s on a busy machine). Our parser is instrumented; Yams and libyaml are not.
release=.build/release
yams_objects() {
  if [[ ! -f $release/Modules/Yams.swiftmodule ]]; then
    swift build -c release -Xswiftc -enable-testing --target Yams >&2
  fi
  echo "$release"/Yams.build/*.swift.o "$release"/CYaml.build/src/*.c.o
}

# swiftc, without ld.gold's warning for each ASan helper it cannot export (hundreds of lines).
compile() { swiftc "${flags[@]}" "$@" 2>&1 | { grep -v "Cannot export local symbol" || true; }; }

# The sources each harness is compiled from, the harness last.
sources() {
  case $1 in
    sweep) echo Sources/Cluster/Sweep/*.swift Sources/Cluster/Protocol/JSONValue.swift scripts/fuzz/SweepParserFuzz.swift ;;
    safetensors) echo Sources/TensorEngine/{SafeTensorsHeader,TensorError}.swift scripts/fuzz/SafeTensorsFuzz.swift ;;
    wire) echo Sources/Cluster/Protocol/{WireEnvelope,MessageType,Messages,JSONValue,WireLimits,SHA256}.swift \
               Sources/Cluster/Coordinator/WorkerSession.swift scripts/fuzz/WireEnvelopeFuzz.swift ;;
  esac
}

build() {
  local h=$1 files stamp
  # shellcheck disable=SC2207
  files=($(sources "$h"))
  local extra=()
  # shellcheck disable=SC2207
  [[ $h == sweep ]] && extra=($(yams_objects))
  stamp=$( (cat "${files[@]}"; echo "${flags[*]}"; [[ ${#extra[@]} -eq 0 ]] || cat "${extra[@]}") | sha256sum | cut -c1-16)
  if [[ -x $out/$h-fuzz && $(cat "$out/$h.stamp" 2>/dev/null) == "$stamp" ]]; then
    echo "== $h: up to date"
    return
  fi
  echo "== $h: building"
  local started=$SECONDS
  case $h in
    sweep)
      local cyaml=.build/checkouts/Yams/Sources/CYaml/include
      compile -module-name Cluster -I "$release/Modules" -I "$cyaml" -Xcc -fmodule-map-file="$cyaml/module.modulemap" \
        "${files[@]}" "${extra[@]}" -o "$out/sweep-fuzz" ;;
    safetensors)
      compile -module-name TensorEngine "${files[@]}" -o "$out/safetensors-fuzz" ;;
    wire)
      compile -module-name Cluster -I Sources/CCrypto "${files[@]}" -o "$out/wire-fuzz" ;;
  esac
  echo "$stamp" > "$out/$h.stamp"
  echo "== $h: built in $((SECONDS - started)) s"
}

status=0
for h in "${harnesses[@]}"; do
  build "$h"
  mkdir -p "$out/$h/corpus"
  echo "== $h: fuzzing for $seconds s"
  # -rss_limit_mb: an input that makes the parser allocate without bound is a finding too.
  (cd "$out/$h" && ASAN_OPTIONS=detect_leaks=0 "../$h-fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
     -max_len=65536 -print_final_stats=1 corpus "../../../scripts/fuzz/corpus/$h") || status=$?
done
exit "$status"
