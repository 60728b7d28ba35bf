"""Independent reference for rt's SVCCA (Tests/RobustnessTests/SVCCATests.swift), written from
Raghu et al. 2017 with NumPy, from the data matrices themselves rather than rt's accumulated
covariances:

    python svcca_reference.py A.f64 N P B.f64 N Q

A and B are raw little-endian float64, row-major N x P and N x Q (datapoints x neurons). Each is
centred, reduced by its SVD to the fewest top directions whose squared singular values reach 99%
of the total, then the canonical correlations of the two reductions are the singular values of
Qa^T Qb (Qa, Qb orthonormal bases from QR). Prints {"svcca": mean, "correlations": [...],
"directions_a": k, "directions_b": l}.
"""

import json
import sys

import numpy as np

KEPT = 0.99


def reduce(x):
    centred = x - x.mean(axis=0, keepdims=True)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    variance = s ** 2
    cumulative = np.cumsum(variance)
    k = int(np.searchsorted(cumulative, KEPT * variance.sum()) + 1)
    return u[:, :k] * s[:k], k


def main():
    a_path, n, p, b_path, m, q = sys.argv[1:7]
    a = np.fromfile(a_path, dtype="<f8").reshape(int(n), int(p))
    b = np.fromfile(b_path, dtype="<f8").reshape(int(m), int(q))
    ra, k = reduce(a)
    rb, l = reduce(b)
    qa, _ = np.linalg.qr(ra)
    qb, _ = np.linalg.qr(rb)
    correlations = np.minimum(np.linalg.svd(qa.T @ qb, compute_uv=False), 1.0)
    print(json.dumps({"svcca": float(correlations.mean()), "correlations": [float(c) for c in correlations],
                      "directions_a": k, "directions_b": l}))


if __name__ == "__main__":
    main()
