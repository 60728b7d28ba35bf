"""Compares rt's study numbers with study_reference.py's, role by role, as a Markdown table.

    python3 scripts/reference/study_agreement.py --rt rt-trials.json --reference ref.json [--reference more.json]

--rt is `rt report RUN_DIR --format trials-json`; --reference is study_reference.py's --out
(several files are pooled, e.g. two runs with different seeds). Per role and metric (clean
accuracy on the whole test split, clean accuracy on the attacked subset, PGD-10 and FGSM robust
accuracy at every eps): each implementation's mean ± the half-width of the 95% Student-t interval
over its seeds, the difference rt − reference with its 95% Welch interval, and Welch's two-sided
t-test. A cell *agrees* when p ≥ 0.05; with ~50 cells about 2-3 disagree by chance alone, so the
Holm-adjusted verdict over all cells is given too. The paired finetune − standard difference (the
paper's headline, paired by seed) is compared the same way.
"""

import argparse
import json
import math
import sys

from scipy import stats

EPS = ["1/255", "2/255", "4/255", "8/255", "16/255", "32/255"]
STAGES = ["standard", "finetune", "dm", "trades", "pretrain", "robust-pretrain"]


def metric_names(attacks):
    names = ["clean", "clean (subset)"]
    for attack in attacks:
        names += [f"{attack} {e}" for e in EPS]
    return names


def trial_values(metrics):
    out = {"clean": metrics["clean_accuracy"], "clean (subset)": metrics["attacked_clean_accuracy"]}
    for a in metrics["attacks"]:
        out[f"{a['attack']} {a['eps_label']}"] = a["robust_accuracy"]
    return out


def load_rt(path):
    """{stage: {seed: {metric: value}}} of the done trials."""
    with open(path) as f:
        report = json.load(f)
    table = {}
    for t in report["trials"]:
        if t.get("state") != "done" or "metrics" not in t or "clean_accuracy" not in t["metrics"]:
            continue
        table.setdefault(t["stage"], {})[t["seed"]] = trial_values(t["metrics"])
    return table


def load_reference(paths):
    table = {}
    for path in paths:
        with open(path) as f:
            result = json.load(f)
        for t in result["trials"]:
            seeds = table.setdefault(t["stage"], {})
            if t["seed"] in seeds:
                sys.exit(f"{path}: {t['stage']} seed {t['seed']} appears twice among the reference files")
            seeds[t["seed"]] = trial_values(t)
    return table


def summary(values):
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return n, mean, float("nan"), None
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return n, mean, sd, stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)


def welch(a, b):
    """(difference a − b, half-width of its 95% Welch interval, two-sided p)."""
    na, ma, sa, _ = summary(a)
    nb, mb, sb, _ = summary(b)
    va, vb = sa * sa / na, sb * sb / nb
    diff = ma - mb
    if va + vb == 0:
        return diff, 0.0, 1.0 if diff == 0 else 0.0
    df = (va + vb) ** 2 / (va * va / (na - 1) + vb * vb / (nb - 1))
    t = diff / math.sqrt(va + vb)
    return diff, stats.t.ppf(0.975, df) * math.sqrt(va + vb), 2 * stats.t.sf(abs(t), df)


def fmt(values):
    n, mean, _, half = summary(values)
    return f"{mean:.3f}" if half is None else f"{mean:.3f} ± {half:.3f}"


def holm(pvalues):
    """Holm-adjusted p-values, same order."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted, running = [0.0] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rt", required=True, help="rt report RUN_DIR --format trials-json")
    parser.add_argument("--reference", required=True, action="append", help="study_reference.py --out (repeatable)")
    parser.add_argument("--attacks", default="pgd,fgsm")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--format", choices=["long", "compact"], default="long",
                        help="long: one row per role and metric; compact: per attack a table of roles x eps")
    args = parser.parse_args()
    rt, ref = load_rt(args.rt), load_reference(args.reference)
    names = metric_names(args.attacks.split(","))

    rows = []  # (stage, metric, rt values, ref values, diff, half, p)
    for stage in args.stages.split(","):
        if stage not in rt or stage not in ref:
            print(f"(no {stage} in {'rt' if stage not in rt else 'the reference'})\n")
            continue
        for name in names:
            a = [v[name] for v in rt[stage].values()]
            b = [v[name] for v in ref[stage].values()]
            # One trial on a side (fanout's source roles): shown, not tested.
            rows.append((stage, name, a, b, *(welch(a, b) if min(len(a), len(b)) >= 2 else (sum(a) / len(a) - sum(b) / len(b), None, None))))
    # The headline: finetune − standard, paired by seed within each implementation.
    for other, base in (("finetune", "standard"), ("dm", "finetune"), ("trades", "finetune")):
        for name in names:
            pairs = []
            for table in (rt, ref):
                seeds = sorted(set(table.get(other, {})) & set(table.get(base, {})))
                pairs.append([table[other][s][name] - table[base][s][name] for s in seeds])
            if min(len(pairs[0]), len(pairs[1])) >= 2:
                rows.append((f"{other} − {base} (paired)", name, pairs[0], pairs[1], *welch(*pairs)))

    tested = [i for i, r in enumerate(rows) if r[6] is not None]
    adjusted = [None] * len(rows)
    for i, p in zip(tested, holm([rows[i][6] for i in tested])):
        adjusted[i] = p
    n_rt = {len(r[2]) for r in rows if r[6] is not None}
    n_ref = {len(r[3]) for r in rows if r[6] is not None}
    print(f"rt: {'/'.join(map(str, sorted(n_rt)))} seeds; reference: {'/'.join(map(str, sorted(n_ref)))} seeds. "
          "Mean ± 95% Student-t half-width over seeds; Δ = rt − reference with its 95% Welch interval; "
          "p: Welch's two-sided t-test; agree: p ≥ 0.05 (Holm over all rows: p_Holm ≥ 0.05).\n")
    if args.format == "compact":
        # Per attack family a table: roles as row groups (rt, reference, Welch p), metrics as columns.
        for family in ["clean"] + args.attacks.split(","):
            columns = [n for n in names if (n.startswith("clean") if family == "clean" else n.startswith(family + " "))]
            if family == "clean":
                columns = names[:2]
            print("| role | | " + " | ".join(columns) + " |")
            print("| --- | --- | " + " | ".join("---:" for _ in columns) + " |")
            for stage in dict.fromkeys(r[0] for r in rows):
                cells = {r[1]: (r, adjusted[i]) for i, r in enumerate(rows) if r[0] == stage}
                if not any(c in cells for c in columns):
                    continue
                line_rt = [fmt(cells[c][0][2]) if c in cells else "" for c in columns]
                line_ref = [fmt(cells[c][0][3]) if c in cells else "" for c in columns]

                def verdict(c):
                    if c not in cells or cells[c][0][6] is None:
                        return "–"
                    p, p_holm = cells[c][0][6], cells[c][1]
                    return f"{p:.2f}" if p >= 0.05 else (f"**{p:.3f}**" if p_holm < 0.05 else f"*{p:.3f}*")
                print(f"| {stage} | rt | " + " | ".join(line_rt) + " |")
                print("| | reference | " + " | ".join(line_ref) + " |")
                print("| | Welch p | " + " | ".join(verdict(c) for c in columns) + " |")
            print()
        print(f"{len(tested) - sum(rows[i][6] < 0.05 for i in tested)} of {len(tested)} tested cells agree at p ≥ 0.05 "
              f"(about {0.05 * len(tested):.1f} expected to disagree by chance); *italic*: p < 0.05 but not after Holm's "
              f"correction over all {len(tested)} cells; **bold**: p < 0.05 after it too "
              f"({sum(adjusted[i] < 0.05 for i in tested)} cells).")
        return
    print("| role | metric | rt | reference | Δ (rt − ref) | p | agree |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    disagree = 0
    for (stage, name, a, b, diff, half, p), p_holm in zip(rows, adjusted):
        if p is None:
            print(f"| {stage} | {name} | {fmt(a)} | {fmt(b)} | {diff:+.3f} | – | one trial: not tested |")
            continue
        verdict = "yes" if p >= 0.05 else ("**no**" if p_holm < 0.05 else "no (chance: Holm p %.2f)" % p_holm)
        disagree += p < 0.05
        print(f"| {stage} | {name} | {fmt(a)} | {fmt(b)} | {diff:+.3f} ± {half:.3f} | {p:.2f} | {verdict} |")
    print(f"\n{len(tested) - disagree} of {len(tested)} tested rows agree at p ≥ 0.05 (about {0.05 * len(tested):.1f} "
          f"expected to disagree by chance); {sum(adjusted[i] < 0.05 for i in tested)} disagree after Holm's correction.")


if __name__ == "__main__":
    main()
