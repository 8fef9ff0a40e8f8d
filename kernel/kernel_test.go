package kernel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/natgo/nat/dsl/display"
	"github.com/natgo/nat/kernel"
	"github.com/natgo/nat/kernel/jupyter"
)

// fakeEngine runs a tiny line language so that the tests can make a cell print, display, fail,
// block or keep state, and check exactly what crosses the wire.
type fakeEngine struct {
	mu    sync.Mutex
	vars  map[string]string
	codes []string
}

func newFakeEngine() *fakeEngine { return &fakeEngine{vars: map[string]string{}} }

func (f *fakeEngine) ran() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.codes...)
}

func (f *fakeEngine) Execute(ctx context.Context, code string, out kernel.Output) (display.Bundle, error) {
	f.mu.Lock()
	f.codes = append(f.codes, code)
	f.mu.Unlock()
	var result display.Bundle
	for i, line := range strings.Split(code, "\n") {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch cmd {
		case "":
		case "out":
			fmt.Fprintln(out.Stdout, arg)
		case "err":
			fmt.Fprintln(out.Stderr, arg)
		case "display", "update":
			id, html, _ := strings.Cut(arg, " ")
			out.Display.Publish(display.Bundle{display.HTML: []byte(html), display.TextPlain: []byte(html)}, id, cmd == "update")
		case "svg":
			out.Display.Publish(display.Bundle{display.SVG: []byte("<svg/>"), display.Markdown: []byte("**front**"), display.TextPlain: []byte("front")}, "", false)
		case "png":
			out.Display.Publish(display.Bundle{display.PNG: []byte("\x89PNG\r\n"), display.TextPlain: []byte("a plot")}, "", false)
		case "set":
			k, v, _ := strings.Cut(arg, " ")
			f.mu.Lock()
			f.vars[k] = v
			f.mu.Unlock()
		case "get":
			f.mu.Lock()
			v, ok := f.vars[arg]
			f.mu.Unlock()
			if !ok {
				return nil, fmt.Errorf("cell:%d:5: undefined: %s", i+1, arg)
			}
			result = display.Bundle{display.TextPlain: []byte(v)}
		case "value":
			result = display.Bundle{display.TextPlain: []byte(arg), display.HTML: []byte("<i>" + arg + "</i>")}
		case "fail":
			return nil, &kernel.CellError{Name: "CompileError", Value: fmt.Sprintf("cell:%d:1: %s", i+1, arg),
				Traceback: []string{fmt.Sprintf("cell:%d:1: %s", i+1, arg)}}
		case "panic":
			panic(arg)
		case "pause":
			time.Sleep(300 * time.Millisecond)
		case "sleep":
			<-ctx.Done()
			return nil, fmt.Errorf("cell stopped: %w", context.Cause(ctx))
		case "input":
			v, err := out.Input(ctx, arg, false)
			if err != nil {
				return nil, err
			}
			result = display.Bundle{display.TextPlain: []byte(v)}
		default:
			return nil, fmt.Errorf("cell:%d:1: unknown command %q", i+1, cmd)
		}
	}
	return result, nil
}

var names = []string{"Objective", "Search", "Space"}

func (f *fakeEngine) Complete(code string, cursor int) kernel.Completion {
	start := cursor
	for start > 0 && isLetter(code[start-1]) {
		start--
	}
	var c kernel.Completion
	for _, n := range names {
		if strings.HasPrefix(n, code[start:cursor]) {
			c.Matches = append(c.Matches, n)
		}
	}
	c.Start, c.End = start, cursor
	return c
}

func (f *fakeEngine) Inspect(code string, cursor int, detail int) (display.Bundle, bool) {
	if strings.Contains(code, "Space") {
		return display.Bundle{display.TextPlain: []byte("Space is a search space.")}, true
	}
	return nil, false
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// harness is a kernel serving a fake engine and a client connected to it over real ZeroMQ.
type harness struct {
	t      *testing.T
	ci     jupyter.ConnectionInfo
	engine *fakeEngine
	client *jupyter.Client
	done   chan runResult
}

type runResult struct {
	restart bool
	err     error
}

func start(t *testing.T, opts kernel.Options) *harness {
	t.Helper()
	ci, err := jupyter.NewConnectionInfo()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, ci: ci, engine: newFakeEngine(), done: make(chan runResult, 1)}
	if opts.Engine == nil {
		opts.Engine = h.engine
	}
	ctx, cancel := context.WithCancel(context.Background())
	k, err := kernel.New(ctx, ci, opts)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		restart, err := k.Run(ctx)
		h.done <- runResult{restart, err}
	}()
	h.client, err = jupyter.Dial(ctx, ci)
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if _, err := h.client.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.client.Close()
		cancel()
		select {
		case <-h.done:
		case <-time.After(10 * time.Second):
			t.Error("kernel did not stop after its context was cancelled")
		}
	})
	return h
}

// cell is what one execute request produced.
type cell struct {
	reply *jupyter.Message
	iopub []*jupyter.Message
}

func (c cell) types() []string {
	var ts []string
	for _, m := range c.iopub {
		t := m.Type()
		if t == "status" {
			t += ":" + field[string](nil, m, "execution_state")
		}
		ts = append(ts, t)
	}
	return ts
}

// field decodes one field of a message's content.
func field[T any](t *testing.T, m *jupyter.Message, name string) T {
	var content map[string]json.RawMessage
	var v T
	if err := json.Unmarshal(m.Content, &content); err != nil {
		if t != nil {
			t.Fatalf("%s content: %v", m.Type(), err)
		}
		return v
	}
	if raw, ok := content[name]; ok {
		if err := json.Unmarshal(raw, &v); err != nil && t != nil {
			t.Fatalf("%s.%s: %v", m.Type(), name, err)
		}
	}
	return v
}

func (h *harness) execute(code string) cell {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var c cell
	reply, err := h.client.Execute(ctx, code, func(m *jupyter.Message) { c.iopub = append(c.iopub, m) })
	if err != nil {
		h.t.Fatalf("execute %q: %v", code, err)
	}
	c.reply = reply
	for _, m := range c.iopub {
		if m.ParentHeader.MsgID != reply.ParentHeader.MsgID {
			h.t.Errorf("%s has parent %s, want %s", m.Type(), m.ParentHeader.MsgID, reply.ParentHeader.MsgID)
		}
		if m.Header.Session == "" || m.Header.MsgID == "" || m.Header.Version != jupyter.ProtocolVersion {
			h.t.Errorf("%s has an incomplete header %+v", m.Type(), m.Header)
		}
	}
	return c
}

func TestKernelInfoAndHeartbeat(t *testing.T) {
	h := start(t, kernel.Options{Info: kernel.Info{Banner: "NAT test"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, ch := range []*jupyter.Channel{h.client.Shell, h.client.Control} {
		r, err := h.client.Request(ctx, ch, "kernel_info_request", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Type() != "kernel_info_reply" || field[string](t, r, "protocol_version") != "5.3" ||
			field[string](t, r, "implementation") != "nat" || field[string](t, r, "banner") != "NAT test" {
			t.Errorf("%s: kernel_info reply %s", ch.Name(), r.Content)
		}
		lang := field[map[string]any](t, r, "language_info")
		if lang["name"] != "go" || lang["file_extension"] != ".go" {
			t.Errorf("language_info %v", lang)
		}
	}
	for range 3 {
		if err := h.client.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExecuteSendsEveryMessageInOrder(t *testing.T) {
	h := start(t, kernel.Options{})
	c := h.execute("out hello\nerr careful\ndisplay d1 <b>1%</b>\nupdate d1 <b>50%</b>\npng\nvalue 42\nsvg")
	want := []string{"status:busy", "execute_input", "stream", "stream", "display_data", "update_display_data",
		"display_data", "display_data", "execute_result", "status:idle"}
	if got := c.types(); !reflect.DeepEqual(got, want) {
		t.Fatalf("iopub messages %v, want %v", got, want)
	}
	m := c.iopub
	if got := field[string](t, m[1], "code"); !strings.HasPrefix(got, "out hello") || field[int](t, m[1], "execution_count") != 1 {
		t.Errorf("execute_input %s", m[1].Content)
	}
	if field[string](t, m[2], "name") != "stdout" || field[string](t, m[2], "text") != "hello\n" {
		t.Errorf("first stream %s", m[2].Content)
	}
	if field[string](t, m[3], "name") != "stderr" || field[string](t, m[3], "text") != "careful\n" {
		t.Errorf("second stream %s", m[3].Content)
	}
	for i, html := range map[int]string{4: "<b>1%</b>", 5: "<b>50%</b>"} {
		data := field[map[string]string](t, m[i], "data")
		transient := field[map[string]string](t, m[i], "transient")
		if data["text/html"] != html || transient["display_id"] != "d1" {
			t.Errorf("%s: data %v transient %v", m[i].Type(), data, transient)
		}
	}
	if png := field[map[string]string](t, m[6], "data")["image/png"]; png != "iVBORw0K" {
		t.Errorf("image/png %q, want base64 of the PNG bytes", png)
	}
	if d := field[map[string]string](t, m[7], "data"); d["image/svg+xml"] != "<svg/>" || d["text/markdown"] != "**front**" || d["text/plain"] != "front" {
		t.Errorf("svg/markdown display %v", d)
	}
	res := m[8]
	if field[int](t, res, "execution_count") != 1 || field[map[string]string](t, res, "data")["text/plain"] != "42" {
		t.Errorf("execute_result %s", res.Content)
	}
	if c.reply.Type() != "execute_reply" || field[string](t, c.reply, "status") != "ok" || field[int](t, c.reply, "execution_count") != 1 {
		t.Errorf("execute_reply %s", c.reply.Content)
	}
	if n := h.client.BadMessages(); n != 0 {
		t.Errorf("client rejected %d messages from the kernel", n)
	}
}

func TestStateSurvivesBetweenCellsAndErrors(t *testing.T) {
	h := start(t, kernel.Options{})
	h.execute("set x 5")
	c := h.execute("get y")
	want := []string{"status:busy", "execute_input", "error", "status:idle"}
	if got := c.types(); !reflect.DeepEqual(got, want) {
		t.Fatalf("iopub %v, want %v", got, want)
	}
	e := c.iopub[2]
	if field[string](t, e, "ename") != "Error" || field[string](t, e, "evalue") != "cell:1:5: undefined: y" {
		t.Errorf("error message %s", e.Content)
	}
	if tb := field[[]string](t, e, "traceback"); len(tb) < 2 || !strings.Contains(strings.Join(tb, "\n"), "cell:1:5: undefined: y") {
		t.Errorf("traceback %q lacks the position", tb)
	}
	if field[string](t, c.reply, "status") != "error" || field[string](t, c.reply, "ename") != "Error" {
		t.Errorf("execute_reply %s", c.reply.Content)
	}
	c = h.execute("get x")
	if got := field[map[string]string](t, c.iopub[2], "data")["text/plain"]; got != "5" {
		t.Errorf("x = %q after an error cell, want 5", got)
	}
	if n := field[int](t, c.reply, "execution_count"); n != 3 {
		t.Errorf("execution_count %d, want 3", n)
	}
}

func TestCellErrorAndPanicAreReported(t *testing.T) {
	h := start(t, kernel.Options{})
	c := h.execute("out before\n\nfail undefined: Serch")
	e := c.iopub[len(c.iopub)-2]
	if e.Type() != "error" || field[string](t, e, "ename") != "CompileError" ||
		field[string](t, e, "evalue") != "cell:3:1: undefined: Serch" {
		t.Fatalf("error %s", e.Content)
	}
	c = h.execute("panic boom")
	e = c.iopub[len(c.iopub)-2]
	if e.Type() != "error" || field[string](t, e, "ename") != "panic" || field[string](t, e, "evalue") != "boom" {
		t.Fatalf("panic error %s", e.Content)
	}
	if c := h.execute("value alive"); field[string](t, c.reply, "status") != "ok" {
		t.Fatalf("kernel did not survive a panic: %s", c.reply.Content)
	}
}

func TestBadSignatureIsRejected(t *testing.T) {
	h := start(t, kernel.Options{})
	forged := h.ci
	forged.Key = "not-the-key"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bad, err := jupyter.Dial(ctx, forged)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	short, cancelShort := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancelShort()
	if r, err := bad.Request(short, bad.Shell, "execute_request", map[string]any{"code": "set forged 1"}); err == nil {
		t.Fatalf("kernel answered a forged request: %s", r.Content)
	}
	c := h.execute("get forged")
	if field[string](t, c.reply, "status") != "error" {
		t.Errorf("forged cell ran: %s", c.reply.Content)
	}
	if ran := h.engine.ran(); !reflect.DeepEqual(ran, []string{"get forged"}) {
		t.Errorf("engine ran %q, want only the signed cell", ran)
	}
}

func TestInterruptCancelsTheRunningCell(t *testing.T) {
	h := start(t, kernel.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cellCtx, interrupt := context.WithCancel(ctx)
	var iopub []*jupyter.Message
	began := time.Now()
	reply, err := h.client.Execute(cellCtx, "out working\nsleep", func(m *jupyter.Message) {
		iopub = append(iopub, m)
		if m.Type() == "stream" {
			interrupt() // the client sends interrupt_request on the control channel
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if field[string](t, reply, "status") != "error" || field[string](t, reply, "ename") != "Interrupted" {
		t.Fatalf("reply to an interrupted cell %s", reply.Content)
	}
	if !strings.Contains(field[string](t, reply, "evalue"), "interrupted by the user") {
		t.Errorf("evalue %q", field[string](t, reply, "evalue"))
	}
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("interrupt took %v", d)
	}
	if c := h.execute("value after"); field[string](t, c.reply, "status") != "ok" {
		t.Fatalf("kernel unusable after an interrupt: %s", c.reply.Content)
	}
}

func TestStopOnErrorAbortsQueuedCells(t *testing.T) {
	h := start(t, kernel.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Queue three cells at once: the first fails, so the other two must be aborted, not run.
	type res struct {
		r   *jupyter.Message
		err error
	}
	results := make([]chan res, 3)
	for i, code := range []string{"pause\nfail first", "set ran 1", "set ran 2"} {
		results[i] = make(chan res, 1)
		m, err := h.client.NewRequest("execute_request", map[string]any{"code": code, "stop_on_error": true})
		if err != nil {
			t.Fatal(err)
		}
		go func(ch chan res) {
			r, err := h.client.Exchange(ctx, h.client.Shell, m, nil)
			ch <- res{r, err}
		}(results[i])
		time.Sleep(5 * time.Millisecond) // keep them in order on the wire; the first cell pauses 300 ms
	}
	statuses := []string{}
	for _, ch := range results {
		r := <-ch
		if r.err != nil {
			t.Fatal(r.err)
		}
		statuses = append(statuses, field[string](t, r.r, "status"))
	}
	if want := []string{"error", "aborted", "aborted"}; !reflect.DeepEqual(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	if ran := h.engine.ran(); len(ran) != 1 {
		t.Errorf("engine ran %q, want only the failing cell", ran)
	}
}

func TestCompleteInspectIsComplete(t *testing.T) {
	h := start(t, kernel.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// "é" is one code point but two bytes: cursor positions are in code points.
	code := "é := Sp"
	r, err := h.client.Request(ctx, h.client.Shell, "complete_request", map[string]any{"code": code, "cursor_pos": 7})
	if err != nil {
		t.Fatal(err)
	}
	if got := field[[]string](t, r, "matches"); !reflect.DeepEqual(got, []string{"Space"}) {
		t.Errorf("matches %v", got)
	}
	if s, e := field[int](t, r, "cursor_start"), field[int](t, r, "cursor_end"); s != 5 || e != 7 {
		t.Errorf("cursor span [%d,%d), want [5,7)", s, e)
	}
	r, err = h.client.Request(ctx, h.client.Shell, "inspect_request", map[string]any{"code": "Space", "cursor_pos": 2, "detail_level": 0})
	if err != nil {
		t.Fatal(err)
	}
	if !field[bool](t, r, "found") || field[map[string]string](t, r, "data")["text/plain"] != "Space is a search space." {
		t.Errorf("inspect reply %s", r.Content)
	}
	for code, want := range map[string]string{"x := 1": "complete", "func f() {": "incomplete", "s := `abc": "incomplete", "x := 1 +": "incomplete", "x := )": "invalid", "!ls\nx := 1": "complete"} {
		r, err := h.client.Request(ctx, h.client.Shell, "is_complete_request", map[string]any{"code": code})
		if err != nil {
			t.Fatal(err)
		}
		if got := field[string](t, r, "status"); got != want {
			t.Errorf("is_complete(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestCellMagicShellLinesAndHelp(t *testing.T) {
	other := newFakeEngine()
	h := start(t, kernel.Options{CellMagics: map[string]kernel.Engine{"other": other}})
	c := h.execute("%%other\nvalue routed")
	if got := other.ran(); !reflect.DeepEqual(got, []string{"value routed"}) {
		t.Errorf("%%%%other engine ran %q", got)
	}
	if len(h.engine.ran()) != 0 {
		t.Errorf("main engine ran %q", h.engine.ran())
	}
	if field[string](t, c.reply, "status") != "ok" {
		t.Errorf("reply %s", c.reply.Content)
	}
	c = h.execute("%%nosuch\nvalue x")
	if field[string](t, c.reply, "ename") != "UnknownMagic" {
		t.Errorf("unknown magic reply %s", c.reply.Content)
	}
	c = h.execute("!echo from-shell\nvalue 1")
	if got := c.types(); !reflect.DeepEqual(got, []string{"status:busy", "execute_input", "stream", "execute_result", "status:idle"}) {
		t.Fatalf("iopub %v", got)
	}
	if field[string](t, c.iopub[2], "text") != "from-shell\n" {
		t.Errorf("shell output %s", c.iopub[2].Content)
	}
	if ran := h.engine.ran(); len(ran) != 1 || ran[0] != "\nvalue 1" {
		t.Errorf("engine got %q, want the shell line blanked to keep line numbers", ran)
	}
	c = h.execute("!exit 3")
	if field[string](t, c.reply, "ename") != "ShellError" {
		t.Errorf("failing shell line: %s", c.reply.Content)
	}
	c = h.execute("%help")
	if c.iopub[2].Type() != "display_data" || !strings.Contains(field[map[string]string](t, c.iopub[2], "data")["text/markdown"], "%%other") {
		t.Errorf("%%help: %v", c.types())
	}
}

func TestScriptCells(t *testing.T) {
	h := start(t, kernel.Options{CellMagics: map[string]kernel.Engine{"sh": kernel.Script{Interpreter: "/bin/sh"}}})
	c := h.execute("%help")
	if !strings.Contains(field[map[string]string](t, c.iopub[2], "data")["text/markdown"], "as a `/bin/sh` script") {
		t.Errorf("%%help does not describe %%%%sh")
	}
	c = h.execute("%%sh\necho one\necho two >&2")
	if got := c.types(); !reflect.DeepEqual(got, []string{"status:busy", "execute_input", "stream", "stream", "status:idle"}) {
		t.Fatalf("iopub %v", got)
	}
	// stdout and stderr are two pipes: their relative order is not defined.
	streams := map[string]string{}
	for _, m := range c.iopub[2:4] {
		streams[field[string](t, m, "name")] += field[string](t, m, "text")
	}
	if streams["stdout"] != "one\n" || streams["stderr"] != "two\n" {
		t.Errorf("streams %v", streams)
	}
	c = h.execute("%%sh\necho partial\nexit 4")
	if field[string](t, c.reply, "ename") != "ScriptError" || !strings.Contains(field[string](t, c.reply, "evalue"), "status 4") {
		t.Errorf("failing script: %s", c.reply.Content)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cellCtx, interrupt := context.WithCancel(ctx)
	reply, err := h.client.Execute(cellCtx, "%%sh\necho sleeping\nsleep 60", func(m *jupyter.Message) {
		if m.Type() == "stream" {
			interrupt()
		}
	})
	if err != nil || field[string](t, reply, "ename") != "Interrupted" {
		t.Errorf("interrupted script: %v %s", err, reply.Content)
	}
}

func TestInputRequest(t *testing.T) {
	h := start(t, kernel.Options{})
	h.client.SetInput(func(prompt string, password bool) string { return "answer to " + prompt })
	c := h.execute("input name?")
	if got := field[map[string]string](t, c.iopub[2], "data")["text/plain"]; got != "answer to name?" {
		t.Errorf("input result %q", got)
	}
	h.client.SetInput(nil) // allow_stdin=false
	c = h.execute("input name?")
	if !strings.Contains(field[string](t, c.reply, "evalue"), "does not accept input") {
		t.Errorf("input without stdin: %s", c.reply.Content)
	}
}

func TestShutdownAndRestart(t *testing.T) {
	for _, restart := range []bool{false, true} {
		h := start(t, kernel.Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		r, err := h.client.Request(ctx, h.client.Control, "shutdown_request", map[string]any{"restart": restart})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if field[bool](t, r, "restart") != restart || field[string](t, r, "status") != "ok" {
			t.Errorf("shutdown_reply %s", r.Content)
		}
		select {
		case res := <-h.done:
			if res.err != nil || res.restart != restart {
				t.Errorf("Run returned (%v, %v), want (%v, nil)", res.restart, res.err, restart)
			}
			h.done <- res // for the cleanup
		case <-time.After(10 * time.Second):
			t.Fatal("kernel did not stop after shutdown_request")
		}
	}
}
