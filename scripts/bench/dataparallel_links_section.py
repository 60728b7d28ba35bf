#!/usr/bin/env python3
"""Turns runs of scripts/cluster/netns-dataparallel.sh (their DIR/result.json) into the
BENCHMARKS.md section file (a benchmarks_md.py "table"), standard library only:

    dataparallel_links_section.py RESULT.json [RESULT.json ...] > scripts/bench/results/47-dataparallel-links.json
    scripts/bench/benchmarks_md.py compose

One row per run: the `replicas: 3` resnet20 trial across three namespace hosts on shaped links
against the same trial as `rt train --replicas 3` on the machine (compute only, ipc://), the
milliseconds per step the trainer waited for the ring and the all-reduces took, and the run of
the same trial whose host lost its link mid-step.
"""

import json
import os
import sys


def main(paths):
    runs = [json.load(open(p)) for p in paths]
    rows = []
    for run in runs:
        fit, local, cut = run["fit"], run["compute_only"], run["cut"]
        rows.append([
            run["date"][11:16], f"{run['rate_gbps']:g} Gbit/s",
            f"{fit['images_per_second']:.0f}", f"{local['images_per_second']:.0f}",
            f"{fit['images_per_second'] / local['images_per_second']:.0%}",
            f"{fit['network_wait_ms_per_step']:.1f} / {fit['allreduce_ms_per_step']:.1f}",
            f"{local['network_wait_ms_per_step']:.1f} / {local['allreduce_ms_per_step']:.1f}",
            f"{run['link_down_seconds']:.1f} s; requeued after {run['requeued_after_seconds']:.1f} s; resumed from step {cut['resumed_from_step']}",
            f"{run['load_average']['before']} / {run['load_average']['after']}",
        ])
    trial = runs[0]["trial"]
    section = {
        "kind": "table",
        "title": "A data-parallel trial across hosts on shaped links (network namespaces)",
        "description": (
            f"A sweep's `train` trial with `replicas: 3` ({trial['model']}, {trial['dataset']}, {trial['epochs']} epochs, global batch "
            f"{trial['batch_size']}, {trial['threads']} engine thread per replica, {trial['bucket_kb']} KiB gradient buckets) run by a "
            "coordinator in one network namespace and three workers in three others, every link shaped with `tc tbf` on both "
            "ends (`scripts/cluster/netns-hosts.sh`), CurveZMQ on the coordinator's and the ring's connections. *compute only* "
            "is the same trial as `rt train --replicas 3` on the machine (ipc://, no shaped link). Images/s are the trial's "
            "training steps (evaluation excluded). *wait / all-reduce* is per step: milliseconds the trainer waited for the "
            "ring's sums after backward, and milliseconds the ring's thread spent on the step's sums (the difference overlapped "
            "backward). The same run repeats the trial with one worker host's link set down mid-step and restored; its "
            "parameters are compared with the uninterrupted trial's in `NetnsDataParallelTests`."),
        "columns": ["run (UTC)", "link rate", "images/s across hosts", "images/s compute only", "across / compute only",
                    "wait / all-reduce ms per step (hosts)", "wait / all-reduce ms per step (compute only)",
                    "link cut: down; requeue; resume", "load average before / after (1, 5, 15 min)"],
        "rows": rows,
        "notes": [
            "All four hosts and the three replicas share this machine's 2 cores: the replicas' computation competes with the "
            "links' kernel work and CurveZMQ, so images/s across hosts measures the overhead of the ring on shaped links on "
            "the same CPUs, not a speed-up (docs/DATA_PARALLEL.md, \"A trial across hosts\").",
        ],
        "machine": {"runs": ", ".join(run["date"] for run in runs), "cores": str(os.cpu_count())},
        "commands": [
            "sudo scripts/cluster/netns-dataparallel.sh --work DIR --rate 1gbit   (and --rate 200mbit)",
            "scripts/bench/dataparallel_links_section.py DIR/result.json > scripts/bench/results/47-dataparallel-links.json",
            "scripts/bench/benchmarks_md.py compose",
        ],
    }
    json.dump(section, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
