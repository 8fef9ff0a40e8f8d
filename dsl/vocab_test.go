package dsl

import (
	"fmt"
	"strings"
	"testing"

	"github.com/natgo/nat/nat/cost"
)

func usage(t *testing.T, f func()) *UsageError {
	t.Helper()
	var got *UsageError
	func() {
		defer func() {
			if r := recover(); r != nil {
				got, _ = r.(*UsageError)
			}
		}()
		f()
	}()
	if got == nil {
		t.Fatal("expected a *UsageError panic")
	}
	return got
}

func TestMisuseIsRejectedWhereItIsMade(t *testing.T) {
	usage(t, func() { MNISTSpace().WithStages() })
	usage(t, func() { Preset("nope") })
	usage(t, func() { Constraints(AtLeast(MAdds(), 2e6), AtMost(MAdds(), 1e6)) })
	usage(t, func() { Objectives() })
	usage(t, func() { Objectives(Minimize(MAdds()), Maximize(MAdds())) })
	usage(t, func() { Minimize(Metric{}) })
	// Compatible bounds are fine.
	if c := Constraints(AtLeast(MAdds(), 1e6), AtMost(MAdds(), 2e6)); len(c) != 2 {
		t.Fatal(c)
	}
}

func TestEvaluateCostsMatchTheCounter(t *testing.T) {
	sp := MobileNetV3()
	m1 := sp.Decode("08|0|1100 1440 5510 5220 8877")
	exp := Experiment{Space: sp, Objectives: Objectives(Minimize(MAdds()), Minimize(Params())),
		Constraints: Constraints(AtMost(MAdds(), 200e6))}
	res, err := Evaluate(exp, m1, sp.Smallest())
	if err != nil {
		t.Fatal(err)
	}
	want, err := cost.Arch(sp.Engine(), m1)
	if err != nil {
		t.Fatal(err)
	}
	// nat-algorithm.md section 8: NAT-M1 has 222,557,600 multiply-adds and 6,067,408 parameters.
	if got := res.Points[0].Values["madds"]; got != float64(want.MAdds) || got != 222557600 {
		t.Errorf("madds = %v, want %v", got, want.MAdds)
	}
	if got := res.Points[0].Values["params"]; got != 6067408 {
		t.Errorf("params = %v", got)
	}
	if res.Points[0].Violation == 0 || res.Points[1].Violation != 0 {
		t.Errorf("violations = %v, %v; M1 exceeds 200M, the smallest does not", res.Points[0].Violation, res.Points[1].Violation)
	}
	if f := res.Front(); len(f) != 1 || !f[0].Arch.Equal(sp.Smallest()) {
		t.Errorf("front = %v, want the smallest (the only feasible subnet)", f)
	}
}

func TestFrontKeepsNonDominated(t *testing.T) {
	r := &Result{Objectives: Objectives(Maximize(Custom("a", func(Arch) float64 { return 0 })), Minimize(Custom("b", func(Arch) float64 { return 0 })))}
	for _, v := range [][2]float64{{1, 1}, {2, 2}, {1, 2}, {3, 3}, {2, 1}} {
		r.Points = append(r.Points, Point{Values: map[string]float64{"a": v[0], "b": v[1]}})
	}
	// Maximize a, minimize b: (2,1) dominates (1,1), (2,2) and (1,2); (3,3) is best on a.
	f := r.Front()
	if len(f) != 2 || f[0].Values["a"] != 2 || f[1].Values["a"] != 3 {
		t.Fatalf("front = %+v", f)
	}
}

func TestTopOneIsNotFaked(t *testing.T) {
	sp := MNISTSpace()
	if _, err := Top1().Measure(sp, sp.Smallest()); err == nil || !strings.Contains(err.Error(), "Supernet") {
		t.Fatalf("Top1 measure without a supernet: %v, want an error saying it needs one", err)
	}
	exp := Experiment{Space: sp, Objectives: Objectives(Maximize(Top1()))}
	if _, err := Evaluate(exp, sp.Smallest()); err == nil || !strings.Contains(err.Error(), "no Supernet") {
		t.Fatalf("Evaluate top-1 without a supernet: %v", err)
	}
	if _, err := Transfer(exp); err == nil || !strings.Contains(err.Error(), "no Dir") {
		t.Fatalf("Transfer without a run directory: %v", err)
	}
}

func TestEverythingPrints(t *testing.T) {
	sp := MNISTSpace()
	exp := Experiment{Name: "p", Space: sp, Data: Dataset("mnist").Limit(100, 10),
		Objectives: Objectives(Maximize(Top1()), Minimize(MAdds())), Constraints: Constraints(AtMost(Params(), 1e6))}
	res, err := Evaluate(Experiment{Space: sp, Objectives: Objectives(Minimize(MAdds()))}, sp.Smallest())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		v    fmt.Stringer
		want string
	}{
		{sp, "space nat-mnist: 5 stages"},
		{exp.Objectives, "maximize top1, minimize madds"},
		{exp.Constraints, "params <= 1M"},
		{exp.Data, "dataset mnist (first 100 train, 10 test)"},
		{exp, "experiment p"},
		{res, "1 subnets, 1 on the front"},
		{res.Points[0], fmt.Sprintf("madds=%.4g %v", float64(sp.Costs(sp.Smallest()).MAdds), sp.Smallest())},
		{Measured("cpu"), "target cpu: latency measured on this machine"},
	} {
		if got := c.v.String(); !strings.Contains(got, c.want) {
			t.Errorf("%T prints %q, want it to contain %q", c.v, got, c.want)
		}
	}
}

func TestEvaluatePlot(t *testing.T) {
	sp := MNISTSpace()
	exp := Experiment{Space: sp, Objectives: Objectives(Minimize(Params()), Minimize(MAdds()))}
	var archs []Arch
	for seed := uint64(0); seed < 8; seed++ {
		archs = append(archs, sp.Sample(seed))
	}
	res, err := Evaluate(exp, archs...)
	if err != nil {
		t.Fatal(err)
	}
	b := res.Plot()
	if !strings.Contains(string(b["image/svg+xml"]), "<svg") || len(b["image/png"]) < 100 {
		t.Fatalf("plot bundle has %d SVG bytes and %d PNG bytes", len(b["image/svg+xml"]), len(b["image/png"]))
	}
	if !strings.Contains(string(res.Display()["text/html"]), "<svg") {
		t.Error("the result's display does not include its plot")
	}
}
