package transfer_test

import (
	"context"
	"testing"

	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/transfer"
	"github.com/natgo/nat/nat/transfer/transfertest"
)

// BenchmarkLoopOverhead times what one iteration costs besides the supernet: fitting the
// predictor (adaptive switching) on a 100-subnet archive, NSGA-III with NAT's settings
// (population 100, 100 generations) on it, and subset selection, with a synthetic supernet whose
// measurements and adaptation are free. One op is a run of one iteration (the synthetic initial
// archive costs microseconds).
//
//	go test -run '^$' -bench LoopOverhead -benchtime 3x ./nat/transfer/
func BenchmarkLoopOverhead(b *testing.B) {
	sp, err := space.Preset(space.NATMNIST)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		exp := transfer.Experiment{Space: sp, Target: "synthetic", OutDir: dir, Seed: uint64(i), Iterations: 1, AdaptSteps: 10}
		net, _ := transfertest.New(sp)
		b.StartTimer()
		if _, err := transfer.Run(context.Background(), exp, net, transfer.Options{NoPlots: true}); err != nil {
			b.Fatal(err)
		}
	}
}
