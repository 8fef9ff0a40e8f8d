package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/natgo/nat/nat/archive"
)

// parseInterleaved parses flags that may come before or after positional arguments
// (nat archive show DIR --front) and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// archiveReport is what `nat archive show --json` prints.
type archiveReport struct {
	Dir       string                   `json:"dir"`
	Manifest  *archive.Manifest        `json:"manifest,omitempty"`
	Iteration int                      `json:"iteration"`
	Stats     []archive.IterationStats `json:"stats"`
	Rows      []archive.Row            `json:"rows"`
}

func runArchiveShow(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "archive show", "nat archive show DIR [--front] [--iteration N] [--json]")
	front := fs.Bool("front", false, "only the non-dominated subnets, cheapest first")
	iteration := fs.Int("iteration", -1, "which iteration to show (default: the last complete one)")
	asJSON := fs.Bool("json", false, "print JSON (manifest, per-iteration statistics, rows)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("archive show: want one run directory, got %d arguments", len(pos))
	}
	dir := pos[0]
	its, err := archive.ReadAll(dir)
	if err != nil {
		return err
	}
	if len(its) == 0 {
		return fmt.Errorf("archive show: %s has no complete iteration (no %s)", dir, archive.FileName(0))
	}
	m, err := archive.ReadManifest(dir)
	if err != nil && !errors.Is(err, archive.ErrNoManifest) {
		return err
	}
	sel := its[len(its)-1]
	if *iteration >= 0 {
		sel = nil
		for _, it := range its {
			if it.Index == *iteration {
				sel = it
			}
		}
		if sel == nil {
			return fmt.Errorf("archive show: %s has no iteration %d (complete: 0..%d)", dir, *iteration, its[len(its)-1].Index)
		}
	}
	rows := sel.Rows
	if *front {
		rows = nil
		for _, r := range sel.Rows {
			if r.Front {
				rows = append(rows, r)
			}
		}
		sort.SliceStable(rows, func(i, j int) bool { return cheaper(rows[i], rows[j]) })
	}
	rep := archiveReport{Dir: dir, Manifest: m, Iteration: sel.Index, Rows: rows}
	for _, it := range its {
		if it.Index <= sel.Index {
			rep.Stats = append(rep.Stats, it.Stats)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printArchive(e.Stdout, rep, *front)
	return nil
}

// cheaper orders rows by their second objective (the first cost), then by MAdds.
func cheaper(a, b archive.Row) bool {
	if len(a.Objectives) > 1 && len(b.Objectives) > 1 && a.Objectives[1].Value != b.Objectives[1].Value {
		return a.Objectives[1].Value < b.Objectives[1].Value
	}
	return a.MAdds < b.MAdds
}

func printArchive(w io.Writer, rep archiveReport, frontOnly bool) {
	if m := rep.Manifest; m != nil {
		fmt.Fprintf(w, "run %s  seed %d  objectives %s\nbackend: %s\n", m.RunID, m.Seed, strings.Join(m.Objectives, ", "), m.Backend)
		if len(m.Resumes) > 0 {
			fmt.Fprintf(w, "resumed %d time(s)\n", len(m.Resumes))
		}
	}
	fmt.Fprintf(w, "directory %s\n\n", filepath.Clean(rep.Dir))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "iteration\tarchive\tnew\tfront\thypervolume\tbest top-1\tpredictor\tKendall tau\tseconds\t")
	for _, s := range rep.Stats {
		tau := "-"
		if s.KendallTau != nil {
			tau = fmt.Sprintf("%.3f", *s.KendallTau)
		}
		pred := s.Predictor
		if pred == "" {
			pred = "-"
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%.4f\t%.2f\t%s\t%s\t%.1f\t\n", s.Iteration, s.ArchiveSize, s.Candidates, s.FrontSize,
			s.Hypervolume, s.BestTop1, pred, tau, s.Seconds["total"])
	}
	tw.Flush()
	if n := len(rep.Stats); n > 0 {
		s := rep.Stats[n-1]
		fmt.Fprintf(w, "hypervolume: objectives (%s) normalised from ideal %v to nadir %v of the initial archive; reference point 1.01 in each (%v in their units)\n",
			strings.Join(s.Objectives, ", "), fmtFloats(s.Ideal), fmtFloats(s.Nadir), fmtFloats(s.ReferencePoint))
	}
	what := "archive"
	if frontOnly {
		what = "front"
	}
	fmt.Fprintf(w, "\n%s after iteration %d: %d subnets\n", what, rep.Iteration, len(rep.Rows))
	if len(rep.Rows) == 0 {
		return
	}
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	head := []string{"genome"}
	for _, o := range rep.Rows[0].Objectives {
		head = append(head, o.Name)
	}
	head = append(head, "params(M)", "predicted", "reason", "front", "subnet")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range rep.Rows {
		cells := []string{r.Genome}
		for _, o := range r.Objectives {
			cells = append(cells, fmt.Sprintf("%.3f", o.Value))
		}
		pred := "-"
		if r.Top1Predicted != nil {
			pred = fmt.Sprintf("%.2f", *r.Top1Predicted)
		}
		star := ""
		if r.Front {
			star = "*"
		}
		cells = append(cells, fmt.Sprintf("%.3f", float64(r.Params)/1e6), pred, r.Reason, star, r.Summary)
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

func fmtFloats(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.4g", x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
