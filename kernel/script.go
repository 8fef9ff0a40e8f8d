package kernel

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/natgo/nat/dsl/display"
	"github.com/natgo/nat/kernel/internal/proc"
)

// Script is an Engine that runs each cell as a script of an interpreter such as /bin/bash
// (%%bash cells): output streams into the cell, a non-zero exit fails the cell (unlike GoNB's
// %%script), and an interrupt kills the script.
type Script struct {
	// Interpreter is the program that reads the script from its -c argument.
	Interpreter string
	// Dir is the working directory; empty means the kernel's.
	Dir string
}

// Execute runs code with the interpreter.
func (s Script) Execute(ctx context.Context, code string, out Output) (display.Bundle, error) {
	cmd := exec.CommandContext(ctx, s.Interpreter, "-c", code)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = out.Stdout, out.Stderr
	proc.CommandGroup(cmd)          // an interrupt kills the command and what it started
	cmd.WaitDelay = 2 * time.Second // children that keep the pipes open must not hang the cell
	err := cmd.Run()
	if err == nil {
		return nil, nil
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && ctx.Err() == nil {
		msg := fmt.Sprintf("%s exited with status %d", s.Interpreter, exit.ExitCode())
		return nil, &CellError{Name: "ScriptError", Value: msg, Traceback: []string{red("ScriptError") + ": " + msg}}
	}
	return nil, fmt.Errorf("%s: %w", s.Interpreter, err)
}
