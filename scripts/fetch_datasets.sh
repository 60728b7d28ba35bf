#!/usr/bin/env bash
# Downloads datasets from their official sources into $RT_DATA_DIR
# (default ~/.local/share/rt/datasets, the same default rt uses), checks their
# published MD5 sums and unpacks them where `rt --dataset NAME` looks.
# Needs internet; CI never runs it (tests write their own fixtures).
#
#   scripts/fetch_datasets.sh mnist cifar10        # any of: mnist fashion-mnist cifar10 cifar100 digits all
#
# Fashion-MNIST also comes from Debian: `sudo apt-get install dataset-fashion-mnist`.
# Each file is downloaded to a .part file and renamed only after its checksum matches,
# so an interrupted run never leaves a file that looks complete.
set -euo pipefail

DATA_DIR="${RT_DATA_DIR:-$HOME/.local/share/rt/datasets}"

usage() {
  echo "usage: $0 mnist|fashion-mnist|cifar10|cifar100|digits|all ..." >&2
  echo "downloads into \$RT_DATA_DIR (now: $DATA_DIR)" >&2
  exit 2
}

if command -v curl >/dev/null 2>&1; then
  fetch() { curl --fail --location --silent --show-error --retry 3 --output "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget --quiet --tries=3 --output-document="$2" "$1"; }
else
  echo "$0: needs curl or wget" >&2; exit 1
fi

# download URL... DEST MD5: tries each URL in turn until one gives the expected MD5.
download() {
  local dest="${*: -2:1}" md5="${*: -1}" urls=("${@:1:$#-2}")
  if [[ -f "$dest" ]] && [[ -z "$md5" || "$(md5sum "$dest" | cut -d' ' -f1)" == "$md5" ]]; then
    echo "have $dest" >&2; return 0
  fi
  mkdir -p "$(dirname "$dest")"
  for url in "${urls[@]}"; do
    echo "fetching $url" >&2
    if fetch "$url" "$dest.part"; then
      if [[ -z "$md5" || "$(md5sum "$dest.part" | cut -d' ' -f1)" == "$md5" ]]; then
        mv "$dest.part" "$dest"; return 0
      fi
      echo "checksum mismatch for $url (expected $md5)" >&2
    fi
    rm -f "$dest.part"
  done
  echo "$0: could not download $(basename "$dest") from any source" >&2
  return 1
}

# idx NAME BASE_URLS... -- FILE:MD5...
fetch_idx() {
  local name=$1; shift
  local bases=()
  while [[ $1 != "--" ]]; do bases+=("$1"); shift; done; shift
  for entry in "$@"; do
    local file=${entry%%:*} md5=${entry##*:} urls=()
    for base in "${bases[@]}"; do urls+=("$base$file"); done
    download "${urls[@]}" "$DATA_DIR/$name/$file" "$md5"
  done
}

# cifar URL MD5 DIRECTORY: the tarball unpacks to DIRECTORY inside $DATA_DIR.
fetch_cifar() {
  local url=$1 md5=$2 directory=$3 archive="$DATA_DIR/$(basename "$1")"
  download "$url" "$archive" "$md5"
  if [[ ! -d "$DATA_DIR/$directory" ]]; then
    # Unpack beside, then rename: a half-extracted directory never has the final name.
    rm -rf "$DATA_DIR/.extract"
    mkdir -p "$DATA_DIR/.extract"
    tar -xzf "$archive" -C "$DATA_DIR/.extract"
    mv "$DATA_DIR/.extract/$directory" "$DATA_DIR/$directory"
    rm -rf "$DATA_DIR/.extract"
  fi
  echo "ready: $DATA_DIR/$directory" >&2
}

fetch_one() {
  case "$1" in
    mnist)
      # Yann LeCun's page is the official source; PyTorch's mirror serves the same files (same MD5).
      fetch_idx mnist http://yann.lecun.com/exdb/mnist/ https://ossci-datasets.s3.amazonaws.com/mnist/ -- \
        train-images-idx3-ubyte.gz:f68b3c2dcbeaaa9fbdd348bbdeb94873 \
        train-labels-idx1-ubyte.gz:d53e105ee54ea40749a09fcbcd1e9432 \
        t10k-images-idx3-ubyte.gz:9fb629c4189551a2d022fa330f9573f3 \
        t10k-labels-idx1-ubyte.gz:ec29112dd5afa0611ce80d1b7f02629c ;;
    fashion-mnist)
      fetch_idx fashion-mnist http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ \
        https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/ -- \
        train-images-idx3-ubyte.gz:8d4fb7e6c68d591d4c3dfef9ec88bf0d \
        train-labels-idx1-ubyte.gz:25c81989df183df01b3e8a0aad5dffbe \
        t10k-images-idx3-ubyte.gz:bef4ecab320f06d8554ea6380940ec79 \
        t10k-labels-idx1-ubyte.gz:bb300cfdad3c16e7a12a480ee83cd310 ;;
    cifar10)
      fetch_cifar https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz c32a1d4ab5d03f1284b67883e8d87530 cifar-10-batches-bin ;;
    cifar100)
      fetch_cifar https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz 03b5dce01913d631647c71ecec9e9cb8 cifar-100-binary ;;
    digits)
      # scikit-learn ships the file in its source tree; pinned to a release tag. No published MD5:
      # check that it is intact gzip instead.
      download https://raw.githubusercontent.com/scikit-learn/scikit-learn/1.5.0/sklearn/datasets/data/digits.csv.gz \
        "$DATA_DIR/digits.csv.gz" ""
      gzip -t "$DATA_DIR/digits.csv.gz" || { rm -f "$DATA_DIR/digits.csv.gz"; echo "$0: digits.csv.gz is corrupt" >&2; return 1; } ;;
    all)
      for name in mnist fashion-mnist cifar10 cifar100 digits; do fetch_one "$name"; done ;;
    *) usage ;;
  esac
}

[[ $# -ge 1 ]] || usage
for name in "$@"; do fetch_one "$name"; done
