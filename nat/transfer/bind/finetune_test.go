package bind_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/natgo/nat/nat/supernet/supernettest"
	"github.com/natgo/nat/nat/transfer"
	"github.com/natgo/nat/nat/transfer/bind"
)

// TestRealFinetuneResumeEqualsUninterrupted fine-tunes the largest subnet of a real (tiny,
// freshly initialised) GoMLX supernet on MNIST for a fixed number of steps in three chunks,
// cancels a second run in its second chunk and resumes it with a freshly opened supernet: the
// learning curve must equal the uninterrupted run's, so the chunk checkpoints carry the weights
// and momentum and the schedule continues where it stopped.
func TestRealFinetuneResumeEqualsUninterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a supernet")
	}
	src := supernettest.Checkpoint(t, tinySpace(), 1)
	ref, err := transfer.ChooseReference(tinySpace(), "largest")
	if err != nil {
		t.Fatal(err)
	}
	spec := transfer.FinetuneSpec{Reference: ref, Steps: 6, Chunks: 3}
	opt := bind.Options{MaxTrain: 800}

	exp := tinyExperiment(t, src, filepath.Join(t.TempDir(), "whole"))
	want, err := bind.Finetune(context.Background(), exp, opt, spec, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Curve) != 4 || want.Steps != 6 || want.Images != 6*16 {
		t.Fatalf("curve %+v, %d steps, %d images", want.Curve, want.Steps, want.Images)
	}
	if want.Curve[0].Top1 == want.Top1 {
		t.Errorf("six steps of training left top-1 at %v", want.Top1)
	}

	exp2 := tinyExperiment(t, src, filepath.Join(t.TempDir(), "cut"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = bind.Finetune(ctx, exp2, opt, spec, transfer.Options{Progress: func(p transfer.Progress) {
		if p.Phase == transfer.PhaseAdapt && p.Iteration == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	got, err := bind.Finetune(context.Background(), exp2, opt, spec, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.ResumedFrom != 1 || len(got.Curve) != len(want.Curve) {
		t.Fatalf("resumed from chunk %d with curve %+v", got.ResumedFrom, got.Curve)
	}
	for i := range got.Curve {
		if got.Curve[i].Top1 != want.Curve[i].Top1 {
			t.Errorf("curve point %d: resumed top-1 %v, uninterrupted %v", i, got.Curve[i].Top1, want.Curve[i].Top1)
		}
	}
}
