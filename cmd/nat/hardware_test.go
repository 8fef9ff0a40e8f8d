package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

const i7Table = "../../../shared/reference/hardware/i7-8700K_lut.yaml"

func needI7(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(i7Table); err != nil {
		t.Skipf("the published i7-8700K table is not at %s (reference data beside the checkout): %v", i7Table, err)
	}
}

func TestHardwarePredictJSON(t *testing.T) {
	needI7(t)
	out, err := runVerb(t, "hardware", "predict", "--target", i7Table, "--encoding", "08011001440551052208877",
		"--budget", "latency <= 11ms", "--budget", "madds <= 300M", "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	var rep predictReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	// NAT-M1 has 20 layers (stem, first block, 15 searched blocks, three head layers); the sum of
	// its entries in the published table is 11.78 ms.
	if rep.Target != "i7-8700K" || rep.Space != "nat-imagenet" || len(rep.Layers) != 20 || rep.MAdds != 222557600 {
		t.Fatalf("report %+v", rep)
	}
	sum := 0.0
	for _, l := range rep.Layers {
		sum += l.MeanMs
	}
	if sum != rep.LatencyMs || rep.LatencyMs < 11.7 || rep.LatencyMs > 11.85 {
		t.Errorf("latency %v, layers sum to %v", rep.LatencyMs, sum)
	}
	if rep.Feasible || len(rep.Violations) != 1 || !strings.HasPrefix(rep.Violations[0], "latency") {
		t.Errorf("budgets: feasible %v, violations %v; want only the latency budget broken", rep.Feasible, rep.Violations)
	}
}

func TestHardwarePredictErrors(t *testing.T) {
	needI7(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--target", "no-such-device", "--encoding", "08011001440551052208877"}, "no-such-device_lut.yaml"},
		{[]string{"--target", "missing/table.yaml", "--encoding", "08011001440551052208877"}, "missing/table.yaml"},
		{[]string{"--target", i7Table, "--encoding", "0801"}, "digits"},
		{[]string{"--target", i7Table, "--encoding", "08011001440551052208877", "--budget", "speed <= 3"}, "unknown metric"},
		{[]string{"--encoding", "08011001440551052208877"}, "give --target"},
	} {
		out, err := runVerb(t, append([]string{"hardware", "predict"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error()+out, c.want) {
			t.Errorf("predict %v: %v (%s), want an error mentioning %q", c.args, err, out, c.want)
		}
	}
}

func TestHardwareBuildAndValidateFlagErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"lut", "build", "--out", dir + "/x.parquet"}, "give --space and --out"},
		{[]string{"lut", "build", "--space", "nat-cifar", "--out", dir + "/x.parquet"}, "unknown preset"},
		{[]string{"lut", "build", "--space", "nat-mnist", "--out", dir + "/x.parquet", "--clock", "sundial"}, "unknown clock"},
		{[]string{"lut", "build", "--space", "nat-mnist", "--out", dir + "/x.parquet", "--statistic", "mode"}, "unknown statistic"},
		{[]string{"validate"}, "give --target"},
		{[]string{"validate", "--target", "no-such-device"}, "no-such-device_lut.yaml"},
		{[]string{"validate", "--target", "x", "--n", "1"}, "at least 2"},
	} {
		out, err := runVerb(t, append([]string{"hardware"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error()+out, c.want) {
			t.Errorf("hardware %v: %v (%s), want an error mentioning %q", c.args, err, out, c.want)
		}
	}
	// A file that is not a table is not silently overwritten by a resumed build.
	bad := dir + "/notes.yaml"
	_ = os.WriteFile(bad, []byte("hello: world\n"), 0o644)
	if out, err := runVerb(t, "hardware", "lut", "build", "--space", "nat-mnist", "--out", bad); err == nil || !strings.Contains(err.Error(), "--fresh") {
		t.Errorf("build over a non-table: %v (%s)", err, out)
	}
}
