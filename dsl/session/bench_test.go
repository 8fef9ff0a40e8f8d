package session

import (
	"context"
	"testing"
)

// BenchmarkNew measures session start: the standard library and vocabulary symbol tables, and
// the initial imports.
func BenchmarkNew(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeclarativeCell measures a warm session evaluating a small declarative cell (issue 6:
// at most 20 ms).
func BenchmarkDeclarativeCell(b *testing.B) {
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	cell := `space := MNISTSpace().WithResolutions(24, 28, 32)
objs := Objectives(Maximize(Top1()), Minimize(MAdds()), Minimize(Params()))
cons := Constraints(AtMost(MAdds(), 10e6))
exp := Experiment{Name: "bench", Space: space, Objectives: objs, Constraints: cons}
exp.Name`
	ctx := context.Background()
	if _, err := s.Eval(ctx, cell); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Eval(ctx, cell); err != nil {
			b.Fatal(err)
		}
	}
}
