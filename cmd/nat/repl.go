package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"

	"github.com/natgo/nat/dsl/session"
)

// runREPL is `nat repl`: a small interactive prompt over one DSL session. Input that is not
// complete yet (an open brace, a dangling operator) continues on the next line.
func runREPL(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "repl", "nat repl [--timeout D]")
	timeout := fs.Duration("timeout", 0, "stop each evaluation after this long (0: no limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := session.New(session.Options{Stdout: e.Stdout, Stderr: e.Stderr, Env: os.Environ(), Timeout: *timeout})
	if err != nil {
		return fmt.Errorf("repl: %w", err)
	}
	// Ctrl-C interrupts the running evaluation, not the prompt: evaluations run under their own
	// contexts, canceled by this handler (the program's context is canceled by the first Ctrl-C
	// for good, which suits one-shot verbs, not a prompt).
	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, os.Interrupt)
	defer signal.Stop(interrupts)
	var mu sync.Mutex
	var cancelRunning context.CancelFunc
	go func() {
		for range interrupts {
			mu.Lock()
			if cancelRunning != nil {
				cancelRunning()
			}
			mu.Unlock()
		}
	}()
	evalCtx := func() (context.Context, context.CancelFunc) {
		c, cancel := context.WithCancel(context.Background())
		mu.Lock()
		cancelRunning = cancel
		mu.Unlock()
		return c, cancel
	}
	return repl(evalCtx, s, os.Stdin, e)
}

// repl reads cells from in and evaluates them, each under a context from newCtx.
func repl(newCtx func() (context.Context, context.CancelFunc), s *session.Session, in io.Reader, e *env) error {
	fmt.Fprintln(e.Stdout, `NAT DSL (yaegi). The vocabulary is imported (. "github.com/natgo/nat/dsl"); Ctrl-C interrupts a cell, Ctrl-D quits.`)
	sc := bufio.NewScanner(in)
	var buf strings.Builder
	prompt := "nat> "
	for {
		fmt.Fprint(e.Stdout, prompt)
		if !sc.Scan() {
			fmt.Fprintln(e.Stdout)
			return sc.Err()
		}
		buf.WriteString(sc.Text())
		buf.WriteString("\n")
		src := buf.String()
		if strings.TrimSpace(src) == "" {
			buf.Reset()
			continue
		}
		ctx, cancel := newCtx()
		r, err := s.Eval(ctx, src, session.WithName("repl"))
		cancel()
		var se *session.Error
		if errors.As(err, &se) && se.Kind == session.Syntax && incomplete(se) {
			prompt = "...  "
			continue
		}
		buf.Reset()
		prompt = "nat> "
		if err != nil {
			fmt.Fprintln(e.Stderr, err)
			continue
		}
		if r.HasValue {
			fmt.Fprintln(e.Stdout, session.Text(r.Value))
		}
	}
}

// incomplete reports whether a syntax error only says that the input stops too early.
func incomplete(e *session.Error) bool {
	for _, x := range append([]*session.Error{e}, e.More...) {
		if strings.Contains(x.Msg, "end of cell") || strings.Contains(x.Msg, "EOF") ||
			strings.Contains(x.Msg, "not terminated") {
			return true
		}
	}
	return false
}
