package transfer

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/natgo/nat/nat/moea/sorting"
	"github.com/natgo/nat/nat/space"
)

func TestToleranceRanksWithoutToleranceAreNonDominatedRanks(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for trial := range 50 {
		n := 2 + rng.IntN(40)
		F := make([][]float64, n)
		for i := range F {
			// Coarse values, so that ties in one or both columns occur.
			F[i] = []float64{float64(rng.IntN(8)), float64(rng.IntN(8)), float64(rng.IntN(4))}
		}
		_, want := sorting.NonDominatedSort(F, 0)
		got := toleranceRanks(F, 0, func(int, int) float64 { return 0 })
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: %v: ranks %v, want %v", trial, F, got, want)
		}
	}
}

func TestToleranceRanksLetTheCheaperSubnetOutrankWithinTheNoise(t *testing.T) {
	// Minimised objectives: column 0 is -top1, column 1 MAdds.
	F := [][]float64{
		{-70, 1},   // 0: cheap
		{-71.5, 5}, // 1: a point and a half better at five times the cost
		{-75, 17},  // 2: five points better at 17 times the cost
	}
	cases := []struct {
		tol  float64
		want []int
	}{
		{0, []int{0, 0, 0}}, // exact: all three on the front
		{2, []int{0, 1, 0}}, // 0 outranks 1 (1.5 < 2); 2's lead is beyond the tolerance
		{6, []int{0, 1, 2}}, // 0 outranks 1 and 2, and 1 outranks 2 (3.5 < 6)
	}
	for _, c := range cases {
		got := toleranceRanks(F, 0, func(int, int) float64 { return c.tol })
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("tolerance %v: ranks %v, want %v", c.tol, got, c.want)
		}
	}
	// Equal exact objectives: only the measured value decides, whatever the tolerance.
	same := [][]float64{{-71.5, 5}, {-80, 5}}
	if got := toleranceRanks(same, 0, func(int, int) float64 { return 100 }); !reflect.DeepEqual(got, []int{1, 0}) {
		t.Errorf("equal costs: ranks %v, want [1 0]", got)
	}
}

func TestTop1StandardError(t *testing.T) {
	if got, want := top1StandardError(70, 500), 100*math.Sqrt(0.7*0.3/500); math.Abs(got-want) > 1e-12 {
		t.Errorf("70 %% on 500 images: %v, want %v", got, want)
	}
	if got := top1StandardError(100, 500); got != 0 {
		t.Errorf("100 %%: %v, want 0", got)
	}
	if got := top1StandardError(50, 0); got != 0 {
		t.Errorf("no images: %v, want 0", got)
	}
}

// The sampler's best fraction: with exact ranks the front's most accurate member wins the
// tie-break, however much it costs; with a tolerance of one standard error the cheapest subnet,
// whose top-1 is within the noise of the others', is the best.
func TestSamplerToleranceConcentratesOnTheCheaperSubnet(t *testing.T) {
	sp, err := space.Preset(space.NATMNIST)
	if err != nil {
		t.Fatal(err)
	}
	small, err := sp.Encode(sp.Smallest())
	if err != nil {
		t.Fatal(err)
	}
	large, err := sp.Encode(sp.Largest())
	if err != nil {
		t.Fatal(err)
	}
	mid := append(space.Genome(nil), small...)
	mid[0] = 2 // resolution gene: a larger input, everything else the smallest
	entries := func() []*entry {
		mk := func(g space.Genome, top1, madds float64) *entry {
			return &entry{exact: &exact{genome: g, obj: []float64{0, madds}}, top1: top1}
		}
		return []*entry{mk(small, 70, 1.5), mk(mid, 71, 3), mk(large, 72, 17)}
	}
	draw := func(tolerance float64) space.Genome {
		exp := Experiment{Space: sp, OutDir: t.TempDir(), BestFraction: 0.25, SamplingTolerance: tolerance,
			ValidationSize: 500}.WithDefaults()
		r := &runner{exp: exp, sp: sp, t1: exp.top1Index(), entries: entries()}
		s, err := r.sampler()
		if err != nil {
			t.Fatal(err)
		}
		return s.(*Distribution).SampleGenome(rand.New(rand.NewPCG(1, 2)))
	}
	if g := draw(0); !reflect.DeepEqual(g, large) {
		t.Errorf("exact ranks: sampled %v, want the largest %v (front's best top-1)", g, large)
	}
	if g := draw(1); !reflect.DeepEqual(g, small) {
		t.Errorf("tolerance 1: sampled %v, want the smallest %v", g, small)
	}
}
