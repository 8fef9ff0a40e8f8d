package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/natgo/nat/dsl/session"
)

// runScript is `nat run SCRIPT.go [args]`: evaluate a DSL script with the interpreter.
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
	start := time.Now()
	r, err := s.Eval(ctx, string(src), session.WithName(path))
	if err != nil {
		return err // already "file:line:col: message"
	}
	if r.HasValue {
		fmt.Fprintln(e.Stdout, session.Text(r.Value))
	}
	_ = start
	return nil
}
