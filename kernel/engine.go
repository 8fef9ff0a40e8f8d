package kernel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/natgo/nat/dsl/display"
)

// Engine evaluates the code of notebook cells. The DSL session is the main engine; a GoNB relay
// is another. An engine keeps its state between calls: that is the point of this kernel.
//
// Execute is called for one cell at a time. It writes printed output to out.Stdout and
// out.Stderr, publishes live displays through out.Display, and returns the cell's value as a
// bundle (nil when the cell has no value to show) or an error. When ctx is cancelled (the user
// pressed interrupt) Execute should stop the work it started and return promptly; the kernel
// waits for it. A panic in Execute is recovered and reported as the cell's error.
type Engine interface {
	Execute(ctx context.Context, code string, out Output) (display.Bundle, error)
}

// Output is where a running cell sends what it shows.
type Output struct {
	Stdout io.Writer
	Stderr io.Writer
	// Display shows rich output now; a display with an id can be replaced in place later.
	Display display.Publisher
	// Input asks the user for a line of text. It fails with [ErrNoInput] when the frontend does
	// not accept input (nbconvert, for example) and with ctx's error when the cell is interrupted.
	Input func(ctx context.Context, prompt string, password bool) (string, error)
	// ExecutionCount is the cell's number as the frontend shows it (In [n]), for naming the
	// cell in error positions; 0 for silent executions.
	ExecutionCount int
}

// ErrNoInput is returned by [Output.Input] when the frontend does not accept input.
var ErrNoInput = errors.New("this frontend does not accept input (allow_stdin is false)")

// Completion is the answer to a completion request. Start and End are byte offsets in the code:
// the span that each match replaces.
type Completion struct {
	Matches    []string
	Start, End int
}

// Completer is implemented by engines that complete names. cursor is a byte offset in code.
type Completer interface {
	Complete(code string, cursor int) Completion
}

// Inspector is implemented by engines that document the name under the cursor (a byte offset).
// detail is 0 for a summary and 1 for more. It returns found=false when there is nothing to say.
type Inspector interface {
	Inspect(code string, cursor int, detail int) (doc display.Bundle, found bool)
}

// CompletenessChecker is implemented by engines that know whether code is a complete cell (for
// consoles deciding between running it and adding a line). Status is "complete", "incomplete",
// "invalid" or "unknown"; indent is the indentation for the next line when incomplete. Engines
// that do not implement it get [GoCompleteness].
type CompletenessChecker interface {
	IsComplete(code string) (status, indent string)
}

// CellError is an error shaped as Jupyter shows it: a name, a value and traceback lines (which may
// carry ANSI colours). Engines return it (possibly wrapped) to control what the user sees; any
// other error is shown with the name "Error" and its message as the traceback.
type CellError struct {
	Name      string
	Value     string
	Traceback []string
}

// Error returns "Name: Value".
func (e *CellError) Error() string { return e.Name + ": " + e.Value }

// cellError converts any error returned by an engine into the fields of an error message.
func cellError(err error) *CellError {
	var ce *CellError
	if errors.As(err, &ce) {
		out := *ce
		if out.Name == "" {
			out.Name = "Error"
		}
		if len(out.Traceback) == 0 {
			out.Traceback = []string{out.Error()}
		}
		return &out
	}
	msg := err.Error()
	return &CellError{
		Name:      "Error",
		Value:     msg,
		Traceback: append([]string{red("Error")}, strings.Split(msg, "\n")...),
	}
}

// red wraps s in the ANSI colour Jupyter frontends use for error names.
func red(s string) string { return "\x1b[0;31m" + s + "\x1b[0m" }

// panicError reports a panic that escaped an engine.
func panicError(v any, stack []byte) *CellError {
	return &CellError{
		Name:      "panic",
		Value:     fmt.Sprint(v),
		Traceback: append([]string{red("panic") + ": " + fmt.Sprint(v), ""}, strings.Split(strings.TrimRight(string(stack), "\n"), "\n")...),
	}
}
