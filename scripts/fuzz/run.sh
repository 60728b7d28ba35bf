#!/usr/bin/env bash
# Builds the libFuzzer harnesses (sweep parser, safetensors reader) with swiftc's
# -sanitize=fuzzer,address and runs each for a bounded time on its committed seed corpus.
#   scripts/fuzz/run.sh [SECONDS per harness, default 60] [HARNESS ...: sweep safetensors]
# Crashes are written to .build/fuzz/<harness>/crash-*; new inputs to .build/fuzz/<harness>/corpus
# (the committed corpus in scripts/fuzz/corpus is only read). Exit status non-zero on a finding.
# Not part of scripts/test.sh: a run takes about 2 x SECONDS plus a few minutes of compiling.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
harnesses=("$@")
[[ ${#harnesses[@]} -gt 0 ]] || harnesses=(sweep safetensors)
out=.build/fuzz
mkdir -p "$out"
flags=(-O -parse-as-library -sanitize=fuzzer,address -g)

# Yams, from the checkout SwiftPM made (swift package resolve fetches it).
yams=.build/checkouts/Yams/Sources
[[ -d $yams ]] || swift package resolve
build_yams() {
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

build() {
  case $1 in
    sweep)
      build_yams
      swiftc "${flags[@]}" -module-name Cluster -I "$out/yams" -I "$yams/CYaml/include" \
        Sources/Cluster/Sweep/*.swift Sources/Cluster/Protocol/JSONValue.swift scripts/fuzz/SweepParserFuzz.swift \
        "$out/yams/libYamsSwift.a" "$out/yams/libYams.a" -o "$out/sweep-fuzz" ;;
    safetensors)
      # shellcheck disable=SC2046
      swiftc "${flags[@]}" -module-name TensorEngine -I Sources/CBLAS $(pkg-config --cflags-only-I openblas | sed 's/-I/-Xcc -I/g') \
        $(pkg-config --libs openblas) $(find Sources/TensorEngine -name "*.swift") scripts/fuzz/SafeTensorsFuzz.swift -o "$out/safetensors-fuzz" ;;
    *) echo "run.sh: unknown harness '$1' (sweep, safetensors)" >&2; exit 2 ;;
  esac
}

status=0
for h in "${harnesses[@]}"; do
  echo "== $h: building"
  build "$h"
  mkdir -p "$out/$h/corpus"
  echo "== $h: fuzzing for $seconds s"
  # -rss_limit_mb: an input that makes the parser allocate without bound is a finding too.
  (cd "$out/$h" && ASAN_OPTIONS=detect_leaks=0 "../$h-fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
     -max_len=65536 -print_final_stats=1 corpus "../../../scripts/fuzz/corpus/$h") || status=$?
done
exit "$status"
