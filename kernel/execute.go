package kernel

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/natgo/nat/dsl/display"
	"github.com/natgo/nat/kernel/jupyter"
)

// executeRequest is the content of an execute_request.
type executeRequest struct {
	Code         string `json:"code"`
	Silent       bool   `json:"silent"`
	StoreHistory *bool  `json:"store_history"`
	AllowStdin   bool   `json:"allow_stdin"`
	StopOnError  *bool  `json:"stop_on_error"`
}

// execute runs one execute_request and reports whether queued cells should be aborted.
func (k *Kernel) execute(m *jupyter.Message) (abort bool) {
	var req executeRequest
	if err := m.Decode(&req); err != nil {
		k.log.Print(err)
		k.reply(k.sockets.Shell, m, "execute_reply", map[string]any{
			"status": "error", "execution_count": k.execCount,
			"ename": "BadRequest", "evalue": err.Error(), "traceback": []string{err.Error()},
		})
		return false
	}
	storeHistory := req.StoreHistory == nil || *req.StoreHistory
	if !req.Silent && storeHistory {
		k.execCount++
	}
	count := k.execCount
	if !req.Silent {
		k.publish(m, "execute_input", map[string]any{"code": req.Code, "execution_count": count})
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	k.mu.Lock()
	k.cancelCell = cancel
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		k.cancelCell = nil
		k.mu.Unlock()
		cancel(nil)
	}()

	out := newCellOutput(k, m, req.Silent)
	output := out.output(ctx, req.AllowStdin)
	if !req.Silent {
		output.ExecutionCount = count
	}
	result, err := k.run(ctx, req.Code, output)
	out.flush()
	if err != nil {
		ce := cellError(err)
		if errors.Is(context.Cause(ctx), ErrInterrupted) && ce.Name == "Error" {
			ce = &CellError{Name: "Interrupted", Value: err.Error(),
				Traceback: []string{red("Interrupted") + ": " + err.Error()}}
		}
		if !req.Silent {
			k.publish(m, "error", map[string]any{"ename": ce.Name, "evalue": ce.Value, "traceback": ce.Traceback})
		}
		k.reply(k.sockets.Shell, m, "execute_reply", map[string]any{
			"status": "error", "execution_count": count,
			"ename": ce.Name, "evalue": ce.Value, "traceback": ce.Traceback,
		})
		return req.StopOnError == nil || *req.StopOnError
	}
	if len(result) > 0 && !req.Silent {
		k.publish(m, "execute_result", map[string]any{
			"execution_count": count, "data": EncodeBundle(result), "metadata": map[string]any{},
		})
	}
	k.reply(k.sockets.Shell, m, "execute_reply", map[string]any{
		"status": "ok", "execution_count": count, "payload": []any{}, "user_expressions": map[string]any{},
	})
	return false
}

// run routes a cell to its engine and turns a panic into the cell's error.
func (k *Kernel) run(ctx context.Context, code string, out Output) (result display.Bundle, err error) {
	defer func() {
		if v := recover(); v != nil {
			result, err = nil, panicError(v, debug.Stack())
		}
	}()
	name, body, isMagic := cellMagic(code)
	if isMagic {
		e, ok := k.opts.CellMagics[name]
		if !ok {
			return nil, &CellError{Name: "UnknownMagic", Value: fmt.Sprintf("unknown cell magic %%%%%s", name),
				Traceback: []string{red("UnknownMagic") + fmt.Sprintf(": unknown cell magic %%%%%s; known: %s (see %%help)", name, k.magicNames())}}
		}
		return e.Execute(ctx, body, out)
	}
	code, err = k.runSpecialLines(ctx, code, out)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(code) == "" {
		return nil, nil
	}
	return k.opts.Engine.Execute(ctx, code, out)
}

// streamFlushDelay bounds how long printed text waits before it is sent, so that a loop printing
// many short lines sends a few stream messages instead of thousands.
const streamFlushDelay = 30 * time.Millisecond

// cellOutput turns one cell's writes and displays into iopub messages, in order: text pending on
// one stream is sent before text on the other stream and before any display.
type cellOutput struct {
	k      *Kernel
	parent *jupyter.Message
	silent bool

	mu     sync.Mutex
	stream string // stream of the pending text
	buf    []byte
	timer  *time.Timer
}

func newCellOutput(k *Kernel, parent *jupyter.Message, silent bool) *cellOutput {
	return &cellOutput{k: k, parent: parent, silent: silent}
}

func (o *cellOutput) output(ctx context.Context, allowStdin bool) Output {
	return Output{
		Stdout:  streamWriter{o, "stdout"},
		Stderr:  streamWriter{o, "stderr"},
		Display: o,
		Input: func(ictx context.Context, prompt string, password bool) (string, error) {
			o.flush()
			if ictx == nil {
				ictx = ctx
			}
			return o.k.input(ictx, o.parent, allowStdin, prompt, password)
		},
	}
}

type streamWriter struct {
	o    *cellOutput
	name string
}

func (w streamWriter) Write(p []byte) (int, error) {
	o := w.o
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stream != w.name {
		o.flushLocked()
		o.stream = w.name
	}
	o.buf = append(o.buf, p...)
	if o.timer == nil {
		o.timer = time.AfterFunc(streamFlushDelay, o.flush)
	}
	return len(p), nil
}

func (o *cellOutput) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
}

func (o *cellOutput) flushLocked() {
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
	if len(o.buf) == 0 {
		return
	}
	text := string(o.buf)
	o.buf = o.buf[:0]
	if o.silent {
		return
	}
	o.k.publish(o.parent, "stream", map[string]any{"name": o.stream, "text": text})
}

// Publish implements display.Publisher: display_data, or update_display_data for an id already
// shown.
func (o *cellOutput) Publish(b display.Bundle, id string, update bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
	if o.silent {
		return
	}
	content := map[string]any{"data": EncodeBundle(b), "metadata": map[string]any{}, "transient": map[string]any{}}
	msgType := "display_data"
	if id != "" {
		content["transient"] = map[string]any{"display_id": id}
		o.k.mu.Lock()
		known := o.k.displayIDs[id]
		o.k.displayIDs[id] = true
		o.k.mu.Unlock()
		if update && known {
			msgType = "update_display_data"
		}
	}
	o.k.publish(o.parent, msgType, content)
}

func (k *Kernel) isComplete(m *jupyter.Message) map[string]any {
	var req struct {
		Code string `json:"code"`
	}
	if err := m.Decode(&req); err != nil {
		return map[string]any{"status": "unknown"}
	}
	engine, body, offset := k.engineFor(req.Code)
	if engine == nil {
		return map[string]any{"status": "invalid"}
	}
	if offset == 0 {
		body = blankSpecialLines(body)
	}
	var status, indent string
	if c, ok := engine.(CompletenessChecker); ok {
		status, indent = c.IsComplete(body)
	} else {
		status, indent = GoCompleteness(body)
	}
	r := map[string]any{"status": status}
	if status == "incomplete" {
		r["indent"] = indent
	}
	return r
}

func (k *Kernel) complete(m *jupyter.Message) map[string]any {
	var req struct {
		Code   string `json:"code"`
		Cursor int    `json:"cursor_pos"`
	}
	_ = m.Decode(&req)
	cursor := byteOffset(req.Code, req.Cursor)
	reply := map[string]any{"status": "ok", "matches": []string{}, "cursor_start": req.Cursor,
		"cursor_end": req.Cursor, "metadata": map[string]any{}}
	engine, body, skip := k.engineFor(req.Code)
	c, ok := engine.(Completer)
	if !ok || cursor < skip {
		return reply
	}
	comp := c.Complete(body, cursor-skip)
	if comp.Matches == nil {
		comp.Matches = []string{}
	}
	reply["matches"] = comp.Matches
	reply["cursor_start"] = runeOffset(req.Code, comp.Start+skip)
	reply["cursor_end"] = runeOffset(req.Code, comp.End+skip)
	return reply
}

func (k *Kernel) inspect(m *jupyter.Message) map[string]any {
	var req struct {
		Code   string `json:"code"`
		Cursor int    `json:"cursor_pos"`
		Detail int    `json:"detail_level"`
	}
	_ = m.Decode(&req)
	reply := map[string]any{"status": "ok", "found": false, "data": map[string]any{}, "metadata": map[string]any{}}
	cursor := byteOffset(req.Code, req.Cursor)
	engine, body, skip := k.engineFor(req.Code)
	in, ok := engine.(Inspector)
	if !ok || cursor < skip {
		return reply
	}
	doc, found := in.Inspect(body, cursor-skip, req.Detail)
	if found && len(doc) > 0 {
		reply["found"] = true
		reply["data"] = EncodeBundle(doc)
	}
	return reply
}

// engineFor returns the engine for a cell, the code it sees and the byte offset of that code in
// the cell. The engine is nil for an unknown cell magic.
func (k *Kernel) engineFor(code string) (e Engine, body string, offset int) {
	name, body, isMagic := cellMagic(code)
	if !isMagic {
		return k.opts.Engine, code, 0
	}
	return k.opts.CellMagics[name], body, len(code) - len(body)
}
