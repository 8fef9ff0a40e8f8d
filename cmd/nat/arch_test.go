package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runVerb(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{Stdout: &out, Stderr: &errb}
	err := dispatch(context.Background(), e, verbs(), []string{"nat"}, args)
	return out.String() + errb.String(), err
}

func TestArchEncodingJSON(t *testing.T) {
	out, err := runVerb(t, "arch", "--space", "nat-imagenet", "--encoding", "08011001440551052208877", "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for key, want := range map[string]float64{"r": 224, "w": 1, "madds": 222557600, "params": 6067408} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	if d, _ := json.Marshal(got["d"]); string(d) != "[2,3,3,3,4]" {
		t.Errorf("d = %s", d)
	}
	for _, key := range []string{"ks", "e", "nat_ops"} {
		if _, ok := got[key]; !ok {
			t.Errorf("missing %q", key)
		}
	}
}

func TestArchConfigMatchesNATCounter(t *testing.T) {
	cfg := filepath.Join("..", "..", "..", "shared", "reference", "natnets", "imagenet", "NAT-M1", "net.config")
	if _, err := os.Stat(cfg); err != nil {
		t.Skipf("reference nets not found beside the checkout (%v)", err)
	}
	out, err := runVerb(t, "arch", "--config", cfg, "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	if !strings.Contains(out, `"nat_ops":222573680`) || !strings.Contains(out, `"madds":222557600`) {
		t.Errorf("unexpected output %s", out)
	}
}

func TestArchErrors(t *testing.T) {
	cases := [][]string{
		{"arch", "--encoding", "0801"},
		{"arch", "--space", "nope", "--encoding", "08011001440551052208877"},
		{"arch"},
		{"arch", "--config", "/nonexistent/net.config"},
	}
	for _, args := range cases {
		if out, err := runVerb(t, args...); err == nil {
			t.Errorf("%v succeeded: %s", args, out)
		}
	}
	if _, err := runVerb(t, "nosuchverb"); err == nil || !strings.Contains(err.Error(), "unknown verb") {
		t.Errorf("unknown verb: %v", err)
	}
}

func TestEveryVerbHasHelp(t *testing.T) {
	var walk func(prefix []string, vs []verb)
	walk = func(prefix []string, vs []verb) {
		for _, v := range vs {
			p := append(append([]string{}, prefix...), v.name)
			if len(v.subs) > 0 {
				walk(p, v.subs)
				continue
			}
			out, _ := runVerb(t, append(p, "--help")...)
			if !strings.Contains(out, "usage") {
				t.Errorf("%v --help printed no usage: %q", p, out)
			}
		}
	}
	walk(nil, verbs())
}
