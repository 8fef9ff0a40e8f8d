package nsga3

import (
	"context"
	"testing"

	"github.com/natgo/nat/nat/moea"
	"github.com/natgo/nat/nat/moea/indicator"
	"github.com/natgo/nat/nat/moea/problems"
	"github.com/natgo/nat/nat/moea/refdirs"
	"github.com/natgo/nat/nat/moea/termination"
)

func runDTLZ(t testing.TB, name string, m, n, p, gens int, seed uint64) (igd float64, res *moea.Result) {
	t.Helper()
	prob, err := problems.New(name, m, n)
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := refdirs.DasDennis(m, p)
	if err != nil {
		t.Fatal(err)
	}
	alg, err := New(Options{RefDirs: dirs})
	if err != nil {
		t.Fatal(err)
	}
	res, err = moea.Minimize(context.Background(), prob, alg, termination.Generations(gens), seed)
	if err != nil {
		t.Fatal(err)
	}
	front, err := prob.ParetoFront(dirs)
	if err != nil {
		t.Fatal(err)
	}
	igd, err = indicator.IGD(res.Opt.Objectives(), front)
	if err != nil {
		t.Fatal(err)
	}
	return igd, res
}

func TestTry(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		igd, res := runDTLZ(t, "dtlz2", 3, 12, 12, 249, seed)
		t.Logf("dtlz2 seed %d igd %.3g opt %d elapsed %v", seed, igd, len(res.Opt), res.Elapsed)
		igd, res = runDTLZ(t, "dtlz1", 3, 7, 12, 399, seed)
		t.Logf("dtlz1 seed %d igd %.3g opt %d elapsed %v", seed, igd, len(res.Opt), res.Elapsed)
	}
}
