"""Summarise results/moea/runs.jsonl (written by run.sh) as the Markdown table of README.md."""
import json
import statistics
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "results/moea/runs.jsonl"
runs = [json.loads(line) for line in open(path)]
cases = {}
for r in runs:
    key = (r["problem"], r["objectives"], r["variables"], r["pop"], r["generations"])
    cases.setdefault(key, []).append(r)
print("| problem | M | n | pop | generations | IGD, seeds 1..5 | median IGD, seeds 1..5 | median IGD [quartiles], seeds 1..21 | HV range, seeds 1..5 (reference point) | ms per generation, median: wall (CPU) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (p, m, n, pop, g), rs in cases.items():
    rs.sort(key=lambda r: r["seed"])
    five = [r for r in rs if r["seed"] <= 5]
    igd5 = [r["igd"] for r in five]
    igd_all = sorted(r["igd"] for r in rs)
    q = statistics.quantiles(igd_all, n=4) if len(igd_all) >= 4 else [float("nan")] * 3
    hv = [r["hv"] for r in five]
    print(f"| {p.upper()} | {m} | {n} | {pop} | {g} | {', '.join(f'{v:.3g}' for v in igd5)} | "
          f"**{statistics.median(igd5):.3g}** | {statistics.median(igd_all):.3g} [{q[0]:.3g}, {q[2]:.3g}] ({len(rs)} runs) | "
          f"{min(hv):.5f}..{max(hv):.5f} ({rs[0]['hv_reference'][0]}) | "
          f"{statistics.median(r['ms_per_generation'] for r in rs):.2f} ({statistics.median(r['cpu_ms_per_generation'] for r in rs):.2f}) |")
