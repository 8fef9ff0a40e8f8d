package moea_test

import (
	"context"
	"fmt"
	"math"

	"github.com/natgo/nat/nat/moea"
	"github.com/natgo/nat/nat/moea/nsga3"
	"github.com/natgo/nat/nat/moea/operators"
	"github.com/natgo/nat/nat/moea/refdirs"
	"github.com/natgo/nat/nat/moea/termination"
)

// The search as NAT's transfer loop runs it: integer genomes of 22 genes (resolution index,
// width index, 5 stages x 4 layer slots), a batch objective function (here a toy surrogate for
// the error plus an exact cost), a repair hook that normalises genomes, an initial population
// from the archive, NAT's operators, and a context for cancellation.
func Example() {
	lower := make([]int, 22)
	upper := make([]int, 22)
	upper[0], upper[1] = 16, 1
	for i := 2; i < 22; i++ {
		upper[i] = 9
		if (i-2)%4 < 2 {
			lower[i] = 1 // slots 1 and 2 of a stage always hold a layer
		}
	}
	problem := &moea.IntegerProblem{
		Lower: lower, Upper: upper, Objectives: 2,
		// One call per generation with the whole batch: a surrogate predicts it at once.
		Evaluate: func(ctx context.Context, genomes [][]int, F, G [][]float64) error {
			for i, g := range genomes {
				size := 0.0
				for _, v := range g[2:] {
					size += float64(v)
				}
				size *= 1 + float64(g[0])/16
				F[i][0] = 30 / math.Sqrt(1+size) // "error", to minimise
				F[i][1] = size                   // "cost", to minimise
			}
			return ctx.Err()
		},
		// Normalise: a skipped slot 3 followed by a layer in slot 4 moves the layer up.
		Repair: func(g []int) {
			for s := 0; s < 5; s++ {
				if g[2+4*s+2] == 0 && g[2+4*s+3] != 0 {
					g[2+4*s+2], g[2+4*s+3] = g[2+4*s+3], 0
				}
			}
		},
	}
	prob, err := problem.Problem()
	if err != nil {
		fmt.Println(err)
		return
	}
	// The archive's genomes start the search (as float64 vectors).
	archive := [][]float64{make([]float64, 22), make([]float64, 22)}
	for i := range archive[0] {
		archive[0][i], archive[1][i] = float64(lower[i]), float64(upper[i])
	}
	dirs, _ := refdirs.DasDennis(2, 99) // 100 directions
	alg, err := nsga3.New(nsga3.Options{
		RefDirs:   dirs,
		PopSize:   100,
		Crossover: operators.TwoPointCrossover{Prob: 0.9},
		Mutation:  operators.IntegerPolynomialMutation{Eta: 1},
		Sampling:  operators.IntegerSampling{},
		Initial:   archive,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	res, err := moea.Minimize(ctx, prob, alg, termination.Generations(100), 1,
		moea.WithCallback(func(s *moea.State) error {
			// Progress: s.Generation, s.Evaluations, s.Opt ...
			return nil
		}))
	if err != nil {
		fmt.Println(err)
		return
	}
	normalised := true
	for _, ind := range res.Population {
		g := moea.Genome(ind.X)
		for s := 0; s < 5; s++ {
			if g[2+4*s+2] == 0 && g[2+4*s+3] != 0 {
				normalised = false
			}
		}
	}
	fmt.Println("generations:", res.Generations, "evaluations:", res.Evaluations)
	fmt.Println("population:", len(res.Population), "all normalised:", normalised)
	// Output:
	// generations: 100 evaluations: 10100
	// population: 100 all normalised: true
}
