package indicator

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/natgo/nat/nat/moea/refdirs"
)

// Reference values: ../shared/reference/moea-reference.md (pymoo 0.6.1.5, cross-checked by an
// exact rational computation).
func TestHypervolumeReferenceCases(t *testing.T) {
	dd, err := refdirs.DasDennis(3, 12)
	if err != nil {
		t.Fatal(err)
	}
	dtlz1 := make([][]float64, len(dd))
	dtlz2 := make([][]float64, len(dd))
	for i, w := range dd {
		n := math.Sqrt(w[0]*w[0] + w[1]*w[1] + w[2]*w[2])
		dtlz1[i] = []float64{0.5 * w[0], 0.5 * w[1], 0.5 * w[2]}
		dtlz2[i] = []float64{w[0] / n, w[1] / n, w[2] / n}
	}
	cases := []struct {
		name   string
		points [][]float64
		ref    []float64
		want   float64
	}{
		{"2-D with dominated, outside and duplicate points",
			[][]float64{{1, 5}, {2, 3}, {3, 2}, {5, 1}, {4, 4}, {7, 0.5}, {2, 3}}, []float64{6, 6}, 17},
		{"3-D", [][]float64{{1, 2, 3}, {2, 1, 3}, {3, 3, 1}, {1, 3, 2}, {2, 2, 2}, {3, 3, 3}, {0.5, 3.5, 3.5}},
			[]float64{4, 4, 4}, 14.125},
		{"DTLZ1 front ref 0.6", dtlz1, []float64{0.6, 0.6, 0.6}, 81937.0 / 432000.0},
		{"DTLZ1 front ref 1.0", dtlz1, []float64{1, 1, 1}, 3365.0 / 3456.0},
		{"DTLZ2 front ref 1.1", dtlz2, []float64{1.1, 1.1, 1.1}, 0.7448508991884836},
	}
	for _, c := range cases {
		got, err := Hypervolume(c.points, c.ref)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if rel := math.Abs(got-c.want) / c.want; rel > 1e-12 {
			t.Errorf("%s: hypervolume %.17g, want %.17g (relative error %.3g)", c.name, got, c.want, rel)
		}
		// The WFG path must agree with the 2-D and 3-D sweeps: lift the points by a constant
		// extra objective, which multiplies the volume by the extra side.
		lifted := make([][]float64, len(c.points))
		for i, p := range c.points {
			lifted[i] = append(append([]float64(nil), p...), 0.25)
		}
		ref := append(append([]float64(nil), c.ref...), 1)
		got4, err := Hypervolume(lifted, ref)
		if err != nil {
			t.Fatal(err)
		}
		if rel := math.Abs(got4-0.75*c.want) / c.want; rel > 1e-12 {
			t.Errorf("%s lifted by one objective: %.17g, want %.17g", c.name, got4, 0.75*c.want)
		}
	}
}

// bruteForce computes the hypervolume on the grid spanned by the point coordinates: exact for
// any dimension, exponential in it, fine for a handful of points.
func bruteForce(points [][]float64, ref []float64) float64 {
	m := len(ref)
	coords := make([][]float64, m)
	for k := 0; k < m; k++ {
		seen := map[float64]bool{}
		for _, p := range points {
			if p[k] < ref[k] && !seen[p[k]] {
				seen[p[k]] = true
				coords[k] = append(coords[k], p[k])
			}
		}
		coords[k] = append(coords[k], ref[k])
		sortF(coords[k])
	}
	idx := make([]int, m)
	vol := 0.0
	for {
		ok := true
		for k := range idx {
			if idx[k] >= len(coords[k])-1 {
				ok = false
			}
		}
		if ok {
			// The cell [c_k[idx_k], c_k[idx_k+1]] is covered if some point is <= its low corner.
			covered := false
			for _, p := range points {
				in := true
				for k := range idx {
					if p[k] > coords[k][idx[k]] {
						in = false
						break
					}
				}
				if in {
					covered = true
					break
				}
			}
			if covered {
				v := 1.0
				for k := range idx {
					v *= coords[k][idx[k]+1] - coords[k][idx[k]]
				}
				vol += v
			}
		}
		k := 0
		for ; k < m; k++ {
			idx[k]++
			if idx[k] < len(coords[k])-1 {
				break
			}
			idx[k] = 0
		}
		if k == m {
			return vol
		}
	}
}

func sortF(v []float64) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

func TestHypervolumeMatchesGridCount(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for m := 2; m <= 5; m++ {
		for trial := 0; trial < 20; trial++ {
			n := 1 + r.IntN(9)
			pts := make([][]float64, n)
			for i := range pts {
				pts[i] = make([]float64, m)
				for k := range pts[i] {
					// Coarse values make ties and duplicates common.
					pts[i][k] = float64(r.IntN(6)) / 4
				}
			}
			ref := make([]float64, m)
			for k := range ref {
				ref[k] = 1.2
			}
			got, err := Hypervolume(pts, ref)
			if err != nil {
				t.Fatal(err)
			}
			want := bruteForce(pts, ref)
			if math.Abs(got-want) > 1e-12*math.Max(1, want) {
				t.Fatalf("m=%d points %v: hypervolume %v, grid count %v", m, pts, got, want)
			}
		}
	}
}

func TestHypervolumeDoesNotModifyInput(t *testing.T) {
	pts := [][]float64{{3, 1, 2, 1}, {1, 3, 1, 2}, {2, 2, 3, 1}}
	orig := [][]float64{{3, 1, 2, 1}, {1, 3, 1, 2}, {2, 2, 3, 1}}
	if _, err := Hypervolume(pts, []float64{4, 4, 4, 4}); err != nil {
		t.Fatal(err)
	}
	for i := range pts {
		for k := range pts[i] {
			if pts[i][k] != orig[i][k] {
				t.Fatalf("input changed: %v", pts)
			}
		}
	}
}

func TestHypervolumeErrors(t *testing.T) {
	if _, err := Hypervolume([][]float64{{1, 2}}, []float64{3, 3, 3}); err == nil {
		t.Error("mismatched dimensions accepted")
	}
	if _, err := Hypervolume([][]float64{{1, math.NaN()}}, []float64{3, 3}); err == nil {
		t.Error("NaN accepted")
	}
	if v, err := Hypervolume(nil, []float64{1, 1}); err != nil || v != 0 {
		t.Errorf("empty set: %v, %v; want 0, nil", v, err)
	}
}

func TestIGDAndIGDPlus(t *testing.T) {
	ref := [][]float64{{0, 1}, {1, 0}}
	// A point on the front has distance 0 to itself; (0.5, 0.5) is dominated by nothing in ref.
	A := [][]float64{{0, 1}, {1, 1}}
	igd, err := IGD(A, ref)
	if err != nil {
		t.Fatal(err)
	}
	// distances: (0,1)->0, (1,0)->min(|(0,1)-(1,0)|=sqrt2, |(1,1)-(1,0)|=1) = 1; mean 0.5.
	if math.Abs(igd-0.5) > 1e-15 {
		t.Errorf("IGD = %v, want 0.5", igd)
	}
	// IGD+: d+((1,0),(1,1)) = 1, d+((1,0),(0,1)) = sqrt(0 + 1) = 1; (0,1) -> 0. Mean 0.5.
	igdp, err := IGDPlus(A, ref)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(igdp-0.5) > 1e-15 {
		t.Errorf("IGD+ = %v, want 0.5", igdp)
	}
	// A point better than the reference set has IGD+ 0 but positive IGD.
	better := [][]float64{{-1, -1}}
	if v, _ := IGDPlus(better, ref); v != 0 {
		t.Errorf("IGD+ of a dominating point = %v, want 0", v)
	}
	if v, _ := IGD(better, ref); v <= 0 {
		t.Errorf("IGD of a dominating point = %v, want > 0", v)
	}
	if _, err := IGD(nil, ref); err == nil {
		t.Error("empty approximation accepted")
	}
}
