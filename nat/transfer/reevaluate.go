package transfer

import (
	"context"
	"math"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/moea/sorting"
)

// reevaluateContenders is ReevaluateContenders: after adaptation it measures the front and this
// iteration's candidates; then, with g the largest top-1 gain measured so far in this iteration
// (never below 0), it measures every member not yet measured whose last top-1 plus g would be
// non-dominated among the archive (measured members at their new values, the others at their
// optimistic ones), and repeats until no unmeasured member could be. It returns the members it
// measured, in order.
func (r *runner) reevaluateContenders(ctx context.Context, t int) ([]*entry, error) {
	fresh := make([]bool, len(r.entries))
	var batch, done []*entry
	add := func(i int) {
		if !fresh[i] {
			fresh[i] = true
			batch = append(batch, r.entries[i])
		}
	}
	fronts, _ := r.ranks()
	for _, i := range fronts[0] {
		add(i)
	}
	for i, e := range r.entries {
		if e.reason == archive.ReasonCandidate {
			add(i)
		}
	}
	gain := 0.0
	F := make([][]float64, len(r.entries))
	for len(batch) > 0 {
		before := make([]float64, len(batch))
		for k, e := range batch {
			before[k] = e.top1
		}
		if err := r.measure(ctx, t, PhaseReevaluate, batch); err != nil {
			return nil, err
		}
		for k, e := range batch {
			gain = math.Max(gain, e.top1-before[k])
		}
		done = append(done, batch...)
		batch = nil
		for i, e := range r.entries {
			v := r.values(e)
			if !fresh[i] {
				v[r.t1] = math.Min(100, e.top1+gain)
			}
			F[i] = r.minimised(v)
		}
		optimistic, _ := sorting.NonDominatedSort(F, 1)
		for _, i := range optimistic[0] {
			add(i)
		}
	}
	r.opt.Logf("iteration %d: re-measured %d of %d archive members (front, candidates and contenders; largest gain %.2f points)", t, len(done), len(r.entries), gain)
	return done, nil
}
