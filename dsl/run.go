package dsl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/natgo/nat/dsl/display"
	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/transfer"
	"github.com/natgo/nat/nat/transfer/bind"
)

// Env is where the entry points run: the context that cancels them and where their live
// displays (progress, the front as it grows) go. Compiled programs use DefaultEnv; an
// interpreter session binds Transfer, Search, Evaluate, Context and Show to the running cell's.
type Env struct {
	Context context.Context
	// Publish shows a display; one published again with the same id and update set replaces it.
	Publish func(b display.Bundle, id string, update bool)
}

// DefaultEnv is the environment of a compiled program: no cancellation, and displays printed
// as text on stdout (updates of a display overwrite the line).
func DefaultEnv() Env {
	return Env{Context: context.Background(), Publish: func(b display.Bundle, id string, update bool) {
		text := strings.TrimRight(string(b[display.TextPlain]), "\n")
		if id != "" && !strings.Contains(text, "\n") {
			fmt.Fprintf(os.Stdout, "\r%s", text)
			return
		}
		fmt.Fprintln(os.Stdout, text)
	}}
}

func (env Env) ctx() context.Context {
	if env.Context == nil {
		return context.Background()
	}
	return env.Context
}

func (env Env) publish(b display.Bundle, id string, update bool) {
	if env.Publish != nil {
		env.Publish(b, id, update)
	}
}

// Transfer runs NAT on the experiment: adapt the supernet to the target data while searching
// the Pareto front of the objectives (see Env.Transfer).
func Transfer(e Experiment) (*Result, error) { return DefaultEnv().Transfer(e) }

// Search runs the surrogate-assisted search with the supernet frozen (see Env.Search).
func Search(e Experiment) (*Result, error) { return DefaultEnv().Search(e) }

// Evaluate measures subnets on the experiment's objectives and constraints (see Env.Evaluate).
func Evaluate(e Experiment, archs ...Arch) (*Result, error) {
	return DefaultEnv().Evaluate(e, archs...)
}

// TransferWith runs NAT with a given supernet implementation (see Env.TransferWith).
func TransferWith(e Experiment, net transfer.Supernet) (*Result, error) {
	return DefaultEnv().TransferWith(e, net)
}

// Transfer runs NAT: it opens the pre-trained supernet checkpoint e.Supernet on the target data
// e.Data (nat/transfer/bind) and runs the transfer loop with it (see TransferWith).
func (env Env) Transfer(e Experiment) (*Result, error) {
	return env.bound(e, false)
}

// Search is Transfer with adaptation off: the surrogate-assisted search over the frozen supernet.
func (env Env) Search(e Experiment) (*Result, error) {
	return env.bound(e, true)
}

func (env Env) bound(e Experiment, frozen bool) (*Result, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	te, err := e.engine()
	if err != nil {
		return nil, err
	}
	net, err := e.open(te)
	if err != nil {
		return nil, err
	}
	defer net.Close()
	return env.run(e, net, frozen)
}

// open binds the supernet checkpoint and the target data.
func (e Experiment) open(te transfer.Experiment) (*bind.Supernet, error) {
	if e.Supernet == "" {
		return nil, fmt.Errorf("experiment %s: no Supernet: set it to a pre-trained checkpoint (nat pretrain writes one; results/supernets/mnist/supernet.bin is shipped)", e.Name)
	}
	if e.Data.Name == "" {
		return nil, fmt.Errorf("experiment %s: no Data: set it to the target task, e.g. Dataset(\"fashion-mnist\")", e.Name)
	}
	if e.Data.Folder {
		return nil, notBuilt("image folders as transfer targets (nat/transfer/bind loads built-in datasets only)")
	}
	net, err := bind.Open(te, bind.Options{MaxTrain: e.Data.MaxTrain})
	if err != nil {
		return nil, fmt.Errorf("experiment %s: %w", e.Name, err)
	}
	return net, nil
}

// TransferWith runs NAT's transfer loop (nat/transfer) on the experiment with net as the
// supernet, publishing its progress, and returns the final archive. A rerun into the same Dir
// resumes after the last finished iteration.
func (env Env) TransferWith(e Experiment, net transfer.Supernet) (*Result, error) {
	return env.run(e, net, false)
}

// SearchWith is TransferWith with adaptation off.
func (env Env) SearchWith(e Experiment, net transfer.Supernet) (*Result, error) {
	return env.run(e, net, true)
}

// SearchWith runs the search with a given supernet and adaptation off.
func SearchWith(e Experiment, net transfer.Supernet) (*Result, error) {
	return DefaultEnv().SearchWith(e, net)
}

func (env Env) run(e Experiment, net transfer.Supernet, frozen bool) (*Result, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	if net == nil {
		return nil, errors.New("transfer: nil supernet")
	}
	te, err := e.engine()
	if err != nil {
		return nil, err
	}
	if frozen {
		te.AdaptSteps, te.WarmupSteps = -1, 0
	}
	id := "nat-transfer-" + te.Name
	first, firstPlot := true, true
	opt := transfer.Options{Progress: func(p transfer.Progress) {
		env.publish(progressBundle(p), id, !first)
		first = false
		// A live Pareto plot: redrawn in place when each iteration ends.
		if b, ok := frontBundle(p); ok {
			env.publish(b, id+"-front", !firstPlot)
			firstPlot = false
		}
	}}
	tr, err := transfer.Run(env.ctx(), te, net, opt)
	if tr == nil {
		return nil, err
	}
	res, cerr := e.fromArchive(tr)
	if err != nil {
		return res, err
	}
	return res, cerr
}

// frontBundle draws the archive's front carried by an iteration's final progress report as a
// live plot (SVG, with the text table for terminals); ok is false for other reports.
func frontBundle(p transfer.Progress) (display.Bundle, bool) {
	if p.Phase != transfer.PhaseDone || len(p.Front) == 0 {
		return nil, false
	}
	svg, err := archive.RenderFront(p.Front, "svg", archive.PlotOptions{
		Title: fmt.Sprintf("Pareto front after iteration %d of %d", p.Iteration, p.Iterations)})
	if err != nil {
		return nil, false // a plot is a convenience: the progress line still reports the run
	}
	text := fmt.Sprintf("front after iteration %d: %d subnets", p.Iteration, len(p.Front))
	return display.Bundle{display.TextPlain: []byte(text), display.SVG: svg}, true
}

// progressBundle shows one progress report: a line of text and an HTML progress bar.
func progressBundle(p transfer.Progress) display.Bundle {
	if p.Phase == transfer.PhaseDone && p.Total == 0 {
		p.Done, p.Total = 1, 1 // an iteration's end: show the bar full, not 0/0
	}
	text := fmt.Sprintf("iteration %d/%d  %-10s %d/%d  elapsed %s", p.Iteration, p.Iterations, p.Phase, p.Done, p.Total, p.Elapsed.Round(time.Second))
	if p.ETA > 0 {
		text += "  eta " + p.ETA.Round(time.Second).String()
	}
	html := fmt.Sprintf(`<div>iteration %d/%d, %s <progress value="%d" max="%d"></progress> %d/%d, elapsed %s</div>`,
		p.Iteration, p.Iterations, p.Phase, p.Done, max(p.Total, 1), p.Done, p.Total, p.Elapsed.Round(time.Second))
	return display.Bundle{display.TextPlain: []byte(text), display.HTML: []byte(html)}
}

// engine translates the experiment into the transfer loop's.
func (e Experiment) engine() (transfer.Experiment, error) {
	te := e.engineFields()
	if te.OutDir == "" {
		return te, fmt.Errorf("experiment %s: no Dir: a run needs a directory for its archive", e.Name)
	}
	if err := te.Validate(); err != nil {
		return te, fmt.Errorf("experiment %s: %w", e.Name, err)
	}
	return te, nil
}

// engineFields fills the loop's experiment (with its defaults) without validating it.
func (e Experiment) engineFields() transfer.Experiment {
	s := e.Search.Defaults()
	te := transfer.Experiment{
		Name:              e.Name,
		Space:             e.Space.Engine(),
		SourceSupernet:    e.Supernet,
		Target:            e.Data.Name,
		ValidationSize:    e.Data.Validation,
		CalibrationSize:   e.Data.Calibration,
		Predictor:         e.Predictor.Model,
		Search:            transfer.SearchSettings{Population: s.Population, Generations: s.Generations},
		InitialSize:       s.Initial,
		Candidates:        s.Candidates,
		Iterations:        s.Iterations,
		AdaptSteps:        s.AdaptSteps,
		WarmupSteps:       s.WarmupSteps,
		LearningRate:      s.LearningRate,
		BestFraction:      s.BestFraction,
		SamplingTolerance: s.SamplingTolerance,
		Reevaluate:        s.Reevaluate,
		Seed:              s.Seed,
		OutDir:            e.Dir,
	}
	sp := te.Space
	for _, o := range e.Objectives {
		te.Objectives = append(te.Objectives, o.engine(sp))
	}
	for _, c := range e.Constraints {
		tc := transfer.Constraint{Objective: c.Metric.engineName(), Op: ">=", Value: c.Bound}
		if c.AtMost {
			tc.Op = "<="
		}
		if c.Metric.kind == kindMAdds || c.Metric.kind == kindParams {
			tc.Value = c.Bound / 1e6 // the loop counts in millions
		}
		te.Constraints = append(te.Constraints, tc)
	}
	return te.WithDefaults()
}

// engineName is the metric's name in the transfer loop's archive.
func (m Metric) engineName() string {
	switch m.kind {
	case kindTop1:
		return "top1"
	case kindMAdds:
		return "madds"
	case kindParams:
		return "params"
	}
	return m.Name
}

// engine is the objective as the transfer loop takes it.
func (o Objective) engine(sp *space.Space) transfer.Objective {
	m := o.Metric
	switch m.kind {
	case kindTop1:
		return transfer.Top1()
	case kindMAdds:
		return transfer.MAdds()
	case kindParams:
		return transfer.Params()
	case kindLatency:
		lo := transfer.Latency(m.target.Name, func(archs []space.Arch) ([]float64, error) {
			out := make([]float64, len(archs))
			for i, a := range archs {
				v, err := m.measure(sp, a)
				if err != nil {
					return nil, err
				}
				out[i] = v
			}
			return out, nil
		})
		lo.Name = m.Name
		return lo
	}
	return transfer.Func(m.Name, o.Sense == Maximizing, m.custom)
}

// fromArchive converts the loop's final archive into a Result (raw units, like Evaluate).
func (e Experiment) fromArchive(tr *transfer.Result) (*Result, error) {
	r := &Result{Objectives: e.Objectives, Constraints: e.Constraints, space: e.Space, Dir: tr.Dir, Iterations: tr.Iterations}
	for _, row := range tr.Archive {
		a, err := space.ParseArchJSON([]byte(row.Arch))
		if err != nil {
			return r, fmt.Errorf("archive row %s: %w", row.Genome, err)
		}
		p := Point{Arch: a, Values: map[string]float64{
			"top1": row.Top1, "madds": float64(row.MAdds), "params": float64(row.Params),
		}}
		for _, o := range row.Objectives {
			if _, ok := p.Values[o.Name]; !ok {
				p.Values[o.Name] = o.Value
			}
		}
		for _, c := range e.Constraints {
			p.Violation += c.Violation(p.Values[c.Metric.Name])
		}
		r.Points = append(r.Points, p)
	}
	return r, nil
}

// Plot is the Pareto plot of the result (first objective against the second; every point in
// grey, the front highlighted) as SVG and PNG: for a run, the plot the transfer loop wrote into
// its directory; for Evaluate, drawn now with the same code (nat/archive).
func (r *Result) Plot() display.Bundle {
	b := display.Bundle{display.TextPlain: []byte(fmt.Sprintf("Pareto front of %d subnets (%d on the front)", len(r.Points), len(r.Front())))}
	dir, base := r.Dir, "pareto"
	if dir == "" {
		if len(r.Objectives) < 2 || len(r.Points) == 0 {
			return b
		}
		tmp, err := os.MkdirTemp("", "nat-plot-")
		if err != nil {
			return b
		}
		defer os.RemoveAll(tmp)
		if err := archive.PlotFront(r.rows(), tmp, base, archive.PlotOptions{}); err != nil {
			b[display.TextPlain] = append(b[display.TextPlain], []byte(" (no plot: "+err.Error()+")")...)
			return b
		}
		dir = tmp
	}
	if svg, err := os.ReadFile(filepath.Join(dir, base+".svg")); err == nil {
		b[display.SVG] = svg
	}
	if png, err := os.ReadFile(filepath.Join(dir, base+".png")); err == nil {
		b[display.PNG] = png
	}
	return b
}

// rows gives the points as archive rows (objectives in natural units, the front marked) for
// plotting.
func (r *Result) rows() []archive.Row {
	front := map[int]bool{}
	for _, f := range r.Front() {
		for i := range r.Points {
			if r.Points[i].Arch.Equal(f.Arch) {
				front[i] = true
			}
		}
	}
	rows := make([]archive.Row, len(r.Points))
	for i, p := range r.Points {
		row := archive.Row{Arch: string(p.Arch.JSON()), Summary: p.Arch.String(), Front: front[i]}
		for _, o := range r.Objectives {
			scale := o.Metric.Scale
			if scale == 0 {
				scale = 1
			}
			row.Objectives = append(row.Objectives, archive.Objective{Name: o.Metric.Name, Value: p.Values[o.Metric.Name] / scale})
		}
		rows[i] = row
	}
	return rows
}

// Archive reads every finished iteration of the run's archive from disk.
func (r *Result) Archive() ([]*archive.Iteration, error) {
	if r.Dir == "" {
		return nil, errors.New("Archive: this result has no run directory (Evaluate keeps its points in memory)")
	}
	return archive.ReadAll(r.Dir)
}

// Evaluate measures subnets on every objective of the experiment and checks its constraints.
// Cost metrics (MAdds, Params, Latency on a table, Custom) are computed now; top-1 needs the
// supernet and reports that it is not built yet.
func (env Env) Evaluate(e Experiment, archs ...Arch) (*Result, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	if len(archs) == 0 {
		return nil, errors.New("Evaluate: no subnets given")
	}
	r := &Result{Objectives: e.Objectives, Constraints: e.Constraints, space: e.Space}
	ctx := env.ctx()
	top1, err := env.top1(e, archs)
	if err != nil {
		return nil, err
	}
	for i, a := range archs {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		p := Point{Arch: a, Values: map[string]float64{}}
		if top1 != nil {
			p.Values["top1"] = top1[i]
		}
		for _, o := range e.Objectives {
			if o.Metric.kind == kindTop1 {
				continue
			}
			v, err := o.Metric.Measure(e.Space, a)
			if err != nil {
				return r, err
			}
			p.Values[o.Metric.Name] = v
		}
		for _, c := range e.Constraints {
			v, ok := p.Values[c.Metric.Name]
			if !ok && c.Metric.kind != kindTop1 {
				var err error
				if v, err = c.Metric.Measure(e.Space, a); err != nil {
					return r, err
				}
				p.Values[c.Metric.Name] = v
			}
			p.Violation += c.Violation(v)
		}
		r.Points = append(r.Points, p)
	}
	return r, nil
}

// top1 measures top-1 of archs on the supernet when the experiment needs it, or returns nil.
func (env Env) top1(e Experiment, archs []Arch) ([]float64, error) {
	needs := false
	for _, o := range e.Objectives {
		needs = needs || o.Metric.kind == kindTop1
	}
	for _, c := range e.Constraints {
		needs = needs || c.Metric.kind == kindTop1
	}
	if !needs {
		return nil, nil
	}
	te := e.engineFields()
	net, err := e.open(te)
	if err != nil {
		return nil, fmt.Errorf("Evaluate: top-1 needs the supernet: %w", err)
	}
	defer net.Close()
	return net.Evaluate(env.ctx(), archs)
}
