package kernel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Spec is a Jupyter kernelspec (kernel.json): how a frontend starts the kernel.
// See https://jupyter-client.readthedocs.io/en/stable/kernels.html#kernel-specs.
type Spec struct {
	Argv          []string          `json:"argv"`
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode"`
	Env           map[string]string `json:"env,omitempty"`
	Metadata      map[string]any    `json:"metadata,omitempty"`
}

// NewSpec returns the "NAT (Go)" kernelspec that runs binary as `binary kernel start
// --connection-file {connection_file}`, interrupting by message (the kernel also treats SIGINT as
// an interrupt).
func NewSpec(binary string, env map[string]string) Spec {
	return Spec{
		Argv:          []string{binary, "kernel", "start", "--connection-file", "{connection_file}"},
		DisplayName:   "NAT (Go)",
		Language:      "go",
		InterruptMode: "message",
		Env:           env,
	}
}

// SpecDir returns the directory of kernelspec name: under prefix/share/jupyter/kernels when
// prefix is set; else the user's Jupyter data directory ($JUPYTER_DATA_DIR, or the platform's
// default) when user is true; else the system-wide /usr/local/share/jupyter/kernels.
func SpecDir(name string, user bool, prefix string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty kernelspec name")
	}
	switch {
	case prefix != "":
		return filepath.Join(prefix, "share", "jupyter", "kernels", name), nil
	case user:
		if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
			return filepath.Join(d, "kernels", name), nil
		}
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding the user's Jupyter directory: %w", err)
		}
		switch runtime.GOOS {
		case "darwin":
			return filepath.Join(home, "Library", "Jupyter", "kernels", name), nil
		case "windows":
			if d := os.Getenv("APPDATA"); d != "" {
				return filepath.Join(d, "jupyter", "kernels", name), nil
			}
		}
		base := os.Getenv("XDG_DATA_HOME")
		if base == "" {
			base = filepath.Join(home, ".local", "share")
		}
		return filepath.Join(base, "jupyter", "kernels", name), nil
	default:
		return filepath.Join("/usr/local/share/jupyter/kernels", name), nil
	}
}

// logoSVG is the kernel's logo in JupyterLab's launcher: a small Pareto front.
const logoSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">
<rect width="64" height="64" rx="10" fill="#00add8"/>
<polyline points="10,14 18,30 30,40 46,46 56,50" fill="none" stroke="#fff" stroke-width="3"/>
<g fill="#fff"><circle cx="10" cy="14" r="3.5"/><circle cx="18" cy="30" r="3.5"/><circle cx="30" cy="40" r="3.5"/><circle cx="46" cy="46" r="3.5"/><circle cx="56" cy="50" r="3.5"/></g>
<g fill="#b3e9f7"><circle cx="30" cy="24" r="2.5"/><circle cx="44" cy="32" r="2.5"/><circle cx="52" cy="22" r="2.5"/></g>
</svg>
`

// Install writes spec as dir/kernel.json and the logo, creating dir.
func (s Spec) Install(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating kernelspec directory: %w", err)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "kernel.json")
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing kernelspec: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "logo-svg.svg"), []byte(logoSVG), 0o644); err != nil {
		return fmt.Errorf("writing kernelspec logo: %w", err)
	}
	return nil
}
