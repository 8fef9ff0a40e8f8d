package nsga3

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/natgo/nat/nat/moea/refdirs"
)

// The pruned association must give exactly the full scan's lines and closest individuals, on
// the cases where pruning is delicate: exact ties (midpoints between two lines, duplicate
// individuals), individuals on a line, at the ideal point, tiny or far from every line, and
// direction sets with duplicates, many lines (truncated neighbour lists) or few.
func TestAssociationMatchesFullScan(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	type dirCase struct {
		name string
		dirs [][]float64
	}
	var cases []dirCase
	add := func(name string, d [][]float64, err error) {
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, dirCase{name, d})
	}
	d, err := refdirs.DasDennis(5, 6)
	add("das-dennis 5x6", d, err)
	d, err = refdirs.DasDennis(3, 12)
	add("das-dennis 3x12", d, err)
	d, err = refdirs.DasDennis(3, 40) // 861 lines: truncated neighbour lists
	add("das-dennis 3x40", d, err)
	d, err = refdirs.DasDennis(2, 11)
	add("das-dennis 2x11", d, err)
	d, err = refdirs.DasDennis(4, 5)
	add("das-dennis 4x5", d, err)
	d, err = refdirs.DasDennis(8, 2)
	add("das-dennis 8x2", d, err)
	d, err = refdirs.DasDennis(5, 6)
	add("das-dennis 5x6 with duplicates", append(d, d[3], d[100]), err)
	add("one line", [][]float64{{1, 2, 3}}, nil)
	d, err = refdirs.DasDennis(11, 2)
	add("das-dennis 11x2", d, err)
	var rnd [][]float64
	for i := 0; i < 57; i++ {
		w := make([]float64, 4)
		for k := range w {
			w[k] = r.Float64()
		}
		rnd = append(rnd, w)
	}
	add("random 4-D", rnd, nil)

	fromOther := 0 // lines whose closest individual belongs to another line
	for _, dc := range cases {
		s, err := NewSurvival(dc.dirs)
		if err != nil {
			t.Fatal(err)
		}
		m, h := s.m, len(s.refs)
		for trial := 0; trial < 40; trial++ {
			nc := 1 + r.IntN(500)
			N := make([][]float64, nc)
			for c := range N {
				v := make([]float64, m)
				switch kind := r.IntN(12); {
				case kind == 0: // on a line
					u := dc.dirs[r.IntN(len(dc.dirs))]
					f := r.Float64() * 2
					for k := range v {
						v[k] = f * u[k]
					}
				case kind == 1 && h > 1: // midpoint of two lines: ties
					a, b := s.refs[r.IntN(h)], s.refs[r.IntN(h)]
					for k := range v {
						v[k] = (a[k] + b[k]) / 2
					}
				case kind == 7 && h > 1: // between two lines, nearer to either
					a, b := s.refs[r.IntN(h)], s.refs[r.IntN(h)]
					w := r.Float64()
					for k := range v {
						v[k] = w*a[k] + (1-w)*b[k]
					}
				case kind == 2 && c > 0: // duplicate individual
					copy(v, N[r.IntN(c)])
				case kind == 3 && trial%5 == 0: // the ideal point
				case kind == 4: // tiny
					for k := range v {
						v[k] = r.Float64() * 1e-150
					}
				case kind == 5: // an axis, far from lines without zeros
					v[r.IntN(m)] = 1 + r.Float64()
				case kind == 6: // coarse values: more ties
					for k := range v {
						v[k] = float64(r.IntN(3)) / 2
					}
				default: // near the unit sphere, sometimes far out
					sc := 1.0
					if r.IntN(10) == 0 {
						sc = 1 + 5*r.Float64()
					}
					nv := 0.0
					for k := range v {
						v[k] = math.Abs(r.NormFloat64())
						nv += v[k] * v[k]
					}
					for k := range v {
						v[k] *= sc / math.Sqrt(nv)
					}
				}
				N[c] = v
			}
			cols := make([][]float64, m)
			nn := make([]float64, nc)
			for k := range cols {
				cols[k] = make([]float64, nc)
				for c := range N {
					cols[k][c] = N[c][k]
				}
			}
			for c, v := range N {
				for _, x := range v {
					nn[c] += x * x
				}
			}
			bestF, nicheF := make([]float64, nc), make([]int, nc)
			s.fullScan(cols, nn, bestF, nicheF)
			colArgF := append([]int(nil), s.colArg...)
			bestA, nicheA, colArgA := make([]float64, nc), make([]int, nc), make([]int, h)
			if !s.assoc.associate(cols, nn, bestA, nicheA, colArgA) {
				t.Fatalf("%s: associate refused finite values", dc.name)
			}
			used := make([]bool, h)
			for j := range colArgF {
				if colArgF[j] >= 0 && nicheF[colArgF[j]] != j {
					fromOther++
				}
			}
			for c := range N {
				used[nicheF[c]] = true
				if nicheA[c] != nicheF[c] || bestA[c] != bestF[c] {
					t.Fatalf("%s trial %d: individual %d %v: line %d (d2 %v), full scan %d (d2 %v)",
						dc.name, trial, c, N[c], nicheA[c], bestA[c], nicheF[c], bestF[c])
				}
			}
			for j := range used {
				if used[j] && colArgA[j] != colArgF[j] {
					t.Fatalf("%s trial %d: line %d: closest individual %d, full scan %d", dc.name, trial, j, colArgA[j], colArgF[j])
				}
			}
		}
	}
	t.Logf("%d lines had their closest individual among another line's", fromOther)
	if fromOther < 100 {
		t.Errorf("only %d lines had their closest individual among another line's: the test does not exercise the second pass's pruning", fromOther)
	}
}

// With one objective, or 12 or more, the associator leaves every call to the full scan.
func TestAssociationDisabledForManyObjectives(t *testing.T) {
	dirs, _ := refdirs.DasDennis(12, 2)
	s, _ := NewSurvival(dirs)
	if !s.assoc.disabled {
		t.Fatal("associator enabled with 12 objectives")
	}
	cols := make([][]float64, 12)
	for k := range cols {
		cols[k] = []float64{1}
	}
	if s.assoc.associate(cols, []float64{12}, make([]float64, 1), make([]int, 1), make([]int, len(dirs))) {
		t.Error("a disabled associator did the work")
	}
	if s, _ := NewSurvival([][]float64{{1}}); !s.assoc.disabled {
		t.Error("associator enabled with one objective")
	}
}

// Values the pruning does not handle (negative or infinite) are left to the full scan.
func TestAssociationRefusesBadValues(t *testing.T) {
	dirs, _ := refdirs.DasDennis(3, 4)
	s, _ := NewSurvival(dirs)
	cols := [][]float64{{1, -1}, {0, 0}, {0, 1}}
	nn := []float64{1, 2}
	if s.assoc.associate(cols, nn, make([]float64, 2), make([]int, 2), make([]int, len(dirs))) {
		t.Error("negative value accepted")
	}
	cols[0][1] = math.Inf(1)
	if s.assoc.associate(cols, nn, make([]float64, 2), make([]int, 2), make([]int, len(dirs))) {
		t.Error("infinite value accepted")
	}
}

func TestSelectNearest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		n := 1 + r.IntN(300)
		list := make([]neighbor, n)
		for i := range list {
			list[i] = neighbor{j: int32(i), cos: float64(r.IntN(20)) / 20} // many equal cosines
		}
		r.Shuffle(n, func(a, b int) { list[a], list[b] = list[b], list[a] })
		want := append([]neighbor(nil), list...)
		slices.SortFunc(want, compareNeighbors)
		k := 1 + r.IntN(n)
		selectNearest(list, k)
		got := append([]neighbor(nil), list[:k]...)
		slices.SortFunc(got, compareNeighbors)
		if !slices.Equal(got, want[:k]) {
			t.Fatalf("n %d k %d: selected %v, want %v", n, k, got, want[:k])
		}
	}
}
