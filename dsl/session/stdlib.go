package session

import (
	"flag"
	"fmt"
	"io"
	"reflect"
	"time"

	"github.com/traefik/yaegi/interp"
)

// ExitError is returned by Eval when the code called os.Exit: the evaluation stops there, and
// the process (a notebook kernel, nat run) is left to decide what an exit means.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode is the status the script asked for; the nat command exits with it.
func (e *ExitError) ExitCode() int { return e.Code }

// exitPanic is the panic value os.Exit raises inside the session.
type exitPanic struct{ code int }

// stdlibOverrides binds to the session the standard library functions that would otherwise act
// on the whole process: os.Exit (it would end a notebook kernel) and package flag (its
// functions would parse the process's own command line, not the script's arguments).
func stdlibOverrides(args []string, stderr io.Writer) interp.Exports {
	name := "script"
	if len(args) > 0 {
		name = args[0]
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var rest []string
	if len(args) > 1 {
		rest = args[1:]
	}
	parse := func() {
		if err := fs.Parse(rest); err != nil {
			if err == flag.ErrHelp {
				panic(exitPanic{0})
			}
			panic(exitPanic{2})
		}
	}
	return interp.Exports{
		"os/os": {
			"Exit": reflect.ValueOf(func(code int) { panic(exitPanic{code}) }),
		},
		"flag/flag": {
			"CommandLine":   reflect.ValueOf(&fs).Elem(),
			"Parse":         reflect.ValueOf(parse),
			"Parsed":        reflect.ValueOf(fs.Parsed),
			"Args":          reflect.ValueOf(fs.Args),
			"Arg":           reflect.ValueOf(fs.Arg),
			"NArg":          reflect.ValueOf(fs.NArg),
			"NFlag":         reflect.ValueOf(fs.NFlag),
			"Set":           reflect.ValueOf(fs.Set),
			"Lookup":        reflect.ValueOf(fs.Lookup),
			"Visit":         reflect.ValueOf(fs.Visit),
			"VisitAll":      reflect.ValueOf(fs.VisitAll),
			"PrintDefaults": reflect.ValueOf(fs.PrintDefaults),
			"Var":           reflect.ValueOf(fs.Var),
			"Func":          reflect.ValueOf(fs.Func),
			"Bool":          reflect.ValueOf(fs.Bool),
			"BoolVar":       reflect.ValueOf(fs.BoolVar),
			"Int":           reflect.ValueOf(fs.Int),
			"IntVar":        reflect.ValueOf(fs.IntVar),
			"Int64":         reflect.ValueOf(fs.Int64),
			"Int64Var":      reflect.ValueOf(fs.Int64Var),
			"Uint":          reflect.ValueOf(fs.Uint),
			"UintVar":       reflect.ValueOf(fs.UintVar),
			"Uint64":        reflect.ValueOf(fs.Uint64),
			"Uint64Var":     reflect.ValueOf(fs.Uint64Var),
			"Float64":       reflect.ValueOf(fs.Float64),
			"Float64Var":    reflect.ValueOf(fs.Float64Var),
			"String":        reflect.ValueOf(fs.String),
			"StringVar":     reflect.ValueOf(fs.StringVar),
			"Duration":      reflect.ValueOf(fs.Duration),
			"DurationVar": reflect.ValueOf(func(p *time.Duration, name string, value time.Duration, usage string) {
				fs.DurationVar(p, name, value, usage)
			}),
		},
	}
}
