package jupyter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/natgo/nat/kernel/internal/proc"
)

// LaunchOptions describe a kernel process to start, as a frontend starts one from a kernelspec.
type LaunchOptions struct {
	// Argv is the command; the argument "{connection_file}" is replaced by the connection file's
	// path (as in kernel.json). Required.
	Argv []string
	// Env is the process environment; nil means the current one.
	Env []string
	// Dir is the working directory; empty means the current one.
	Dir string
	// Output receives the process's stdout and stderr; nil discards them.
	Output io.Writer
	// StartTimeout bounds the wait for the kernel to answer. Default: 1 minute.
	StartTimeout time.Duration
}

// Process is a kernel started by [Launch], with a client connected to it.
type Process struct {
	*Client
	cmd      *exec.Cmd
	dir      string
	exited   chan struct{}
	exitErr  error
	stopOnce sync.Once
}

// Launch writes a connection file, starts the kernel process and waits until it answers a
// kernel_info request with its iopub channel live. The process runs in its own process group so
// that [Process.Shutdown] also stops the programs it started.
func Launch(ctx context.Context, opts LaunchOptions) (*Process, error) {
	if len(opts.Argv) == 0 {
		return nil, errors.New("launch: empty command")
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = time.Minute
	}
	if opts.Output == nil {
		opts.Output = io.Discard
	}
	ci, err := NewConnectionInfo()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "nat-kernel-")
	if err != nil {
		return nil, err
	}
	// Kernels such as GoNB read their Jupyter kernel id from the file name.
	connFile := filepath.Join(dir, "kernel-"+newID()+".json")
	if err := ci.WriteFile(connFile); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	argv := make([]string, len(opts.Argv))
	for i, a := range opts.Argv {
		argv[i] = strings.ReplaceAll(a, "{connection_file}", connFile)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir = opts.Env, opts.Dir
	cmd.Stdout, cmd.Stderr = opts.Output, opts.Output
	proc.SetGroup(cmd)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting kernel %s: %w", strings.Join(argv, " "), err)
	}
	p := &Process{cmd: cmd, dir: dir, exited: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		if err == nil {
			err = errors.New("exit status 0")
		}
		p.exitErr = err
		close(p.exited)
	}()
	startCtx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	go func() { // stop waiting as soon as the process dies
		select {
		case <-p.exited:
			cancel()
		case <-startCtx.Done():
		}
	}()
	client, err := Dial(context.Background(), ci) // lives until Shutdown
	if err == nil {
		if _, err = client.WaitReady(startCtx); err != nil {
			client.Close()
		}
	}
	if err != nil {
		proc.KillGroup(cmd)
		<-p.exited
		os.RemoveAll(dir)
		return nil, fmt.Errorf("kernel %s did not start: %w (process: %v)", strings.Join(argv, " "), err, p.exitErr)
	}
	p.Client = client
	go func() {
		<-p.exited
		client.Close() // ends requests waiting on a dead kernel
	}()
	return p, nil
}

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitErr returns how the process ended; call it only after Exited is closed.
func (p *Process) ExitErr() error { return p.exitErr }

// Shutdown asks the kernel to shut down, kills its process group if it has not exited within
// grace, and removes the connection file.
func (p *Process) Shutdown(grace time.Duration) {
	p.stopOnce.Do(func() {
		select {
		case <-p.exited:
		default:
			ctx, cancel := context.WithTimeout(context.Background(), grace)
			_, _ = p.Client.Request(ctx, p.Client.Control, "shutdown_request", map[string]any{"restart": false})
			cancel()
			select {
			case <-p.exited:
			case <-time.After(grace):
			}
		}
		proc.KillGroup(p.cmd) // also the programs the kernel started
		<-p.exited
		p.Client.Close()
		os.RemoveAll(p.dir)
	})
}
