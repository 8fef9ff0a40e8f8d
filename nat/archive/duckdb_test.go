package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/transfer"
	"github.com/natgo/nat/nat/transfer/transfertest"
)

// duckdbDir holds the independent reader: node + @duckdb/node-api, installed by .ci/run with
//
//	npm --prefix nat/archive/testdata/duckdb install --no-audit --no-fund
const duckdbDir = "testdata/duckdb"

// duckdb runs sql through DuckDB and decodes the rows. Without node or the package it skips
// outside CI and fails in CI (where .ci/run installs them).
func duckdb(t *testing.T, sql string) []map[string]any {
	t.Helper()
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(duckdbDir, "node_modules", "@duckdb", "node-api"))
	if err != nil || modErr != nil {
		msg := "DuckDB reader not installed: run `npm --prefix nat/archive/testdata/duckdb install --no-audit --no-fund` (needs node)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	cmd := exec.Command(node, "query.mjs", sql)
	cmd.Dir = duckdbDir
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("duckdb: %v\n%s\nSQL: %s", err, ee.Stderr, sql)
		}
		t.Fatal(err)
	}
	var rows []map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("duckdb output: %v: %.200s", err, out)
	}
	return rows
}

func num(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			t.Fatal(err)
		}
		return f
	case string: // DuckDB's JSON rows write 64-bit integers as strings
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	t.Fatalf("not a number: %#v", v)
	return 0
}

// TestDuckDBReadsTheArchive writes a real (synthetic-supernet) run and checks, with DuckDB
// as an independent Parquet reader, the schema, row counts per iteration and reason, and every
// row's values against what parquet-go reads back.
func TestDuckDBReadsTheArchive(t *testing.T) {
	dir := t.TempDir()
	sp, err := space.Preset(space.NATMNIST)
	if err != nil {
		t.Fatal(err)
	}
	net, err := transfertest.New(sp)
	if err != nil {
		t.Fatal(err)
	}
	exp := transfer.Experiment{Space: sp, Target: "synthetic", OutDir: dir, Seed: 11, Predictor: "rbf",
		Search:      transfer.SearchSettings{Population: 24, Generations: 5, RefDirs: 12},
		InitialSize: 30, Candidates: 5, Iterations: 2, AdaptSteps: 10, Reevaluate: transfer.ReevaluateFront}
	if _, err := transfer.Run(context.Background(), exp, net, transfer.Options{NoPlots: true}); err != nil {
		t.Fatal(err)
	}
	its, err := archive.ReadAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	glob := filepath.Join(dir, "iter-*.parquet")

	types := map[string]string{}
	for _, r := range duckdb(t, fmt.Sprintf("DESCRIBE SELECT * FROM read_parquet('%s')", glob)) {
		types[r["column_name"].(string)] = r["column_type"].(string)
	}
	for col, want := range map[string]string{
		"run_id": "VARCHAR", "iteration": "INTEGER", "reason": "VARCHAR", "genome": "VARCHAR", "genes": "INTEGER[]",
		"top1": "DOUBLE", "top1_predicted": "DOUBLE", "madds": "BIGINT", "params": "BIGINT", "front": "BOOLEAN",
		"objectives": "STRUCT(\"name\" VARCHAR, \"value\" DOUBLE)[]", "seed": "UBIGINT", "wall_seconds": "DOUBLE",
	} {
		if types[col] != want {
			t.Errorf("column %s has DuckDB type %q, want %q", col, types[col], want)
		}
	}
	if len(types) != 20 {
		t.Errorf("DuckDB sees %d columns, the documented schema has 20: %v", len(types), types)
	}

	counts := duckdb(t, fmt.Sprintf(`SELECT iteration, count(*) AS n,
		count(*) FILTER (WHERE reason = 'candidate') AS cand,
		count(*) FILTER (WHERE reason = 'carried') AS carried,
		count(top1_predicted) AS predicted, count(*) FILTER (WHERE front) AS front
		FROM read_parquet('%s') GROUP BY iteration ORDER BY iteration`, glob))
	if len(counts) != 3 {
		t.Fatalf("DuckDB sees %d iterations, want 3", len(counts))
	}
	for i, c := range counts {
		want := 30 + 5*i
		cand, front, carried := 0, 0, 0
		for _, r := range its[i].Rows {
			if r.Reason == archive.ReasonCandidate {
				cand++
			}
			if r.Reason == archive.ReasonCarried {
				carried++
			}
			if r.Front {
				front++
			}
		}
		if int(num(t, c["iteration"])) != i || int(num(t, c["n"])) != want || int(num(t, c["cand"])) != cand ||
			int(num(t, c["predicted"])) != cand || int(num(t, c["front"])) != front || int(num(t, c["carried"])) != carried {
			t.Errorf("iteration %d: DuckDB counts %v; want %d rows, %d candidates (all predicted), %d front, %d carried", i, c, want, cand, front, carried)
		}
		if i > 0 && (cand != 5 || carried == 0) {
			t.Errorf("iteration %d: %d candidates, %d carried", i, cand, carried)
		}
	}

	got := duckdb(t, fmt.Sprintf(`SELECT iteration, genome, top1, top1_predicted, madds, params, len(genes) AS ngenes,
		genes[1] AS g0, objectives[1].name AS o1, objectives[2].value AS madds_m, front, run_id, seed
		FROM read_parquet('%s') ORDER BY iteration, genome`, glob))
	var want []archive.Row
	for _, it := range its {
		rows := append([]archive.Row(nil), it.Rows...)
		sort.Slice(rows, func(a, b int) bool { return rows[a].Genome < rows[b].Genome })
		want = append(want, rows...)
	}
	if len(got) != len(want) {
		t.Fatalf("DuckDB read %d rows, parquet-go %d", len(got), len(want))
	}
	for i, g := range got {
		w := want[i]
		pred := math.NaN()
		if g["top1_predicted"] != nil {
			pred = num(t, g["top1_predicted"])
		}
		wpred := math.NaN()
		if w.Top1Predicted != nil {
			wpred = *w.Top1Predicted
		}
		if int32(num(t, g["iteration"])) != w.Iteration || g["genome"] != w.Genome || num(t, g["top1"]) != w.Top1 ||
			!(pred == wpred || math.IsNaN(pred) && math.IsNaN(wpred)) ||
			int64(num(t, g["madds"])) != w.MAdds || int64(num(t, g["params"])) != w.Params ||
			int(num(t, g["ngenes"])) != sp.NumGenes() || int32(num(t, g["g0"])) != w.Genes[0] ||
			g["o1"] != "top1" || num(t, g["madds_m"]) != float64(w.MAdds)/1e6 || g["front"] != w.Front ||
			g["run_id"] != w.RunID || uint64(num(t, g["seed"])) != 11 {
			t.Fatalf("row %d: DuckDB %v\nparquet-go %+v", i, g, w)
		}
	}

	meta := duckdb(t, fmt.Sprintf(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('%s')`,
		filepath.Join(dir, archive.FileName(2))))
	found := map[string]string{}
	for _, m := range meta {
		found[m["k"].(string)] = m["v"].(string)
	}
	var st archive.IterationStats
	if found["nat.iteration"] != "2" || json.Unmarshal([]byte(found["nat.stats"]), &st) != nil || st.Hypervolume != its[2].Stats.Hypervolume {
		t.Errorf("key-value metadata via DuckDB: %v", found)
	}
}
