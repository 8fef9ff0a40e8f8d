package dslengine_test

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/natgo/nat/dsl/session"
	"github.com/natgo/nat/kernel"
	"github.com/natgo/nat/kernel/dslengine"
	"github.com/natgo/nat/kernel/jupyter"
)

// startKernel serves a DSL engine over real ZeroMQ and returns a connected client.
func startKernel(t *testing.T) *jupyter.Client {
	t.Helper()
	engine, err := dslengine.New(session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ci, err := jupyter.NewConnectionInfo()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	k, err := kernel.New(ctx, ci, kernel.Options{Engine: engine})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { k.Run(ctx); close(done) }()
	c, err := jupyter.Dial(ctx, ci)
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if _, err := c.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); cancel(); <-done })
	return c
}

type content map[string]json.RawMessage

func (c content) str(k string) string {
	var s string
	json.Unmarshal(c[k], &s)
	return s
}

func run(t *testing.T, c *jupyter.Client, code string) (reply content, iopub map[string][]content) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iopub = map[string][]content{}
	r, err := c.Execute(ctx, code, func(m *jupyter.Message) {
		var ct content
		json.Unmarshal(m.Content, &ct)
		iopub[m.Type()] = append(iopub[m.Type()], ct)
	})
	if err != nil {
		t.Fatalf("%q: %v", code, err)
	}
	json.Unmarshal(r.Content, &reply)
	return reply, iopub
}

func TestDSLCellsKeepStateAndReportPositions(t *testing.T) {
	c := startKernel(t)
	reply, io := run(t, c, "x := 40\nfmt.Println(\"x is\", x)")
	if reply.str("status") != "ok" {
		t.Fatalf("cell 1: %v", reply)
	}
	if got := io["stream"]; len(got) != 1 || got[0].str("text") != "x is 40\n" {
		t.Errorf("stream %v", got)
	}

	_, io = run(t, c, "x + 2")
	var data map[string]string
	if len(io["execute_result"]) != 1 {
		t.Fatalf("no execute_result: %v", io)
	}
	json.Unmarshal(io["execute_result"][0]["data"], &data)
	if data["text/plain"] != "42" {
		t.Errorf("x + 2 shows %q", data["text/plain"])
	}

	reply, io = run(t, c, "y := 1\n\tz := undefinedName + y")
	if reply.str("status") != "error" || len(io["error"]) != 1 {
		t.Fatalf("error cell: reply %v, iopub %v", reply, io)
	}
	e := io["error"][0]
	if e.str("ename") != "CompileError" || !strings.HasPrefix(e.str("evalue"), "In[3]:2:7: ") ||
		!strings.Contains(e.str("evalue"), "undefinedName") {
		t.Errorf("error %s: %s", e.str("ename"), e.str("evalue"))
	}
	var tb []string
	json.Unmarshal(e["traceback"], &tb)
	text := strings.Join(tb, "\n")
	if !strings.Contains(text, "   2 |     z := undefinedName + y") || !strings.Contains(text, "\n"+strings.Repeat(" ", 7+9)+"\x1b[0;31m^") {
		t.Errorf("traceback does not quote the line with a caret under column 7:\n%s", text)
	}

	reply, _ = run(t, c, "x")
	if reply.str("status") != "ok" {
		t.Errorf("session unusable after an error: %v", reply)
	}

	// Notebooks import in one cell and use the package in later ones.
	run(t, c, "import \"strings\"")
	for _, code := range []string{"strings.ToUpper(\"nat\")", "s := \"nat\"\nu := strings.ToUpper(s)\nu"} {
		reply, io = run(t, c, code)
		if reply.str("status") != "ok" || len(io["execute_result"]) != 1 {
			t.Errorf("%q, using a package imported in an earlier cell: %s %s", code, reply.str("status"), reply.str("evalue"))
		}
	}
}

func TestDSLCellInterrupt(t *testing.T) {
	c := startKernel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cellCtx, interrupt := context.WithCancel(ctx)
	var errs []content
	r, err := c.Execute(cellCtx, "fmt.Println(\"spinning\")\nfor {\n}", func(m *jupyter.Message) {
		if m.Type() == "stream" {
			interrupt()
		}
		if m.Type() == "error" {
			var ct content
			json.Unmarshal(m.Content, &ct)
			errs = append(errs, ct)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var reply content
	json.Unmarshal(r.Content, &reply)
	if reply.str("status") != "error" || reply.str("ename") != "Interrupted" {
		t.Fatalf("interrupted cell reply: %s", r.Content)
	}
	if reply, _ := run(t, c, "1 + 1"); reply.str("status") != "ok" {
		t.Errorf("after interrupt: %v", reply)
	}
}

func TestDSLCompleteAndInspect(t *testing.T) {
	c := startKernel(t)
	run(t, c, "learningRate := 0.5")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.Request(ctx, c.Shell, "complete_request", map[string]any{"code": "learn", "cursor_pos": 5})
	if err != nil {
		t.Fatal(err)
	}
	var comp struct {
		Matches []string `json:"matches"`
		Start   int      `json:"cursor_start"`
	}
	json.Unmarshal(r.Content, &comp)
	if len(comp.Matches) != 1 || comp.Matches[0] != "learningRate" || comp.Start != 0 {
		t.Errorf("complete: %s", r.Content)
	}
	r, err = c.Request(ctx, c.Shell, "complete_request", map[string]any{"code": "obj := Minim", "cursor_pos": 12})
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(r.Content, &comp)
	if !slices.Contains(comp.Matches, "Minimize") || comp.Start != 7 {
		t.Errorf("complete a vocabulary name: %s", r.Content)
	}
	r, err = c.Request(ctx, c.Shell, "inspect_request", map[string]any{"code": "learningRate", "cursor_pos": 3})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.Content), "float64") || !strings.Contains(string(r.Content), `"found":true`) {
		t.Errorf("inspect: %s", r.Content)
	}
}

// BenchmarkDSLCellRoundTrip measures the warm round trip of a trivial DSL cell over the real
// protocol (execute_request sent until execute_reply and idle received), kernel in-process.
// `nat bench kernel` measures the same against a kernel process, beside GoNB.
func BenchmarkDSLCellRoundTrip(b *testing.B) {
	engine, err := dslengine.New(session.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ci, err := jupyter.NewConnectionInfo()
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k, err := kernel.New(ctx, ci, kernel.Options{Engine: engine})
	if err != nil {
		b.Fatal(err)
	}
	go k.Run(ctx)
	c, err := jupyter.Dial(ctx, ci)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WaitReady(ctx); err != nil {
		b.Fatal(err)
	}
	for range 3 { // warm up
		if _, err := c.Execute(ctx, "fmt.Println(1 + 1)", nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		r, err := c.Execute(ctx, "fmt.Println(1 + 1)", nil)
		if err != nil {
			b.Fatal(err)
		}
		if !strings.Contains(string(r.Content), `"status":"ok"`) {
			b.Fatalf("reply %s", r.Content)
		}
	}
}

func TestDocs(t *testing.T) {
	d, err := dslengine.LoadDocs("testdata/vocab")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][2]string{
		"NewSpace": {"func NewSpace() *Space", "NewSpace returns an empty space."},
		"Top1":     {"func Top1() Objective", "Top1 is top-1 accuracy."},
		"Space":    {"", "Space is a search space."},
		"MaxDepth": {"", "MaxDepth is the deepest a stage may be."},
	} {
		decl, text, ok := d.Lookup(name)
		if !ok || decl != want[0] || text != want[1] {
			t.Errorf("Lookup(%q) = %q, %q, %v; want %q, %q", name, decl, text, ok, want[0], want[1])
		}
	}
	// A method name shared by two types shows both.
	_, text, ok := d.Lookup("Size")
	if !ok || !strings.Contains(text, "Space.Size: Size counts the subnets") || !strings.Contains(text, "Objective.Size: Size of an objective list.") {
		t.Errorf("Lookup(Size) = %q, %v", text, ok)
	}
	if _, _, ok := d.Lookup("Missing"); ok {
		t.Error("Lookup(Missing) found something")
	}
}

// TestInspectShowsVocabularyDocs reads the real vocabulary's documentation, as the kernel does.
func TestInspectShowsVocabularyDocs(t *testing.T) {
	e, err := dslengine.New(session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := dslengine.LoadDocs("../../dsl")
	if err != nil {
		t.Fatal(err)
	}
	e.SetDocs(docs)
	_, want, ok := docs.Lookup("MNISTSpace")
	if !ok || want == "" {
		t.Fatalf("the vocabulary does not document MNISTSpace (%q, %v)", want, ok)
	}
	b, found := e.Inspect("space := MNISTSpace()", 12, 0)
	if !found || !strings.Contains(string(b["text/plain"]), want) || !strings.Contains(string(b["text/markdown"]), "func MNISTSpace()") {
		t.Errorf("Inspect(MNISTSpace) = %q / %q", b["text/plain"], b["text/markdown"])
	}
	// A user's value is described by the session, with its value, and not confused with docs.
	if _, err := e.Execute(context.Background(), "budget := 15e6", kernel.Output{Stdout: io.Discard, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	b, found = e.Inspect("budget", 2, 0)
	if !found || !strings.Contains(string(b["text/plain"]), "budget float64 = 1.5e+07") {
		t.Errorf("Inspect(budget) = %q", b["text/plain"])
	}
}

// TestTracebackQuotesTheCellOfEachPosition: a panic inside a function declared in an earlier
// cell quotes that cell's line, then the calling line of the current cell.
func TestTracebackQuotesTheCellOfEachPosition(t *testing.T) {
	e, err := dslengine.New(session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := kernel.Output{Stdout: io.Discard, Stderr: io.Discard, ExecutionCount: 1}
	if _, err := e.Execute(context.Background(), "func at(xs []int, i int) int {\n\treturn xs[i]\n}", out); err != nil {
		t.Fatal(err)
	}
	out.ExecutionCount = 2
	_, err = e.Execute(context.Background(), "xs := []int{1, 2}\nfmt.Println(at(xs, 5))", out)
	ce, ok := err.(*kernel.CellError)
	if !ok || ce.Name != "RuntimeError" || !strings.HasPrefix(ce.Value, "In[1]:2:") {
		t.Fatalf("error %#v", err)
	}
	tb := strings.Join(ce.Traceback, "\n")
	for _, want := range []string{"   2 |     return xs[i]", "called from In[2]:2:", "   2 | fmt.Println(at(xs, 5))"} {
		if !strings.Contains(tb, want) {
			t.Errorf("traceback lacks %q:\n%s", want, tb)
		}
	}
}
