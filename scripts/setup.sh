#!/usr/bin/env bash
# Installs the Debian packages RobustTransfer needs, only those that are missing.
# Idempotent: a second run installs nothing. Uses sudo when not root.
set -euo pipefail

PACKAGES=(
  pkg-config
  libzmq3-dev        # ZeroMQ (CZeroMQ): coordinator <-> worker transport, CurveZMQ
  libopenblas-dev    # OpenBLAS cblas_sgemm (CBLAS): matmul and convolution
  libpng-dev         # ImageFolder PNG decoding
  libjpeg-dev        # ImageFolder JPEG decoding (libjpeg-turbo)
  zlib1g-dev         # gzip IDX and digits.csv.gz inflating (CZlib)
  libsqlite3-dev     # result store (GRDB)
  libssl-dev         # libcrypto's SHA-256 (CCrypto): artifact content addresses
  dataset-fashion-mnist  # real Fashion-MNIST IDX files in /usr/share/datasets/fashion-mnist
)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup.sh: apt-get/dpkg not found. This script supports Debian and Ubuntu only." >&2
  echo "Install by hand: ${PACKAGES[*]}" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi

# One line for the user; apt's progress goes to a log that is shown only when apt fails.
log="${TMPDIR:-/tmp}/rt-setup-$(id -u).log"
echo "setup.sh: installing ${#missing[@]} Debian package(s): ${missing[*]} (apt's output: $log)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  echo "setup.sh: apt-get failed; its output ($log) follows:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
