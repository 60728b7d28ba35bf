"""Reads and writes the safetensors format by hand (numpy + standard library).

Layout of a file:
    8 bytes   header length L, unsigned little-endian
    L bytes   JSON header: {name: {"dtype": "F32", "shape": [...],
                                   "data_offsets": [begin, end]},
                            "__metadata__": {str: str}}   (metadata optional)
    ...       raw little-endian tensor data; offsets are relative to the byte
              after the header, tensors are contiguous, row-major (C order).

The header is padded with spaces to a multiple of 8 bytes, as the reference
implementation does, so the data section starts 8-byte aligned. Tensors are
laid out in the order given (callers pass an ordered dict), without gaps.

This module must not import torch: the benchmark composer and tests without
PyTorch use it too.
"""

import json
import struct

import numpy as np

# safetensors dtype name -> numpy little-endian dtype
DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


def _name_of(dtype):
    """The safetensors name of a numpy dtype of either byte order, or None."""
    for name, candidate in DTYPES.items():
        if dtype.kind == candidate.kind and dtype.itemsize == candidate.itemsize:
            return name
    return None

# The reference implementation refuses headers above 100 MB; so do we.
MAX_HEADER_BYTES = 100_000_000


class SafetensorsError(ValueError):
    """A malformed file; the message names the file and the offending tensor."""


def _as_numpy(value):
    """Accepts numpy arrays, numbers and torch tensors without importing torch."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch.Tensor
        value = value.detach().cpu().contiguous().numpy()
    return np.require(np.asarray(value), requirements="C")  # keeps 0-d arrays 0-d


def dumps(tensors, metadata=None):
    """Returns the bytes of a safetensors file holding `tensors` (name -> array)."""
    header = {}
    chunks = []
    offset = 0
    for name, value in tensors.items():
        if name == "__metadata__":
            raise SafetensorsError("'__metadata__' is reserved and cannot name a tensor")
        array = _as_numpy(value)
        dtype_name = _name_of(array.dtype)
        if dtype_name is None:
            raise SafetensorsError(f"tensor '{name}': unsupported dtype {array.dtype}")
        array = array.astype(DTYPES[dtype_name], copy=False)  # byte-swaps if needed
        data = array.tobytes(order="C")
        header[name] = {"dtype": dtype_name, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        for key, val in metadata.items():
            if not isinstance(key, str) or not isinstance(val, str):
                raise SafetensorsError(f"__metadata__ must map strings to strings; got {key!r}: {val!r}")
        header = {"__metadata__": dict(metadata), **header}
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * ((-len(header_bytes)) % 8)
    return struct.pack("<Q", len(header_bytes)) + header_bytes + b"".join(chunks)


def save(path, tensors, metadata=None):
    """Writes atomically: a half-written file never carries the final name."""
    import os
    blob = dumps(tensors, metadata)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def loads(blob, source="<bytes>"):
    """Parses safetensors bytes; returns (dict name -> numpy array, metadata dict).

    Validates everything the format promises: header bounds, JSON, dtypes,
    shapes matching byte ranges, ranges inside the data and covering it
    without overlap.
    """
    if len(blob) < 8:
        raise SafetensorsError(f"{source}: {len(blob)} bytes, too short for the 8-byte header length")
    (header_len,) = struct.unpack("<Q", blob[:8])
    if header_len > MAX_HEADER_BYTES or 8 + header_len > len(blob):
        raise SafetensorsError(f"{source}: header length {header_len} exceeds the file ({len(blob)} bytes)")
    try:
        header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SafetensorsError(f"{source}: header is not valid JSON: {err}") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{source}: header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise SafetensorsError(f"{source}: __metadata__ must map strings to strings")
    data = memoryview(blob)[8 + header_len:]
    tensors = {}
    ranges = []
    for name, info in header.items():
        try:
            dtype = DTYPES[info["dtype"]]
            shape = tuple(int(d) for d in info["shape"])
            begin, end = (int(o) for o in info["data_offsets"])
        except (KeyError, TypeError, ValueError) as err:
            raise SafetensorsError(f"{source}: tensor '{name}': bad header entry {info!r} ({err})") from None
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if any(d < 0 for d in shape) or not (0 <= begin <= end <= len(data)):
            raise SafetensorsError(f"{source}: tensor '{name}': data_offsets [{begin}, {end}] outside "
                                   f"the {len(data)}-byte data section (truncated file?)")
        if end - begin != count * dtype.itemsize:
            raise SafetensorsError(f"{source}: tensor '{name}': shape {list(shape)} of {info['dtype']} needs "
                                   f"{count * dtype.itemsize} bytes, data_offsets give {end - begin}")
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).copy()
        ranges.append((begin, end, name))
    position = 0
    for begin, end, name in sorted(ranges):
        if begin != position:
            raise SafetensorsError(f"{source}: tensor '{name}' starts at {begin}, expected {position} "
                                   "(gap or overlap in the data section)")
        position = end
    if position != len(data):
        raise SafetensorsError(f"{source}: {len(data) - position} trailing bytes after the last tensor")
    return tensors, metadata


def load(path):
    with open(path, "rb") as f:
        return loads(f.read(), source=str(path))


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
            print(f"  {name:50s} {_name_of(array.dtype):4s} {list(array.shape)}")


if __name__ == "__main__":
    main()
