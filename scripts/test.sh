#!/usr/bin/env bash
# The whole test suite, in release mode (the numeric tests are too slow in debug builds).
# Installs missing Debian packages first. Extra arguments go to `swift test` (e.g. --filter OpGradientTests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release
swift test -c release -Xswiftc -enable-testing "$@"
