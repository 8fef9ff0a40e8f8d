package hardware

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/natgo/nat/nat/space"
)

// MeasureOptions says how to time one layer or network.
type MeasureOptions struct {
	Batch   int // images per run; default 1 (NAT's CPU latency)
	Warmup  int // untimed runs first; default 10
	Repeats int // timed runs; default 30. The median is what tables record.
}

// WithDefaults fills zero fields with the documented defaults.
func (o MeasureOptions) WithDefaults() MeasureOptions {
	if o.Batch <= 0 {
		o.Batch = 1
	}
	if o.Warmup <= 0 {
		o.Warmup = 10
	}
	if o.Repeats <= 0 {
		o.Repeats = 30
	}
	return o
}

// Timing summarises repeated runs, in milliseconds.
type Timing struct {
	Median float64
	Mean   float64
	Var    float64 // sample variance (n-1)
	Runs   int
}

// Summarize turns run times (milliseconds) into a Timing.
func Summarize(ms []float64) Timing {
	n := len(ms)
	if n == 0 {
		return Timing{}
	}
	s := append([]float64(nil), ms...)
	sort.Float64s(s)
	t := Timing{Runs: n}
	if n%2 == 1 {
		t.Median = s[n/2]
	} else {
		t.Median = (s[n/2-1] + s[n/2]) / 2
	}
	for _, v := range s {
		t.Mean += v
	}
	t.Mean /= float64(n)
	if n > 1 {
		for _, v := range s {
			t.Var += (v - t.Mean) * (v - t.Mean)
		}
		t.Var /= float64(n - 1)
	}
	return t
}

// TimeRuns calls run warmup times untimed and then repeats times timed, and summarises the timed
// runs. It stops early with ctx's error.
func TimeRuns(ctx context.Context, warmup, repeats int, run func() error) (Timing, error) {
	for i := 0; i < warmup; i++ {
		if err := ctx.Err(); err != nil {
			return Timing{}, err
		}
		if err := run(); err != nil {
			return Timing{}, err
		}
	}
	ms := make([]float64, 0, repeats)
	for i := 0; i < repeats; i++ {
		if err := ctx.Err(); err != nil {
			return Timing{}, err
		}
		start := time.Now()
		if err := run(); err != nil {
			return Timing{}, err
		}
		ms = append(ms, float64(time.Since(start).Nanoseconds())/1e6)
	}
	return Summarize(ms), nil
}

// Measurer times layers and whole networks on one device. The GoMLX implementation is
// nat/hardware/measure; anything else that can run a space.Layer (another backend, a remote GPU,
// a phone over adb) implements the same three methods, and the tables it builds are used
// unchanged.
type Measurer interface {
	// Device describes the device and software stack; it is recorded in the tables built.
	Device() (device, backend string)
	// MeasureLayer times one layer on its own (input of the layer's shape, batch opt.Batch).
	MeasureLayer(ctx context.Context, l space.Layer, opt MeasureOptions) (Timing, error)
	// MeasureNetwork times a whole network, input to logits, as one computation.
	MeasureNetwork(ctx context.Context, p space.Plan, opt MeasureOptions) (Timing, error)
}

// OverheadMeasurer is implemented by measurers whose every run pays a fixed cost independent of
// the computation (dispatch, argument transfer). A table built on one subtracts it from every
// layer entry and adds it once to the stem entry, so that the sum over a network's layers counts
// it once, as running the network does.
type OverheadMeasurer interface {
	MeasureOverhead(ctx context.Context, opt MeasureOptions) (Timing, error)
}

// SpaceLayers lists every distinct layer configuration of a space (every resolution, width,
// stage, position in the stage, kernel and expansion), in network order, one per key of format f.
// Layer shapes do not depend on the kernels and expansions of earlier layers ("same" padding),
// so the uniform subnets (every layer the same kernel and expansion, every stage at full depth)
// together contain them all.
func SpaceLayers(sp *space.Space, f KeyFormat) ([]space.Layer, []LayerKey, error) {
	if err := sp.Validate(); err != nil {
		return nil, nil, err
	}
	var layers []space.Layer
	var keys []LayerKey
	seen := map[string]bool{}
	depths := make([]int, len(sp.Stages))
	for i := range depths {
		depths[i] = sp.MaxDepth()
	}
	n := len(sp.Stages) * sp.MaxDepth()
	for _, r := range sp.Resolutions {
		for _, w := range sp.WidthMults {
			for _, e := range sp.Expansions {
				for _, k := range sp.Kernels {
					a := space.Arch{Resolution: r, Width: w, Depths: depths, Kernels: repeat(k, n), Expansions: repeat(e, n)}
					p, err := sp.Plan(a)
					if err != nil {
						return nil, nil, err
					}
					for _, l := range p.Layers {
						key, err := KeyOf(l, f)
						if err != nil {
							return nil, nil, err
						}
						if s := key.String(); !seen[s] {
							seen[s] = true
							layers = append(layers, l)
							keys = append(keys, key)
						}
					}
				}
			}
		}
	}
	return layers, keys, nil
}

func repeat(v, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// BuildOptions configures BuildLUT.
type BuildOptions struct {
	Name    string         // table name; default "<space>-<device>"
	Measure MeasureOptions // per-entry timing
	// Resume holds entries already measured (from an interrupted build): they are kept, not
	// measured again. Its format must be MSuNAS.
	Resume *LUT
	// Progress, when set, is called after each entry measured.
	Progress func(done, total int, key string, t Timing)
	// Checkpoint, when set, is called with the table so far every CheckpointEvery entries
	// (default 25) and lets a long build survive a kill.
	Checkpoint      func(*LUT) error
	CheckpointEvery int
	// Now gives the creation time recorded in the table; default time.Now.
	Now func() time.Time
}

// BuildLUT measures every layer configuration of a space with m and returns the table, in
// MSuNAS format (the authors' format). Each entry holds the median of opt.Measure.Repeats runs as
// its mean and the runs' variance. If m is an OverheadMeasurer, the per-run overhead is moved to
// the stem entry (see OverheadMeasurer).
func BuildLUT(ctx context.Context, sp *space.Space, m Measurer, opt BuildOptions) (*LUT, error) {
	mo := opt.Measure.WithDefaults()
	layers, keys, err := SpaceLayers(sp, MSuNAS)
	if err != nil {
		return nil, err
	}
	dev, backend := m.Device()
	name := opt.Name
	if name == "" {
		name = sp.Name + "-" + dev
	}
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	t := NewLUT(name, MSuNAS)
	t.Meta = Meta{Device: dev, Backend: backend, Space: sp.Name, Batch: mo.Batch, Warmup: mo.Warmup, Repeats: mo.Repeats,
		Created: now().UTC().Format(time.RFC3339)}
	if opt.Resume != nil {
		if opt.Resume.Format != MSuNAS {
			return nil, fmt.Errorf("hardware: cannot resume from table %q in %s format", opt.Resume.Name, opt.Resume.Format)
		}
		if r := opt.Resume.Meta; r.Batch != 0 && r.Batch != mo.Batch {
			return nil, fmt.Errorf("hardware: cannot resume table %q measured at batch %d with batch %d", opt.Resume.Name, r.Batch, mo.Batch)
		}
	}
	var overhead float64
	om, hasOverhead := m.(OverheadMeasurer)
	if hasOverhead {
		ot, err := om.MeasureOverhead(ctx, mo)
		if err != nil {
			return nil, fmt.Errorf("hardware: measuring per-run overhead: %w", err)
		}
		overhead = ot.Median
		t.Meta.Notes = fmt.Sprintf("per-run overhead %.4f ms subtracted from every entry and added to the first_conv entries", overhead)
	}
	every := opt.CheckpointEvery
	if every <= 0 {
		every = 25
	}
	measured := 0
	for i, l := range layers {
		key := keys[i].String()
		if opt.Resume != nil {
			if s, ok := opt.Resume.Get(key); ok {
				if err := t.Set(key, s); err != nil {
					return nil, err
				}
				continue
			}
		}
		tm, err := m.MeasureLayer(ctx, l, mo)
		if err != nil {
			return nil, fmt.Errorf("hardware: measuring %s (%s): %w", l.Name, key, err)
		}
		mean := tm.Median
		if hasOverhead {
			mean = math.Max(0, mean-overhead)
			if l.Kind == space.KindConv {
				mean += overhead
			}
		}
		if err := t.Set(key, Stat{Mean: mean, Var: tm.Var, Samples: tm.Runs}); err != nil {
			return nil, err
		}
		measured++
		if opt.Progress != nil {
			opt.Progress(i+1, len(layers), key, tm)
		}
		if opt.Checkpoint != nil && measured%every == 0 {
			if err := opt.Checkpoint(t); err != nil {
				return nil, fmt.Errorf("hardware: checkpoint: %w", err)
			}
		}
	}
	return t, nil
}
