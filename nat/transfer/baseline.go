package transfer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/space"
)

// RandomSearch is the baseline NAT is compared with (given the same number of true
// evaluations on the same supernet): n distinct subnets drawn uniformly (space.Sample) and
// measured once with the supernet as it is, with no predictor and no adaptation. They are written
// as iteration 0 of exp.OutDir with reason "random" (exp.Iterations and the search settings are
// ignored; exp.Seed draws the subnets). With exp.WarmupSteps the supernet is first warmed up
// exactly as NAT's iteration 0 does (same seed and, given the same Iterations and AdaptSteps, the
// same learning-rate schedule), so the random subnets are measured on the supernet that NAT's
// initial archive was measured on; the baseline never trains beyond that.
//
// norm, when given, is the iteration-0 statistics of the NAT run to compare with: its Ideal and
// Nadir normalise this run's hypervolume so that the two numbers are comparable. Without it the
// random archive normalises itself (as a NAT run does from its initial archive).
//
// A directory that already holds the baseline is read back instead of being measured again.
func RandomSearch(ctx context.Context, exp Experiment, net Supernet, n int, norm *archive.IterationStats, opt Options) (*Result, error) {
	if net == nil {
		return nil, errors.New("transfer: RandomSearch needs a Supernet")
	}
	exp = exp.WithDefaults()
	schedule := exp.scheduleSteps() // NAT's, before Iterations is cleared
	exp.Iterations = 0
	if err := exp.Validate(); err != nil {
		return nil, err
	}
	if n < 2 {
		return nil, fmt.Errorf("transfer: random search of %d subnets; want at least 2", n)
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	r := &runner{exp: exp, sp: exp.Space, net: net, opt: opt, t1: exp.top1Index(),
		index: map[string]int{}, cache: map[string]*exact{}, start: time.Now(), noCheckpoints: true}
	if err := os.MkdirAll(exp.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("transfer: %w", err)
	}
	if err := archive.RemoveTemporaries(exp.OutDir); err != nil {
		return nil, err
	}
	last, err := r.openRun()
	if err != nil {
		return nil, err
	}
	if last < 0 {
		t0 := time.Now()
		rng := newRand(seedFor(exp.Seed, 0, seedRandomSearch))
		var genomes []space.Genome
		seen := map[string]bool{}
		for tries := 0; len(genomes) < n; tries++ {
			if tries > 1000*n {
				return nil, fmt.Errorf("transfer: found only %d distinct subnets for a random search of %d", len(genomes), n)
			}
			g, err := exp.Space.Encode(exp.Space.Sample(rng))
			if err != nil {
				return nil, err
			}
			if k := exp.Space.Format(g); !seen[k] {
				seen[k] = true
				genomes = append(genomes, g)
			}
		}
		exs, err := r.exacts(genomes)
		if err != nil {
			return nil, err
		}
		for _, ex := range exs {
			e := &entry{exact: ex, key: r.sp.Format(ex.genome), reason: archive.ReasonRandom}
			r.index[e.key] = len(r.entries)
			r.entries = append(r.entries, e)
		}
		if exp.WarmupSteps > 0 {
			if err := r.warmup(ctx, schedule); err != nil {
				return nil, err
			}
		}
		opt.Logf("random search: measuring %d uniform random subnets", n)
		if err := r.measure(ctx, 0, PhaseInitial, r.entries); err != nil {
			return nil, err
		}
		r.normalisation()
		if norm != nil {
			if len(norm.Ideal) != len(exp.Objectives) || len(norm.Nadir) != len(exp.Objectives) {
				return nil, fmt.Errorf("transfer: random search: the reference normalisation has %d objectives, the experiment %d", len(norm.Ideal), len(exp.Objectives))
			}
			r.ideal, r.nadir = norm.Ideal, norm.Nadir
		}
		if err := r.finish(0, "", nil, map[string]float64{"evaluate": time.Since(t0).Seconds()}, t0); err != nil {
			return nil, err
		}
	}
	it, err := archive.ReadIteration(filepath.Join(exp.OutDir, archive.FileName(0)))
	if err != nil {
		return nil, err
	}
	res := &Result{Dir: exp.OutDir, RunID: r.runID, ResumedFrom: last, Archive: it.Rows, Stats: []archive.IterationStats{it.Stats}}
	for _, row := range it.Rows {
		if row.Front {
			res.Front = append(res.Front, row)
		}
	}
	return res, nil
}

// FrontHypervolume is the hypervolume of rows' non-dominated set on objectives (as named in the
// rows, natural sense given by maximize), normalised by a run's iteration-0 statistics as the
// loop does (reference point 1.01 in every normalised objective). It lets any two archives be
// compared on one scale.
func FrontHypervolume(rows []archive.Row, maximize []bool, norm archive.IterationStats) (float64, error) {
	m := len(norm.Ideal)
	if m == 0 || len(norm.Nadir) != m || len(maximize) != m {
		return 0, fmt.Errorf("transfer: hypervolume normalisation for %d objectives, %d senses", m, len(maximize))
	}
	pts := make([][]float64, 0, len(rows))
	for i, row := range rows {
		if len(row.Objectives) != m {
			return 0, fmt.Errorf("transfer: row %d has %d objectives, want %d", i, len(row.Objectives), m)
		}
		p := make([]float64, m)
		for j, o := range row.Objectives {
			v := o.Value
			if maximize[j] {
				v = -v
			}
			p[j] = (v - norm.Ideal[j]) / (norm.Nadir[j] - norm.Ideal[j])
		}
		pts = append(pts, p)
	}
	ref := make([]float64, m)
	for j := range ref {
		ref[j] = hvMargin
	}
	return hypervolumeOf(pts, ref)
}
