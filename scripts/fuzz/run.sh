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

# Yams, from the checkout SwiftPM made (swift package resolve fetches it).
yams=.build/checkouts/Yams/Sources
build_yams() {
  [[ -d $yams ]] || swift package resolve
  [[ -f $out/yams/libYams.a ]] && return
  mkdir -p "$out/yams"
  for c in "$yams"/CYaml/src/*.c; do
    clang -O1 -g -fsanitize=fuzzer-no-link,address -I "$yams/CYaml/include" -c "$c" -o "$out/yams/$(basename "$c" .c).o"
  done
  # SWIFT_PACKAGE: Yams imports its C part as a module only when built as a package.
  swiftc "${flags[@]}" -D SWIFT_PACKAGE -emit-module -emit-library -static -module-name Yams \
    -I "$yams/CYaml/include" -emit-module-path "$out/yams/Yams.swiftmodule" -o "$out/yams/libYamsSwift.a" "$yams"/Yams/*.swift
  ar rcs "$out/yams/libYams.a" "$out"/yams/*.o
}

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
  stamp=$( (cat "${files[@]}"; echo "${flags[*]}") | sha256sum | cut -c1-16)
  if [[ -x $out/$h-fuzz && $(cat "$out/$h.stamp" 2>/dev/null) == "$stamp" ]]; then
    echo "== $h: up to date"
    return
  fi
  echo "== $h: building"
  local started=$SECONDS
  case $h in
    sweep)
      build_yams
      swiftc "${flags[@]}" -module-name Cluster -I "$out/yams" -I "$yams/CYaml/include" \
        "${files[@]}" "$out/yams/libYamsSwift.a" "$out/yams/libYams.a" -o "$out/sweep-fuzz" ;;
    safetensors)
      swiftc "${flags[@]}" -module-name TensorEngine "${files[@]}" -o "$out/safetensors-fuzz" ;;
    wire)
      swiftc "${flags[@]}" -module-name Cluster -I Sources/CCrypto "${files[@]}" -o "$out/wire-fuzz" ;;
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
