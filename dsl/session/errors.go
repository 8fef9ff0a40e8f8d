package session

import (
	"context"
	"errors"
	"fmt"
	"go/scanner"
	"go/token"
	"regexp"
	"strconv"
	"strings"
)

// Kind classifies an evaluation error.
type Kind int

const (
	// Syntax: the cell is not valid Go.
	Syntax Kind = iota + 1
	// Compile: the cell parses but the interpreter rejects it (types, undefined names, ...).
	Compile
	// Runtime: the cell panicked while running (including the vocabulary's own panics).
	Runtime
	// Canceled: the evaluation's context was canceled or its deadline passed.
	Canceled
	// Unsupported: the cell uses a construct the interpreter cannot run (see the DSL's limits).
	Unsupported
)

func (k Kind) String() string {
	switch k {
	case Syntax:
		return "syntax error"
	case Compile:
		return "compile error"
	case Runtime:
		return "runtime error"
	case Canceled:
		return "canceled"
	case Unsupported:
		return "unsupported by the interpreter"
	}
	return "error"
}

// Error is an evaluation error located in the user's own source. Pos is the position of the
// error (for a run-time panic, where it was raised in the user's code); Trace lists, for a
// run-time panic, the calls that led there, innermost first, starting with Pos.
type Error struct {
	Kind  Kind
	Pos   token.Position // zero when no position is known
	Msg   string
	Trace []token.Position
	// More holds further errors of the same evaluation (go/parser reports several).
	More []*Error
	// Value is the value passed to panic, for run-time errors.
	Value any
	// GoStack is the Go stack of a panic that has no position in the user's code (a failure of
	// the interpreter or of compiled code it called), for bug reports.
	GoStack []byte
	err     error // the underlying error, for errors.Is / errors.As
}

// Error formats the error as file:line:col: message, the way the Go tools do.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.IsValid() {
		b.WriteString(e.Pos.String())
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	for _, p := range traceAfterFirst(e) {
		fmt.Fprintf(&b, "\n\tcalled from %s", p)
	}
	for _, m := range e.More {
		b.WriteString("\n")
		b.WriteString(m.Error())
	}
	return b.String()
}

func traceAfterFirst(e *Error) []token.Position {
	if len(e.Trace) <= 1 {
		return nil
	}
	return e.Trace[1:]
}

// Unwrap gives access to the underlying error (a context error for Canceled, the panic value
// when it is an error).
func (e *Error) Unwrap() error { return e.err }

// posRE matches the "file:line:col: " prefix of yaegi's compile errors and panic trace lines.
var posRE = regexp.MustCompile(`^(.*?):(\d+):(\d+): `)

// bareLineColRE matches a "line:col: " prefix with no file name.
var bareLineColRE = regexp.MustCompile(`^\d+:\d+: `)

// splitPos parses a leading "file:line:col: " off s.
func splitPos(s string) (token.Position, string, bool) {
	m := posRE.FindStringSubmatchIndex(s)
	if m == nil {
		return token.Position{}, s, false
	}
	line, _ := strconv.Atoi(s[m[4]:m[5]])
	col, _ := strconv.Atoi(s[m[6]:m[7]])
	return token.Position{Filename: s[m[2]:m[3]], Line: line, Column: col}, s[m[1]:], true
}

// syntaxError converts go/parser's error list.
func syntaxError(err error) *Error {
	var list scanner.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return &Error{Kind: Syntax, Msg: err.Error(), err: err}
	}
	conv := func(e *scanner.Error) *Error {
		return &Error{Kind: Syntax, Pos: e.Pos, Msg: "syntax error: " + e.Msg, err: err}
	}
	first := conv(list[0])
	for i, e := range list[1:] {
		if i >= 9 {
			break
		}
		first.More = append(first.More, conv(e))
	}
	return first
}

// compileError converts an error of yaegi's compiler ("file:line:col: message").
func compileError(err error) *Error {
	msg := err.Error()
	pos, rest, ok := splitPos(msg)
	if !ok {
		// "line:col: message" without a file is a position in the interpreter's own source.
		if m := bareLineColRE.FindStringIndex(msg); m != nil {
			msg = msg[m[1]:]
		}
		return &Error{Kind: Compile, Msg: explainCompile(msg), err: err}
	}
	return &Error{Kind: Compile, Pos: pos, Msg: explainCompile(rest), err: err}
}

// explainCompile rewords the interpreter messages that confuse users most.
func explainCompile(msg string) string {
	switch {
	case msg == "undefined: min" || msg == "undefined: max" || msg == "undefined: clear":
		return msg + " (the interpreter, yaegi v0.16.1, lacks Go 1.21's builtins min, max and clear: use math.Min/math.Max or a loop; delete the keys or make a new map)"
	case strings.HasPrefix(msg, "undefined selector: slices.") || strings.HasPrefix(msg, "undefined selector: maps."):
		return msg + " (the interpreter, yaegi v0.16.1, has only part of the generic slices and maps packages: use package sort or a loop)"
	case strings.HasPrefix(msg, "undefined: "):
		return msg
	case strings.HasPrefix(msg, "cannot convert ") && !strings.Contains(msg, "\n"):
		// yaegi's wording for an assignment or argument of the wrong type.
		if x, t, ok := strings.Cut(strings.TrimPrefix(msg, "cannot convert "), " to "); ok {
			return fmt.Sprintf("cannot use %s as %s value", x, t)
		}
		return msg
	case strings.Contains(msg, "redeclared in this block"):
		return msg + " (a name can be declared once per session; assign with = to change it)"
	}
	return msg
}

func canceledError(err error, pos token.Position) *Error {
	msg := "evaluation canceled while running this statement"
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "evaluation stopped: time limit exceeded while running this statement"
	}
	return &Error{Kind: Canceled, Pos: pos, Msg: msg, err: err}
}

// syntaxError converts a go/parser error of one of the cell's units. An error found at the
// closing brace the session adds around statements is an unexpected end of the cell: it is
// reported just after the cell's last character.
func (s *Session) syntaxError(err error, src string) *Error {
	e := syntaxError(err)
	for _, x := range append([]*Error{e}, e.More...) {
		if x.Pos.IsValid() && beyondEnd(x.Pos, src) {
			x.Pos = endPos(x.Pos.Filename, src)
			x.Msg = strings.ReplaceAll(x.Msg, "found '}'", "found end of cell")
			x.Msg = strings.ReplaceAll(x.Msg, "found 'EOF'", "found end of cell")
		}
	}
	return e
}

// beyondEnd reports whether pos lies after the end of src.
func beyondEnd(pos token.Position, src string) bool {
	end := endPos(pos.Filename, src)
	return pos.Line > end.Line || (pos.Line == end.Line && pos.Column > end.Column)
}

// endPos is the position just after the last non-blank character of src.
func endPos(name, src string) token.Position {
	t := strings.TrimRight(src, " \t\r\n")
	line := 1 + strings.Count(t, "\n")
	col := len(t) - strings.LastIndex(t, "\n")
	return token.Position{Filename: name, Line: line, Column: col}
}
