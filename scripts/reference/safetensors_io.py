"""rt checkpoints through the official safetensors package (PyPI `safetensors`), as numpy.

    tensors, metadata = load(path)     # dict name -> numpy array (file order), dict str -> str
    save(path, tensors, metadata)      # numpy arrays or torch tensors; atomic

rt writes and reads safetensors itself (Sources/TensorEngine/SafeTensors.swift); the reference
scripts read and write them with the format's own implementation, so every golden comparison
also checks that the two agree on the format. `python safetensors_io.py FILE...` lists a file.

Uses `safetensors.numpy`, never torch: callers without PyTorch can use it too.
"""

import os

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file


def _as_numpy(value):
    """Accepts numpy arrays, numbers and torch tensors without importing torch."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch.Tensor
        value = value.detach().cpu().contiguous().numpy()
    return np.ascontiguousarray(np.asarray(value))


def load(path):
    """(dict name -> numpy array, metadata dict) of a safetensors file, tensors in file order."""
    with safe_open(str(path), framework="numpy") as f:
        metadata = dict(f.metadata() or {})
        tensors = {name: f.get_tensor(name) for name in f.offset_keys()}  # keys() would sort them
    return tensors, metadata


def save(path, tensors, metadata=None):
    """Writes atomically: a half-written file never carries the final name."""
    arrays = {name: _as_numpy(value) for name, value in tensors.items()}
    tmp = f"{path}.tmp-{os.getpid()}"
    save_file(arrays, tmp, metadata=dict(metadata) if metadata else None)
    os.replace(tmp, path)


def main(argv=None):
    """`python safetensors_io.py FILE...` lists the tensors and metadata of each file."""
    import argparse
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    for path in args.files:
        tensors, metadata = load(path)
        print(f"{path}: {len(tensors)} tensors")
        for key, val in metadata.items():
            print(f"  __metadata__.{key} = {val}")
        for name, array in tensors.items():
            print(f"  {name:50s} {str(array.dtype):8s} {list(array.shape)}")


if __name__ == "__main__":
    main()
