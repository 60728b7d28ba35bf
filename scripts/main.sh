#!/usr/bin/env bash
# The main job: the robustness-transfer study (cluster/sweeps/default.yaml) on a local cluster of
# 2 worker processes, about 6 minutes on 2 cores after the build; prints the summary table and the path of the
# HTML report (runs/default/report.html). Installs missing Debian packages first.
# Extra arguments go to `rt study` (e.g. --resume, or another sweep file).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The same flags as scripts/test.sh, so running both compiles the package once.
swift build -c release -Xswiftc -enable-testing
exec .build/release/rt study "$@"
