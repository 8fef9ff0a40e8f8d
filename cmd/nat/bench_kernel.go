package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/natgo/nat/kernel/gonb"
	"github.com/natgo/nat/kernel/jupyter"
)

// kernelBenchRow is one measured kind of cell in `nat bench kernel`.
type kernelBenchRow struct {
	Kernel   string  `json:"kernel"`
	Cell     string  `json:"cell"`
	N        int     `json:"n"`
	MedianMs float64 `json:"median_ms"`
	P90Ms    float64 `json:"p90_ms"`
	MinMs    float64 `json:"min_ms"`
	MaxMs    float64 `json:"max_ms"`
	MeanMs   float64 `json:"mean_ms"`
}

// kernelBenchResult is what `nat bench kernel --json` prints.
type kernelBenchResult struct {
	Rows           []kernelBenchRow `json:"rows"`
	TargetMs       float64          `json:"target_ms"`
	DSLMeetsTarget bool             `json:"dsl_meets_target"`
	// GoNBOverDSL is GoNB's median round trip over the DSL's, measured in the same run.
	GoNBOverDSL float64 `json:"gonb_over_dsl,omitempty"`
}

// dslTargetMs is the acceptance bound for a warm trivial DSL cell.
const dslTargetMs = 20

// runBenchKernel is `nat bench kernel`: the warm round trip of a trivial cell, from sending the
// execute_request to receiving both the execute_reply and the final idle status, measured by a
// frontend over ZeroMQ against kernel processes: the NAT kernel (DSL cell), GoNB itself (the
// same cell as compiled Go), and the NAT kernel relaying that cell to GoNB (%%gonb).
func runBenchKernel(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench kernel", "nat bench kernel [--cells 50] [--gonb-cells 10] [--warmup 3] [--no-gonb] [--json]")
	cells := fs.Int("cells", 50, "measured DSL cells")
	gonbCells := fs.Int("gonb-cells", 10, "measured GoNB cells (each compiles a program: about a second)")
	warmup := fs.Int("warmup", 3, "unmeasured cells run first on each kernel")
	noGoNB := fs.Bool("no-gonb", false, "measure only the DSL kernel")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench kernel: unexpected argument %q", fs.Arg(0))
	}
	if *cells < 1 || *gonbCells < 1 || *warmup < 0 {
		return fmt.Errorf("bench kernel: --cells and --gonb-cells must be at least 1 and --warmup at least 0")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench kernel: %w", err)
	}
	progress := e.Stderr
	if *asJSON {
		progress = io.Discard
	}

	const dslCell = "fmt.Println(1 + 1)"
	const goCell = "%%\nfmt.Println(1 + 1)"
	res := kernelBenchResult{TargetMs: dslTargetMs}

	fmt.Fprintln(progress, "starting the NAT kernel...")
	nat, err := jupyter.Launch(ctx, jupyter.LaunchOptions{
		Argv:   []string{exe, "kernel", "start", "--connection-file", "{connection_file}"},
		Output: e.Stderr, StartTimeout: time.Minute,
	})
	if err != nil {
		return fmt.Errorf("bench kernel: %w", err)
	}
	defer nat.Shutdown(5 * time.Second)
	row, err := measureCells(ctx, nat.Client, "NAT (DSL session)", dslCell, *warmup, *cells)
	if err != nil {
		return fmt.Errorf("bench kernel: %w", err)
	}
	res.Rows = append(res.Rows, row)
	res.DSLMeetsTarget = row.MedianMs <= dslTargetMs

	if !*noGoNB {
		wd, _ := os.Getwd()
		argv, env, err := gonb.Command(ctx, gonb.Options{ModuleDir: findModule(wd, natModule)}, progress)
		if err != nil {
			return fmt.Errorf("bench kernel: %w", err)
		}
		fmt.Fprintln(progress, "starting GoNB...")
		g, err := jupyter.Launch(ctx, jupyter.LaunchOptions{Argv: argv, Env: env, StartTimeout: 5 * time.Minute})
		if err != nil {
			return fmt.Errorf("bench kernel: %w", err)
		}
		defer g.Shutdown(5 * time.Second)
		grow, err := measureCells(ctx, g.Client, "GoNB", goCell, *warmup, *gonbCells)
		if err != nil {
			return fmt.Errorf("bench kernel: %w", err)
		}
		res.Rows = append(res.Rows, grow)
		res.GoNBOverDSL = grow.MedianMs / row.MedianMs
		rrow, err := measureCells(ctx, nat.Client, "NAT relaying to GoNB", "%%gonb\n"+goCell, *warmup, *gonbCells)
		if err != nil {
			return fmt.Errorf("bench kernel: %w", err)
		}
		res.Rows = append(res.Rows, rrow)
	}

	if *asJSON {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kernel\tcell\tn\tmedian ms\tp90 ms\tmin ms\tmax ms\tmean ms\t")
	for _, r := range res.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", r.Kernel, r.Cell, r.N, r.MedianMs, r.P90Ms, r.MinMs, r.MaxMs, r.MeanMs)
	}
	tw.Flush()
	verdict := "meets"
	if !res.DSLMeetsTarget {
		verdict = "MISSES"
	}
	fmt.Fprintf(e.Stdout, "warm DSL round trip: median %.2f ms %s the %d ms target\n", res.Rows[0].MedianMs, verdict, dslTargetMs)
	if res.GoNBOverDSL > 0 {
		fmt.Fprintf(e.Stdout, "GoNB / DSL median, same run: %.0fx\n", res.GoNBOverDSL)
	}
	return nil
}

// measureCells runs warmup cells, then n measured ones, checking that each succeeded and printed
// "2" so that the timing is of real work.
func measureCells(ctx context.Context, c *jupyter.Client, kernel, code string, warmup, n int) (kernelBenchRow, error) {
	var ms []float64
	for i := 0; i < warmup+n; i++ {
		var out strings.Builder
		began := time.Now()
		reply, err := c.Execute(ctx, code, func(m *jupyter.Message) {
			if m.Type() == "stream" {
				var s struct {
					Text string `json:"text"`
				}
				_ = m.Decode(&s)
				out.WriteString(s.Text)
			}
		})
		elapsed := time.Since(began)
		if err != nil {
			return kernelBenchRow{}, fmt.Errorf("%s: %w", kernel, err)
		}
		var st struct {
			Status string `json:"status"`
			Evalue string `json:"evalue"`
		}
		_ = reply.Decode(&st)
		if st.Status != "ok" || out.String() != "2\n" {
			return kernelBenchRow{}, fmt.Errorf("%s: cell %q: status %q (%s), output %q", kernel, code, st.Status, st.Evalue, out.String())
		}
		if i >= warmup {
			ms = append(ms, float64(elapsed.Microseconds())/1000)
		}
	}
	sort.Float64s(ms)
	sum := 0.0
	for _, v := range ms {
		sum += v
	}
	return kernelBenchRow{
		Kernel: kernel, Cell: strings.ReplaceAll(code, "\n", `\n`), N: len(ms),
		MedianMs: latencyQuantile(ms, 0.5), P90Ms: latencyQuantile(ms, 0.9),
		MinMs: ms[0], MaxMs: ms[len(ms)-1], MeanMs: sum / float64(len(ms)),
	}, nil
}

// latencyQuantile returns the q-quantile of sorted xs by linear interpolation between order statistics.
func latencyQuantile(xs []float64, q float64) float64 {
	if len(xs) == 1 {
		return xs[0]
	}
	pos := q * float64(len(xs)-1)
	lo := int(pos)
	if lo >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	frac := pos - float64(lo)
	return xs[lo]*(1-frac) + xs[lo+1]*frac
}
