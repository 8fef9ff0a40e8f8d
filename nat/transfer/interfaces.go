package transfer

import (
	"context"
	"math/rand/v2"

	"github.com/natgo/nat/nat/space"
)

// Supernet is what the loop needs from a weight-sharing supernet bound to a target dataset.
// nat/transfer/bind implements it with nat/supernet and nat/data; tests use fakes.
type Supernet interface {
	// Evaluate measures the top-1 accuracy in percent of every subnet with the current weights
	// (after batch-norm recalibration on the calibration images). It must be deterministic for
	// given weights.
	Evaluate(ctx context.Context, archs []space.Arch) ([]float64, error)
	// Adapt trains the weights on the target task as req says.
	Adapt(ctx context.Context, req AdaptRequest) error
	// Save writes the weights (and optimizer state) to path atomically; Load restores them.
	// A resumed run must continue exactly as an uninterrupted one would.
	Save(path string) error
	Load(path string) error
	// Describe names the implementation and its backend for the run manifest.
	Describe() string
}

// Sampler chooses the subnets of one training step (the same shape as nat/supernet.Sampler).
type Sampler interface {
	Sample(rng *rand.Rand) []space.Arch
}

// AdaptRequest is one iteration's adaptation: Steps training steps of BatchSize images, each
// training the subnets Sampler draws, with a learning rate that follows one schedule over all
// iterations (a short linear warm-up to PeakLR, then a cosine to 0 at global step TotalSteps); this
// iteration covers global steps FirstStep..FirstStep+Steps-1.
// Seed seeds the data order and the sampler (derived from the experiment's seed and Iteration).
type AdaptRequest struct {
	Iteration  int
	Steps      int
	BatchSize  int
	PeakLR     float64
	FirstStep  int
	TotalSteps int
	Sampler    Sampler
	Seed       uint64
	// Progress, if set, is called with the number of steps done so far.
	Progress func(done int)
}

// Surrogate is an accuracy predictor over genomes, refitted from scratch every iteration.
type Surrogate interface {
	Fit(genomes [][]int, top1 []float64) error
	Predict(genomes [][]int) ([]float64, error)
	// Name says which model was fitted (for adaptive switching: the one it chose).
	Name() string
}

// SurrogateFactory builds an unfitted surrogate by name for a space (bounds of the genes).
type SurrogateFactory func(sp *space.Space, name string, seed uint64) (Surrogate, error)

// SearchProblem is the many-objective problem the loop hands to a Searcher: integer genomes
// within [Lower, Upper], Objectives minimised values and Constraints values g <= 0 per genome,
// evaluated in batches.
type SearchProblem struct {
	Lower, Upper []int
	Objectives   int
	Constraints  int
	Evaluate     func(ctx context.Context, genomes [][]int, F, G [][]float64) error
	// Repair normalises a genome in place (skips after layers).
	Repair func(genome []int)
	// Initial genomes seed the population (the archive).
	Initial [][]int
}

// Searcher runs a many-objective search and returns its final population's genomes.
type Searcher interface {
	Search(ctx context.Context, p SearchProblem, settings SearchSettings, seed uint64) ([][]int, error)
}
