package hardware

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/natgo/nat/nat/space"
)

// Stat is one table entry: a layer's latency in milliseconds.
type Stat struct {
	Mean    float64 // milliseconds
	Var     float64 // milliseconds squared
	Samples int     // timed runs behind the entry; 0 when unknown (published tables)
}

// Meta says where a table comes from. Every field is optional; a published table has none.
type Meta struct {
	Device    string    // e.g. "Intel i7-8700K" or this machine's CPU model
	Backend   string    // e.g. "gomlx go backend (compute v0.1.2)", "pytorch 1.5 cpu"
	Space     string    // the search space the table was built for, e.g. "nat-mnist"
	Batch     int       // batch size of the measurements
	Warmup    int       // untimed runs before timing
	Repeats   int       // timed runs per entry
	Clock     Clock     // what was timed (wall or CPU time); empty: unknown (published tables: wall)
	Statistic Statistic // which summary of the runs the entries hold; empty: unknown
	// Scale is the calibration factor the entries were multiplied by (see BuildOptions.Calibrate);
	// 0 means none.
	Scale   float64
	Created string // RFC 3339 time of the build
	Notes   string // anything else worth knowing (how the stem entry carries the per-inference overhead, ...)
}

// LUT is a latency lookup table: one entry per layer configuration, all keys in one format.
type LUT struct {
	Name    string
	Format  KeyFormat
	Meta    Meta
	entries map[string]Stat
}

// NewLUT returns an empty table.
func NewLUT(name string, format KeyFormat) *LUT {
	return &LUT{Name: name, Format: format, entries: map[string]Stat{}}
}

// Len is the number of entries.
func (t *LUT) Len() int { return len(t.entries) }

// Keys returns the entries' keys, sorted.
func (t *LUT) Keys() []string {
	keys := make([]string, 0, len(t.entries))
	for k := range t.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Get returns the entry of a key.
func (t *LUT) Get(key string) (Stat, bool) {
	s, ok := t.entries[key]
	return s, ok
}

// Set adds or replaces an entry. The key must parse and be in the table's format (an empty
// table's format is taken from its first key), and the mean and variance must be finite and
// non-negative.
func (t *LUT) Set(key string, s Stat) error {
	k, err := ParseKey(key)
	if err != nil {
		return err
	}
	if t.Format == "" {
		t.Format = k.Format
	}
	if k.Format != t.Format {
		return fmt.Errorf("hardware: table %q is in %s format but key %q is %s", t.Name, t.Format, key, k.Format)
	}
	if math.IsNaN(s.Mean) || math.IsInf(s.Mean, 0) || s.Mean < 0 {
		return fmt.Errorf("hardware: table %q: key %q: mean %v must be finite and non-negative", t.Name, key, s.Mean)
	}
	if math.IsNaN(s.Var) || math.IsInf(s.Var, 0) || s.Var < 0 {
		return fmt.Errorf("hardware: table %q: key %q: variance %v must be finite and non-negative", t.Name, key, s.Var)
	}
	if t.entries == nil {
		t.entries = map[string]Stat{}
	}
	t.entries[key] = s
	return nil
}

// LayerLatency is one term of a prediction.
type LayerLatency struct {
	Layer string // plan layer name
	Key   string
	Stat  Stat
}

// Prediction is a network's predicted latency: the sum of its layers' entries. The variance
// adds the entries' variances, as if the layers' timings were independent.
type Prediction struct {
	Mean   float64 // milliseconds
	Var    float64 // milliseconds squared
	Layers []LayerLatency
}

// MissingKeyError says which layers of a network a table has no entry for.
type MissingKeyError struct {
	Table   string
	Layers  []string // plan layer names, in network order
	Missing []string // their keys
}

func (e *MissingKeyError) Error() string {
	msg := fmt.Sprintf("hardware: table %q has no entry for layer %s: key %q", e.Table, e.Layers[0], e.Missing[0])
	if n := len(e.Missing) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more missing: %s)", n, strings.Join(e.Missing[1:], ", "))
	}
	return msg
}

// Predict sums the entries of a network's layers. If some are missing it returns a
// *MissingKeyError naming every missing key.
func (t *LUT) Predict(p space.Plan) (Prediction, error) {
	if t.Format == "" {
		return Prediction{}, fmt.Errorf("hardware: table %q is empty", t.Name)
	}
	keys, err := PlanKeys(p, t.Format)
	if err != nil {
		return Prediction{}, err
	}
	var pred Prediction
	var miss *MissingKeyError
	for _, pk := range keys {
		key := pk.Key.String()
		s, ok := t.entries[key]
		if !ok {
			if miss == nil {
				miss = &MissingKeyError{Table: t.Name}
			}
			miss.Layers = append(miss.Layers, pk.Layer)
			miss.Missing = append(miss.Missing, key)
			continue
		}
		pred.Mean += s.Mean
		pred.Var += s.Var
		pred.Layers = append(pred.Layers, LayerLatency{Layer: pk.Layer, Key: key, Stat: s})
	}
	if miss != nil {
		return Prediction{}, miss
	}
	return pred, nil
}

// IsMissingKey reports whether err is (or wraps) a *MissingKeyError.
func IsMissingKey(err error) bool {
	var m *MissingKeyError
	return errors.As(err, &m)
}
