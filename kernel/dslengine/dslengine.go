// Package dslengine connects the notebook kernel to the DSL: it adapts a dsl/session.Session,
// the persistent yaegi interpreter, to kernel.Engine, and shapes the session's positioned errors
// into Jupyter's error messages (name, value, and a traceback that quotes the offending line).
package dslengine

import (
	"context"
	"errors"
	"fmt"
	"go/token"
	"strings"
	"sync"

	"github.com/natgo/nat/dsl/display"
	"github.com/natgo/nat/dsl/session"
	"github.com/natgo/nat/kernel"
)

// Engine evaluates notebook cells in one DSL session, so that values, functions and imports
// persist from cell to cell.
type Engine struct {
	s    *session.Session
	docs *Docs // vocabulary documentation, or nil

	mu      sync.Mutex
	sources map[string]string // cell name -> source, to quote any cell a traceback points into
}

var (
	_ kernel.Engine    = (*Engine)(nil)
	_ kernel.Completer = (*Engine)(nil)
	_ kernel.Inspector = (*Engine)(nil)
)

// New starts a session with opts (its Stdout, Stderr and Publisher are replaced per cell by the
// kernel's).
func New(opts session.Options) (*Engine, error) {
	opts.Stdout, opts.Stderr, opts.Publisher = nil, nil, nil
	s, err := session.New(opts)
	if err != nil {
		return nil, err
	}
	return &Engine{s: s, sources: map[string]string{}}, nil
}

// SetDocs makes Inspect show the doc comments in docs (see LoadDocs) beside the session's
// description of a name. Call it before serving.
func (e *Engine) SetDocs(docs *Docs) { e.docs = docs }

// Session returns the underlying session.
func (e *Engine) Session() *session.Session { return e.s }

// CellName is how a cell is named in error positions: "In[3]" for the cell shown as In [3].
func CellName(count int) string {
	if count <= 0 {
		return "In[-]"
	}
	return fmt.Sprintf("In[%d]", count)
}

// Execute evaluates one cell, streaming its output and displays to out, and returns the display
// of its final expression's value, if any.
func (e *Engine) Execute(ctx context.Context, code string, out kernel.Output) (display.Bundle, error) {
	name := CellName(out.ExecutionCount)
	e.mu.Lock()
	e.sources[name] = code
	e.mu.Unlock()
	res, err := e.s.Eval(ctx, code,
		session.WithName(name),
		session.WithOutput(out.Stdout, out.Stderr),
		session.WithPublisher(out.Display))
	if err != nil {
		e.mu.Lock()
		defer e.mu.Unlock()
		return nil, cellError(ctx, err, e.sources)
	}
	return res.Display(), nil
}

// Complete lists the session's names that complete the identifier at cursor.
func (e *Engine) Complete(code string, cursor int) kernel.Completion {
	c := e.s.Complete(code, cursor)
	return kernel.Completion{Matches: c.Matches, Start: c.Start, End: c.End}
}

// Inspect describes the name at cursor: its kind and type, or a session value's current value,
// and for a vocabulary name its documentation.
func (e *Engine) Inspect(code string, cursor int, detail int) (display.Bundle, bool) {
	desc := e.s.Inspect(code, cursor)
	var decl, text string
	var documented bool
	if name := identAt(code, cursor); name != "" && (desc == "" || !strings.Contains(desc, " = ")) {
		// Session values (described with " = value") are the user's, not the vocabulary's.
		decl, text, documented = e.docs.Lookup(name)
	}
	if desc == "" && !documented {
		return nil, false
	}
	head := desc
	if head == "" || (decl != "" && !strings.Contains(decl, "\n")) {
		head = decl
	}
	plain := strings.TrimSpace(head + "\n\n" + text)
	md := "```go\n" + head + "\n```\n"
	if text != "" {
		md += "\n" + text + "\n"
	}
	return display.Bundle{display.TextPlain: []byte(plain), display.Markdown: []byte(md)}, true
}

// errorNames are the enames of session errors by kind.
var errorNames = map[session.Kind]string{
	session.Syntax:      "SyntaxError",
	session.Compile:     "CompileError",
	session.Runtime:     "RuntimeError",
	session.Canceled:    "Canceled",
	session.Unsupported: "Unsupported",
}

// cellError turns a session error into a Jupyter error: the name of its kind, its message with
// line:column, and a traceback quoting each position's source line (from whichever cell it is
// in) with a caret under the column.
func cellError(ctx context.Context, err error, sources map[string]string) *kernel.CellError {
	var se *session.Error
	if !errors.As(err, &se) {
		msg := err.Error()
		return &kernel.CellError{Name: "Error", Value: msg, Traceback: append([]string{red("Error")}, strings.Split(msg, "\n")...)}
	}
	name := errorNames[se.Kind]
	if name == "" {
		name = "Error"
	}
	if se.Kind == session.Canceled && errors.Is(context.Cause(ctx), kernel.ErrInterrupted) {
		name = "Interrupted"
	}
	value := firstLine(se.Error())
	tb := []string{red(name) + ": " + value}
	tb = append(tb, quote(se.Pos, sources)...)
	for i, p := range se.Trace {
		if i == 0 {
			continue // Pos
		}
		tb = append(tb, "called from "+p.String())
		tb = append(tb, quote(p, sources)...)
	}
	for _, m := range se.More {
		tb = append(tb, red(name)+": "+firstLine(m.Error()))
		tb = append(tb, quote(m.Pos, sources)...)
	}
	return &kernel.CellError{Name: name, Value: value, Traceback: tb}
}

// quote returns the source line at pos and a caret under its column, when pos is in a cell.
func quote(pos token.Position, sources map[string]string) []string {
	code, ok := sources[pos.Filename]
	if !pos.IsValid() || !ok {
		return nil
	}
	lines := strings.Split(code, "\n")
	if pos.Line < 1 || pos.Line > len(lines) {
		return nil
	}
	line := strings.ReplaceAll(lines[pos.Line-1], "\t", "    ")
	prefix := fmt.Sprintf("%4d | ", pos.Line)
	col := pos.Column - 1
	raw := lines[pos.Line-1]
	if col > len(raw) {
		col = len(raw)
	}
	if col < 0 {
		col = 0
	}
	// The caret's offset counts tabs as four columns, as the quoted line shows them.
	width := len([]rune(strings.ReplaceAll(raw[:col], "\t", "    ")))
	return []string{prefix + line, strings.Repeat(" ", len(prefix)+width) + "\x1b[0;31m^\x1b[0m"}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func red(s string) string { return "\x1b[0;31m" + s + "\x1b[0m" }
