package transfer_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/transfer"
)

// TestSearchBeatsRandomOnTheSyntheticSupernet checks the comparison machinery: with adaptation
// off (so both runs see the same frozen synthetic supernet) and the same number of measured
// subnets, NAT's surrogate-guided search reaches a larger hypervolume than uniform random
// search, on NAT's own normalisation. The synthetic accuracy is a smooth function of cost,
// so this is a test of the plumbing and the search, not a result about real networks.
func TestSearchBeatsRandomOnTheSyntheticSupernet(t *testing.T) {
	dir := t.TempDir()
	exp := smallExperiment(t, dir)
	exp.AdaptSteps = -1
	exp.Iterations = 4
	res, err := transfer.Run(context.Background(), exp, newNet(t, exp.Space), transfer.Options{NoPlots: true})
	if err != nil {
		t.Fatal(err)
	}
	evals := len(res.Archive) // every subnet measured once: 30 + 4*4
	norm := res.Stats[0]

	rdir := filepath.Join(t.TempDir(), "random") // not created yet
	rexp := smallExperiment(t, rdir)
	rexp.AdaptSteps = -1
	rnet := newNet(t, exp.Space)
	rres, err := transfer.RandomSearch(context.Background(), rexp, rnet, evals, &norm, transfer.Options{NoPlots: true})
	if err != nil {
		t.Fatal(err)
	}
	if rnet.Evaluations != evals || len(rres.Archive) != evals {
		t.Fatalf("random search measured %d subnets and kept %d, want %d", rnet.Evaluations, len(rres.Archive), evals)
	}
	for _, r := range rres.Archive {
		if r.Reason != archive.ReasonRandom {
			t.Fatalf("random-search row with reason %q", r.Reason)
		}
	}
	senses := []bool{true, false}
	hvNAT, err := transfer.FrontHypervolume(res.Archive, senses, norm)
	if err != nil {
		t.Fatal(err)
	}
	hvRand, err := transfer.FrontHypervolume(rres.Archive, senses, norm)
	if err != nil {
		t.Fatal(err)
	}
	if hvNAT != res.Stats[len(res.Stats)-1].Hypervolume || hvRand != rres.Stats[0].Hypervolume {
		t.Errorf("FrontHypervolume disagrees with the runs' own: NAT %v vs %v, random %v vs %v",
			hvNAT, res.Stats[len(res.Stats)-1].Hypervolume, hvRand, rres.Stats[0].Hypervolume)
	}
	t.Logf("hypervolume with %d measured subnets: NAT %.4f, random %.4f", evals, hvNAT, hvRand)
	if !(hvNAT > hvRand) {
		t.Errorf("NAT hypervolume %.4f is not above random search's %.4f", hvNAT, hvRand)
	}
	// The random-search directory is not a NAT run.
	if _, err := transfer.Run(context.Background(), rexp, rnet, transfer.Options{NoPlots: true}); err == nil || !strings.Contains(err.Error(), "random-search") {
		t.Errorf("NAT run into a random-search directory: %v", err)
	}
	// Running the baseline again reads it back.
	again, err := transfer.RandomSearch(context.Background(), rexp, rnet, evals, &norm, transfer.Options{NoPlots: true})
	if err != nil || rnet.Evaluations != evals || len(again.Archive) != evals {
		t.Errorf("rerun: %v, %d evaluations", err, rnet.Evaluations)
	}
}

// TestRandomSearchWarmsUpAsNATDoes: with a warm-up, the random-search baseline measures its
// subnets on the supernet NAT's initial archive was measured on (same request, same weights).
func TestRandomSearchWarmsUpAsNATDoes(t *testing.T) {
	dir := t.TempDir()
	exp := smallExperiment(t, dir)
	exp.Iterations, exp.WarmupSteps = 1, 20
	nat := &recordingNet{Supernet: newNet(t, exp.Space)}
	if _, err := transfer.Run(context.Background(), exp, nat, transfer.Options{NoPlots: true}); err != nil {
		t.Fatal(err)
	}
	rexp := exp
	rexp.OutDir = filepath.Join(t.TempDir(), "random")
	rnet := &recordingNet{Supernet: newNet(t, exp.Space)}
	if _, err := transfer.RandomSearch(context.Background(), rexp, rnet, 10, nil, transfer.Options{NoPlots: true}); err != nil {
		t.Fatal(err)
	}
	if len(rnet.reqs) != 1 {
		t.Fatalf("random search made %d adaptation requests, want the one warm-up", len(rnet.reqs))
	}
	a, b := nat.reqs[0], rnet.reqs[0]
	if a.Steps != b.Steps || a.FirstStep != b.FirstStep || a.TotalSteps != b.TotalSteps || a.Seed != b.Seed || a.PeakLR != b.PeakLR || a.BatchSize != b.BatchSize {
		t.Errorf("warm-up requests differ: NAT %+v, random search %+v", a, b)
	}
	ref := filepath.Join(t.TempDir(), "ref.json")
	if err := rnet.Save(ref); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(transfer.CheckpointPath(dir, 0))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("the random search's warmed-up supernet differs from NAT's after iteration 0")
	}
}
