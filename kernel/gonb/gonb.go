// Package gonb relays notebook cells to a GoNB kernel (github.com/janpfeifer/gonb), so that a NAT
// notebook can hold compiled Go cells (%%gonb) beside its interpreted DSL cells.
//
// The relay is a kernel.Engine: it starts GoNB on first use, speaks the Jupyter protocol to it as
// a frontend would, and passes GoNB's printed output, displays, results and errors on to the
// cell. It is not a reimplementation of GoNB: every cell still compiles into a fresh process
// there, so values do not survive between %%gonb cells.
package gonb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/natgo/nat/dsl/display"
	"github.com/natgo/nat/kernel"
	"github.com/natgo/nat/kernel/jupyter"
)

// GoimportsVersion is the version of goimports that this project installs for GoNB (which
// requires goimports on PATH), into GOBIN: it stays out of the main go.mod, where goimports and
// gopls conflict.
const GoimportsVersion = "v0.44.0"

// displayLinger is how long the relay keeps listening after GoNB reports a cell idle: GoNB
// publishes displays from a pipe that it does not drain before going idle, so a display may come
// a moment later.
const displayLinger = 250 * time.Millisecond

// Options configure a relay. The zero value finds GoNB by itself.
type Options struct {
	// Command starts GoNB without its --kernel flag (which the relay adds). Default: $NAT_GONB
	// (split on spaces) if set, else the GoNB pinned in this project's go.mod (as a tool), built
	// by `go tool -n gonb` in ModuleDir, else "gonb" on PATH when there is no ModuleDir.
	Command []string
	// ModuleDir is a directory of the NAT module, for `go tool`. Default: $NAT_MODULE_DIR, else
	// the module enclosing the working directory.
	ModuleDir string
	// Dir is GoNB's working directory (where its "!" commands run). Default: the current one.
	Dir string
	// Args are extra GoNB flags.
	Args []string
	// HTMLErrors keeps GoNB's HTML error reports (a display with hover context) instead of
	// plain-text errors whose traceback lists each compiler message at its cell line (GoNB's
	// --raw_error, the default here: errors then read the same in a notebook, in nbconvert's
	// report and in the DSL cells beside them).
	HTMLErrors bool
	// StartTimeout bounds the first start, which may compile GoNB. Default: 5 minutes.
	StartTimeout time.Duration
	// Log receives GoNB's own log lines. Nil discards them.
	Log io.Writer
}

// Relay is a kernel.Engine backed by a GoNB kernel process.
type Relay struct {
	opts Options

	mu   sync.Mutex       // serialises starts and cells
	proc *jupyter.Process // nil until the first cell, and after GoNB exits
}

// New returns a relay; GoNB starts on the first cell.
func New(opts Options) *Relay {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 5 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	return &Relay{opts: opts}
}

var _ kernel.Engine = (*Relay)(nil)

// Execute runs code as a GoNB cell.
func (r *Relay) Execute(ctx context.Context, code string, out kernel.Output) (display.Bundle, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.ensureStarted(ctx, out); err != nil {
		return nil, &kernel.CellError{Name: "GoNBUnavailable", Value: err.Error(),
			Traceback: []string{"\x1b[0;31mGoNBUnavailable\x1b[0m: " + err.Error()}}
	}
	var result display.Bundle
	var cellErr *kernel.CellError
	if out.Input != nil { // GoNB's %with_inputs / %with_password prompts reach the user
		r.proc.SetInput(func(prompt string, password bool) string {
			v, _ := out.Input(ctx, prompt, password)
			return v
		})
		defer r.proc.SetInput(nil)
	}
	reply, err := r.proc.Execute(ctx, code, func(m *jupyter.Message) {
		switch m.Type() {
		case "stream":
			var s struct {
				Name string `json:"name"`
				Text string `json:"text"`
			}
			if m.Decode(&s) == nil {
				w := out.Stdout
				if s.Name == "stderr" {
					w = out.Stderr
				}
				io.WriteString(w, s.Text)
			}
		case "display_data", "update_display_data", "execute_result":
			var d struct {
				Data      map[string]json.RawMessage `json:"data"`
				Transient struct {
					DisplayID string `json:"display_id"`
				} `json:"transient"`
			}
			if m.Decode(&d) != nil {
				return
			}
			b := kernel.DecodeBundle(d.Data)
			if m.Type() == "execute_result" {
				result = b
				return
			}
			out.Display.Publish(b, d.Transient.DisplayID, m.Type() == "update_display_data")
		case "error":
			cellErr = decodeError(m)
		}
	})
	if err != nil {
		note := r.exitNote()
		r.checkExited()
		return nil, fmt.Errorf("GoNB: %w%s", err, note)
	}
	var status struct {
		Status string `json:"status"`
	}
	_ = reply.Decode(&status)
	switch status.Status {
	case "ok":
		return result, nil
	case "error":
		if cellErr == nil {
			cellErr = decodeError(reply)
		}
		return nil, cellErr
	default:
		return nil, fmt.Errorf("GoNB answered with status %q", status.Status)
	}
}

func decodeError(m *jupyter.Message) *kernel.CellError {
	var e struct {
		Name      string   `json:"ename"`
		Value     string   `json:"evalue"`
		Traceback []string `json:"traceback"`
	}
	_ = m.Decode(&e)
	if e.Name == "" {
		e.Name = "GoNBError"
	}
	return &kernel.CellError{Name: e.Name, Value: e.Value, Traceback: e.Traceback}
}

// Complete relays a completion request to GoNB if it is running (GoNB answers with gopls when
// gopls is installed, and with nothing otherwise).
func (r *Relay) Complete(code string, cursor int) kernel.Completion {
	c := kernel.Completion{Start: cursor, End: cursor}
	client := r.running()
	if client == nil {
		return c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reply, err := client.Request(ctx, client.Shell, "complete_request",
		map[string]any{"code": code, "cursor_pos": runeCount(code[:cursor])})
	if err != nil {
		return c
	}
	var rep struct {
		Matches     []string `json:"matches"`
		CursorStart int      `json:"cursor_start"`
		CursorEnd   int      `json:"cursor_end"`
	}
	if reply.Decode(&rep) != nil {
		return c
	}
	return kernel.Completion{Matches: rep.Matches, Start: byteIndex(code, rep.CursorStart), End: byteIndex(code, rep.CursorEnd)}
}

// running returns the client when GoNB is up and idle, nil otherwise (completion never starts
// GoNB nor waits for a running cell).
func (r *Relay) running() *jupyter.Client {
	if !r.mu.TryLock() {
		return nil
	}
	defer r.mu.Unlock()
	if r.proc == nil || r.checkExited() {
		return nil
	}
	return r.proc.Client
}

func runeCount(s string) int { return len([]rune(s)) }

func byteIndex(s string, runes int) int {
	for i := range s {
		if runes == 0 {
			return i
		}
		runes--
	}
	return len(s)
}

// checkExited drops a dead process so that the next cell starts a fresh one. It reports whether
// the process had exited. Call with r.mu held.
func (r *Relay) checkExited() bool {
	if r.proc == nil {
		return false
	}
	select {
	case <-r.proc.Exited():
		r.proc.Shutdown(0)
		r.proc = nil
		return true
	default:
		return false
	}
}

// exitNote explains a failure caused by GoNB's exit. Call with r.mu held.
func (r *Relay) exitNote() string {
	if r.proc == nil {
		return ""
	}
	select {
	case <-r.proc.Exited():
		return fmt.Sprintf(" (GoNB exited: %v; it restarts on the next %%%%gonb cell)", r.proc.ExitErr())
	default:
		return ""
	}
}

// ensureStarted starts GoNB and waits until it answers. Call with r.mu held.
func (r *Relay) ensureStarted(ctx context.Context, out kernel.Output) error {
	if r.proc != nil && !r.checkExited() {
		return nil
	}
	argv, env, err := Command(ctx, r.opts, out.Stderr)
	if err != nil {
		return err
	}
	proc, err := jupyter.Launch(ctx, jupyter.LaunchOptions{
		Argv: argv, Env: env, Dir: r.opts.Dir, Output: r.opts.Log, StartTimeout: r.opts.StartTimeout,
	})
	if err != nil {
		return fmt.Errorf("GoNB: %w", err)
	}
	proc.AfterIdle = displayLinger
	r.proc = proc
	return nil
}

// Command returns how to start GoNB as a kernel (its argv, with "{connection_file}" where the
// connection file goes) and the environment it needs (goimports on PATH), as configured by opts.
// When GoNB has to be compiled first, a note goes to notify.
func Command(ctx context.Context, opts Options, notify io.Writer) (argv, env []string, err error) {
	argv, env, err = command(ctx, opts, notify)
	if err != nil {
		return nil, nil, err
	}
	argv = append(argv, "--kernel", "{connection_file}")
	argv = append(argv, opts.Args...)
	if !opts.HTMLErrors {
		argv = append(argv, "--raw_error")
	}
	return argv, env, nil
}

func command(ctx context.Context, opts Options, notify io.Writer) (command, env []string, err error) {
	if notify == nil {
		notify = io.Discard
	}
	env = os.Environ()
	if _, err := exec.LookPath("goimports"); err != nil {
		dir := goBinDir(ctx, "goimports")
		if dir == "" {
			return nil, nil, fmt.Errorf("GoNB needs goimports on PATH; install it with: go install golang.org/x/tools/cmd/goimports@%s", GoimportsVersion)
		}
		env = setPath(env, dir)
	}
	moduleDir := opts.ModuleDir
	if moduleDir == "" {
		moduleDir = os.Getenv("NAT_MODULE_DIR")
	}
	command = opts.Command
	if len(command) == 0 {
		if s := os.Getenv("NAT_GONB"); s != "" {
			command = strings.Fields(s)
		} else if p, err := exec.LookPath("gonb"); err == nil && moduleDir == "" {
			command = []string{p} // no checkout to build the pinned GoNB in: use the installed one
		}
	}
	if len(command) > 0 {
		return command, env, nil
	}
	// `go tool -n gonb` answers at once from the build cache; tell the user when it compiles.
	slow := time.AfterFunc(2*time.Second, func() {
		fmt.Fprintln(notify, "building GoNB (go tool gonb, first use: about a minute)...")
	})
	defer slow.Stop()
	tool := exec.CommandContext(ctx, "go", "tool", "-n", "gonb")
	tool.Dir = moduleDir
	var stderr bytes.Buffer
	tool.Stderr = &stderr
	path, err := tool.Output()
	if err != nil {
		return nil, nil, fmt.Errorf("finding GoNB with `go tool -n gonb` in %q: %v: %s (set NAT_MODULE_DIR to the NAT checkout, or NAT_GONB to a gonb binary)",
			moduleDir, err, strings.TrimSpace(stderr.String()))
	}
	return []string{strings.TrimSpace(string(path))}, env, nil
}

// goBinDir returns the directory where `go install` puts binaries if it holds name.
func goBinDir(ctx context.Context, name string) string {
	outb, err := exec.CommandContext(ctx, "go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(outb)), "\n")
	var dirs []string
	if len(lines) > 0 && strings.TrimSpace(lines[0]) != "" {
		dirs = append(dirs, strings.TrimSpace(lines[0]))
	}
	if len(lines) > 1 {
		for _, p := range filepath.SplitList(strings.TrimSpace(lines[1])) {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	for _, d := range dirs {
		if st, err := os.Stat(filepath.Join(d, name)); err == nil && !st.IsDir() {
			return d
		}
	}
	return ""
}

// setPath returns env with dir prepended to PATH.
func setPath(env []string, dir string) []string {
	out := append([]string{}, env...)
	for i, kv := range out {
		if strings.HasPrefix(kv, "PATH=") {
			out[i] = "PATH=" + dir + string(os.PathListSeparator) + kv[len("PATH="):]
			return out
		}
	}
	return append(out, "PATH="+dir)
}

// Close shuts GoNB down: a shutdown_request, then a kill if it lingers.
func (r *Relay) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != nil {
		r.proc.Shutdown(3 * time.Second)
		r.proc = nil
	}
	return nil
}
