package indicator

import (
	"math"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/natgo/nat/nat/moea/refdirs"
)

// BenchmarkHypervolumeDTLZ2M5Front is the exact hypervolume of the 210-point 5-objective DTLZ2
// front (Das-Dennis, 6 partitions), reference 1.1 per objective. pymoo 0.6.1.5 took 2-4.6 s for
// it (../shared/reference/moea-reference.md); the target is at most 20 ms.
func BenchmarkHypervolumeDTLZ2M5Front(b *testing.B) {
	dirs, err := refdirs.DasDennis(5, 6)
	if err != nil {
		b.Fatal(err)
	}
	front := make([][]float64, len(dirs))
	for i, w := range dirs {
		n := 0.0
		for _, v := range w {
			n += v * v
		}
		p := make([]float64, 5)
		for k, v := range w {
			p[k] = v / math.Sqrt(n)
		}
		front[i] = p
	}
	ref := []float64{1.1, 1.1, 1.1, 1.1, 1.1}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	var hv float64
	laps := make([]time.Duration, b.N)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if hv, err = Hypervolume(front, ref); err != nil {
			b.Fatal(err)
		}
		laps[i] = time.Since(t0)
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	slices.Sort(laps)
	// The fastest and median single computation: the mean (ns/op) also measures the load of a
	// shared machine.
	b.ReportMetric(float64(laps[0]), "min-ns/op")
	b.ReportMetric(float64(laps[len(laps)/2]), "p50-ns/op")
	b.ReportMetric(hv, "hv")
}

// cpuTime is the process's user+system CPU time: on a shared machine ns/op (wall) inflates with
// other work, CPU time per operation much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
