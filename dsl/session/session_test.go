package session

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func newSession(t *testing.T) *Session {
	t.Helper()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStatePersistsAcrossCells(t *testing.T) {
	s := newSession(t)
	ctx := context.Background()
	if _, err := s.Eval(ctx, "x := 40"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Eval(ctx, "func add(a, b int) int { return a + b }"); err != nil {
		t.Fatal(err)
	}
	r, err := s.Eval(ctx, "add(x, 2)")
	if err != nil {
		t.Fatal(err)
	}
	if !r.HasValue || r.Value != 42 {
		t.Fatalf("value = %v (has %v), want 42", r.Value, r.HasValue)
	}
}

func TestMixedCell(t *testing.T) {
	s := newSession(t)
	cell := `n := square(3)
import "strings"
type pair struct{ a, b int }
func square(x int) int { return x * x }
fmt.Println(strings.Repeat("ab", 2), n, pair{1, 2})
import "strings"
`
	r, err := s.Eval(context.Background(), cell)
	if err != nil {
		t.Fatal(err)
	}
	if r.Stdout != "abab 9 {1 2}\n" {
		t.Fatalf("stdout = %q", r.Stdout)
	}
	if r.HasValue {
		t.Fatalf("fmt.Println has two results; no value expected, got %v", r.Value)
	}
	// Re-importing is a no-op.
	if _, err := s.Eval(context.Background(), `import "strings"`+"\n"+`import "fmt"`); err != nil {
		t.Fatal(err)
	}
}

func TestErrorPositions(t *testing.T) {
	s := newSession(t)
	ctx := context.Background()
	cases := []struct {
		src, want string
	}{
		{"x := 1\ny := \n", "cell1.go:2:"},
		{"a := 1\n\n   b := undefinedName + 1", "cell2.go:3:9: undefined: undefinedName"},
		{"func f(d int) int {\n\treturn 10 / d\n}\nz := 0\nf(z)", "cell3.go:2:9: runtime error: integer divide by zero"},
	}
	for _, c := range cases {
		_, err := s.Eval(ctx, c.src)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Eval(%q) error = %v, want prefix %q", c.src, err, c.want)
		}
	}
	r, err := s.Eval(ctx, "1 + 1")
	if err != nil || r.Value != 2 {
		t.Fatalf("session unusable after errors: %v %v", r.Value, err)
	}
}

func TestTimeoutStopsInfiniteLoop(t *testing.T) {
	s := newSession(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := s.Eval(ctx, "i := 0\nfor {\n\ti++\n}")
	var e *Error
	if !errors.As(err, &e) || e.Kind != Canceled {
		t.Fatalf("err = %v, want a Canceled *Error", err)
	}
	r, err := s.Eval(context.Background(), "2 * 21")
	if err != nil || r.Value != 42 {
		t.Fatalf("after timeout: %v %v", r.Value, err)
	}
}

func TestRangeOverInt(t *testing.T) {
	s := newSession(t)
	_, err := s.Eval(context.Background(), "n := 3\nfor i := range n {\n\tfmt.Println(i)\n}")
	if err == nil || !strings.HasPrefix(err.Error(), "cell1.go:2:16: cannot range over n") {
		t.Fatalf("err = %v", err)
	}
	// Nothing of a cell that failed to compile has run; the session goes on.
	r, err := s.Eval(context.Background(), "m := 3\nfor i := 0; i < m; i++ {\n}\nm")
	if err != nil || r.Value != 3 {
		t.Fatalf("after: %v %v", r.Value, err)
	}
}

func TestCompleteAndInspect(t *testing.T) {
	s := newSession(t)
	if _, err := s.Eval(context.Background(), "import \"strings\"\nbudget := 42"); err != nil {
		t.Fatal(err)
	}
	c := s.Complete("x := strings.Rep", 16)
	if len(c.Matches) == 0 || c.Matches[0] != "Repeat" || c.Start != 13 || c.End != 16 {
		t.Fatalf("Complete = %+v", c)
	}
	c = s.Complete("bud", 3)
	if len(c.Matches) != 1 || c.Matches[0] != "budget" {
		t.Fatalf("Complete = %+v", c)
	}
	if got := s.Inspect("budget + 1", 2); got != "budget int = 42" {
		t.Fatalf("Inspect = %q", got)
	}
	if got := s.Inspect("strings.Repeat", 10); !strings.HasPrefix(got, "func strings.Repeat(string, int) string") {
		t.Fatalf("Inspect = %q", got)
	}
}

func TestHeadersWithSemicolons(t *testing.T) {
	s := newSession(t)
	src := "sum := 0\nfor i := 0; i < 4; i++ {\n\tsum += i\n}\nif v := sum; v > 100 {\n\tsum = -1\n} else if w := v * 2; w > 10 {\n\tsum = w\n}\nsum"
	r, err := s.Eval(context.Background(), src)
	if err != nil || r.Value != 12 {
		t.Fatalf("got %v, %v; want 12", r.Value, err)
	}
}

func TestSameNameTwice(t *testing.T) {
	s := newSession(t)
	for i := 0; i < 3; i++ {
		if _, err := s.Eval(context.Background(), `import "strings"`+"\nstrings.ToUpper(\"a\")", WithName("repl")); err != nil {
			t.Fatalf("evaluation %d: %v", i, err)
		}
	}
}

func TestFailedImportUnderARepeatedName(t *testing.T) {
	s := newSession(t)
	ctx := context.Background()
	if _, err := s.Eval(ctx, `import "strings"`, WithName("repl")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Eval(ctx, "import \"math\"\nimport \"no/such/package\"", WithName("repl")); err == nil {
		t.Fatal("importing a missing package succeeded")
	}
	for _, src := range []string{"x := strings.ToUpper(\"a\")\nx", "y := math.Sqrt(4)\ny", "import \"math\"\nmath.Sqrt(9)"} {
		if _, err := s.Eval(ctx, src, WithName("repl")); err != nil {
			t.Fatalf("%q after a failed import: %v", src, err)
		}
	}
	r, err := s.Eval(ctx, "u := strings.ToUpper(\"nat\")\nu", WithName("other"))
	if err != nil || r.Value != "NAT" {
		t.Fatalf("define with a package call: %v %v", r.Value, err)
	}
}

func TestInspectShowsDocs(t *testing.T) {
	s := newSession(t)
	if _, err := s.Eval(context.Background(), "sp := MNISTSpace()"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		code   string
		cursor int
		want   string
	}{
		{"MNISTSpace()", 3, "MNISTSpace is the small space"},
		{"sp.WithDepths(2)", 6, "WithDepths sets the allowed stage depths"},
		{"sp", 1, "Space is a search space"},
	} {
		if got := s.Inspect(c.code, c.cursor); !strings.Contains(got, c.want) {
			t.Errorf("Inspect(%q) = %q, want it to contain %q", c.code, got, c.want)
		}
	}
}

// TestCanceledLoopStaysDead interrupts a top-level loop while it is inside a blocking compiled
// call; the loop must not resume when later cells run.
func TestCanceledLoopStaysDead(t *testing.T) {
	s := newSession(t)
	ctx := context.Background()
	if _, err := s.Eval(ctx, "import \"time\"\nticks := 0"); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 120*time.Millisecond)
	defer cancel()
	if _, err := s.Eval(cctx, "for {\n\ttime.Sleep(50 * time.Millisecond)\n\tticks++\n}"); err == nil {
		t.Fatal("the loop ended by itself")
	}
	read := func() int {
		t.Helper()
		r, err := s.Eval(ctx, "ticks")
		if err != nil {
			t.Fatal(err)
		}
		return r.Value.(int)
	}
	read()
	time.Sleep(150 * time.Millisecond)
	a := read()
	time.Sleep(200 * time.Millisecond)
	if b := read(); b != a {
		t.Fatalf("ticks went from %d to %d after the cell was canceled", a, b)
	}
}

func TestRangeOverIntAmongOtherRanges(t *testing.T) {
	s := newSession(t)
	_, err := s.Eval(context.Background(), "func f(xs []int) {\n\tfor _, x := range xs {\n\t\t_ = x\n\t}\n\tfor i := range len(xs) {\n\t\t_ = i\n\t}\n}")
	if err == nil || !strings.HasPrefix(err.Error(), "cell1.go:5:17: cannot range over len(xs)") {
		t.Fatalf("err = %v", err)
	}
}
