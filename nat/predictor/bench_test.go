package predictor_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/natgo/nat/nat/predictor"
	"github.com/natgo/nat/nat/predictor/synthetic"
)

// natShaped returns n training and 10,000 candidate feature rows shaped like NAT's archive
// (22 genes scaled to [0,1]).
func natShaped(b *testing.B, n int) (X [][]float64, y []float64, cand [][]float64) {
	fm, err := predictor.NewScaled(synthetic.Bounds())
	if err != nil {
		b.Fatal(err)
	}
	g, y := synthetic.Sample(n, 0.25, 1)
	cg, _ := synthetic.SampleExcluding(10000, 0, 2, g)
	if X, err = predictor.Features(fm, g); err != nil {
		b.Fatal(err)
	}
	if cand, err = predictor.Features(fm, cg); err != nil {
		b.Fatal(err)
	}
	return X, y, cand
}

// BenchmarkSwitching300x22Predict10k is the target: adaptive switching (default pool,
// 5x repeated 10-fold cross-validation) fitted on 300 samples x 22 genes, then predicting 10,000 candidates.
func BenchmarkSwitching300x22Predict10k(b *testing.B) {
	X, y, cand := natShaped(b, 300)
	cpu0 := cpuTime()
	for b.Loop() {
		s, err := predictor.NewSwitching(predictor.SwitchingOptions{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Fit(X, y); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Predict(cand); err != nil {
			b.Fatal(err)
		}
		b.Logf("chose %s", s.Choice())
	}
	reportCPU(b, cpu0)
}

// cpuTime is the process's user+system CPU time. On a machine shared with other jobs, CPU
// seconds per op (reported as cpu-s/op) is steadier than wall time; divided by the number of
// cores the work keeps busy it estimates the wall time on an idle machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "cpu-s/op")
}

// The parts, to see where the time goes.

func BenchmarkEnsembleFit300x22(b *testing.B) {
	X, y, _ := natShaped(b, 300)
	cpu0 := cpuTime()
	for b.Loop() {
		e, _ := predictor.NewRBFEnsemble(predictor.RBFEnsembleOptions{Seed: 1})
		if err := e.Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

func BenchmarkEnsemblePredict10k(b *testing.B) {
	X, y, cand := natShaped(b, 300)
	e, _ := predictor.NewRBFEnsemble(predictor.RBFEnsembleOptions{Seed: 1})
	if err := e.Fit(X, y); err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := e.Predict(cand); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

// benchmarkCV cross-validates one model as adaptive switching does, with one 10-fold
// assignment (Repeats: 1), and keeps its fit.
func benchmarkCV(b *testing.B, name string) {
	spec, err := predictor.SpecOf(name)
	if err != nil {
		b.Fatal(err)
	}
	benchmarkCVSpec(b, spec)
}

func benchmarkCVSpec(b *testing.B, spec predictor.Spec) {
	X, y, _ := natShaped(b, 300)
	cpu0 := cpuTime()
	for b.Loop() {
		s, _ := predictor.NewSwitching(predictor.SwitchingOptions{Seed: 1, Repeats: 1, Candidates: []predictor.Spec{spec}})
		if err := s.Fit(X, y); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

func BenchmarkCV10Ensemble(b *testing.B) { benchmarkCV(b, "rbf-ensemble") }
func BenchmarkCV10RBF(b *testing.B)      { benchmarkCV(b, "rbf") }
func BenchmarkCV10Kriging(b *testing.B)  { benchmarkCV(b, "kriging") }
func BenchmarkCV10Trees(b *testing.B)    { benchmarkCV(b, "bagged-trees") }

// BenchmarkCV10KrigingRefit and BenchmarkCV10TreesRefit cross-validate by refitting per fold
// (RefitPerFold, NAT's way), for comparison with the shortcuts above.
func BenchmarkCV10KrigingRefit(b *testing.B) {
	benchmarkCVSpec(b, predictor.Spec{Name: "kriging", New: func(uint64) (predictor.Predictor, error) {
		return predictor.NewKriging(predictor.KrigingOptions{RefitPerFold: true})
	}})
}

func BenchmarkCV10TreesRefit(b *testing.B) {
	benchmarkCVSpec(b, predictor.Spec{Name: "bagged-trees", New: func(seed uint64) (predictor.Predictor, error) {
		return predictor.NewBaggedTrees(predictor.TreesOptions{Seed: seed, RefitPerFold: true})
	}})
}

// BenchmarkSwitching300x22Predict10kMembers100 is the same with a 100-member ensemble in the
// pool, to show what the ensemble's size costs.
func BenchmarkSwitching300x22Predict10kMembers100(b *testing.B) {
	X, y, cand := natShaped(b, 300)
	pool := predictor.DefaultPool()
	for i, s := range pool {
		if s.Name == "rbf-ensemble" {
			pool[i].New = func(seed uint64) (predictor.Predictor, error) {
				return predictor.NewRBFEnsemble(predictor.RBFEnsembleOptions{Members: 100, Seed: seed})
			}
		}
	}
	cpu0 := cpuTime()
	for b.Loop() {
		s, err := predictor.NewSwitching(predictor.SwitchingOptions{Seed: 1, Candidates: pool})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Fit(X, y); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Predict(cand); err != nil {
			b.Fatal(err)
		}
		b.Logf("chose %s", s.Choice())
	}
	reportCPU(b, cpu0)
}

// BenchmarkSwitching300x22Predict10kRepeats1 is the benchmark with NAT's single 10-fold
// cross-validation (SwitchingOptions.Repeats = 1) instead of the default 5x repeated one: the
// default pool cross-validates without refitting per fold, so repeats cost little.
func BenchmarkSwitching300x22Predict10kRepeats1(b *testing.B) {
	X, y, cand := natShaped(b, 300)
	cpu0 := cpuTime()
	for b.Loop() {
		s, err := predictor.NewSwitching(predictor.SwitchingOptions{Seed: 1, Repeats: 1})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Fit(X, y); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Predict(cand); err != nil {
			b.Fatal(err)
		}
		b.Logf("chose %s", s.Choice())
	}
	reportCPU(b, cpu0)
}
