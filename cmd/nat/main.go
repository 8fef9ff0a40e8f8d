// Command nat is the command-line program of Neural Architecture Transfer for Go.
//
// It is one binary with verbs (nat arch, nat bench moea, nat transfer, ...). Every verb
// answers --help, and verbs whose output is data accept --json.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
)

// env is what a verb may touch: its output streams. Verbs never write to os.Stdout
// directly so that tests can run them in-process.
type env struct {
	Stdout io.Writer
	Stderr io.Writer
}

// verb is one command of the program, possibly with sub-verbs.
type verb struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
	subs    []verb
}

// verbs lists the program's commands. Each verb lives in its own file.
func verbs() []verb {
	return []verb{
		{name: "arch", summary: "decode and cost an architecture (encoding or net.config)", run: runArch},
		{name: "bench", summary: "benchmarks that write tables", subs: []verb{
			{name: "moea", summary: "NSGA-III on a test problem: IGD, hypervolume, ms per generation", run: runBenchMOEA},
			{name: "predictor", summary: "accuracy predictors on NAT-shaped synthetic data: Kendall tau per model", run: runBenchPredictor},
			{name: "supernet", summary: "supernet training and inference throughput (and PyTorch where installed)", run: runBenchSupernet},
			{name: "dsl", summary: "DSL session start and warm cell evaluation time", run: runBenchDSL},
			{name: "kernel", summary: "notebook kernel warm round trip of a trivial cell", run: runBenchKernel},
		}},
		{name: "pretrain", summary: "pre-train a supernet on a source dataset (progressive shrinking)", run: runPretrain},
		{name: "evaluate", summary: "evaluate an exported subnet on a dataset", run: runEvaluate},
		{name: "hardware", summary: "latency lookup tables and hardware targets", subs: []verb{
			{name: "lut", summary: "latency lookup tables", subs: []verb{
				{name: "build", summary: "measure every layer configuration of a space on this machine", run: runHardwareLUTBuild},
			}},
			{name: "predict", summary: "predict the latency of an encoding on a target", run: runHardwarePredict},
			{name: "validate", summary: "lookup-table vs measured latency on random subnets", run: runHardwareValidate},
		}},
		{name: "run", summary: "run a DSL script (Go evaluated by yaegi)", run: runScript},
		{name: "repl", summary: "an interactive DSL prompt", run: runREPL},
		{name: "kernel", summary: "the Jupyter kernel", subs: []verb{
			{name: "install", summary: "write the \"NAT (Go)\" kernelspec", run: runKernelInstall},
			{name: "start", summary: "start the kernel on a connection file (used by Jupyter)", run: runKernelStart},
		}},
		{name: "transfer", summary: "run NAT: adapt a supernet to a target task while searching its Pareto front", run: runTransfer},
		{name: "archive", summary: "inspect a run's Parquet archive", subs: []verb{
			{name: "show", summary: "print an archive (or its front) as a table or JSON", run: runArchiveShow},
		}},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	e := &env{Stdout: os.Stdout, Stderr: os.Stderr}
	if err := dispatch(ctx, e, verbs(), []string{"nat"}, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		// A script that called os.Exit(n) (nat run) makes the command exit with n.
		var exit interface{ ExitCode() int }
		if errors.As(err, &exit) && exit.ExitCode() > 0 {
			os.Exit(exit.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "nat:", err)
		os.Exit(1)
	}
}

// dispatch finds the verb named by args[0] among vs and runs it with the remaining arguments.
func dispatch(ctx context.Context, e *env, vs []verb, path, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.Stdout, path, vs)
		if len(args) == 0 {
			return fmt.Errorf("%s: missing verb", strings.Join(path, " "))
		}
		return flag.ErrHelp
	}
	for _, v := range vs {
		if v.name != args[0] {
			continue
		}
		p := append(append([]string{}, path...), v.name)
		if len(v.subs) > 0 {
			return dispatch(ctx, e, v.subs, p, args[1:])
		}
		return v.run(ctx, e, args[1:])
	}
	usage(e.Stderr, path, vs)
	return fmt.Errorf("%s: unknown verb %q", strings.Join(path, " "), args[0])
}

func usage(w io.Writer, path []string, vs []verb) {
	fmt.Fprintf(w, "usage: %s <verb> [flags]\n\nverbs:\n", strings.Join(path, " "))
	sorted := append([]verb{}, vs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, v := range sorted {
		fmt.Fprintf(w, "  %-10s %s\n", v.name, v.summary)
	}
	fmt.Fprintf(w, "\nRun '%s <verb> --help' for a verb's flags.\n", strings.Join(path, " "))
}

// newFlags returns a flag set for a verb whose --help prints the verb's usage to e.Stdout.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.Usage = func() {
		fs.SetOutput(e.Stdout)
		fmt.Fprintf(e.Stdout, "usage: %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
		fs.SetOutput(e.Stderr)
	}
	return fs
}
