#!/usr/bin/env bash
# The whole test suite, in release mode (the numeric tests are too slow in debug builds).
# Installs missing Debian packages first. Extra arguments go to `swift test` (e.g. --filter OpGradientTests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# One set of flags for both steps, so the test build reuses the binaries (the process tests
# run the `rt` executable built here) instead of compiling everything a second time.
swift build -c release -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing "$@"
