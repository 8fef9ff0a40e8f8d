package synthetic

import (
	"fmt"
	"testing"
)

func TestBoundsAreNATs(t *testing.T) {
	b := Bounds()
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	// ../shared/reference/nat-algorithm.md section 2: x0 in 0..16, x1 in 0..1, then per stage
	// two slots in 1..9 and two in 0..9.
	want := "[0 0 1 1 0 0 1 1 0 0 1 1 0 0 1 1 0 0 1 1 0 0] [16 1 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9]"
	if got := fmt.Sprint(b.Lo, " ", b.Hi); got != want {
		t.Errorf("bounds %s, want %s", got, want)
	}
}

func TestSampleDistinctInBoundsDeterministic(t *testing.T) {
	g, y := Sample(300, 0.25, 7)
	g2, y2 := Sample(300, 0.25, 7)
	b := Bounds()
	seen := map[string]bool{}
	for i := range g {
		if err := b.Check(g[i]); err != nil {
			t.Fatalf("genome %d: %v", i, err)
		}
		k := fmt.Sprint(g[i])
		if seen[k] {
			t.Fatalf("genome %d repeated", i)
		}
		seen[k] = true
		if fmt.Sprint(g2[i]) != k || y2[i] != y[i] {
			t.Fatal("same seed, different sample")
		}
	}
	held, acc := SampleExcluding(500, 0, 8, g)
	for i, h := range held {
		if seen[fmt.Sprint(h)] {
			t.Fatalf("held-out genome %d is in the training set", i)
		}
		if acc[i] != Accuracy(h) {
			t.Fatal("noise 0 must give the noiseless accuracy")
		}
	}
}

// The accuracy rises with capacity: the largest subnet beats the smallest by several points.
func TestAccuracyMonotoneInCapacity(t *testing.T) {
	small := make([]int, Genes)
	large := make([]int, Genes)
	large[0], large[1] = 8, 1 // resolution 224 (the accuracy peaks near it), wide
	for s := 0; s < 5; s++ {
		small[2+4*s], small[3+4*s] = 1, 1
		for j := 0; j < 4; j++ {
			large[2+4*s+j] = 9
		}
	}
	if a, b := Accuracy(small), Accuracy(large); !(b > a+5) {
		t.Errorf("smallest %.2f, largest %.2f: want the largest ahead by more than 5 points", a, b)
	}
}
