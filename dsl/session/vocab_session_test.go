package session

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/natgo/nat/dsl"
	"github.com/natgo/nat/dsl/display"
)

func TestVocabularyValuesDisplay(t *testing.T) {
	var published []display.Bundle
	s, err := New(Options{Publisher: display.PublisherFunc(func(b display.Bundle, id string, update bool) {
		published = append(published, b)
	})})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Eval(context.Background(), "sp := MNISTSpace()\nShow(Objectives(Minimize(MAdds())))\nsp")
	if err != nil {
		t.Fatal(err)
	}
	b := r.Display()
	if !strings.Contains(string(b[display.HTML]), "<table>") || !strings.HasPrefix(string(b[display.TextPlain]), "space nat-mnist") {
		t.Fatalf("space display = %q", b)
	}
	if len(published) != 1 || string(published[0][display.TextPlain]) != "minimize madds" {
		t.Fatalf("published = %q", published)
	}
}

func TestTransferReportsNotBuilt(t *testing.T) {
	s := newSession(t)
	r, err := s.Eval(context.Background(), "_, err := Transfer(Experiment{Space: MNISTSpace(), Objectives: Objectives(Maximize(Top1()))})\nerr")
	if err != nil {
		t.Fatal(err)
	}
	e, ok := r.Value.(error)
	if !ok || !errors.Is(e, dsl.ErrNotBuilt) {
		t.Fatalf("Transfer returned %v, want an error wrapping ErrNotBuilt", r.Value)
	}
}

func TestContextIsTheCells(t *testing.T) {
	s := newSession(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Eval(ctx, "x := 1")
	var e *Error
	if !errors.As(err, &e) || e.Kind != Canceled {
		t.Fatalf("err = %v, want Canceled", err)
	}
	r, err := s.Eval(context.Background(), "Context().Err() == nil")
	if err != nil || r.Value != true {
		t.Fatalf("Context() in a live cell: %v %v", r.Value, err)
	}
}

func TestEvaluateUsesTheCellsContext(t *testing.T) {
	s := newSession(t)
	// A custom metric that cancels the cell's context: Evaluate must stop at the next subnet.
	src := `sp := MNISTSpace()
calls := 0
slow := Custom("slow", func(a Arch) float64 {
	calls++
	for i := 0; i < 1000000000 && Context().Err() == nil; i++ {
	}
	return 1
})
_, err := Evaluate(Experiment{Space: sp, Objectives: Objectives(Minimize(slow))}, sp.Smallest(), sp.Largest(), sp.Smallest())
`
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := s.Eval(ctx, src)
	var e *Error
	if !errors.As(err, &e) || e.Kind != Canceled {
		t.Fatalf("err = %v, want Canceled", err)
	}
	r, err := s.Eval(context.Background(), "calls")
	if err != nil || r.Value.(int) > 2 {
		t.Fatalf("calls = %v, %v: Evaluate did not stop with the cell", r.Value, err)
	}
}
