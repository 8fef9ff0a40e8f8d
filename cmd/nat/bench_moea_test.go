package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchMOEAJSON(t *testing.T) {
	var out bytes.Buffer
	e := &env{Stdout: &out, Stderr: &out}
	err := runBenchMOEA(context.Background(), e, []string{"--problem", "dtlz2", "--objectives", "3", "--variables", "12",
		"--pop", "92", "--generations", "30", "--seed", "1", "--json"})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output %q is not JSON: %v", out.String(), err)
	}
	for _, k := range []string{"igd", "hv", "ms_per_generation"} {
		v, ok := got[k].(float64)
		if !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive number", k, got[k])
		}
	}
	// 30 generations counted as pymoo's n_gen: 30 x 92 evaluations.
	if got["evaluations"].(float64) != 30*92 || got["hv"].(float64) > 0.7449 {
		t.Errorf("evaluations %v (want 2760), hv %v (must stay below the front's 0.7449)", got["evaluations"], got["hv"])
	}
}

func TestBenchMOEAReadableAndErrors(t *testing.T) {
	var out bytes.Buffer
	e := &env{Stdout: &out, Stderr: &out}
	if err := runBenchMOEA(context.Background(), e, []string{"--problem", "zdt1", "--generations", "5"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "nsga3 zdt1 M=2 n=30") || !strings.Contains(out.String(), "IGD") {
		t.Errorf("readable line %q", out.String())
	}
	out.Reset()
	if err := runBenchMOEA(context.Background(), e, []string{"--problem", "zdt2", "--algorithm", "nsga2", "--generations", "5"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "nsga2 zdt2 M=2 n=30 pop=100") {
		t.Errorf("readable line %q", out.String())
	}
	for _, args := range [][]string{
		{"--problem", "dtlz9"},
		{"--problem", "zdt2", "--objectives", "3"},
		{"--generations", "0"},
		{"--problem", "dtlz2", "--objectives", "3", "--variables", "2"},
		{"--problem", "dtlz2", "--algorithm", "nsga2"},
		{"--algorithm", "moead"},
	} {
		if err := runBenchMOEA(context.Background(), e, args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
