package kernel

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/natgo/nat/dsl/display"
	"github.com/natgo/nat/kernel/internal/proc"
)

// cellMagic reports whether code starts with a cell magic line "%%name" (GoNB's own "%%" alone
// is not one) and returns the name and the rest of the cell.
func cellMagic(code string) (name, body string, ok bool) {
	first, rest, _ := strings.Cut(code, "\n")
	first = strings.TrimSpace(first)
	if !strings.HasPrefix(first, "%%") || len(first) == 2 {
		return "", "", false
	}
	fields := strings.Fields(first[2:])
	if len(fields) == 0 {
		return "", "", false
	}
	return fields[0], rest, true
}

func (k *Kernel) magicNames() string {
	var names []string
	for n := range k.opts.CellMagics {
		names = append(names, "%%"+n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// runSpecialLines runs the kernel's line commands of a cell, GoNB style, before the cell's code:
// "!cmd" runs cmd in a shell (a line ending in "\" continues it), "%help" shows help. It returns
// the code with those lines blanked, so that positions in errors still match the cell. A shell
// command that fails fails the cell.
func (k *Kernel) runSpecialLines(ctx context.Context, code string, out Output) (string, error) {
	if !strings.Contains(code, "!") && !strings.Contains(code, "%") {
		return code, nil
	}
	lines := strings.Split(code, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "!"):
			start := i
			cmd := strings.TrimPrefix(line, "!")
			lines[i] = ""
			for strings.HasSuffix(cmd, "\\") && i+1 < len(lines) {
				i++
				cmd = strings.TrimSuffix(cmd, "\\") + "\n" + lines[i]
				lines[i] = ""
			}
			if err := k.shell(ctx, cmd, out); err != nil {
				return "", &CellError{Name: "ShellError", Value: fmt.Sprintf("line %d: !%s: %v", start+1, firstLine(cmd), err),
					Traceback: []string{red("ShellError") + fmt.Sprintf(": line %d: !%s: %v", start+1, firstLine(cmd), err)}}
			}
		case strings.HasPrefix(line, "%") && !strings.HasPrefix(line, "%%"):
			name := strings.Fields(line[1:])
			lines[i] = ""
			if len(name) == 1 && name[0] == "help" {
				out.Display.Publish(k.help(), "", false)
				continue
			}
			return "", &CellError{Name: "UnknownMagic", Value: fmt.Sprintf("line %d: unknown line magic %q", i+1, line),
				Traceback: []string{red("UnknownMagic") + fmt.Sprintf(": line %d: unknown line magic %q (see %%help)", i+1, line)}}
		}
	}
	return strings.Join(lines, "\n"), nil
}

// blankSpecialLines returns code with its "!" and "%" lines blanked, for checks that only
// understand Go.
func blankSpecialLines(code string) string {
	lines := strings.Split(code, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "!") || (strings.HasPrefix(l, "%") && !strings.HasPrefix(l, "%%")) {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n")
}

func firstLine(s string) string {
	l, _, more := strings.Cut(s, "\n")
	if more {
		return l + " ..."
	}
	return l
}

// shell runs one "!" command, streaming its output into the cell; an interrupt kills it.
func (k *Kernel) shell(ctx context.Context, command string, out Output) error {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Dir = k.opts.ShellDir
	cmd.Stdout = out.Stdout
	cmd.Stderr = out.Stderr
	proc.CommandGroup(cmd)          // an interrupt kills the command and what it started
	cmd.WaitDelay = 2 * time.Second // children that keep the pipes open must not hang the cell
	return cmd.Run()
}

// help is the %help text.
func (k *Kernel) help() display.Bundle {
	var b strings.Builder
	b.WriteString("## NAT (Go) kernel\n\n")
	b.WriteString("Cells are Go, evaluated by the NAT DSL session: variables, functions and imports persist from one cell to the next. " +
		"A cell whose last line is an expression shows its value; values with a rich form (tables, plots) display richly.\n\n")
	b.WriteString("| In a cell | Does |\n|---|---|\n")
	b.WriteString("| `!cmd` | runs `cmd` in a shell before the cell's code (a trailing `\\` continues the line); a failing command fails the cell |\n")
	b.WriteString("| `%help` | shows this help |\n")
	for _, n := range strings.Split(k.magicNames(), ", ") {
		if n == "none" {
			break
		}
		if n == "%%gonb" {
			b.WriteString("| `%%gonb` (first line) | runs the rest of the cell as compiled Go in a GoNB kernel, started on first use (GoNB's own `%%`, `!` and `%` commands apply there); values do not persist between such cells; a program that displays just before it exits should end with `gonbui.Sync()` |\n")
			continue
		}
		if sc, ok := k.opts.CellMagics[strings.TrimPrefix(n, "%%")].(Script); ok {
			fmt.Fprintf(&b, "| `%s` (first line) | runs the rest of the cell as a `%s` script; a non-zero exit fails the cell |\n", n, sc.Interpreter)
			continue
		}
		fmt.Fprintf(&b, "| `%s` (first line) | runs the rest of the cell with that engine |\n", n)
	}
	b.WriteString("\nInterrupt (the stop button) cancels the running cell and the work it started; the session survives.\n")
	text := b.String()
	return display.Bundle{display.Markdown: []byte(text), display.TextPlain: []byte(text)}
}
