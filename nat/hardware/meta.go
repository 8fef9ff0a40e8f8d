package hardware

import (
	"fmt"
	"strconv"
	"strings"
)

// metaLabels are the metadata labels files carry, in the order they are written.
var metaLabels = []string{"name", "format", "device", "backend", "space", "batch", "warmup", "repeats",
	"clock", "statistic", "scale", "created", "notes"}

// metaPairs lists the table's name, format and non-empty metadata as label/value pairs.
func (t *LUT) metaPairs() [][2]string {
	m := t.Meta
	scale := ""
	if m.Scale != 0 {
		scale = strconv.FormatFloat(m.Scale, 'g', -1, 64)
	}
	vals := map[string]string{
		"name": t.Name, "format": string(t.Format), "device": m.Device, "backend": m.Backend, "space": m.Space,
		"batch": itoa0(m.Batch), "warmup": itoa0(m.Warmup), "repeats": itoa0(m.Repeats), "clock": string(m.Clock),
		"statistic": string(m.Statistic), "scale": scale, "created": m.Created, "notes": m.Notes,
	}
	var out [][2]string
	for _, l := range metaLabels {
		if v := vals[l]; v != "" {
			out = append(out, [2]string{l, v})
		}
	}
	return out
}

func itoa0(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// setMeta applies one "label: value" metadata line.
func (t *LUT) setMeta(line string) error {
	label, val, ok := strings.Cut(line, ":")
	if !ok {
		return fmt.Errorf("metadata line %q is not label: value", line)
	}
	label, val = strings.TrimSpace(label), strings.TrimSpace(val)
	atoi := func() (int, error) {
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("metadata %s %q is not a non-negative integer", label, val)
		}
		return n, nil
	}
	var err error
	switch label {
	case "name":
		t.Name = val
	case "format":
		var f KeyFormat
		if f, err = ParseKeyFormat(val); err == nil {
			t.Format = f
		}
	case "device":
		t.Meta.Device = val
	case "backend":
		t.Meta.Backend = val
	case "space":
		t.Meta.Space = val
	case "batch":
		t.Meta.Batch, err = atoi()
	case "warmup":
		t.Meta.Warmup, err = atoi()
	case "repeats":
		t.Meta.Repeats, err = atoi()
	case "clock":
		t.Meta.Clock, err = ParseClock(val)
	case "statistic":
		t.Meta.Statistic, err = ParseStatistic(val)
	case "scale":
		t.Meta.Scale, err = strconv.ParseFloat(val, 64)
		if err != nil || !(t.Meta.Scale > 0) {
			err = fmt.Errorf("metadata scale %q is not a positive number", val)
		}
	case "created":
		t.Meta.Created = val
	case "notes":
		t.Meta.Notes = val
	}
	// Unknown labels are ignored: to any other reader they are comments too.
	return err
}
