package gonb

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/natgo/nat/dsl/display"
	"github.com/natgo/nat/kernel"
)

// recorder collects a cell's output.
type recorder struct {
	mu             sync.Mutex
	stdout, stderr bytes.Buffer
	displays       []display.Bundle
}

func (r *recorder) output() kernel.Output {
	return kernel.Output{
		Stdout: &lockedWriter{&r.mu, &r.stdout},
		Stderr: &lockedWriter{&r.mu, &r.stderr},
		Display: display.PublisherFunc(func(b display.Bundle, id string, update bool) {
			r.mu.Lock()
			r.displays = append(r.displays, b)
			r.mu.Unlock()
		}),
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// moduleDir is the repository root (GoNB is a tool of its go.mod).
func moduleDir(t *testing.T) string {
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRelayRunsCompiledCells drives a real GoNB kernel: a printing cell, a cell that displays
// HTML, a compile error, and an interrupted cell. It needs goimports (installed by .ci/run) and
// builds GoNB on first use.
func TestRelayRunsCompiledCells(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and compiles with GoNB (tens of seconds); run without -short")
	}
	if _, err := exec.LookPath("goimports"); err != nil && goBinDir(context.Background(), "goimports") == "" {
		t.Fatalf("GoNB needs goimports: go install golang.org/x/tools/cmd/goimports@%s (.ci/run installs it)", GoimportsVersion)
	}
	var log bytes.Buffer
	r := New(Options{ModuleDir: moduleDir(t), Dir: t.TempDir(), Log: &log})
	defer func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("GoNB log:\n%s", log.String())
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	var rec recorder
	_, err := r.Execute(ctx, "%%\nfmt.Println(\"hello from GoNB\", 6*7)", rec.output())
	if err != nil {
		t.Fatalf("print cell: %v\nstderr: %s", err, rec.stderr.String())
	}
	if got := rec.stdout.String(); got != "hello from GoNB 42\n" {
		t.Errorf("stdout %q", got)
	}

	rec = recorder{}
	_, err = r.Execute(ctx, "!*go get github.com/janpfeifer/gonb@v0.11.4\nimport \"github.com/janpfeifer/gonb/gonbui\"\n%%\ngonbui.DisplayHTML(\"<b>compiled</b>\")\ngonbui.Sync()", rec.output())
	if err != nil {
		t.Fatalf("display cell: %v\nstderr: %s", err, rec.stderr.String())
	}
	found := false
	for _, d := range rec.displays {
		if strings.Contains(string(d[display.HTML]), "<b>compiled</b>") {
			found = true
		}
	}
	if !found {
		t.Errorf("displays %v lack the HTML", rec.displays)
	}

	rec = recorder{}
	_, err = r.Execute(ctx, "%%\nundefinedName()", rec.output())
	ce, ok := err.(*kernel.CellError)
	if !ok || !strings.Contains(ce.Value+strings.Join(ce.Traceback, "\n"), "undefined") {
		t.Errorf("compile error: %#v", err)
	}

	// Interrupt once the program runs (it printed), not during its compilation.
	cellCtx, interrupt := context.WithCancel(ctx)
	rec = recorder{}
	out := rec.output()
	out.Stdout = interruptOn{out.Stdout, "sleeping", interrupt}
	began := time.Now()
	_, err = r.Execute(cellCtx, "%%\nfmt.Println(\"sleeping\")\ntime.Sleep(time.Hour)", out)
	if err == nil {
		t.Errorf("interrupted cell returned no error")
	}
	if d := time.Since(began); d > time.Minute {
		t.Errorf("interrupt took %v", d)
	}
}

// interruptOn calls interrupt when text is written through it.
type interruptOn struct {
	w         io.Writer
	text      string
	interrupt func()
}

func (o interruptOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), o.text) {
		o.interrupt()
	}
	return o.w.Write(p)
}
