#!/usr/bin/env python3
"""Writes the wire harness's seed corpus (scripts/fuzz/corpus/wire): one file per message type
of docs/PROTOCOL.md as the harness reads a multipart message (each frame a 2-byte big-endian
length, then its bytes), plus a few broken ones. Run again after the protocol changes."""
import json
import os
import struct

TYPES = {"register": 1, "ready": 2, "heartbeat": 3, "progress": 4, "result": 5, "artifactChunk": 6, "failure": 7,
         "artifactRequest": 8, "statusRequest": 9, "ringEndpoint": 10, "checkpoint": 11, "leaving": 12, "lease": 32,
         "cancel": 33, "shutdown": 34, "statusReply": 35, "artifactMissing": 36, "ringPeers": 37}
HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
TOKEN = "0123456789abcdef0123456789abcdef"
REF = {"hash": HASH, "size": 4, "name": "model.safetensors"}


def envelope(kind, body=None, binary=(), request=0, version=1):
    payload = ([json.dumps(body, separators=(",", ":")).encode()] if body is not None else []) + list(binary)
    header = b"RT" + bytes([version, TYPES[kind]]) + struct.pack(">QH", request, len(payload))
    header += b"".join(struct.pack(">I", len(p)) for p in payload)
    return [header] + payload


def framed(frames):
    return b"".join(struct.pack(">H", len(f)) + f for f in frames)


SEEDS = {
    "register": envelope("register", {"workerID": "6F1C", "name": "local-1", "host": "node7", "pid": 4242, "threads": 2,
                                      "version": "rt-cluster/1", "revision": 4, "jobs": ["sleep", "sum", "train"]}),
    "register-rev1": envelope("register", {"workerID": "w", "name": "old", "host": "h", "pid": 1, "threads": 1, "version": "rt-cluster/1"}),
    "ready": envelope("ready", {"slots": 3}),
    "heartbeat": envelope("heartbeat"),
    "progress": envelope("progress", {"trialID": "nap-0001", "attempt": 1, "fraction": 0.5, "note": "epoch 2/4", "token": TOKEN}),
    "result": envelope("result", {"trialID": "add-0000", "attempt": 2, "metrics": {"sum": 3, "curve": [0.5, {"x": None}], "ok": True},
                                  "artifact": REF, "maskNames": ["positive"], "seconds": 1.25, "token": TOKEN}, [b"\x01\x00\x01"]),
    "artifactChunk": envelope("artifactChunk", {"hash": HASH, "name": "x", "totalSize": 4, "index": 0, "count": 1,
                                                "trialID": "add-0000", "attempt": 1, "token": TOKEN}, [b"test"]),
    "failure": envelope("failure", {"trialID": "add-0000", "attempt": 1, "reason": "boom", "interrupted": True, "token": TOKEN}),
    "artifactRequest": envelope("artifactRequest", {"hash": HASH}, request=7),
    "statusRequest": envelope("statusRequest", request=1),
    "ringEndpoint": envelope("ringEndpoint", {"trialID": "dp-0000", "attempt": 1, "rank": 1, "endpoint": "tcp://127.0.0.1:41234",
                                              "publicKey": "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"}),
    "checkpoint": envelope("checkpoint", {"trialID": "dp-0000", "attempt": 1, "artifact": REF, "step": 50, "token": TOKEN}),
    "leaving": envelope("leaving", {"reason": "stopped by SIGTERM"}),
    "lease": envelope("lease", {"trialID": "fine-0001", "stage": "fine", "job": "finetune", "parameters": {"lr": 0.01, "epochs": 2},
                                "seed": 7, "attempt": 1, "parentArtifact": REF,
                                "parentArtifacts": [{"stage": "pre", "trialID": "pre-0000", "artifact": REF}],
                                "replica": {"rank": 0, "worldSize": 2}, "resume": {"artifact": REF, "step": 10}, "token": TOKEN}),
    "cancel": envelope("cancel", {"trialID": "fine-0001", "attempt": 1, "reason": "done by attempt 2", "stop": True}),
    "shutdown": envelope("shutdown", {"reason": "sweep finished"}),
    "statusReply": envelope("statusReply", {
        "sweep": "toy", "counts": {"done": 3, "pending": 1}, "total": 4,
        "workers": [{"name": "w", "host": "h", "pid": 3, "threads": 1, "running": ["a-0000"], "progress": {"a-0000": 0.25},
                     "notes": {"a-0000": "epoch 1"}, "secondsSinceHeard": 0.1,
                     "statistics": {"leased": 4, "done": 3, "failed": 0, "lost": 0, "busySeconds": 2.5}}],
        "hosts": {"h": {"leased": 4, "done": 3, "failed": 0, "lost": 0, "busySeconds": 2.5}}, "elapsedSeconds": 4.0,
        "throughput": 0.75, "etaSeconds": 1.3, "dropped": {"malformed": 1}, "lateResults": {}}, request=1),
    "artifactMissing": envelope("artifactMissing", {"hash": HASH}, request=7),
    "ringPeers": envelope("ringPeers", {"trialID": "dp-0000", "attempt": 1, "endpoints": ["tcp://127.0.0.1:1", "tcp://127.0.0.1:2"],
                                        "publicKeys": None}),
    # Broken on purpose: each reaches a different refusal.
    "broken-magic": [b"XT" + envelope("heartbeat")[0][2:]],
    "broken-version": envelope("heartbeat", version=2),
    "broken-short-header": [b"RT\x01"],
    "broken-frame-length": [envelope("ready", {"slots": 1})[0], b'{"slots":12}'],
}

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "wire")
    os.makedirs(out, exist_ok=True)
    for name, frames in SEEDS.items():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(framed(frames))
    print(f"{len(SEEDS)} seeds in {out}")
