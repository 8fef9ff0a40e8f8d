package dsl

import (
	"errors"
	"fmt"
)

// ErrNotBuilt is wrapped by every error that reports a part of the engine that does not exist
// yet. Test for it with errors.Is.
var ErrNotBuilt = errors.New("not built yet")

func notBuilt(what string) error {
	return fmt.Errorf("%s: %w (see dsl/README.md, 'What works today')", what, ErrNotBuilt)
}

// UsageError is the panic value of a vocabulary function given a wrong argument: an empty
// search space, an unknown preset, contradictory constraints. Declarations are checked as they
// are made, so that the error points at the line that made the mistake (in a session, the
// line:column of the call; compiled, the panic's stack trace).
type UsageError struct {
	Func string // the vocabulary function, e.g. "Space.WithDepths"
	Msg  string
}

func (e *UsageError) Error() string { return e.Func + ": " + e.Msg }

// misuse panics with a UsageError.
func misuse(fn, format string, args ...any) {
	panic(&UsageError{Func: fn, Msg: fmt.Sprintf(format, args...)})
}
