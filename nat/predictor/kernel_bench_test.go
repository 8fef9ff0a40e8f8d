package predictor

import (
	"syscall"
	"testing"
)

func cpuNow() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkEnsemblePredictPaths compares, in one run, the ensemble's two prediction paths on
// 22 discrete features (100 members, 300 samples, 2,048 rows): tabulated distances versus the
// direct computation. cpu-s/op (process CPU time) is steadier than ns/op on a shared machine.
func BenchmarkEnsemblePredictPaths(b *testing.B) {
	X, y := discreteData(300, 22, 1)
	T, _ := discreteData(2048, 22, 2)
	e := ensembleFor(b, 100, 1, 1)
	if err := e.Fit(X, y); err != nil {
		b.Fatal(err)
	}
	x := flatten(T)
	out := make([]float64, len(T))
	for round := 0; round < 2; round++ {
		b.Run("direct", func(b *testing.B) {
			t0 := cpuNow()
			for b.Loop() {
				var scratch []float64
				for _, c := range e.members {
					scratch = c.predict(x, len(T), 22, out, scratch)
				}
			}
			b.ReportMetric((cpuNow()-t0)/float64(b.N), "cpu-s/op")
		})
		b.Run("tables", func(b *testing.B) {
			t0 := cpuNow()
			for b.Loop() {
				lv := discretize(x, len(T), 22)
				tw := new(tableWork)
				for _, c := range e.members {
					c.predictTables(lv, len(T), 22, out, tw)
				}
			}
			b.ReportMetric((cpuNow()-t0)/float64(b.N), "cpu-s/op")
		})
	}
}
