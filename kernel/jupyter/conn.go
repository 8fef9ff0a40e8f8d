package jupyter

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
)

// ConnectionInfo is the content of a kernel connection file, written by the frontend (or by
// [NewConnectionInfo]) and read by the kernel.
type ConnectionInfo struct {
	Transport       string `json:"transport"` // "tcp" or "ipc"
	IP              string `json:"ip"`
	ShellPort       int    `json:"shell_port"`
	ControlPort     int    `json:"control_port"`
	StdinPort       int    `json:"stdin_port"`
	IOPubPort       int    `json:"iopub_port"`
	HBPort          int    `json:"hb_port"`
	SignatureScheme string `json:"signature_scheme"` // "hmac-sha256"; empty key means unsigned
	Key             string `json:"key"`
	KernelName      string `json:"kernel_name,omitempty"`
}

// ReadConnectionFile reads and validates a connection file.
func ReadConnectionFile(path string) (ConnectionInfo, error) {
	var ci ConnectionInfo
	data, err := os.ReadFile(path)
	if err != nil {
		return ci, fmt.Errorf("reading connection file: %w", err)
	}
	if err := json.Unmarshal(data, &ci); err != nil {
		return ci, fmt.Errorf("connection file %s: %w", path, err)
	}
	if err := ci.Validate(); err != nil {
		return ci, fmt.Errorf("connection file %s: %w", path, err)
	}
	return ci, nil
}

// WriteFile writes ci as a connection file readable only by its owner (it holds the key).
func (ci ConnectionInfo) WriteFile(path string) error {
	data, err := json.MarshalIndent(ci, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing connection file: %w", err)
	}
	return nil
}

// Validate reports the first thing wrong with ci.
func (ci ConnectionInfo) Validate() error {
	switch ci.Transport {
	case "tcp", "ipc":
	default:
		return fmt.Errorf("transport %q: want \"tcp\" or \"ipc\"", ci.Transport)
	}
	if ci.IP == "" {
		return fmt.Errorf("missing \"ip\"")
	}
	if ci.Key != "" && ci.SignatureScheme != "hmac-sha256" {
		return fmt.Errorf("signature_scheme %q: only \"hmac-sha256\" is supported", ci.SignatureScheme)
	}
	ports := map[string]int{"shell_port": ci.ShellPort, "control_port": ci.ControlPort,
		"stdin_port": ci.StdinPort, "iopub_port": ci.IOPubPort, "hb_port": ci.HBPort}
	for name, p := range ports {
		if p <= 0 || p > 65535 {
			return fmt.Errorf("%s %d out of range", name, p)
		}
	}
	return nil
}

// Endpoint returns the ZeroMQ address of port under ci's transport.
func (ci ConnectionInfo) Endpoint(port int) string {
	if ci.Transport == "ipc" {
		return fmt.Sprintf("ipc://%s-%d", ci.IP, port)
	}
	host := ci.IP
	if strings.Contains(host, ":") { // IPv6
		host = "[" + host + "]"
	}
	return fmt.Sprintf("tcp://%s:%d", host, port)
}

// NewConnectionInfo returns a tcp connection description on 127.0.0.1 with five free ports and a
// fresh random key, as a frontend makes before starting a kernel.
//
// The ports are free when chosen; another process could take one before the kernel binds it,
// which is the same race every Jupyter frontend accepts.
func NewConnectionInfo() (ConnectionInfo, error) {
	ci := ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", SignatureScheme: "hmac-sha256", Key: newID()}
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := []*int{&ci.ShellPort, &ci.ControlPort, &ci.StdinPort, &ci.IOPubPort, &ci.HBPort}
	for _, p := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return ci, fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		*p = l.Addr().(*net.TCPAddr).Port
	}
	return ci, nil
}
