package transfer

import (
	"context"
	"fmt"

	"github.com/natgo/nat/nat/moea"
	"github.com/natgo/nat/nat/moea/nsga3"
	"github.com/natgo/nat/nat/moea/operators"
	"github.com/natgo/nat/nat/moea/refdirs"
	"github.com/natgo/nat/nat/predictor"
	"github.com/natgo/nat/nat/space"
)

// NewPredictor is the default SurrogateFactory: a nat/predictor model by name ("as" for adaptive
// switching, "rbf", "rbf-ensemble", "kriging", "bagged-trees", "mlp") on genes scaled to [0, 1].
func NewPredictor(sp *space.Space, name string, seed uint64) (Surrogate, error) {
	lo, hi := sp.Bounds()
	fm, err := predictor.NewScaled(predictor.Bounds{Lo: lo, Hi: hi})
	if err != nil {
		return nil, err
	}
	m, err := predictor.New(name, seed)
	if err != nil {
		return nil, err
	}
	return &genomePredictor{gm: predictor.GenomeModel{Features: fm, Model: m}}, nil
}

type genomePredictor struct{ gm predictor.GenomeModel }

func (p *genomePredictor) Fit(genomes [][]int, top1 []float64) error { return p.gm.Fit(genomes, top1) }
func (p *genomePredictor) Predict(genomes [][]int) ([]float64, error) {
	return p.gm.Predict(genomes)
}

// Name is the model's name; for adaptive switching, the model it chose.
func (p *genomePredictor) Name() string {
	if s, ok := p.gm.Model.(*predictor.Switching); ok && s.Choice() != "" {
		return "as:" + s.Choice()
	}
	return p.gm.Model.Name()
}

// NSGA3 is the default Searcher: nat/moea/nsga3 with Das-Dennis reference directions, two-point
// crossover, integer polynomial mutation (per-gene probability 1/n), duplicate elimination and
// the archive as initial population (NAT's settings, nat-algorithm.md 3.2b).
type NSGA3 struct{}

// Search implements Searcher.
func (NSGA3) Search(ctx context.Context, p SearchProblem, s SearchSettings, seed uint64) ([][]int, error) {
	dirs, err := refDirs(p.Objectives, s.RefDirs)
	if err != nil {
		return nil, err
	}
	initial := make([][]float64, len(p.Initial))
	for i, g := range p.Initial {
		initial[i] = make([]float64, len(g))
		for j, v := range g {
			initial[i][j] = float64(v)
		}
	}
	alg, err := nsga3.New(nsga3.Options{
		RefDirs:   dirs,
		PopSize:   s.Population,
		Crossover: operators.TwoPointCrossover{Prob: s.CrossoverProb},
		Mutation:  operators.IntegerPolynomialMutation{Eta: s.MutationEta},
		Sampling:  operators.IntegerSampling{},
		Initial:   initial,
	})
	if err != nil {
		return nil, err
	}
	ip := &moea.IntegerProblem{
		Lower: p.Lower, Upper: p.Upper, Objectives: p.Objectives, Constraints: p.Constraints,
		Evaluate: p.Evaluate, Repair: p.Repair,
	}
	prob, err := ip.Problem()
	if err != nil {
		return nil, err
	}
	res, err := moea.Minimize(ctx, prob, alg, generations(s.Generations), seed)
	if err != nil {
		return nil, err
	}
	out := make([][]int, len(res.Population))
	for i, ind := range res.Population {
		out[i] = moea.Genome(ind.X)
	}
	return out, nil
}

// generations stops after n generations.
type generations int

func (n generations) Done(s *moea.State) bool { return s.Generation >= int(n) }

// refDirs returns the largest Das-Dennis lattice for m objectives with at most want directions
// (at least the m axis directions).
func refDirs(m, want int) ([][]float64, error) {
	p := 1
	for refdirs.Count(m, p+1) <= want && p < 10000 {
		p++
	}
	d, err := refdirs.DasDennis(m, p)
	if err != nil {
		return nil, fmt.Errorf("transfer: reference directions: %w", err)
	}
	return d, nil
}
