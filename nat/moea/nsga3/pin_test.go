package nsga3

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/natgo/nat/nat/moea"
	"github.com/natgo/nat/nat/moea/operators"
	"github.com/natgo/nat/nat/moea/refdirs"
	"github.com/natgo/nat/nat/moea/termination"
)

// populationHash is SHA-256 over the variables and objectives of every individual, in order,
// bit for bit.
func populationHash(pop moea.Population) string {
	h := sha256.New()
	var b [8]byte
	put := func(v float64) {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	for _, ind := range pop {
		put(float64(len(ind.X)))
		for _, v := range ind.X {
			put(v)
		}
		for _, v := range ind.F {
			put(v)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// The same seed must give the same run, bit for bit, across changes that are meant only to make
// the code faster. These hashes were captured before the speed work of the M=5 generation
// (sorting and association rewritten); a change that alters them changes the search's results,
// not only its speed.
func TestPinnedResults(t *testing.T) {
	cases := []struct {
		name     string
		m, n, p  int
		gens     int
		seed     uint64
		pop, opt string
	}{
		{"dtlz2", 5, 14, 6, 60, 7, "0acc13568209fc46", "1460185aadbc69c6"},
		{"dtlz2", 3, 12, 12, 60, 3, "6d1a60dddcbe4a04", "e6d6c85b98b5a6e1"},
		{"dtlz1", 3, 7, 12, 60, 11, "df8e180ce0a1a5fd", "7fd1629e5b13f58e"},
		{"dtlz3", 5, 14, 6, 30, 2, "e7e8c3954f0dcd7f", "2a00a1105dd0afb8"},
		{"dtlz4", 4, 13, 7, 40, 5, "666f47b92be244e5", "becdfb6321415fd6"},
		{"dtlz2", 5, 14, 6, 200, 1, "2988803edba14654", "b298f0c0f85298ba"},
	}
	for _, c := range cases {
		_, res := runDTLZ(t, c.name, c.m, c.n, c.p, c.gens, c.seed)
		pop, opt := populationHash(res.Population), populationHash(res.Opt)
		t.Logf("%s M=%d seed %d: population %s, opt %s", c.name, c.m, c.seed, pop, opt)
		if pop != c.pop || opt != c.opt {
			t.Errorf("%s M=%d %d generations seed %d: hashes population %s opt %s, want %s %s",
				c.name, c.m, c.gens, c.seed, pop, opt, c.pop, c.opt)
		}
	}
}

// An integer search shaped like NAT's (22 genes in 0..9, NAT's operators) with three integer
// objectives, so individuals tie in objectives and duplicate each other's objective vectors,
// and a constraint (gene sum at least 100, active throughout), pinned like TestPinnedResults: hashes captured before
// the speed work.
func TestPinnedIntegerResult(t *testing.T) {
	const genes, top = 22, 9
	lower, upper := make([]int, genes), make([]int, genes)
	for i := range upper {
		upper[i] = top
	}
	ip := &moea.IntegerProblem{
		Lower: lower, Upper: upper, Objectives: 3, Constraints: 1,
		Evaluate: func(ctx context.Context, genomes [][]int, F, G [][]float64) error {
			for i, g := range genomes {
				s, d, z := 0, 0, 0
				for k, v := range g {
					s += v
					d += (top - v) * (top - v)
					if v == k%10 {
						z++
					}
				}
				F[i][0], F[i][1], F[i][2] = float64(s), float64(d), float64(genes-z)
				G[i][0] = float64(100 - s)
			}
			return nil
		},
	}
	prob, err := ip.Problem()
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := refdirs.DasDennis(3, 12)
	alg, err := New(Options{RefDirs: dirs, PopSize: 100,
		Crossover: operators.TwoPointCrossover{Prob: 0.9},
		Mutation:  operators.IntegerPolynomialMutation{Eta: 1},
		Sampling:  operators.IntegerSampling{}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := moea.Minimize(context.Background(), prob, alg, termination.Generations(60), 4)
	if err != nil {
		t.Fatal(err)
	}
	pop, opt := populationHash(res.Population), populationHash(res.Opt)
	t.Logf("integer search: population %s, opt %s", pop, opt)
	if want := [2]string{"ebf77af9ffbe746e", "16a7a5df23ba895d"}; pop != want[0] || opt != want[1] {
		t.Errorf("integer search: hashes population %s opt %s, want %s %s", pop, opt, want[0], want[1])
	}
}
