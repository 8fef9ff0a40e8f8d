package dsl_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/natgo/nat/dsl/session"
)

// TestExamplesInterpretedAndCompiled runs every example under dsl/examples twice, with the
// interpreter (as nat run does) and compiled with go build -tags example, and requires the same
// output: the DSL must stay valid Go.
func TestExamplesInterpretedAndCompiled(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the examples with the go tool; skipped in -short mode")
	}
	lut := filepath.Join("..", "..", "shared", "reference", "hardware", "i7-8700K_lut.yaml")
	// The quickstart's transfer takes minutes on a small CPU: it is run up to the transfer
	// (-dry-run); TestTransferWithRunsTheLoop and TestEvaluateOnTheShippedSupernet cover the rest.
	examples := map[string][]string{"quickstart": {"-dry-run", "-supernet", filepath.Join("..", "results", "supernets", "mnist", "supernet.bin")}, "energy": nil, "budget": {lut}}
	if _, err := os.Stat(lut); err != nil {
		t.Logf("the budget example needs ../shared (the reference data beside the checkout): %v; it is skipped", err)
		delete(examples, "budget")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-tags", "example", "-o", bin+string(filepath.Separator), "./examples/...")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags example ./examples/...: %v\n%s", err, out)
	}
	for name, args := range examples {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("examples", name, "main.go")
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := session.New(session.Options{Args: append([]string{path}, args...)})
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Eval(context.Background(), string(src), session.WithName(path))
			if err != nil {
				t.Fatalf("interpreted: %v\nstderr:\n%s", err, r.Stderr)
			}
			var out bytes.Buffer
			cmd := exec.Command(filepath.Join(bin, name), args...)
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("compiled: %v\n%s", err, out.String())
			}
			if r.Stdout != out.String() {
				t.Errorf("outputs differ\ninterpreted:\n%s\ncompiled:\n%s", r.Stdout, out.String())
			}
			if len(r.Stdout) == 0 {
				t.Error("the example printed nothing")
			}
		})
	}
}
