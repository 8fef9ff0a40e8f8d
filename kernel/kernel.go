// Package kernel is the Jupyter kernel of NAT: it serves the Jupyter messaging protocol and hands
// cells to an [Engine] that keeps its state from one cell to the next (the DSL session), or, for
// cells that start with a cell magic such as %%gonb, to another engine (a relay to GoNB).
//
// It is not the interpreter (package dsl/session) and not the wire format (package
// kernel/jupyter).
package kernel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"runtime"
	"sync"

	"github.com/natgo/nat/kernel/jupyter"
)

// Info describes the kernel in kernel_info replies.
type Info struct {
	Implementation string // default "nat"
	Version        string // implementation version; default "dev"
	Banner         string
	HelpLinks      []HelpLink
}

// HelpLink is an entry of the frontend's help menu.
type HelpLink struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// Options configure a kernel.
type Options struct {
	// Engine evaluates ordinary cells. Required.
	Engine Engine
	// CellMagics maps a cell magic name to the engine that runs cells starting with "%%name"
	// (the rest of the cell, verbatim). Engines that implement io.Closer are closed at shutdown.
	CellMagics map[string]Engine
	// Info is reported in kernel_info replies.
	Info Info
	// Log receives diagnostics (rejected messages, send failures). Nil discards them.
	Log io.Writer
	// ShellDir is the working directory of "!" shell lines; empty means the kernel's.
	ShellDir string
}

// Kernel serves one connection.
type Kernel struct {
	opts    Options
	sockets *jupyter.KernelSockets
	session string
	log     *log.Logger

	execCount int // touched only by the shell loop

	mu         sync.Mutex
	cancelCell context.CancelCauseFunc // the running cell's, or nil
	displayIDs map[string]bool         // display ids already shown
	inputWait  chan *jupyter.Message   // waiting for an input_reply, or nil

	shutdownOnce sync.Once
	stopped      chan struct{}
	restart      bool
}

// ErrInterrupted is the cause (context.Cause) of a cell's context when the user interrupts it.
var ErrInterrupted = errors.New("interrupted by the user")

// New binds the sockets described by ci. Call [Kernel.Run] to serve.
func New(ctx context.Context, ci jupyter.ConnectionInfo, opts Options) (*Kernel, error) {
	if opts.Engine == nil {
		return nil, errors.New("kernel: Options.Engine is nil")
	}
	if opts.Info.Implementation == "" {
		opts.Info.Implementation = "nat"
	}
	if opts.Info.Version == "" {
		opts.Info.Version = "dev"
	}
	logOut := opts.Log
	if logOut == nil {
		logOut = io.Discard
	}
	ks, err := jupyter.Bind(ctx, ci)
	if err != nil {
		return nil, err
	}
	return &Kernel{
		opts:       opts,
		sockets:    ks,
		session:    jupyter.NewID(),
		log:        log.New(logOut, "nat kernel: ", log.LstdFlags|log.Lmicroseconds),
		displayIDs: map[string]bool{},
		stopped:    make(chan struct{}),
	}, nil
}

// Run serves requests until a shutdown_request arrives or ctx is done, then closes the sockets
// and the cell-magic engines. It reports whether the frontend asked for a restart (the frontend
// then starts a fresh kernel process).
func (k *Kernel) Run(ctx context.Context) (restart bool, err error) {
	var wg sync.WaitGroup
	shellQ := make(chan *jupyter.Message, 256)
	wg.Add(4)
	go func() {
		defer wg.Done()
		if err := k.sockets.ServeHeartbeat(); err != nil && !k.isStopped() && ctx.Err() == nil {
			k.log.Print(err)
		}
	}()
	go func() {
		defer wg.Done()
		k.readLoop(k.sockets.Shell, func(m *jupyter.Message) {
			select {
			case shellQ <- m:
			case <-k.stopped:
			}
		})
	}()
	go func() { defer wg.Done(); k.readLoop(k.sockets.Control, k.handleControl) }()
	go func() { defer wg.Done(); k.readLoop(k.sockets.Stdin, k.handleStdin) }()

	k.publish(nil, "status", map[string]any{"execution_state": "starting"})

serve:
	for {
		select {
		case m := <-shellQ:
			if k.isStopped() { // shut down while this request waited: it never runs
				break serve
			}
			k.handleShell(m, shellQ)
		case <-k.stopped:
			break serve
		case <-ctx.Done():
			k.stop(false)
			break serve
		}
	}
	k.Interrupt()
	k.sockets.Close()
	wg.Wait()
	var errs []error
	for name, e := range k.opts.CellMagics {
		if c, ok := e.(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("closing %%%%%s engine: %w", name, err))
			}
		}
	}
	if c, ok := k.opts.Engine.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	return k.restart, errors.Join(errs...)
}

// Interrupt cancels the running cell, if any (as an interrupt_request does; SIGINT handlers
// call it).
func (k *Kernel) Interrupt() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cancelCell != nil {
		k.cancelCell(ErrInterrupted)
	}
}

func (k *Kernel) stop(restart bool) {
	k.shutdownOnce.Do(func() {
		k.restart = restart
		close(k.stopped)
	})
}

func (k *Kernel) isStopped() bool {
	select {
	case <-k.stopped:
		return true
	default:
		return false
	}
}

// readLoop receives messages from ch and hands each to handle. A message with a bad signature or
// a malformed frame is logged and dropped, as the protocol requires.
func (k *Kernel) readLoop(ch *jupyter.Channel, handle func(*jupyter.Message)) {
	for {
		m, err := ch.Recv()
		if errors.Is(err, jupyter.ErrClosed) {
			return
		}
		if err != nil {
			k.log.Printf("rejected message: %v", err)
			continue
		}
		if k.isStopped() {
			return
		}
		handle(m)
	}
}

// publish sends a message on iopub as a child of parent (nil for none).
func (k *Kernel) publish(parent *jupyter.Message, msgType string, content any) {
	m, err := jupyter.NewMessage(msgType, parent, k.session, content)
	if err != nil {
		k.log.Print(err)
		return
	}
	// The iopub topic: ipykernel uses "kernel.<id>.<type>"; frontends subscribe to everything.
	m.Identities = [][]byte{[]byte("kernel." + k.session + "." + msgType)}
	if err := k.sockets.IOPub.Send(m); err != nil {
		k.log.Print(err)
	}
}

// reply answers request on ch.
func (k *Kernel) reply(ch *jupyter.Channel, request *jupyter.Message, msgType string, content any) {
	m, err := jupyter.NewMessage(msgType, request, k.session, content)
	if err != nil {
		k.log.Print(err)
		return
	}
	if err := ch.Send(m); err != nil {
		k.log.Print(err)
	}
}

// busy publishes the busy status for request and returns a function publishing idle.
func (k *Kernel) busy(request *jupyter.Message) func() {
	k.publish(request, "status", map[string]any{"execution_state": "busy"})
	return func() { k.publish(request, "status", map[string]any{"execution_state": "idle"}) }
}

func (k *Kernel) handleControl(m *jupyter.Message) {
	idle := k.busy(m)
	defer idle()
	switch m.Type() {
	case "interrupt_request":
		k.Interrupt()
		k.reply(k.sockets.Control, m, "interrupt_reply", map[string]any{"status": "ok"})
	case "shutdown_request":
		k.shutdown(k.sockets.Control, m)
	case "kernel_info_request":
		k.reply(k.sockets.Control, m, "kernel_info_reply", k.kernelInfo())
	default:
		k.unknown(k.sockets.Control, m)
	}
}

func (k *Kernel) shutdown(ch *jupyter.Channel, m *jupyter.Message) {
	var req struct {
		Restart bool `json:"restart"`
	}
	_ = m.Decode(&req)
	k.reply(ch, m, "shutdown_reply", map[string]any{"status": "ok", "restart": req.Restart})
	k.Interrupt()
	k.stop(req.Restart)
}

func (k *Kernel) unknown(ch *jupyter.Channel, m *jupyter.Message) {
	k.log.Printf("%s: unsupported message type %q", ch.Name(), m.Type())
}

func (k *Kernel) handleStdin(m *jupyter.Message) {
	if m.Type() != "input_reply" {
		k.unknown(k.sockets.Stdin, m)
		return
	}
	k.mu.Lock()
	w := k.inputWait
	k.inputWait = nil
	k.mu.Unlock()
	if w != nil {
		w <- m
	}
}

// handleShell runs one shell request. queue holds the requests received since; after a failed
// cell with stop_on_error, the execute requests already queued are aborted, as ipykernel does.
func (k *Kernel) handleShell(m *jupyter.Message, queue chan *jupyter.Message) {
	idle := k.busy(m)
	defer idle()
	sh := k.sockets.Shell
	switch m.Type() {
	case "kernel_info_request":
		k.reply(sh, m, "kernel_info_reply", k.kernelInfo())
	case "execute_request":
		if k.execute(m) {
			k.abortQueued(queue)
		}
	case "is_complete_request":
		k.reply(sh, m, "is_complete_reply", k.isComplete(m))
	case "complete_request":
		k.reply(sh, m, "complete_reply", k.complete(m))
	case "inspect_request":
		k.reply(sh, m, "inspect_reply", k.inspect(m))
	case "history_request":
		k.reply(sh, m, "history_reply", map[string]any{"status": "ok", "history": []any{}})
	case "comm_info_request":
		k.reply(sh, m, "comm_info_reply", map[string]any{"status": "ok", "comms": map[string]any{}})
	case "shutdown_request": // protocol < 5.1 sends it on shell
		k.shutdown(sh, m)
	case "comm_open":
		// No comm targets: close it straight away, as the protocol asks.
		var req struct {
			CommID string `json:"comm_id"`
		}
		_ = m.Decode(&req)
		k.publish(m, "comm_close", map[string]any{"comm_id": req.CommID, "data": map[string]any{}})
	case "comm_msg", "comm_close":
	default:
		k.unknown(sh, m)
	}
}

// abortQueued answers the execute requests waiting in queue with status "aborted" and handles
// every other queued request normally.
func (k *Kernel) abortQueued(queue chan *jupyter.Message) {
	for {
		select {
		case m := <-queue:
			if m.Type() != "execute_request" {
				k.handleShell(m, queue)
				continue
			}
			idle := k.busy(m)
			k.reply(k.sockets.Shell, m, "execute_reply", map[string]any{"status": "aborted", "execution_count": k.execCount})
			idle()
		default:
			return
		}
	}
}

func (k *Kernel) kernelInfo() map[string]any {
	links := k.opts.Info.HelpLinks
	if links == nil {
		links = []HelpLink{}
	}
	return map[string]any{
		"status":                 "ok",
		"protocol_version":       jupyter.ProtocolVersion,
		"implementation":         k.opts.Info.Implementation,
		"implementation_version": k.opts.Info.Version,
		"banner":                 k.opts.Info.Banner,
		"help_links":             links,
		"language_info": map[string]any{
			"name":               "go",
			"version":            runtime.Version(),
			"mimetype":           "text/x-go",
			"file_extension":     ".go",
			"pygments_lexer":     "go",
			"codemirror_mode":    "go",
			"nbconvert_exporter": "",
		},
	}
}

// input asks the frontend for a line on the stdin channel, on behalf of request.
func (k *Kernel) input(ctx context.Context, request *jupyter.Message, allowed bool, prompt string, password bool) (string, error) {
	if !allowed {
		return "", ErrNoInput
	}
	w := make(chan *jupyter.Message, 1)
	k.mu.Lock()
	k.inputWait = w
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		if k.inputWait == w {
			k.inputWait = nil
		}
		k.mu.Unlock()
	}()
	m, err := jupyter.NewMessage("input_request", request, k.session, map[string]any{"prompt": prompt, "password": password})
	if err != nil {
		return "", err
	}
	if err := k.sockets.Stdin.Send(m); err != nil {
		return "", err
	}
	select {
	case r := <-w:
		var rep struct {
			Value string `json:"value"`
		}
		if err := r.Decode(&rep); err != nil {
			return "", err
		}
		return rep.Value, nil
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}
