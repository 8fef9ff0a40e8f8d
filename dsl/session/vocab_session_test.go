package session

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/traefik/yaegi/interp"

	"github.com/natgo/nat/dsl"
	"github.com/natgo/nat/dsl/display"
	"github.com/natgo/nat/nat/transfer"
	"github.com/natgo/nat/nat/transfer/transfertest"
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

// TestTransferInACell runs the transfer loop from a cell on a synthetic supernet (handed to the
// script through a test package) and checks that its progress reaches the session's publisher
// as one display updated in place, and its live Pareto plot as another.
func TestTransferInACell(t *testing.T) {
	var first, updates, plots int
	s, err := New(Options{Publisher: display.PublisherFunc(func(b display.Bundle, id string, update bool) {
		switch {
		case strings.HasSuffix(id, "-front"):
			plots++
		case update:
			updates++
		default:
			first++
		}
	})})
	if err != nil {
		t.Fatal(err)
	}
	err = s.in.Use(interp.Exports{"natgo.test/fake/fake": {
		"Supernet": reflect.ValueOf(func(sp *dsl.Space) transfer.Supernet {
			net, err := transfertest.New(sp.Engine())
			if err != nil {
				panic(err)
			}
			return net
		}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	src := `import "natgo.test/fake"
sp := MNISTSpace()
exp := Experiment{Name: "cell", Space: sp, Objectives: Objectives(Maximize(Top1()), Minimize(Params())),
	Search: SearchSettings{Initial: 24, Iterations: 1, Population: 12, Generations: 3, Candidates: 2, AdaptSteps: 2},
	Dir: ` + "`" + t.TempDir() + "`" + `}
res, err := TransferWith(exp, fake.Supernet(sp))
if err != nil {
	panic(err)
}
len(res.Points)`
	r, err := s.Eval(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := r.Value.(int); !ok || n < 24 {
		t.Fatalf("points = %v", r.Value)
	}
	if first != 1 || updates == 0 {
		t.Errorf("progress: %d first displays, %d updates; want one display updated in place", first, updates)
	}
	if plots != 2 {
		t.Errorf("live Pareto plot published %d times; want once per finished iteration (2)", plots)
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

func TestBundleValuesDisplayAsThemselves(t *testing.T) {
	s := newSession(t)
	r, err := s.Eval(context.Background(), `import "github.com/natgo/nat/dsl/display"
display.Bundle{display.SVG: []byte("<svg/>"), display.TextPlain: []byte("a plot")}`)
	if err != nil {
		t.Fatal(err)
	}
	b := r.Display()
	if string(b[display.SVG]) != "<svg/>" || string(b[display.TextPlain]) != "a plot" {
		t.Fatalf("display = %q", b)
	}
}
