package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/natgo/nat/dsl/session"
)

// runScript is `nat run SCRIPT.go [args]`: evaluate a DSL script with the interpreter. The
// script is a Go file (its func main runs, with os.Args = SCRIPT.go args... and package flag
// parsing those) or a bare list of statements and declarations like a notebook cell, in which
// case the vocabulary and fmt are imported for it.
func runScript(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", "nat run [--timeout D] SCRIPT.go [args...]")
	timeout := fs.Duration("timeout", 0, "stop the script after this long (0: no limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		fs.Usage()
		return errors.New("run: missing script file")
	}
	path := fs.Arg(0)
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	s, err := session.New(session.Options{
		Stdout: e.Stdout, Stderr: e.Stderr,
		Args:    append([]string{path}, fs.Args()[1:]...),
		Env:     os.Environ(),
		Timeout: *timeout,
	})
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	r, err := s.Eval(ctx, string(src), session.WithName(path), session.WithStdin(os.Stdin))
	var exit *session.ExitError
	if errors.As(err, &exit) {
		if exit.Code == 0 {
			return nil
		}
		return fmt.Errorf("%s: %w", path, exit)
	}
	if err != nil {
		return err // already "file:line:col: message"
	}
	if r.HasValue {
		fmt.Fprintln(e.Stdout, session.Text(r.Value))
	}
	return nil
}
