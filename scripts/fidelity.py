#!/usr/bin/env python3
"""Runs `gpupool sim fill` on every openb pod list here and prints a Markdown table of unallocated
GPU % at arrived 100 % (10-seed means) next to the published numbers of Weng et al., ATC '23
(../shared/specs/openb-fill.md). Usage: scripts/fidelity.py [gpupool] [--seeds 42-51] [--policy LIST]
[--batch K]"""
import json
import os
import subprocess
import sys

PUBLISHED = {  # random, dotprod, clustering, packing, bestfit, fgd
    "default": [13.70, 9.38, 8.35, 8.22, 7.14, 4.77],
    "gpushare40": [15.14, 10.70, 10.24, 10.23, 8.56, 6.04],
    "gpushare60": [17.19, 13.18, 13.10, 12.85, 10.94, 8.75],
    "gpushare80": [19.38, 15.86, 15.50, 15.35, 13.34, 10.92],
    "gpushare100": [21.10, 18.02, 17.78, 17.87, 15.38, 13.36],
    "cpu050": [10.98, 6.97, 6.48, 6.54, 6.44, 5.00],
    "cpu100": [12.56, 8.27, 7.58, 7.50, 6.74, 4.79],
    "cpu200": [16.97, 12.55, 10.33, 10.02, 7.85, 5.18],
    "cpu250": [20.00, 16.43, 12.25, 11.95, 8.79, 6.80],
}
BASELINES = ["random", "dotprod", "clustering", "packing", "bestfit", "fgd"]


def main():
    args = sys.argv[1:]
    binary = "build/apps/gpupool/gpupool"
    if args and not args[0].startswith("--"):
        binary = args.pop(0)
    extra = args or ["--seeds", "42-51"]
    if "--policy" not in extra:
        extra += ["--policy", "all"]
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    traces = os.path.join(root, "data", "traces", "openb")
    lists = sorted(f for f in os.listdir(traces) if f.startswith("openb_pod_list_"))
    header = None
    for f in lists:
        out = subprocess.run([binary, "sim", "fill", "--pods", os.path.join(traces, f), "--json", *extra],
                             check=True, capture_output=True, text=True).stdout
        doc = json.loads(out)
        names = [p["policy"] for p in doc["policies"]]
        if header is None:
            header = names
            print("| trace | " + " | ".join(header) + " |")
            print("|---" * (len(header) + 1) + "|")
        pub = PUBLISHED.get(doc["trace"])
        cells = []
        for p in doc["policies"]:
            m = p["unallocated_at_100"]["mean"]
            cell = f"{m:.2f}"
            if pub and p["policy"] in BASELINES:
                ref = pub[BASELINES.index(p["policy"])]
                cell += f" ({ref:.2f}, {m - ref:+.2f})"
            cells.append(cell)
        print(f"| {doc['trace']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
