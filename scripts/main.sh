#!/usr/bin/env bash
# The main job. For now: the engine benchmark (training and PGD-10 throughput of small-cnn
# and resnet20); the robustness-transfer study takes its place when it lands.
# Installs missing Debian packages first. Extra arguments go to the command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release
exec .build/release/rt bench engine "$@"
