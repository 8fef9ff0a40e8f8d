package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/natgo/nat/dsl/session"
)

// benchCell is the "small declarative cell" of issue 6's benchmark: a space and objectives.
const benchCell = `space := MNISTSpace().WithResolutions(24, 28, 32)
objs := Objectives(Maximize(Top1()), Minimize(MAdds()), Minimize(Params()))
cons := Constraints(AtMost(MAdds(), 10e6))
exp := Experiment{Name: "bench", Space: space, Objectives: objs, Constraints: cons}
exp.Name`

// runBenchDSL is `nat bench dsl`: session start time and warm evaluation time of a small
// declarative cell, as medians over repeated runs.
func runBenchDSL(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench dsl", "nat bench dsl [--n N] [--json]")
	n := fs.Int("n", 20, "repetitions")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 {
		return fmt.Errorf("bench dsl: --n must be positive")
	}
	var starts, cells []time.Duration
	var s *session.Session
	for i := 0; i < *n; i++ {
		t := time.Now()
		var err error
		if s, err = session.New(session.Options{}); err != nil {
			return err
		}
		starts = append(starts, time.Since(t))
	}
	if _, err := s.Eval(ctx, benchCell); err != nil { // warm-up
		return err
	}
	for i := 0; i < *n; i++ {
		t := time.Now()
		if _, err := s.Eval(ctx, benchCell); err != nil {
			return err
		}
		cells = append(cells, time.Since(t))
	}
	res := map[string]float64{
		"session_start_ms_median": ms(median(starts)),
		"warm_cell_ms_median":     ms(median(cells)),
		"warm_cell_ms_max":        ms(maxDur(cells)),
		"repetitions":             float64(*n),
	}
	if *asJSON {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintf(e.Stdout, "%-32s %10s\n", "measure", "value")
	fmt.Fprintf(e.Stdout, "%-32s %8.2f ms\n", "session start (median)", res["session_start_ms_median"])
	fmt.Fprintf(e.Stdout, "%-32s %8.2f ms\n", "warm declarative cell (median)", res["warm_cell_ms_median"])
	fmt.Fprintf(e.Stdout, "%-32s %8.2f ms\n", "warm declarative cell (max)", res["warm_cell_ms_max"])
	fmt.Fprintf(e.Stdout, "(%d repetitions; target: warm cell <= 20 ms)\n", *n)
	return nil
}

func median(d []time.Duration) time.Duration {
	c := append([]time.Duration(nil), d...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c[len(c)/2]
}

func maxDur(d []time.Duration) time.Duration {
	m := d[0]
	for _, x := range d {
		if x > m {
			m = x
		}
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
