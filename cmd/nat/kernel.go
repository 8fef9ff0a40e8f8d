package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/natgo/nat/dsl/session"
	"github.com/natgo/nat/kernel"
	"github.com/natgo/nat/kernel/dslengine"
	"github.com/natgo/nat/kernel/gonb"
	"github.com/natgo/nat/kernel/jupyter"
)

// natModule is this project's module path, used to find its checkout (for `go tool gonb`).
const natModule = "github.com/natgo/nat"

func runKernelInstall(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "nat kernel install", "nat kernel install [--user | --prefix DIR] [--name nat] [--binary PATH]")
	user := fs.Bool("user", false, "install for the current user ($JUPYTER_DATA_DIR or ~/.local/share/jupyter) instead of system-wide (/usr/local/share/jupyter)")
	prefix := fs.String("prefix", "", "install under `DIR`/share/jupyter/kernels (for example a virtual environment's prefix)")
	name := fs.String("name", "nat", "kernelspec `name` (the directory under kernels/)")
	binary := fs.String("binary", "", "`path` of the nat binary the kernelspec starts (default: this binary)")
	moduleDir := fs.String("module-dir", "", "`directory` of the NAT checkout, where %%gonb cells find GoNB with `go tool gonb` (default: the checkout enclosing the working directory, if any)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("nat kernel install: unexpected argument %q", fs.Arg(0))
	}
	bin := *binary
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("nat kernel install: finding this binary: %w", err)
		}
		if strings.Contains(exe, string(filepath.Separator)+"go-build") {
			return errors.New("nat kernel install: this nat was started by `go run` and will be deleted; build it first:\n" +
				"\tgo build -o bin/nat ./cmd/nat && bin/nat kernel install --user")
		}
		bin = exe
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		return fmt.Errorf("nat kernel install: binary %s: not a file", bin)
	}
	env := map[string]string{}
	mod := *moduleDir
	if mod == "" {
		if wd, err := os.Getwd(); err == nil {
			mod = findModule(wd, natModule)
		}
	}
	if mod != "" {
		if mod, err = filepath.Abs(mod); err != nil {
			return err
		}
		env["NAT_MODULE_DIR"] = mod
	}
	dir, err := kernel.SpecDir(*name, *user, *prefix)
	if err != nil {
		return fmt.Errorf("nat kernel install: %w", err)
	}
	if err := kernel.NewSpec(bin, env).Install(dir); err != nil {
		return fmt.Errorf("nat kernel install: %w", err)
	}
	fmt.Fprintf(e.Stdout, "installed kernelspec %q (NAT (Go)) in %s\n  starts: %s kernel start --connection-file {connection_file}\n", *name, dir, bin)
	if mod == "" {
		fmt.Fprintf(e.Stdout, "  note: no NAT checkout found; %s cells need NAT_MODULE_DIR or a gonb binary on PATH (NAT_GONB)\n", "%%gonb")
	}
	return nil
}

// findModule returns the directory at or above dir whose go.mod declares module path, or "".
func findModule(dir, path string) string {
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" && fields[1] == path {
					f.Close()
					return dir
				}
			}
			f.Close()
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func runKernelStart(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "nat kernel start", "nat kernel start --connection-file FILE (Jupyter runs this; see nat kernel install)")
	connFile := fs.String("connection-file", "", "Jupyter connection `file` (ports and key)")
	verbose := fs.Bool("verbose", false, "log GoNB's own messages to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *connFile == "" && fs.NArg() == 1 {
		*connFile = fs.Arg(0)
	}
	if *connFile == "" {
		fs.Usage()
		return errors.New("nat kernel start: missing --connection-file")
	}
	ci, err := jupyter.ReadConnectionFile(*connFile)
	if err != nil {
		return fmt.Errorf("nat kernel start: %w", err)
	}

	engine, err := dslengine.New(session.Options{Args: []string{"nat"}, Env: os.Environ()})
	if err != nil {
		return fmt.Errorf("nat kernel start: %w", err)
	}
	// Inspecting a vocabulary name shows its doc comment, read from the DSL's source in the NAT
	// checkout (the compiled symbols carry none); without a checkout, the signature only.
	moduleDir := os.Getenv("NAT_MODULE_DIR")
	if moduleDir == "" {
		if wd, err := os.Getwd(); err == nil {
			moduleDir = findModule(wd, natModule)
		}
	}
	if moduleDir != "" {
		if docs, err := dslengine.LoadDocs(filepath.Join(moduleDir, "dsl")); err == nil {
			engine.SetDocs(docs)
		} else {
			fmt.Fprintf(e.Stderr, "nat kernel: vocabulary documentation unavailable: %v\n", err)
		}
	}
	var gonbLog io.Writer
	if *verbose {
		gonbLog = e.Stderr
	}
	relay := gonb.New(gonb.Options{Log: gonbLog, ModuleDir: moduleDir})

	// The kernel outlives the SIGINT that cancels ctx: SIGINT interrupts the running cell, as in
	// every Jupyter kernel; SIGTERM and shutdown_request stop it.
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	k, err := kernel.New(runCtx, ci, kernel.Options{
		Engine: engine,
		CellMagics: map[string]kernel.Engine{
			"gonb": relay,
			"bash": kernel.Script{Interpreter: "bash"},
			"sh":   kernel.Script{Interpreter: "sh"},
		},
		Log: e.Stderr,
		Info: kernel.Info{
			Implementation: "nat",
			Banner: "NAT (Go): Neural Architecture Transfer. Cells are Go evaluated by a persistent DSL session; " +
				"%%gonb runs a cell as compiled Go in GoNB; %help for more.",
			HelpLinks: []kernel.HelpLink{{Text: "GoNB", URL: "https://github.com/janpfeifer/gonb"}},
		},
	})
	if err != nil {
		return fmt.Errorf("nat kernel start: %w", err)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			if s == os.Interrupt {
				k.Interrupt()
				continue
			}
			stop()
			return
		}
	}()
	if _, err := k.Run(runCtx); err != nil {
		return fmt.Errorf("nat kernel start: %w", err)
	}
	return nil
}
