package hardware

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/natgo/nat/nat/space"
)

// Clock says what the time of a run is.
type Clock string

// Clocks.
const (
	// WallClock is elapsed real time: what a user of the device waits. The default.
	WallClock Clock = "wall"
	// CPUClock is the measuring process's CPU time (user + system, all threads). On a machine
	// whose cores other processes compete for, it stays close to the uncontended time where wall
	// time swings with the load; it counts work done in parallel threads once per thread, so it
	// equals latency only for single-threaded execution.
	CPUClock Clock = "cpu"
)

// ParseClock accepts "wall" and "cpu".
func ParseClock(s string) (Clock, error) {
	switch Clock(s) {
	case WallClock, CPUClock:
		return Clock(s), nil
	case "":
		return WallClock, nil
	}
	return "", fmt.Errorf("hardware: unknown clock %q (known: wall, cpu)", s)
}

// Statistic names the summary of repeated runs that tables record and comparisons use.
type Statistic string

// Statistics.
const (
	// Median of the timed runs: NAT's and OFA's choice, and the default.
	Median Statistic = "median"
	// Min of the timed runs: the run least disturbed by other processes; on a machine shared
	// with other work it is the better estimate of the uncontended time.
	Min Statistic = "min"
)

// ParseStatistic accepts "median" and "min".
func ParseStatistic(s string) (Statistic, error) {
	switch Statistic(s) {
	case Median, Min:
		return Statistic(s), nil
	case "":
		return Median, nil
	}
	return "", fmt.Errorf("hardware: unknown statistic %q (known: median, min)", s)
}

// MeasureOptions says how to time one layer or network.
type MeasureOptions struct {
	Batch     int       // images per run; default 1 (NAT's CPU latency)
	Warmup    int       // untimed runs first; default 10
	Repeats   int       // timed runs; default 30
	Clock     Clock     // default WallClock
	Statistic Statistic // what tables record; default Median
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
	if o.Clock == "" {
		o.Clock = WallClock
	}
	if o.Statistic == "" {
		o.Statistic = Median
	}
	return o
}

// Timing summarises repeated runs, in milliseconds.
type Timing struct {
	Median float64
	Min    float64
	Mean   float64
	Var    float64 // sample variance (n-1)
	Runs   int
}

// Value is the summary statistic s of the runs (the median unless s is Min).
func (t Timing) Value(s Statistic) float64 {
	if s == Min {
		return t.Min
	}
	return t.Median
}

// Summarize turns run times (milliseconds) into a Timing.
func Summarize(ms []float64) Timing {
	n := len(ms)
	if n == 0 {
		return Timing{}
	}
	s := append([]float64(nil), ms...)
	sort.Float64s(s)
	t := Timing{Runs: n, Min: s[0]}
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

// TimeRuns calls run opt.Warmup times untimed and then opt.Repeats times timed on opt.Clock,
// and summarises the timed runs. It stops early with ctx's error.
func TimeRuns(ctx context.Context, opt MeasureOptions, run func() error) (Timing, error) {
	opt = opt.WithDefaults()
	now := wallNow
	if opt.Clock == CPUClock {
		now = cpuNow
	}
	for i := 0; i < opt.Warmup; i++ {
		if err := ctx.Err(); err != nil {
			return Timing{}, err
		}
		if err := run(); err != nil {
			return Timing{}, err
		}
	}
	// A collection during the timed runs would be charged to whichever run it hit.
	runtime.GC()
	ms := make([]float64, 0, opt.Repeats)
	for i := 0; i < opt.Repeats; i++ {
		if err := ctx.Err(); err != nil {
			return Timing{}, err
		}
		start := now()
		if err := run(); err != nil {
			return Timing{}, err
		}
		ms = append(ms, float64(now()-start)/1e6)
	}
	return Summarize(ms), nil
}

var wallBase = time.Now()

// wallNow is monotonic nanoseconds.
func wallNow() int64 { return int64(time.Since(wallBase)) }

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
	// Rounds measures every configuration this many times in interleaved passes (all entries,
	// then all again) and keeps the statistic over the passes, so that a burst of load from other
	// processes cannot spoil every run of one entry. Default 1.
	Rounds int
	// Checkpoint, when set, is called with the table so far every CheckpointEvery entries
	// (default 25) and lets a long build survive a kill. Entries are complete, and so
	// checkpointed, only in the last round.
	Checkpoint      func(*LUT) error
	CheckpointEvery int
	// Now gives the creation time recorded in the table; default time.Now.
	Now func() time.Time
	// Calibrate, when positive, measures this many random subnets of the space whole after the
	// layers (drawn with CalibrationSeed) and multiplies every entry by the median ratio of
	// measured to summed latency, recorded as Meta.Scale. It corrects the systematic gap between
	// layers timed alone (hot caches, small graphs) and the same layers inside a network. Validate
	// with subnets drawn from another seed.
	Calibrate       int
	CalibrationSeed uint64
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
		Clock: mo.Clock, Statistic: mo.Statistic, Created: now().UTC().Format(time.RFC3339)}
	if opt.Resume != nil {
		if opt.Resume.Format != MSuNAS {
			return nil, fmt.Errorf("hardware: cannot resume from table %q in %s format", opt.Resume.Name, opt.Resume.Format)
		}
		r := opt.Resume.Meta
		if r.Batch != 0 && r.Batch != mo.Batch {
			return nil, fmt.Errorf("hardware: cannot resume table %q measured at batch %d with batch %d", opt.Resume.Name, r.Batch, mo.Batch)
		}
		if (r.Clock != "" && r.Clock != mo.Clock) || (r.Statistic != "" && r.Statistic != mo.Statistic) {
			return nil, fmt.Errorf("hardware: cannot resume table %q (%s clock, %s) with %s clock, %s", opt.Resume.Name, r.Clock, r.Statistic, mo.Clock, mo.Statistic)
		}
		if r.Scale != 0 {
			return nil, fmt.Errorf("hardware: table %q is already calibrated; a build resumes only an interrupted one", opt.Resume.Name)
		}
	}
	var overhead float64
	om, hasOverhead := m.(OverheadMeasurer)
	if hasOverhead {
		ot, err := om.MeasureOverhead(ctx, mo)
		if err != nil {
			return nil, fmt.Errorf("hardware: measuring per-run overhead: %w", err)
		}
		overhead = ot.Value(mo.Statistic)
		t.Meta.Notes = fmt.Sprintf("per-run overhead %.4f ms subtracted from every entry and added to the first_conv entries", overhead)
	}
	every := opt.CheckpointEvery
	if every <= 0 {
		every = 25
	}
	rounds := opt.Rounds
	if rounds <= 0 {
		rounds = 1
	}
	// Entries kept from an interrupted build are not measured again.
	todo := make([]int, 0, len(layers))
	for i := range layers {
		key := keys[i].String()
		if opt.Resume != nil {
			if s, ok := opt.Resume.Get(key); ok {
				if err := t.Set(key, s); err != nil {
					return nil, err
				}
				continue
			}
		}
		todo = append(todo, i)
	}
	if rounds > 1 {
		t.Meta.Notes = strings.TrimPrefix(t.Meta.Notes+fmt.Sprintf("; each entry the %s over %d interleaved rounds", mo.Statistic, rounds), "; ")
	}
	values := make([][]float64, len(layers))
	vars := make([]float64, len(layers))
	runs := make([]int, len(layers))
	measured := 0
	for r := 0; r < rounds; r++ {
		last := r == rounds-1
		for j, i := range todo {
			l, key := layers[i], keys[i].String()
			tm, err := m.MeasureLayer(ctx, l, mo)
			if err != nil {
				return nil, fmt.Errorf("hardware: measuring %s (%s): %w", l.Name, key, err)
			}
			values[i] = append(values[i], tm.Value(mo.Statistic))
			vars[i] += tm.Var / float64(rounds)
			runs[i] += tm.Runs
			if opt.Progress != nil {
				opt.Progress(r*len(todo)+j+1, rounds*len(todo), key, tm)
			}
			if !last {
				continue
			}
			mean := Summarize(values[i]).Value(mo.Statistic)
			if hasOverhead {
				mean = math.Max(0, mean-overhead)
				if l.Kind == space.KindConv {
					mean += overhead
				}
			}
			if err := t.Set(key, Stat{Mean: mean, Var: vars[i], Samples: runs[i]}); err != nil {
				return nil, err
			}
			measured++
			if opt.Checkpoint != nil && measured%every == 0 {
				if err := opt.Checkpoint(t); err != nil {
					return nil, fmt.Errorf("hardware: checkpoint: %w", err)
				}
			}
		}
	}
	if opt.Calibrate > 0 {
		scale, err := calibrate(ctx, sp, t, m, mo, opt.Calibrate, opt.CalibrationSeed)
		if err != nil {
			return nil, err
		}
		for k, s := range t.entries {
			s.Mean *= scale
			s.Var *= scale * scale
			t.entries[k] = s
		}
		t.Meta.Scale = scale
		t.Meta.Notes = strings.TrimPrefix(t.Meta.Notes+fmt.Sprintf("; entries scaled by %.4f, the median measured/summed ratio of %d calibration subnets (seed %d)", scale, opt.Calibrate, opt.CalibrationSeed), "; ")
	}
	return t, nil
}

// calibrate measures n random subnets whole and returns the median ratio of measured latency to
// the table's sum.
func calibrate(ctx context.Context, sp *space.Space, t *LUT, m Measurer, mo MeasureOptions, n int, seed uint64) (float64, error) {
	rng := rand.New(rand.NewPCG(seed, 0x63616c69)) // second word: "cali"
	ratios := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		a := sp.Sample(rng)
		p, err := sp.Plan(a)
		if err != nil {
			return 0, err
		}
		pred, err := t.Predict(p)
		if err != nil {
			return 0, fmt.Errorf("hardware: calibration subnet %v: %w", a, err)
		}
		tm, err := m.MeasureNetwork(ctx, p, mo)
		if err != nil {
			return 0, fmt.Errorf("hardware: measuring calibration subnet %v: %w", a, err)
		}
		if pred.Mean > 0 {
			ratios = append(ratios, tm.Value(mo.Statistic)/pred.Mean)
		}
	}
	if len(ratios) == 0 {
		return 0, fmt.Errorf("hardware: calibration: every subnet summed to zero")
	}
	return Summarize(ratios).Median, nil
}
