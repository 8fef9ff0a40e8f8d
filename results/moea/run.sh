#!/bin/sh
# Regenerates results/moea/runs.jsonl, from which table.py prints README.md's table: NSGA-III
# with pymoo's settings on the three reference cases of ../shared/reference/moea-reference.md,
# seeds 1..21 (the acceptance uses seeds 1..5; the others show the spread), one
# `nat bench moea` run each. Usage, from the repository root:
#   sh results/moea/run.sh > results/moea/runs.jsonl && python3 results/moea/table.py
set -eu
go build -o /tmp/nat-moea-bench ./cmd/nat
for seed in $(seq 1 21); do
  /tmp/nat-moea-bench bench moea --problem dtlz1 --objectives 3 --variables 7 --pop 92 --generations 400 --seed "$seed" --json
  /tmp/nat-moea-bench bench moea --problem dtlz2 --objectives 3 --variables 12 --pop 92 --generations 250 --seed "$seed" --json
  /tmp/nat-moea-bench bench moea --problem dtlz2 --objectives 5 --variables 14 --pop 212 --generations 350 --seed "$seed" --json
done
