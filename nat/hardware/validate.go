package hardware

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/rank"
	"github.com/natgo/nat/nat/space"
)

// ValidationOptions configures Validate.
type ValidationOptions struct {
	N       int    // random subnets; default 50
	Seed    uint64 // sampling seed; the same seed gives the same subnets
	Measure MeasureOptions
	// Rounds measures every subnet this many times, interleaved (all subnets once, then again),
	// and keeps the statistic (Measure.Statistic) over the rounds, so a burst of load from other
	// processes hits every subnet alike instead of a few. Default 1.
	Rounds int
	// Progress, when set, is called after each subnet measured.
	Progress func(done, total int, row ValidationRow)
}

// ValidationRow is one subnet: its predicted and measured latency.
type ValidationRow struct {
	Encoding  string  `json:"encoding"`
	Arch      string  `json:"arch"`
	MAdds     int64   `json:"madds"`
	Predicted float64 `json:"predicted_ms"`
	Measured  float64 `json:"measured_ms"` // the statistic over runs and rounds
	APE       float64 `json:"ape_percent"` // |predicted - measured| / measured * 100
}

// Validation compares a table's predictions with direct measurements of whole networks.
type Validation struct {
	Target     string         `json:"target"`
	Space      string         `json:"space"`
	Device     string         `json:"device"`
	Backend    string         `json:"backend"`
	N          int            `json:"n"`
	Seed       uint64         `json:"seed"`
	Measure    MeasureOptions `json:"measure"`
	Rounds     int            `json:"rounds"`
	KendallTau float64        `json:"kendall_tau"`
	MAPE       float64        `json:"mape_percent"`
	// Scale is the table's calibration factor (0: none) and UncalibratedMAPE the error of its
	// sums before scaling; Kendall's tau does not change with a common scale.
	Scale            float64         `json:"scale,omitempty"`
	UncalibratedMAPE float64         `json:"uncalibrated_mape_percent,omitempty"`
	Started          string          `json:"started"`
	Seconds          float64         `json:"seconds"`
	Rows             []ValidationRow `json:"rows"`
}

// Validate samples opt.N random subnets of sp (MSuNAS/NAT's sampler), predicts each with the
// table and measures each as a whole network with m, and reports Kendall's tau-b between the two
// and the mean absolute percentage error. The table should have been measured on the same
// device as m, at the same batch size.
func Validate(ctx context.Context, sp *space.Space, t *LUT, m Measurer, opt ValidationOptions) (*Validation, error) {
	if opt.N <= 0 {
		opt.N = 50
	}
	if opt.Rounds <= 0 {
		opt.Rounds = 1
	}
	mo := opt.Measure.WithDefaults()
	rng := rand.New(rand.NewPCG(opt.Seed, 0x6e617468)) // second word: "nath"
	dev, backend := m.Device()
	v := &Validation{Target: t.Name, Space: sp.Name, Device: dev, Backend: backend, N: opt.N, Seed: opt.Seed,
		Measure: mo, Rounds: opt.Rounds, Started: time.Now().UTC().Format(time.RFC3339)}
	start := time.Now()
	plans := make([]space.Plan, opt.N)
	for i := range plans {
		a := sp.Sample(rng)
		g, err := sp.Encode(a)
		if err != nil {
			return nil, err
		}
		p, err := sp.Plan(a)
		if err != nil {
			return nil, err
		}
		pred, err := t.Predict(p)
		if err != nil {
			return nil, fmt.Errorf("subnet %d (%s): %w", i, sp.Format(g), err)
		}
		plans[i] = p
		v.Rows = append(v.Rows, ValidationRow{Encoding: sp.Format(g), Arch: a.String(), MAdds: cost.Plan(p).MAdds, Predicted: pred.Mean})
	}
	rounds := make([][]float64, opt.N)
	for r := 0; r < opt.Rounds; r++ {
		for i, p := range plans {
			tm, err := m.MeasureNetwork(ctx, p, mo)
			if err != nil {
				return nil, fmt.Errorf("measuring subnet %d (%s): %w", i, v.Rows[i].Encoding, err)
			}
			rounds[i] = append(rounds[i], tm.Value(mo.Statistic))
			if opt.Progress != nil && r == opt.Rounds-1 {
				row := v.Rows[i]
				row.Measured = Summarize(rounds[i]).Value(mo.Statistic)
				opt.Progress(i+1, opt.N, row)
			}
		}
	}
	pred := make([]float64, opt.N)
	meas := make([]float64, opt.N)
	for i := range v.Rows {
		row := &v.Rows[i]
		row.Measured = Summarize(rounds[i]).Value(mo.Statistic)
		row.APE = 100 * math.Abs(row.Predicted-row.Measured) / row.Measured
		v.MAPE += row.APE / float64(opt.N)
		if sc := t.Meta.Scale; sc > 0 {
			v.UncalibratedMAPE += 100 * math.Abs(row.Predicted/sc-row.Measured) / row.Measured / float64(opt.N)
		}
		pred[i], meas[i] = row.Predicted, row.Measured
	}
	tau, err := rank.KendallTau(pred, meas)
	if err != nil {
		return nil, fmt.Errorf("hardware: Kendall tau: %w", err)
	}
	v.KendallTau = tau
	v.Scale = t.Meta.Scale
	v.Seconds = time.Since(start).Seconds()
	return v, nil
}
