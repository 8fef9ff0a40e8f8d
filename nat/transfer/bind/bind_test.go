package bind_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/supernet/supernettest"
	"github.com/natgo/nat/nat/transfer"
	"github.com/natgo/nat/nat/transfer/bind"
)

// tinySpace keeps NAT's structure at a size a unit test can train and evaluate in seconds on a
// loaded 2-core machine: two stages, depth 1..2, 12 or 16 pixels.
func tinySpace() *space.Space {
	return &space.Space{
		Name: "tiny", InChannels: 1, Classes: 10, Resolutions: []int{12, 16}, WidthMults: []float64{1},
		StemWidth: 8, StemStride: 2, StemAct: space.HSwish, FirstBlockWidth: 8, FirstBlockAct: space.ReLU,
		Stages: []space.Stage{
			{Width: 8, Stride: 1, Act: space.ReLU},
			{Width: 16, Stride: 2, Act: space.HSwish, SE: true},
		},
		Depths: []int{1, 2}, Kernels: []int{3, 5}, Expansions: []int{2, 3},
		FinalExpandWidth: 32, FeatureMixWidth: 32, HeadAct: space.HSwish, SEReduction: 4, Divisor: 8,
	}
}

func tinyExperiment(t *testing.T, source, dir string) transfer.Experiment {
	return transfer.Experiment{
		Space: tinySpace(), SourceSupernet: source, Target: "mnist", OutDir: dir, Seed: 5,
		ValidationSize: 100, CalibrationSize: 100, Predictor: "rbf",
		Search:      transfer.SearchSettings{Population: 12, Generations: 3, RefDirs: 6},
		InitialSize: 12, Candidates: 2, Iterations: 2, AdaptSteps: 4, AdaptBatchSize: 16,
	}
}

func open(t *testing.T, exp transfer.Experiment) *bind.Supernet {
	t.Helper()
	net, err := bind.Open(exp, bind.Options{MaxTrain: 800})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(net.Close)
	return net
}

// TestRealSupernetResumeEqualsUninterrupted runs the loop on a real (tiny, freshly initialised)
// GoMLX supernet and MNIST, cancels a second run at a random point, resumes it from its
// checkpoint and archive, and requires the same archive: GoMLX evaluation and training must be
// deterministic and the checkpoint must carry the optimizer state.
func TestRealSupernetResumeEqualsUninterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a supernet")
	}
	src := supernettest.Checkpoint(t, tinySpace(), 1)

	ref := t.TempDir()
	exp := tinyExperiment(t, src, ref)
	events := 0
	res, err := transfer.Run(context.Background(), exp, open(t, exp), transfer.Options{NoPlots: true,
		Progress: func(transfer.Progress) { events++ }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Iterations != 2 || len(res.Archive) != 12+2*2 {
		t.Fatalf("run ended at iteration %d with %d rows", res.Iterations, len(res.Archive))
	}
	for _, r := range res.Archive {
		if !(r.Top1 >= 0 && r.Top1 <= 100) {
			t.Fatalf("top1 %v", r.Top1)
		}
	}

	dir := t.TempDir()
	exp2 := tinyExperiment(t, src, dir)
	stopAt := 1 + rand.New(rand.NewPCG(9, 9)).IntN(events-1)
	ctx, cancel := context.WithCancel(context.Background())
	seen := 0
	_, err = transfer.Run(ctx, exp2, open(t, exp2), transfer.Options{NoPlots: true, Progress: func(transfer.Progress) {
		if seen++; seen == stopAt {
			cancel()
		}
	}})
	cancel()
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	before, _ := archive.Iterations(dir)
	if _, err := transfer.Run(context.Background(), exp2, open(t, exp2), transfer.Options{NoPlots: true}); err != nil {
		t.Fatal(err)
	}
	t.Logf("cancelled at progress event %d of %d with iterations %v on disk", stopAt, events, before)
	a, _ := archive.ReadAll(ref)
	b, _ := archive.ReadAll(dir)
	if len(a) != len(b) {
		t.Fatalf("%d vs %d iterations", len(a), len(b))
	}
	for i := range a {
		for j := range a[i].Rows {
			x, y := a[i].Rows[j], b[i].Rows[j]
			x.WallSeconds, y.WallSeconds = 0, 0
			if !reflect.DeepEqual(x, y) {
				t.Fatalf("iteration %d row %d differs after resume:\n%+v\n%+v", i, j, x, y)
			}
		}
	}
}

func TestOpenChecksTheTarget(t *testing.T) {
	src := supernettest.Checkpoint(t, tinySpace(), 1)
	exp := tinyExperiment(t, src, t.TempDir())
	exp.Target = "no-such-set"
	if _, err := bind.Open(exp, bind.Options{}); err == nil {
		t.Error("opened an unknown dataset")
	}
	exp = tinyExperiment(t, src, t.TempDir())
	exp.Space, _ = space.Preset(space.NATMNIST)
	if _, err := bind.Open(exp, bind.Options{}); err == nil {
		t.Error("opened a supernet with another experiment's space")
	}
	sp, err := bind.SourceSpace(src)
	if err != nil || sp.Name != "tiny" {
		t.Errorf("SourceSpace = %v, %v", sp, err)
	}
}
