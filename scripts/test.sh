#!/usr/bin/env bash
# The whole test suite, in release mode (the numeric tests are too slow in debug builds).
# Installs missing Debian packages first. Extra arguments go to `swift test` (e.g. --filter OpGradientTests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# One set of flags for both steps, so the test build reuses the binaries (the process tests
# run the `rt` executable built here) instead of compiling everything a second time.
swift build -c release -Xswiftc -enable-testing
# First each libFuzzer harness (sweep parser, safetensors reader, wire envelope decoder) for
# RT_FUZZ_SECONDS (15) from its committed seed corpus; a crash fails the suite, after the tests
# have run, so the suite's own summary stays the last thing printed. Only for the whole suite (no
# arguments), and RT_FUZZ_SECONDS=0 leaves it out.
fuzz_status=0
fuzz_seconds=${RT_FUZZ_SECONDS:-15}
if [[ $# -eq 0 && $fuzz_seconds -gt 0 ]]; then
  started=$SECONDS
  # A backstop like the suite's: building all three from scratch takes a few minutes at most.
  timeout --kill-after=10 $((fuzz_seconds * 3 + 900)) scripts/fuzz/run.sh "$fuzz_seconds" || fuzz_status=$?
  echo "test.sh: fuzzing took $((SECONDS - started)) s (status $fuzz_status)"
fi
# A backstop, never reached by a healthy run (about 6 minutes of tests on 2 cores): a test
# that hangs ends the suite with its name (the last "started" line) instead of eating CI's time.
limit=${RT_TEST_TIMEOUT:-2700}
status=0
timeout --kill-after=30 "$limit" swift test -c release -Xswiftc -enable-testing "$@" || status=$?
if [[ $status -eq 124 || $status -eq 137 ]]; then
  # swift test runs the bundle in a process of its own, which timeout does not reach.
  pkill -KILL -f 'RobustTransferPackageTests.xctest' || true
  echo "test.sh: the suite ran past ${limit} s and was stopped; the last 'started' line above names the test that hung" >&2
fi
if [[ $fuzz_status -ne 0 ]]; then
  echo "test.sh: a fuzzer failed (status $fuzz_status); its finding is printed above the tests" >&2
  [[ $status -ne 0 ]] || status=$fuzz_status
fi
exit "$status"
