package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKernelInstallWritesSpec(t *testing.T) {
	data := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", data)
	bin := filepath.Join(t.TempDir(), "nat")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := runVerb(t, "kernel", "install", "--user", "--binary", bin, "--module-dir", "/src/nat")
	if err != nil {
		t.Fatal(err, out)
	}
	raw, err := os.ReadFile(filepath.Join(data, "kernels", "nat", "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Argv        []string          `json:"argv"`
		DisplayName string            `json:"display_name"`
		Env         map[string]string `json:"env"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	if strings.Join(spec.Argv, " ") != bin+" kernel start --connection-file {connection_file}" ||
		spec.DisplayName != "NAT (Go)" || spec.Env["NAT_MODULE_DIR"] != "/src/nat" {
		t.Errorf("kernel.json: %s", raw)
	}
	if !strings.Contains(out, filepath.Join(data, "kernels", "nat")) {
		t.Errorf("output does not say where: %q", out)
	}
}

func TestKernelInstallRejectsBadInput(t *testing.T) {
	t.Setenv("JUPYTER_DATA_DIR", t.TempDir())
	if out, err := runVerb(t, "kernel", "install", "--user", "--binary", filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "not a file") {
		t.Errorf("missing binary: %v %s", err, out)
	}
	if _, err := runVerb(t, "kernel", "install", "extra"); err == nil || !strings.Contains(err.Error(), "unexpected argument") {
		t.Errorf("extra argument: %v", err)
	}
}

func TestKernelStartNeedsAConnectionFile(t *testing.T) {
	if _, err := runVerb(t, "kernel", "start"); err == nil || !strings.Contains(err.Error(), "missing --connection-file") {
		t.Errorf("no connection file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "kernel.json")
	os.WriteFile(bad, []byte(`{"transport": "udp", "ip": "127.0.0.1"}`), 0o600)
	if _, err := runVerb(t, "kernel", "start", "--connection-file", bad); err == nil || !strings.Contains(err.Error(), `transport "udp"`) {
		t.Errorf("bad connection file: %v", err)
	}
}

func TestFindModule(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "go.mod"), []byte("module github.com/natgo/nat\n\ngo 1.26\n"), 0o644)
	deep := filepath.Join(root, "notebooks", "sub")
	os.MkdirAll(deep, 0o755)
	if got := findModule(deep, natModule); got != root {
		t.Errorf("findModule = %q, want %q", got, root)
	}
	if got := findModule(t.TempDir(), natModule); got != "" {
		t.Errorf("findModule outside = %q", got)
	}
}
