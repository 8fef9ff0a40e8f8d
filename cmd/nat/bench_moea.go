package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/natgo/nat/nat/moea"
	"github.com/natgo/nat/nat/moea/indicator"
	"github.com/natgo/nat/nat/moea/nsga2"
	"github.com/natgo/nat/nat/moea/nsga3"
	"github.com/natgo/nat/nat/moea/problems"
	"github.com/natgo/nat/nat/moea/refdirs"
	"github.com/natgo/nat/nat/moea/termination"
)

// moeaBenchResult is what `nat bench moea --json` prints.
type moeaBenchResult struct {
	IGD                float64   `json:"igd"`
	HV                 float64   `json:"hv"`
	MsPerGeneration    float64   `json:"ms_per_generation"`
	CPUMsPerGeneration float64   `json:"cpu_ms_per_generation"`
	Algorithm          string    `json:"algorithm"`
	Problem            string    `json:"problem"`
	Objectives         int       `json:"objectives"`
	Variables          int       `json:"variables"`
	Pop                int       `json:"pop"`
	Directions         int       `json:"directions"`
	Generations        int       `json:"generations"`
	Evaluations        int       `json:"evaluations"`
	Seed               uint64    `json:"seed"`
	HVReference        []float64 `json:"hv_reference"`
	FrontPoints        int       `json:"front_points"`
}

// runBenchMOEA is `nat bench moea`: NSGA-III (or, for two objectives, NSGA-II) with pymoo's
// settings on a test problem, reporting
// IGD against the true front at the reference directions, the hypervolume, and the time per
// generation. --generations counts as pymoo's n_gen does (the initial population is generation
// 1), so the numbers compare with ../shared/reference/moea-reference.md.
func runBenchMOEA(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench moea", "nat bench moea [--problem dtlz2] [--objectives 3] [--variables 12] [--pop 92] [--generations 250] [--seed 1] [--json]")
	name := fs.String("problem", "dtlz2", "test problem: dtlz1..dtlz4 or zdt1..zdt3")
	m := fs.Int("objectives", 3, "number of objectives (ZDT: 2)")
	n := fs.Int("variables", 0, "number of variables (0: the problem's usual default: DTLZ1 M+4, DTLZ2..4 M+9, ZDT 30)")
	pop := fs.Int("pop", 0, "population size (0: the number of reference directions rounded up to a multiple of 4)")
	partitions := fs.Int("partitions", 0, "Das-Dennis partitions of the reference directions (0: 12 for M=3, 6 for M=5, 99 for M=2, else the largest giving at most 300 directions)")
	gens := fs.Int("generations", 250, "generations, counted as pymoo's n_gen (initial population included)")
	seed := fs.Uint64("seed", 1, "random seed")
	hvRef := fs.Float64("hv-ref", 0, "hypervolume reference value for every objective (0: 0.6 for DTLZ1, 1.1 otherwise)")
	algName := fs.String("algorithm", "nsga3", "nsga3, or nsga2 (two objectives; pymoo's NSGA-II defaults, population --pop or 100)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench moea: unexpected argument %q", fs.Arg(0))
	}
	if *gens < 1 {
		return fmt.Errorf("bench moea: --generations must be at least 1, got %d", *gens)
	}
	pname := strings.ToLower(*name)
	if strings.HasPrefix(pname, "zdt") {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "objectives" })
		if set && *m != 2 {
			return fmt.Errorf("bench moea: %s has 2 objectives, got --objectives %d", pname, *m)
		}
		*m = 2
	}
	prob, err := problems.New(pname, *m, *n)
	if err != nil {
		return fmt.Errorf("bench moea: %w", err)
	}
	p := *partitions
	if p == 0 {
		p = defaultPartitions(*m)
	}
	dirs, err := refdirs.DasDennis(*m, p)
	if err != nil {
		return fmt.Errorf("bench moea: %w", err)
	}
	var alg moea.Algorithm
	popSize := 0
	switch strings.ToLower(*algName) {
	case "nsga3":
		a, err := nsga3.New(nsga3.Options{RefDirs: dirs, PopSize: *pop})
		if err != nil {
			return fmt.Errorf("bench moea: %w", err)
		}
		alg, popSize = a, a.Options().PopSize
	case "nsga2":
		if *m != 2 {
			return fmt.Errorf("bench moea: nsga2 is for two objectives, got %d (use nsga3)", *m)
		}
		popSize = *pop
		if popSize == 0 {
			popSize = 100
		}
		a, err := nsga2.New(nsga2.Options{PopSize: popSize})
		if err != nil {
			return fmt.Errorf("bench moea: %w", err)
		}
		alg = a
	default:
		return fmt.Errorf("bench moea: unknown --algorithm %q (want nsga3 or nsga2)", *algName)
	}
	cpu0 := processCPU()
	res, err := moea.Minimize(ctx, prob, alg, termination.Generations(*gens-1), *seed)
	if err != nil {
		return fmt.Errorf("bench moea: %w", err)
	}
	cpu := processCPU() - cpu0
	front, err := prob.ParetoFront(dirs)
	if err != nil {
		return fmt.Errorf("bench moea: %w", err)
	}
	F := res.Opt.Objectives()
	igd, err := indicator.IGD(F, front)
	if err != nil {
		return fmt.Errorf("bench moea: %w", err)
	}
	ref := make([]float64, *m)
	for k := range ref {
		switch {
		case *hvRef != 0:
			ref[k] = *hvRef
		case pname == "dtlz1":
			ref[k] = 0.6
		default:
			ref[k] = 1.1
		}
	}
	hv, err := indicator.Hypervolume(F, ref)
	if err != nil {
		return fmt.Errorf("bench moea: %w", err)
	}
	lower, _ := prob.Bounds()
	out := moeaBenchResult{
		IGD: igd, HV: hv,
		MsPerGeneration:    float64(res.Elapsed) / float64(time.Millisecond) / float64(*gens),
		CPUMsPerGeneration: float64(cpu) / float64(time.Millisecond) / float64(*gens),
		Algorithm:          strings.ToLower(*algName), Problem: pname, Objectives: *m, Variables: len(lower), Pop: popSize,
		Directions: len(dirs), Generations: *gens, Evaluations: res.Evaluations, Seed: *seed,
		HVReference: ref, FrontPoints: len(F),
	}
	if *asJSON {
		enc := json.NewEncoder(e.Stdout)
		return enc.Encode(out)
	}
	_, err = fmt.Fprintf(e.Stdout, "%s %s M=%d n=%d pop=%d dirs=%d generations=%d seed=%d: IGD %.3e  HV %.6f (reference %g)  %.3f ms/generation (%.3f ms CPU)\n",
		out.Algorithm, out.Problem, out.Objectives, out.Variables, out.Pop, out.Directions, out.Generations, out.Seed,
		out.IGD, out.HV, ref[0], out.MsPerGeneration, out.CPUMsPerGeneration)
	return err
}

// defaultPartitions is the usual Das-Dennis choice for M objectives (Deb & Jain 2014's table for
// 3 and 5; 100 directions for 2), otherwise the largest count of partitions giving at most 300
// directions.
func defaultPartitions(m int) int {
	switch m {
	case 2:
		return 99
	case 3:
		return 12
	case 5:
		return 6
	}
	p := 1
	for refdirs.Count(m, p+1) > 0 && refdirs.Count(m, p+1) <= 300 {
		p++
	}
	return p
}

// processCPU is the process's user+system CPU time (the figure the pymoo timing quotes).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
