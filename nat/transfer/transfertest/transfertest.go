// Package transfertest provides a synthetic, deterministic Supernet for testing code built on
// nat/transfer (the loop itself, the CLI, the DSL, notebooks) without training a network.
//
// Its top-1 is a smooth function of a subnet's multiply-adds plus a bonus that grows with how
// often adaptation trained subnets sharing its genes, so the loop's every phase has an
// observable effect: archive-based sampling raises the accuracy of archive-like subnets, and a
// resumed run must restore the adaptation state from its checkpoint to reproduce a run.
//
// It is not a model of real accuracy and must never be reported as a result.
package transfertest

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/transfer"
)

// Supernet is a synthetic transfer.Supernet over a space.
type Supernet struct {
	Space *space.Space
	// Delay is slept per measured subnet and per training step, so that tests can interrupt a
	// run in the middle of a phase.
	Delay time.Duration
	// Evaluations and Steps count the work done (for tests' assertions).
	Evaluations, Steps int

	trained [][]float64 // per gene, per value: training samples seen
	lo, hi  float64     // log multiply-adds of the smallest and largest subnet
}

// New returns an untrained synthetic supernet over sp.
func New(sp *space.Space) (*Supernet, error) {
	if err := sp.Validate(); err != nil {
		return nil, err
	}
	s := &Supernet{Space: sp}
	_, hi := sp.Bounds()
	s.trained = make([][]float64, len(hi))
	for i := range hi {
		s.trained[i] = make([]float64, hi[i]+1)
	}
	cs, err := cost.Arch(sp, sp.Smallest())
	if err != nil {
		return nil, err
	}
	cl, err := cost.Arch(sp, sp.Largest())
	if err != nil {
		return nil, err
	}
	s.lo, s.hi = math.Log(float64(cs.MAdds)), math.Log(float64(cl.MAdds))
	return s, nil
}

// Top1 is the synthetic accuracy of a with the current state: 60% for the smallest subnet
// rising concavely to 90% for the largest, a deterministic per-subnet jitter of up to +-1.5%,
// and an adaptation bonus of up to 8%.
func (s *Supernet) Top1(a space.Arch) (float64, error) {
	g, err := s.Space.Encode(a)
	if err != nil {
		return 0, err
	}
	c, err := cost.Arch(s.Space, a)
	if err != nil {
		return 0, err
	}
	x := (math.Log(float64(c.MAdds)) - s.lo) / math.Max(s.hi-s.lo, 1e-9)
	acc := 60 + 30*math.Sqrt(math.Max(0, math.Min(1, x)))
	h := fnv.New64a()
	h.Write([]byte(s.Space.Format(g)))
	acc += 3 * (float64(h.Sum64()%1000)/999 - 0.5)
	bonus := 0.0
	for i, v := range g {
		bonus += 1 - math.Exp(-s.trained[i][v]/50)
	}
	acc += 8 * bonus / float64(len(g))
	return math.Max(0, math.Min(100, acc)), nil
}

// Evaluate implements transfer.Supernet.
func (s *Supernet) Evaluate(ctx context.Context, archs []space.Arch) ([]float64, error) {
	out := make([]float64, len(archs))
	for i, a := range archs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.Delay > 0 {
			time.Sleep(s.Delay)
		}
		v, err := s.Top1(a)
		if err != nil {
			return nil, err
		}
		out[i] = v
		s.Evaluations++
	}
	return out, nil
}

// Adapt implements transfer.Supernet: every step samples subnets and counts their genes.
func (s *Supernet) Adapt(ctx context.Context, req transfer.AdaptRequest) error {
	rng := rand.New(rand.NewPCG(req.Seed, req.Seed^0x5851f42d4c957f2d))
	for step := 0; step < req.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.Delay > 0 {
			time.Sleep(s.Delay)
		}
		for _, a := range req.Sampler.Sample(rng) {
			g, err := s.Space.Encode(a)
			if err != nil {
				return fmt.Errorf("transfertest: sampler drew an invalid subnet: %w", err)
			}
			for i, v := range g {
				s.trained[i][v]++
			}
		}
		s.Steps++
		if req.Progress != nil {
			req.Progress(step + 1)
		}
	}
	return nil
}

// Save implements transfer.Supernet (JSON, written atomically).
func (s *Supernet) Save(path string) error {
	b, err := json.Marshal(s.trained)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Load implements transfer.Supernet.
func (s *Supernet) Load(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var t [][]float64
	if err := json.Unmarshal(b, &t); err != nil {
		return fmt.Errorf("transfertest: %s: %w", path, err)
	}
	if len(t) != len(s.trained) {
		return fmt.Errorf("transfertest: %s has %d genes, the space %d", path, len(t), len(s.trained))
	}
	s.trained = t
	return nil
}

// Describe implements transfer.Supernet.
func (s *Supernet) Describe() string { return "synthetic (transfertest; not a real network)" }
