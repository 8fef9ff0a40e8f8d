package operators

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/natgo/nat/nat/moea"
)

func newRand() *rand.Rand { return rand.New(rand.NewPCG(11, 12)) }

func TestSBXPreservesTheMeanAndBounds(t *testing.T) {
	r := newRand()
	n := 10
	lo, hi := make([]float64, n), make([]float64, n)
	for i := range hi {
		lo[i], hi[i] = -1e6, 1e6 // far bounds: no clipping, so c1 + c2 = p1 + p2 exactly in law
	}
	sbx := NewSBX(30, 1)
	p1, p2 := make([]float64, n), make([]float64, n)
	c1, c2 := make([]float64, n), make([]float64, n)
	changed := 0
	for trial := 0; trial < 200; trial++ {
		for i := range p1 {
			p1[i], p2[i] = r.Float64(), r.Float64()
		}
		sbx.Cross(r, lo, hi, p1, p2, c1, c2)
		for i := range p1 {
			if math.Abs((c1[i]+c2[i])-(p1[i]+p2[i])) > 1e-9 {
				t.Fatalf("SBX moved the mean of variable %d: %v+%v -> %v+%v", i, p1[i], p2[i], c1[i], c2[i])
			}
			if c1[i] != p1[i] && c1[i] != p2[i] {
				changed++
			}
		}
	}
	// ProbVar 0.5: about half of the 2000 variables are crossed.
	if changed < 800 || changed > 1200 {
		t.Errorf("%d of 2000 variables crossed, want about 1000", changed)
	}
	// Within tight bounds children are clipped; Prob 0 copies the parents.
	lo01, hi01 := make([]float64, n), make([]float64, n)
	for i := range hi01 {
		hi01[i] = 1
	}
	for trial := 0; trial < 200; trial++ {
		for i := range p1 {
			p1[i], p2[i] = r.Float64(), r.Float64()
		}
		sbx.Cross(r, lo01, hi01, p1, p2, c1, c2)
		for i := range c1 {
			if c1[i] < 0 || c1[i] > 1 || c2[i] < 0 || c2[i] > 1 {
				t.Fatalf("child outside [0, 1]: %v %v", c1[i], c2[i])
			}
		}
	}
	NewSBX(30, 0).Cross(r, lo01, hi01, p1, p2, c1, c2)
	for i := range c1 {
		if c1[i] != p1[i] || c2[i] != p2[i] {
			t.Fatal("SBX with probability 0 changed the parents' copies")
		}
	}
}

func TestPolynomialMutation(t *testing.T) {
	r := newRand()
	lo, hi := []float64{0, 0, 0, 0}, []float64{1, 1, 1, 1}
	moved, total := 0, 0
	for trial := 0; trial < 2000; trial++ {
		x := []float64{0.5, 0.1, 0.9, 0.25}
		PolynomialMutation{Eta: 20}.Mutate(r, lo, hi, x)
		for i, v := range x {
			if v < 0 || v > 1 {
				t.Fatalf("mutated value %v outside [0, 1]", v)
			}
			if v != []float64{0.5, 0.1, 0.9, 0.25}[i] {
				moved++
			}
			total++
		}
	}
	// Default probability 1/n = 1/4 (interior values: a mutation always moves them).
	if frac := float64(moved) / float64(total); frac < 0.2 || frac > 0.3 {
		t.Errorf("fraction mutated %.3f, want about 0.25", frac)
	}
}

func TestIntegerPolynomialMutationStaysIntegralAndReachesTheBounds(t *testing.T) {
	r := newRand()
	lo, hi := []float64{0}, []float64{16}
	hits := map[float64]int{}
	for trial := 0; trial < 20000; trial++ {
		x := []float64{8}
		IntegerPolynomialMutation{Eta: 1, ProbVar: 1}.Mutate(r, lo, hi, x)
		if x[0] != math.Round(x[0]) || x[0] < 0 || x[0] > 16 {
			t.Fatalf("gene %v is not an integer in [0, 16]", x[0])
		}
		hits[x[0]]++
	}
	// With eta 1 the spread is wide: both ends are reached, each end taking a full unit-wide
	// cell of [lb-0.5, ub+0.5] rather than half of one.
	if hits[0] == 0 || hits[16] == 0 {
		t.Errorf("ends never reached: %v", hits)
	}
	if hits[8] == 20000 {
		t.Error("mutation never changed the gene")
	}
}

func TestRandomResetting(t *testing.T) {
	r := newRand()
	lo, hi := []float64{1, 1, 1}, []float64{9, 9, 9}
	seen := map[float64]bool{}
	for trial := 0; trial < 3000; trial++ {
		x := []float64{5, 5, 5}
		RandomResetting{ProbVar: 1}.Mutate(r, lo, hi, x)
		for _, v := range x {
			if v != math.Round(v) || v < 1 || v > 9 {
				t.Fatalf("gene %v not an integer in [1, 9]", v)
			}
			seen[v] = true
		}
	}
	if len(seen) != 9 {
		t.Errorf("values reached %v, want all of 1..9", seen)
	}
}

func TestIntegerCrossovers(t *testing.T) {
	r := newRand()
	p1 := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	p2 := []float64{11, 12, 13, 14, 15, 16, 17, 18}
	c1, c2 := make([]float64, 8), make([]float64, 8)
	for trial := 0; trial < 500; trial++ {
		UniformCrossover{Prob: 1}.Cross(r, nil, nil, p1, p2, c1, c2)
		for i := range c1 {
			if !((c1[i] == p1[i] && c2[i] == p2[i]) || (c1[i] == p2[i] && c2[i] == p1[i])) {
				t.Fatalf("uniform crossover gene %d: %v %v from %v %v", i, c1[i], c2[i], p1[i], p2[i])
			}
		}
		TwoPointCrossover{Prob: 1}.Cross(r, nil, nil, p1, p2, c1, c2)
		// c1 = p1 outside one contiguous segment [a, b) and p2 inside it, with 1 <= a < b <= 7.
		swaps := 0
		for i := range c1 {
			if (c1[i] == p2[i]) != (i > 0 && c1[i-1] == p2[i-1]) {
				swaps++
			}
			if c1[i]+c2[i] != p1[i]+p2[i] {
				t.Fatalf("two-point crossover mixed genes: %v %v", c1, c2)
			}
		}
		if c1[0] != p1[0] || c1[7] != p1[7] || swaps != 2 {
			t.Fatalf("two-point crossover child %v is not one inner segment swap", c1)
		}
	}
}

func TestTournamentSelectUsesEveryoneEvenly(t *testing.T) {
	r := newRand()
	count := make([]int, 10)
	// Winner by smaller index: the result tells the tournament was used.
	sel := TournamentSelect(r, 10, 50, 2, 2, func(a, b int) int { count[a]++; count[b]++; return min(a, b) })
	if len(sel) != 50 || len(sel[0]) != 2 {
		t.Fatalf("shape %d x %d, want 50 x 2", len(sel), len(sel[0]))
	}
	for i, c := range count {
		if c != 20 { // 200 competitors from 20 whole permutations of 10
			t.Errorf("individual %d competed %d times, want 20", i, c)
		}
	}
	nine := 0
	for _, pair := range sel {
		for _, w := range pair {
			if w == 9 {
				nine++
			}
		}
	}
	if nine != 0 {
		t.Errorf("the worst individual won %d tournaments, want 0", nine)
	}
}

type repairProblem struct{ calls int }

func (p *repairProblem) Bounds() ([]float64, []float64) {
	return []float64{0, 0, 0}, []float64{3, 3, 3}
}
func (p *repairProblem) NumObjectives() int  { return 1 }
func (p *repairProblem) NumConstraints() int { return 0 }
func (p *repairProblem) Evaluate(ctx context.Context, X, F, G [][]float64) error {
	return nil
}

// Repair sorts the genome, a normalisation with many genomes per class.
func (p *repairProblem) Repair(x []float64) {
	p.calls++
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j] < x[j-1]; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
}

func TestMatingRepairsAndEliminatesDuplicates(t *testing.T) {
	prob := &repairProblem{}
	lo, hi := prob.Bounds()
	state := &moea.State{}
	// Build a Run the way Minimize does, through a tiny algorithm that captures it.
	var pop moea.Population
	for _, x := range [][]float64{{0, 1, 2}, {1, 1, 3}, {0, 0, 0}, {2, 3, 3}} {
		pop = append(pop, &moea.Individual{X: x})
	}
	run := moea.NewRun(prob, newRand(), state)
	m := Mating{Crossover: UniformCrossover{Prob: 1}, Mutation: RandomResetting{ProbVar: 0.5}}
	// Sorted genomes over 0..3 of length 3: C(6,3) = 20 distinct; 4 are taken.
	off, err := m.Offspring(context.Background(), run, pop, 30, func(a, b int) int { return a })
	if err != nil {
		t.Fatal(err)
	}
	if len(off) != 16 {
		t.Errorf("%d offspring, want the 16 sorted genomes not in the population", len(off))
	}
	seen := NewDuplicateSet(pop)
	for _, ind := range off {
		for i, v := range ind.X {
			if v < lo[i] || v > hi[i] || v != math.Round(v) {
				t.Fatalf("offspring %v out of bounds", ind.X)
			}
			if i > 0 && ind.X[i] < ind.X[i-1] {
				t.Fatalf("offspring %v was not repaired", ind.X)
			}
		}
		if !seen.Add(ind.X) {
			t.Fatalf("duplicate offspring %v", ind.X)
		}
	}
	if prob.calls == 0 {
		t.Error("repair hook never called")
	}
}

func TestPowPos(t *testing.T) {
	for _, x := range []float64{1e-300, 0.003, 0.5, 1, 1.7, 40, 1e10} {
		for _, y := range []float64{-31, -21, -2, -1, 0, 1, 2, 21, 31, 1.0 / 31, 1.0 / 21, 0.5, -0.25} {
			got, want := powPos(x, y), math.Pow(x, y)
			if want < 1e-290 || want > 1e290 {
				// Beyond the normal range powPos may flush to 0 or +Inf: SBX then sees the
				// same limit (alpha = 2) either way.
				if (want < 1e-290 && got > 1e-290) || (want > 1e290 && got < 1e290) {
					t.Errorf("powPos(%v, %v) = %v, want %v", x, y, got, want)
				}
				continue
			}
			if math.Abs(got-want) > 1e-13*math.Abs(want) {
				t.Errorf("powPos(%v, %v) = %v, want %v", x, y, got, want)
			}
		}
	}
	if v := powPos(0, 0.5); v != 0 {
		t.Errorf("powPos(0, 0.5) = %v, want 0", v)
	}
}
