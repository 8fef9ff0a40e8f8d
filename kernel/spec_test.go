package kernel

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSpecInstall(t *testing.T) {
	data := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", data)
	dir, err := SpecDir("nat", true, "")
	if err != nil || dir != filepath.Join(data, "kernels", "nat") {
		t.Fatalf("user dir %q, %v", dir, err)
	}
	if d, _ := SpecDir("nat", false, "/opt/venv"); d != "/opt/venv/share/jupyter/kernels/nat" {
		t.Errorf("prefix dir %q", d)
	}
	spec := NewSpec("/usr/local/bin/nat", map[string]string{"NAT_MODULE_DIR": "/src/nat"})
	if err := spec.Install(dir); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"argv":           []any{"/usr/local/bin/nat", "kernel", "start", "--connection-file", "{connection_file}"},
		"display_name":   "NAT (Go)",
		"language":       "go",
		"interrupt_mode": "message",
		"env":            map[string]any{"NAT_MODULE_DIR": "/src/nat"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kernel.json\n got %v\nwant %v", got, want)
	}
	if logo, err := os.ReadFile(filepath.Join(dir, "logo-svg.svg")); err != nil || !strings.HasPrefix(string(logo), "<svg") {
		t.Errorf("logo: %v", err)
	}
}
