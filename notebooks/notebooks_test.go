// Package notebooks holds the project's example notebooks; its test executes every one of them
// headless with Jupyter's nbconvert on the NAT kernel, as CI does.
package notebooks

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// setup returns the environment under which jupyter finds the NAT kernel: nat built and its
// kernelspec installed into a private Jupyter data directory, once for the whole package.
func setup(t *testing.T) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("executes notebooks with Jupyter (about a minute); run without -short")
	}
	if _, err := exec.LookPath("jupyter"); err != nil {
		t.Fatal("jupyter is not installed; on Debian: apt-get install -y jupyter-notebook jupyter-nbconvert " +
			"python3-nbclient jupyter-client python3-ipykernel (.ci/run does this)")
	}
	shared.once.Do(func() { shared.env, shared.err = installKernel() })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.env
}

var shared struct {
	once sync.Once
	dir  string
	env  []string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

func installKernel() ([]string, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "nat-notebooks-test-")
	if err != nil {
		return nil, err
	}
	shared.dir = tmp
	nat := filepath.Join(tmp, "nat")
	build := exec.Command("go", "build", "-o", nat, "./cmd/nat")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building nat: %v\n%s", err, out)
	}
	env := append(os.Environ(), "JUPYTER_DATA_DIR="+filepath.Join(tmp, "jupyter"))
	install := exec.Command(nat, "kernel", "install", "--user", "--module-dir", root)
	install.Env = env
	if out, err := install.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nat kernel install: %v\n%s", err, out)
	}
	return env, nil
}

// nbconvert executes a notebook into outDir and returns the executed notebook and nbconvert's
// combined output.
func nbconvert(t *testing.T, env []string, path, outDir string, extra ...string) (nb notebook, log string, err error) {
	t.Helper()
	args := append([]string{"nbconvert", "--to", "notebook", "--execute",
		"--ExecutePreprocessor.timeout=600", "--ExecutePreprocessor.kernel_name=nat",
		"--output-dir", outDir}, extra...)
	cmd := exec.Command("jupyter", append(args, path)...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if data, rerr := os.ReadFile(filepath.Join(outDir, filepath.Base(path))); rerr == nil {
		if jerr := json.Unmarshal(data, &nb); jerr != nil {
			t.Fatalf("executed notebook: %v", jerr)
		}
	}
	return nb, out.String(), err
}

type notebook struct {
	Cells []struct {
		CellType string `json:"cell_type"`
		Outputs  []struct {
			OutputType string            `json:"output_type"`
			Text       any               `json:"text"`
			Data       map[string]any    `json:"data"`
			Ename      string            `json:"ename"`
			Evalue     string            `json:"evalue"`
			Metadata   map[string]any    `json:"metadata"`
			Transient  map[string]string `json:"transient"`
		} `json:"outputs"`
	} `json:"cells"`
	Metadata struct {
		Kernelspec struct {
			Name string `json:"name"`
		} `json:"kernelspec"`
	} `json:"metadata"`
}

// expectations are outputs each notebook must produce (beyond running without error), so that a
// notebook cannot pass by silently doing less.
var expectations = map[string][]string{
	"01-quickstart": {
		"transfer finished: 9 subnets measured in 1 iteration(s)", // 6 initial + 3 candidates
		"[display_data text/html] <div>iteration 1/1, done",       // the live progress, updated to its last state
		"the final front:",
		"[execute_result text/html] <div><?xml", // the front as a table with its plot
		"<table><tr><th>#</th><th>top1</th><th>madds</th>",
		"[execute_result image/svg+xml] <?xml", // the loop's Pareto plot
		">front</text>",
		"[execute_result image/png] iVBOR",
		"best top-1 under 15 M multiply-adds:",
	},
	"02-custom-objectives": {
		"<table><tr><th>#</th>", // results display as tables
		"<svg",                  // and plots
		"lowest energy under 0.5 M parameters:",
		"subnets fit 15 ms; the largest of them:",
	},
	"03-gonb-interop": {
		"[stream] compiled cell scored 27 candidates",         // printed by the %%gonb cell
		"[display_data text/html] <b>cheapest candidates</b>", // GoNB display relayed
		"of 27 candidates fit the budget",                     // DSL state kept across the GoNB cells
	},
}

// updatedInPlace are outputs that must appear in exactly one output of the notebook: a live
// display that its updates replace rather than append to.
var updatedInPlace = map[string][]string{
	"01-quickstart": {"<progress "},
}

// TestNotebooksExecute runs every notebook in this directory; any failing cell fails the test.
func TestNotebooksExecute(t *testing.T) {
	env := setup(t)
	paths, err := filepath.Glob("*.ipynb")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no notebooks found (%v)", err)
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(p, ".ipynb"), func(t *testing.T) {
			if src, err := os.ReadFile(p); err == nil && bytes.Contains(src, []byte("../../shared/")) {
				if _, err := os.Stat("../../shared"); err != nil {
					t.Skipf("%s reads the reference data in ../shared (beside the checkout), which is absent here", p)
				}
			}
			began := time.Now()
			nb, log, err := nbconvert(t, env, p, t.TempDir())
			if err != nil {
				t.Fatalf("%s failed: %v\n%s", p, err, log)
			}
			if nb.Metadata.Kernelspec.Name != "nat" {
				t.Errorf("%s: kernelspec %q, want nat", p, nb.Metadata.Kernelspec.Name)
			}
			outputs := 0
			var all strings.Builder
			name := strings.TrimSuffix(p, ".ipynb")
			once := map[string]int{}
			for _, c := range nb.Cells {
				outputs += len(c.Outputs)
				for _, o := range c.Outputs {
					if o.OutputType == "error" {
						t.Errorf("%s: error output %s: %s", p, o.Ename, o.Evalue)
					}
					var this strings.Builder
					fmt.Fprintf(&this, "[%s] %s\n", o.OutputType, joined(o.Text))
					for mime, d := range o.Data {
						fmt.Fprintf(&this, "[%s %s] %s\n", o.OutputType, mime, joined(d))
					}
					for _, want := range updatedInPlace[name] {
						if strings.Contains(this.String(), want) {
							once[want]++
						}
					}
					all.WriteString(this.String())
				}
			}
			for _, want := range updatedInPlace[name] {
				if once[want] != 1 {
					t.Errorf("%s: %d outputs contain %q, want exactly 1 (one display updated in place)", p, once[want], want)
				}
			}
			for _, want := range expectations[name] {
				if !strings.Contains(all.String(), want) {
					t.Errorf("%s: no output contains %q; outputs:\n%s", p, want, all.String())
				}
			}
			if outputs == 0 {
				t.Errorf("%s produced no output at all", p)
			}
			t.Logf("%s: %d outputs in %v", p, outputs, time.Since(began).Round(time.Millisecond))
		})
	}
}

// TestFailingCellFailsTheRunAndTheKernelSurvives: nbconvert must exit non-zero on a DSL error
// and report its position; with --allow-errors the run goes on in the same session.
func TestFailingCellFailsTheRunAndTheKernelSurvives(t *testing.T) {
	env := setup(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "failing.ipynb")
	cells := []string{"x := 20", "y := undefinedThing + x", "x + 22"}
	var nbCells []map[string]any
	for _, c := range cells {
		nbCells = append(nbCells, map[string]any{"cell_type": "code", "metadata": map[string]any{},
			"execution_count": nil, "outputs": []any{}, "source": c})
	}
	data, _ := json.Marshal(map[string]any{
		"nbformat": 4, "nbformat_minor": 5, "cells": nbCells,
		"metadata": map[string]any{"kernelspec": map[string]any{"name": "nat", "display_name": "NAT (Go)", "language": "go"}},
	})
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}

	_, log, err := nbconvert(t, env, src, filepath.Join(dir, "strict"))
	if err == nil {
		t.Fatalf("nbconvert succeeded on a failing cell:\n%s", log)
	}
	if !strings.Contains(log, "CompileError") || !strings.Contains(log, "In[2]:1:6") || !strings.Contains(log, "undefinedThing") {
		t.Errorf("nbconvert's report lacks the error name and position:\n%s", log)
	}

	nb, log, err := nbconvert(t, env, src, filepath.Join(dir, "lenient"), "--allow-errors")
	if err != nil {
		t.Fatalf("nbconvert --allow-errors: %v\n%s", err, log)
	}
	if len(nb.Cells) != 3 || len(nb.Cells[1].Outputs) != 1 || nb.Cells[1].Outputs[0].Ename != "CompileError" {
		t.Fatalf("cell 2 outputs: %+v", nb.Cells[1].Outputs)
	}
	last := nb.Cells[2].Outputs
	if len(last) != 1 || last[0].OutputType != "execute_result" || joined(last[0].Data["text/plain"]) != "42" {
		t.Errorf("the cell after the error did not run in the same session: %+v", last)
	}
}

// joined returns notebook text, which nbformat stores as a string or a list of lines.
func joined(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var b strings.Builder
		for _, l := range x {
			s, _ := l.(string)
			b.WriteString(s)
		}
		return b.String()
	}
	return ""
}

//go:embed testdata/jupyter_client_check.py
var jupyterClientCheck string

// TestJupyterClientInterruptAndRestart drives the kernel with jupyter_client's KernelManager, as
// Jupyter's frontends do: it interrupts a spinning cell (interrupt_request), checks the session
// survived, restarts the kernel (state gone) and shuts it down.
func TestJupyterClientInterruptAndRestart(t *testing.T) {
	env := setup(t)
	python := jupyterPython(t)
	script := filepath.Join(t.TempDir(), "check.py")
	if err := os.WriteFile(script, []byte(jupyterClientCheck), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "\nok\n") {
		t.Fatalf("jupyter_client check: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// jupyterPython returns the Python interpreter that runs jupyter (the one with jupyter_client).
func jupyterPython(t *testing.T) string {
	path, err := exec.LookPath("jupyter")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	if fields := strings.Fields(strings.TrimPrefix(line, "#!")); strings.HasPrefix(line, "#!") && len(fields) > 0 {
		if filepath.Base(fields[0]) == "env" && len(fields) > 1 {
			return fields[1]
		}
		return fields[0]
	}
	return "python3"
}
