package session

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/natgo/nat/dsl"
)

// smallestMNISTEnergy computes, compiled, what cell 3 computes interpreted.
func smallestMNISTEnergy() float64 {
	sp := dsl.MNISTSpace()
	return math.Round(2*float64(sp.Costs(sp.Smallest()).MAdds)/1e6*1000) / 1000
}

// TestNotebookPatterns evaluates, cell after cell, the constructs notebooks use most.
func TestNotebookPatterns(t *testing.T) {
	s := newSession(t)
	ctx := context.Background()
	cells := []struct {
		src  string
		want any // the cell's value; nil: no value expected
	}{
		{`import (
	"math"
	"sort"
	"strings"
)`, nil},
		{`type energyModel struct{ nJPerMAdd float64 }
func (m energyModel) cost(madds int64) float64 { return m.nJPerMAdd * float64(madds) / 1e6 }
em := energyModel{nJPerMAdd: 2}`, nil},
		{`sp := MNISTSpace()
energy := Custom("energy", func(a Arch) float64 { return em.cost(sp.Costs(a).MAdds) })
v, err := energy.Measure(sp, sp.Smallest())
if err != nil {
	panic(err)
}
math.Round(v*1000) / 1000`, smallestMNISTEnergy()},
		{`names := []string{}
for _, o := range Objectives(Maximize(Top1()), Minimize(energy)) {
	names = append(names, strings.ToUpper(o.Metric.Name))
}
sort.Strings(names)
strings.Join(names, ",")`, "ENERGY,TOP1"},
		{`sp := MobileNetV3() // redeclared at top level
sp.Name()`, "nat-imagenet"},
		{`counts := map[int]int{}
for seed := uint64(0); seed < 20; seed++ {
	counts[sp.Sample(seed).Resolution%8]++
}
len(counts) > 0`, true},
		{`func total(xs ...float64) (s float64) {
	for _, x := range xs {
		s += x
	}
	return
}`, nil},
		{`total(1, 2, 3.5)`, 6.5},
		{`exp := Experiment{Name: "nb", Space: sp, Objectives: Objectives(Minimize(MAdds()))}
res, _ := Evaluate(exp, sp.Smallest(), sp.Largest())
len(res.Front())`, 1},
	}
	for i, c := range cells {
		r, err := s.Eval(ctx, c.src)
		if err != nil {
			t.Fatalf("cell %d: %v\n%s", i+1, err, c.src)
		}
		if c.want == nil {
			continue
		}
		if !r.HasValue || r.Value != c.want {
			t.Fatalf("cell %d = %v (%T, has %v), want %v", i+1, r.Value, r.Value, r.HasValue, c.want)
		}
	}
}

func TestGoroutinePanicDoesNotKillTheProcess(t *testing.T) {
	s := newSession(t)
	src := `import "sync"
var wg sync.WaitGroup
results := make([]int, 3)
for i := 0; i < 3; i++ {
	wg.Add(1)
	go func(k int) {
		defer wg.Done()
		results[k] = k * k
	}(i)
}
wg.Wait()
done := make(chan bool)
go func() {
	defer close(done)
	var m map[string]int
	m["x"] = 1
}()
<-done
results`
	r, err := s.Eval(context.Background(), src)
	var e *Error
	if !errors.As(err, &e) || e.Kind != Runtime || e.Pos.Line != 13 || e.Pos.Column != 1 || !strings.Contains(e.Msg, "nil map") {
		t.Fatalf("err = %v, want a runtime error at cell1.go:13:1 (the go statement)", err)
	}
	_ = r
	r, err = s.Eval(context.Background(), "results")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := r.Value.([]int); !ok || len(got) != 3 || got[1] != 1 || got[2] != 4 {
		t.Fatalf("results = %v: go statements must evaluate their arguments when they start", r.Value)
	}
}

func TestGoStatementArguments(t *testing.T) {
	s := newSession(t)
	r, err := s.Eval(context.Background(), "out := make(chan float64, 2)\nfunc half(x float64) { out <- x / 2 }")
	if err == nil || !strings.Contains(err.Error(), "declare it with var") {
		t.Fatalf("a function using a variable of its cell's statements: %v", err)
	}
	src := `var out = make(chan float64, 2)
func half(x float64) { out <- x / 2 }
func sum(xs ...float64) {
	t := 0.0
	for _, x := range xs {
		t += x
	}
	out <- t
}
go half(3)
xs := []float64{1, 2, 3}
go sum(xs...)
a, b := <-out, <-out
a + b`
	r, err = s.Eval(context.Background(), src)
	if err != nil || r.Value != 7.5 {
		t.Fatalf("got %v, %v; want 7.5", r.Value, err)
	}
}

func TestScriptFlagsAndExit(t *testing.T) {
	s, err := New(Options{Args: []string{"script.go", "-iterations", "5", "extra"}})
	if err != nil {
		t.Fatal(err)
	}
	src := `package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	iterations := flag.Int("iterations", 30, "transfer iterations")
	flag.Parse()
	fmt.Println(*iterations, flag.Args())
	os.Exit(3)
	fmt.Println("not reached")
}
`
	r, err := s.Eval(context.Background(), src, WithName("script.go"))
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 3 {
		t.Fatalf("err = %v, want exit status 3", err)
	}
	if r.Stdout != "5 [extra]\n" {
		t.Fatalf("stdout = %q", r.Stdout)
	}
	if r, err := s.Eval(context.Background(), "1 + 1"); err != nil || r.Value != 2 {
		t.Fatalf("session after os.Exit: %v %v", r.Value, err)
	}
}

func TestScriptMainRunsOnce(t *testing.T) {
	s := newSession(t)
	ctx := context.Background()
	r, err := s.Eval(ctx, "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"main ran\")\n}\n", WithName("pasted.go"))
	if err != nil || r.Stdout != "main ran\n" {
		t.Fatalf("script: %q, %v", r.Stdout, err)
	}
	r, err = s.Eval(ctx, "x := 1\nx")
	if err != nil || r.Stdout != "" || r.Value != 1 {
		t.Fatalf("a later cell printed %q (value %v, err %v): main must not run again", r.Stdout, r.Value, err)
	}
}

func TestScriptPanicTrace(t *testing.T) {
	s := newSession(t)
	src := `package main

import . "github.com/natgo/nat/dsl"

func score(m map[string]float64, a Arch) {
	m[a.String()] = 1
}

func main() {
	sp := MNISTSpace()
	var m map[string]float64
	score(m, sp.Smallest())
}
`
	_, err := s.Eval(context.Background(), src, WithName("s.go"))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	var got []string
	for _, p := range e.Trace {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "s.go:6:2 s.go:12:2" {
		t.Fatalf("trace %v, want the assignment then the call of score (and nothing of the session's own)", got)
	}
}

func TestStdin(t *testing.T) {
	s := newSession(t)
	r, err := s.Eval(context.Background(), "var name string\nfmt.Scan(&name)\nname", WithStdin(strings.NewReader("fashion-mnist\n")))
	if err != nil || r.Value != "fashion-mnist" {
		t.Fatalf("got %v, %v", r.Value, err)
	}
	r, err = s.Eval(context.Background(), "n, err := fmt.Scan(&name)\nn == 0 && err != nil")
	if err != nil || r.Value != true {
		t.Fatalf("without stdin: %v, %v; want end of file", r.Value, err)
	}
}
