// Package session evaluates DSL code with yaegi, the Go interpreter, the way a notebook does:
// cell after cell, in one persistent state.
//
// A cell may mix import declarations, other declarations and statements in any order; a cell
// that ends with an expression yields its value. Every evaluation runs under a context, captures
// what the code prints, recovers panics, and reports errors at line:column in the user's own
// source. After any error the session stays usable.
//
//	s, err := session.New(session.Options{})
//	res, err := s.Eval(ctx, cell, session.WithName("In[3]"), session.WithOutput(stdout, stderr),
//		session.WithPublisher(p), session.WithStdin(r))
//	res.Stdout, res.Stderr  // what the cell printed
//	res.Display()           // the trailing expression's display.Bundle (nil when none)
//	err.(*session.Error)    // Kind, Pos (file:line:col in the cell), Msg, Trace, More
//	s.Complete(code, cursor), s.Inspect(code, cursor)
//
// How a cell runs: go/scanner cuts it into top-level items; imports run first (one unit each),
// then declarations (one unit), then each statement as its own unit, every piece placed back at
// its line and column with //line directives. The interpreter's weak spots are handled here and
// listed, with what a user can do about the rest, in dsl/README.md.
//
// It is not the vocabulary (that is package dsl) and not the notebook protocol (package kernel).
package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"reflect"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/natgo/nat/dsl"
	"github.com/natgo/nat/dsl/display"
	"github.com/natgo/nat/dsl/symbols"
	"github.com/natgo/nat/nat/transfer"
)

// DefaultImports are the imports every session starts with, unless Options.Imports says
// otherwise: the vocabulary, dot-imported as scripts do, and fmt.
var DefaultImports = []string{`. "github.com/natgo/nat/dsl"`, `"fmt"`}

// Options configure a session. The zero value is a working session.
type Options struct {
	// Stdout and Stderr, when set, receive what the code prints as it prints it, in addition to
	// the per-evaluation capture in Result.
	Stdout, Stderr io.Writer
	// Publisher, when set, receives the displays that code publishes while it runs (live
	// progress, plots). Without one, published displays are printed as text on Stdout.
	Publisher display.Publisher
	// Args is os.Args as the code sees it. Default: []string{"nat"}.
	Args []string
	// Env is the environment the code sees ("KEY=value"); the process environment is not
	// visible to scripts.
	Env []string
	// Imports are import specs (as written inside an import declaration) evaluated when the
	// session starts. Nil means DefaultImports; an empty non-nil slice means none.
	Imports []string
	// Timeout, when positive, bounds every evaluation that has no earlier deadline.
	Timeout time.Duration
}

// Result is what one evaluation produced. Eval returns it even when the evaluation failed,
// with whatever was printed before the failure.
type Result struct {
	// Stdout and Stderr are what the code printed during this evaluation.
	Stdout, Stderr string
	// HasValue reports whether the cell ended with an expression that has exactly one value.
	HasValue bool
	// Value is that value (it may be nil even when HasValue is true).
	Value any
	// Duration is the wall time of the evaluation.
	Duration time.Duration
}

// Display returns the rich representation of the cell's value: the value's own Display when it
// implements display.Displayer, otherwise its text. It returns nil when there is no value.
func (r *Result) Display() display.Bundle {
	if r == nil || !r.HasValue {
		return nil
	}
	return Bundle(r.Value)
}

// Bundle returns the display bundle of any value: its Display() when it implements
// display.Displayer (with a text/plain part added if it lacks one), otherwise its text.
func Bundle(v any) display.Bundle {
	if b, ok := v.(display.Bundle); ok { // a bundle built by the code itself (res.Plot())
		out := display.Bundle{}
		for k, x := range b {
			out[k] = x
		}
		if _, ok := out[display.TextPlain]; !ok {
			out[display.TextPlain] = []byte("(display)")
		}
		return out
	}
	if d, ok := v.(display.Displayer); ok && d != nil && !isNilPointer(v) {
		b := d.Display()
		out := display.Bundle{}
		for k, x := range b {
			out[k] = x
		}
		if _, ok := out[display.TextPlain]; !ok {
			out[display.TextPlain] = []byte(Text(v))
		}
		return out
	}
	return display.Bundle{display.TextPlain: []byte(Text(v))}
}

// Text formats a value for a terminal: String() or Error() when it has one, %v otherwise, and
// quoted strings so that "1" and 1 are told apart.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return "<nil>"
	case string:
		return fmt.Sprintf("%q", x)
	case error:
		return x.Error()
	case fmt.Stringer:
		if isNilPointer(v) {
			return fmt.Sprintf("(%T)(nil)", v)
		}
		return x.String()
	}
	return fmt.Sprintf("%v", v)
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// EvalOption adjusts one evaluation.
type EvalOption func(*evalConfig)

type evalConfig struct {
	name           string
	stdin          io.Reader
	stdout, stderr io.Writer
	publisher      display.Publisher
}

// WithName names the cell in error positions (for example "cell[3]" or a script's path).
// Default: "cellN.go", N counting evaluations from 1.
func WithName(name string) EvalOption { return func(c *evalConfig) { c.name = name } }

// WithOutput streams this evaluation's output live to stdout and stderr (either may be nil),
// in place of the session's Options.Stdout and Options.Stderr.
func WithOutput(stdout, stderr io.Writer) EvalOption {
	return func(c *evalConfig) { c.stdout, c.stderr = stdout, stderr }
}

// WithStdin gives this evaluation's code a standard input (fmt.Scan, os.Stdin). Without it the
// code reads end of file.
func WithStdin(r io.Reader) EvalOption { return func(c *evalConfig) { c.stdin = r } }

// WithPublisher sends this evaluation's published displays to p in place of Options.Publisher.
func WithPublisher(p display.Publisher) EvalOption {
	return func(c *evalConfig) { c.publisher = p }
}

// Session is one interpreter state. Evaluations are serialized: Eval may be called from several
// goroutines but runs one at a time.
type Session struct {
	opts Options
	in   *interp.Interpreter
	mu   sync.Mutex // serializes evaluations

	out, errw *switchWriter
	stdin     *switchReader
	imported  map[string]bool // import specs already evaluated, keyed by "name path"
	// named holds the named (not dot or blank) import specs evaluated so far. yaegi scopes
	// named imports to a file name, and each cell is its own file, so every cell re-imports them.
	named []string
	// fileImports holds, per file name, the named imports declared under it.
	fileImports map[string]map[string]bool
	// pending holds the import specs of the running cell, committed to imported and named once
	// they compiled.
	pending  map[string]bool
	declared map[string]bool // names the user declared, for completion
	n        int             // evaluations so far

	goPanics goroutines // panics of goroutines the code started
	// wrappers holds the positions of the function literals wrapCompound added, which are
	// dropped from panic traces.
	wrappers map[string]bool

	// units are the syntax trees of every unit compiled so far, to refine panic positions.
	units []ast.Node

	// Per-evaluation state, set under mu.
	cur *evaluation
}

// evaluation is the state of the running evaluation that compiled callbacks reach.
type evaluation struct {
	unit      string          // the cell's file name: every unit of the cell is parsed under it
	stmtNames map[string]bool // names the top-level statements of the cell define
	prior     []string        // named imports of earlier cells re-declared under unit (see priorImports)
	ctx       context.Context
	publisher display.Publisher
	stdout    io.Writer
	shown     []any
	hasShown  bool
	traceMu   sync.Mutex       // panicPos may be written by goroutines the code started
	panicPos  []token.Position // positions from yaegi's panic trace, innermost first
}

// New starts a session: the standard library, the project's vocabulary and engine symbols, and
// the initial imports.
func New(opts Options) (*Session, error) {
	s := &Session{
		opts:        opts,
		imported:    map[string]bool{},
		fileImports: map[string]map[string]bool{},
		wrappers:    map[string]bool{},
		declared:    map[string]bool{},
	}
	s.out = &switchWriter{}
	s.stdin = &switchReader{}
	s.errw = &switchWriter{onPanicLine: s.recordPanicLine}
	args := opts.Args
	if args == nil {
		args = []string{"nat"}
	}
	s.in = interp.New(interp.Options{
		Stdin: s.stdin, Stdout: s.out, Stderr: s.errw, Args: args, Env: opts.Env,
	})
	if err := s.in.Use(stdlib.Symbols); err != nil {
		return nil, fmt.Errorf("session: loading the standard library: %w", err)
	}
	// os.Stdout and os.Stderr as the script sees them write to the session, not to the
	// process (yaegi only does this when they are *os.File).
	var stdout, stderr io.Writer = s.out, s.errw
	var stdin io.Reader = s.stdin
	if err := s.in.Use(interp.Exports{"os/os": {
		"Stdin":  reflect.ValueOf(&stdin).Elem(),
		"Stdout": reflect.ValueOf(&stdout).Elem(),
		"Stderr": reflect.ValueOf(&stderr).Elem(),
	}}); err != nil {
		return nil, fmt.Errorf("session: redirecting os.Stdout: %w", err)
	}
	if err := s.in.Use(stdlibOverrides(args, s.errw)); err != nil {
		return nil, fmt.Errorf("session: binding os.Exit and flag: %w", err)
	}
	if err := s.in.Use(symbols.Symbols); err != nil {
		return nil, fmt.Errorf("session: loading the vocabulary: %w", err)
	}
	if err := s.in.Use(s.hooks()); err != nil {
		return nil, fmt.Errorf("session: loading session hooks: %w", err)
	}
	imports := opts.Imports
	if imports == nil {
		imports = DefaultImports
	}
	var b strings.Builder
	b.WriteString(`import __nat "` + hookPath + `"` + "\n")
	for _, imp := range imports {
		b.WriteString("import " + imp + "\n")
	}
	if _, err := s.Eval(context.Background(), b.String(), WithName("prelude")); err != nil {
		return nil, fmt.Errorf("session: initial imports: %w", err)
	}
	s.n = 0
	return s, nil
}

// hookPath is the import path of the compiled callbacks the session itself uses inside cells.
const hookPath = "github.com/natgo/nat/dsl/session/hook"

// vocabPath is the import path of the vocabulary.
const vocabPath = "github.com/natgo/nat/dsl"

// hooks returns the session's callbacks and its overrides of the vocabulary's context- and
// display-aware functions, bound to this session.
func (s *Session) hooks() interp.Exports {
	ex := interp.Exports{
		hookPath + "/hook": {
			"Go": reflect.ValueOf(s.startGoroutine),
			"Show": reflect.ValueOf(func(v ...any) {
				if s.cur == nil {
					return
				}
				s.cur.hasShown = true
				s.cur.shown = v
			}),
		},
	}
	// The vocabulary's functions that depend on the running cell, bound to this session: compiled
	// code cannot see the session, so the session replaces, for scripts only, the functions that
	// need its context or its displays.
	ex[vocabPath+"/dsl"] = map[string]reflect.Value{
		"Context": reflect.ValueOf(s.context),
		"Show": reflect.ValueOf(func(v any) {
			s.publisher().Publish(Bundle(v), "", false)
		}),
		"Evaluate": reflect.ValueOf(func(e dsl.Experiment, archs ...dsl.Arch) (*dsl.Result, error) {
			return s.env().Evaluate(e, archs...)
		}),
		"Transfer": reflect.ValueOf(func(e dsl.Experiment) (*dsl.Result, error) { return s.env().Transfer(e) }),
		"Search":   reflect.ValueOf(func(e dsl.Experiment) (*dsl.Result, error) { return s.env().Search(e) }),
		"TransferWith": reflect.ValueOf(func(e dsl.Experiment, net transfer.Supernet) (*dsl.Result, error) {
			return s.env().TransferWith(e, net)
		}),
		"SearchWith": reflect.ValueOf(func(e dsl.Experiment, net transfer.Supernet) (*dsl.Result, error) { return s.env().SearchWith(e, net) }),
		"DefaultEnv": reflect.ValueOf(s.env),
	}
	return ex
}

// context is the context of the running evaluation, for the vocabulary's long calls.
func (s *Session) context() context.Context {
	if s.cur == nil {
		return context.Background()
	}
	return s.cur.ctx
}

// env is the vocabulary's environment for the running evaluation.
func (s *Session) env() dsl.Env {
	p := s.publisher()
	return dsl.Env{Context: s.context(), Publish: p.Publish}
}

// publisher is where the running evaluation's displays go.
func (s *Session) publisher() display.Publisher {
	if s.cur != nil && s.cur.publisher != nil {
		return s.cur.publisher
	}
	return display.PublisherFunc(func(b display.Bundle, id string, update bool) {
		if s.cur != nil && s.cur.stdout != nil {
			s.cur.stdout.Write(append(append([]byte{}, b[display.TextPlain]...), '\n'))
		}
	})
}

// panicLineRE matches the lines yaegi writes to stderr while a panic unwinds interpreted frames.
var panicLineRE = regexp.MustCompile(`^(.*):(\d+):(\d+): panic: (.*)\(\.\.\.\)\n?$`)

func (s *Session) recordPanicLine(line string) bool {
	m := panicLineRE.FindStringSubmatch(line)
	if m == nil {
		return false
	}
	if cur := s.cur; cur != nil {
		pos, _, _ := splitPos(line)
		cur.traceMu.Lock()
		cur.panicPos = append(cur.panicPos, pos)
		cur.traceMu.Unlock()
	}
	return true
}

// Eval evaluates one cell under ctx and returns what it printed and, when it ends with an
// expression, its value. The error, if any, is an *Error located in src.
func (s *Session) Eval(ctx context.Context, src string, opts ...EvalOption) (*Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	cfg := evalConfig{name: fmt.Sprintf("cell%d.go", s.n), stdout: s.opts.Stdout, stderr: s.opts.Stderr, publisher: s.opts.Publisher}
	for _, o := range opts {
		o(&cfg)
	}
	if s.opts.Timeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.opts.Timeout)
			defer cancel()
		}
	}

	var outBuf, errBuf bytes.Buffer
	res := &Result{}
	start := time.Now()
	s.out.set(&outBuf, cfg.stdout)
	s.errw.set(&errBuf, cfg.stderr)
	s.stdin.set(cfg.stdin)
	s.cur = &evaluation{ctx: ctx, publisher: cfg.publisher, stdout: s.out, unit: cfg.name}
	defer func() {
		s.out.set(nil, nil)
		s.errw.set(nil, nil)
		s.stdin.set(nil)
		s.cur = nil
		res.Stdout, res.Stderr = outBuf.String(), errBuf.String()
		res.Duration = time.Since(start)
	}()

	s.goPanics.take() // panics reported before this cell belong to earlier cells
	s.goPanics.begin()
	err := s.eval(ctx, cfg.name, src, res)
	if err != nil {
		return res, err
	}
	s.goPanics.settle(goroutineGrace)
	if ps := s.goPanics.take(); len(ps) > 0 {
		ps[0].More = ps[1:]
		return res, ps[0]
	}
	return res, nil
}

// eval splits the cell and runs its imports, then its declarations, then its statements.
func (s *Session) eval(ctx context.Context, name, src string, res *Result) error {
	segs, isFile, err := splitCell(name, src)
	if err != nil {
		return s.syntaxError(err, src)
	}
	if isFile {
		return s.evalFile(ctx, name, src)
	}
	// Parse every group before running any, so that a syntax error anywhere leaves the
	// session untouched.
	var units []ast.Node
	var importJobs []importJob
	s.pending = map[string]bool{}
	prior := s.priorImports(name)
	if u, ok := unit(src, segs, segImport); ok || prior != "" {
		f, err := parser.ParseFile(s.in.FileSet(), s.cur.unit, "package main\n"+prior+u, parser.ParseComments)
		if err != nil {
			return s.syntaxError(err, src)
		}
		importJobs = s.importJobs(f)
	}
	if u, ok := unit(src, segs, segDecl); ok {
		f, err := parser.ParseFile(s.in.FileSet(), s.cur.unit, "package main\n"+u, parser.ParseComments)
		if err != nil {
			return s.syntaxError(err, src)
		}
		s.noteDecls(f)
		units = append(units, f)
	}
	// Statements: all but a trailing expression in one block, the trailing expression alone so
	// that its value can be shown.
	var stmts []segment
	for _, sg := range segs {
		if sg.kind == segStmt {
			stmts = append(stmts, sg)
		}
	}
	var lastExpr *segment
	if len(stmts) > 0 {
		body, err := parseBlock(s.in.FileSet(), s.cur.unit, src, stmts)
		if err != nil {
			return s.syntaxError(err, src)
		}
		s.noteStmts(body)
		s.cur.stmtNames = definedNames(body)
		if _, ok := body.List[len(body.List)-1].(*ast.ExprStmt); ok && len(body.List) == len(stmts) {
			lastExpr = &stmts[len(stmts)-1]
			stmts = stmts[:len(stmts)-1]
		}
		// Each statement is its own unit: yaegi locates a run-time panic by searching the
		// enclosing unit for a node like the one that failed, and the first such node of a
		// long block is often on another line.
		for _, st := range stmts {
			b, err := parseBlock(s.in.FileSet(), s.cur.unit, src, []segment{st})
			if err != nil {
				return s.syntaxError(err, src)
			}
			s.wrapCompound(b)
			units = append(units, b)
		}
	}
	// Imports one by one, each recorded as soon as it is in: yaegi may register some imports of a
	// unit that fails, and a name it holds must never be imported again under the same file.
	for _, j := range importJobs {
		if err := s.run(ctx, j.file); err != nil {
			return err
		}
		s.commitImport(j.keys)
	}
	for _, u := range units {
		if err := s.run(ctx, u); err != nil {
			return err
		}
	}
	if lastExpr != nil {
		return s.runExpr(ctx, name, src, *lastExpr, res)
	}
	return nil
}

// parseBlock parses statement segments as the body of a function, each at its own position.
func parseBlock(fset *token.FileSet, unitFile, src string, stmts []segment) (*ast.BlockStmt, error) {
	u, _ := unit(src, stmts, segStmt)
	f, err := parser.ParseFile(fset, unitFile, "package main\nfunc main() {"+u+"\n}", parser.ParseComments)
	if err != nil {
		return nil, err
	}
	return f.Decls[0].(*ast.FuncDecl).Body, nil
}

// runExpr evaluates a trailing expression and keeps its value when it has exactly one. An
// expression with no value or several (a call such as fmt.Println) is run for its effects.
func (s *Session) runExpr(ctx context.Context, name, src string, seg segment, res *Result) error {
	text := src[seg.start:seg.end]
	// The directives place both the call of Show and the expression at the expression's position.
	wrapped := "package main\nfunc main() {" + lineDirective(seg.pos) + "__nat.Show(" + blockDirective(seg.pos) + text + ",\n)\n}"
	f, err := parser.ParseFile(s.in.FileSet(), s.cur.unit, wrapped, parser.ParseComments)
	if err == nil {
		if prog, cerr := s.compile(f.Decls[0].(*ast.FuncDecl).Body); cerr == nil {
			if err := s.execute(ctx, prog, seg.pos); err != nil {
				return err
			}
			if s.cur.hasShown && len(s.cur.shown) == 1 {
				res.HasValue, res.Value = true, s.cur.shown[0]
			}
			return nil
		}
	}
	body, err := parseBlock(s.in.FileSet(), s.cur.unit, src, []segment{seg})
	if err != nil {
		return s.syntaxError(err, src)
	}
	return s.run(ctx, body)
}

// evalFile runs a whole Go file (a script with package clause and func main).
func (s *Session) evalFile(ctx context.Context, name, src string) error {
	f, err := parser.ParseFile(s.in.FileSet(), name, src, parser.ParseComments)
	if err != nil {
		return s.syntaxError(err, src)
	}
	// A file has its own imports (yaegi scopes imports by file), so none is dropped.
	s.noteDecls(f)
	var mainDecl *ast.FuncDecl
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" {
			mainDecl = fd
		}
	}
	if err := s.run(ctx, f); err != nil {
		return err
	}
	if mainDecl == nil {
		return nil
	}
	// Run main, as go run would: a call placed at main's declaration.
	at := s.in.FileSet().Position(mainDecl.Name.Pos())
	call, err := parser.ParseFile(s.in.FileSet(), name, "package main\nfunc main() {"+lineDirective(at)+mainAlias+"()\n}", 0)
	if err != nil {
		return s.syntaxError(err, src)
	}
	s.wrappers[at.String()] = true // the call is the session's, not a frame of the user's
	return s.run(ctx, call.Decls[0].(*ast.FuncDecl).Body)
}

// mainAlias is the name the session gives every func main. yaegi runs a package's main after
// every later evaluation once one is declared (its REPL's way of running scripts), which would
// rerun a script's main in every notebook cell; under another name it runs only when called.
const mainAlias = "__natMain"

// renameMain renames the identifier main (but not the package clause) to mainAlias.
func renameMain(n ast.Node) {
	var pkgName *ast.Ident
	if f, ok := n.(*ast.File); ok {
		pkgName = f.Name
	}
	ast.Inspect(n, func(x ast.Node) bool {
		if id, ok := x.(*ast.Ident); ok && id.Name == "main" && id != pkgName {
			id.Name = mainAlias
		}
		return true
	})
}

// priorImports re-declares, at the top of a cell's import unit, the named imports of earlier
// cells. yaegi scopes a named import to the file name of the unit that declared it, and each
// cell is parsed under its own name (the name its errors carry), so a cell re-declares what its
// name has not seen yet. Dot imports are global and never repeated.
func (s *Session) priorImports(file string) string {
	s.cur.prior = nil
	for _, key := range s.named {
		if !s.fileImports[file][key] {
			s.cur.prior = append(s.cur.prior, key)
		}
	}
	if len(s.cur.prior) == 0 {
		return ""
	}
	return "import (\n" + strings.Join(s.cur.prior, "\n") + "\n)\n"
}

// newImports drops from f the imports the cell repeats and returns f, or nil when nothing is
// left to import.
func (s *Session) newImports(f *ast.File) ast.Node {
	prior := map[token.Pos]bool{}
	priorKeys := map[string]bool{}
	for _, k := range s.cur.prior {
		priorKeys[k] = true
	}
	if len(s.cur.prior) > 0 && len(f.Decls) > 0 { // the first declaration is priorImports'
		if gd, ok := f.Decls[0].(*ast.GenDecl); ok && gd.Tok == token.IMPORT {
			for _, sp := range gd.Specs {
				prior[sp.Pos()] = true
			}
		}
	}
	var keep []ast.Decl
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			keep = append(keep, d)
			continue
		}
		var specs []ast.Spec
		for _, sp := range gd.Specs {
			is := sp.(*ast.ImportSpec)
			if prior[is.Pos()] {
				specs = append(specs, sp)
				continue
			}
			key := is.Path.Value
			if is.Name != nil {
				key = is.Name.Name + " " + key
			}
			if s.pending[key] || priorKeys[key] || s.fileImports[s.cur.unit][key] || (!isNamed(key) && s.imported[key]) {
				continue
			}
			s.pending[key] = true
			specs = append(specs, sp)
		}
		if len(specs) > 0 {
			gd.Specs = specs
			keep = append(keep, gd)
		}
	}
	f.Decls = keep
	if len(keep) == 0 {
		return nil
	}
	return f
}

// isNamed reports whether an import key binds a package name (not a dot or blank import).
func isNamed(key string) bool { return !strings.HasPrefix(key, ". ") && !strings.HasPrefix(key, "_ ") }

// importJob is one import unit of a cell and the import keys it declares.
type importJob struct {
	file *ast.File
	keys []string
}

// importJobs cuts the import unit f (after newImports) into one unit for the earlier cells'
// imports and one per import of the cell.
func (s *Session) importJobs(f *ast.File) []importJob {
	if s.newImports(f) == nil {
		return nil
	}
	var jobs []importJob
	for i, d := range f.Decls {
		gd := d.(*ast.GenDecl)
		if i == 0 && len(s.cur.prior) > 0 {
			jobs = append(jobs, importJob{file: &ast.File{Package: f.Package, Name: f.Name, Decls: []ast.Decl{gd}}, keys: s.cur.prior})
			continue
		}
		for _, sp := range gd.Specs {
			is := sp.(*ast.ImportSpec)
			key := is.Path.Value
			if is.Name != nil {
				key = is.Name.Name + " " + key
			}
			one := &ast.GenDecl{TokPos: gd.TokPos, Tok: token.IMPORT, Specs: []ast.Spec{sp}}
			jobs = append(jobs, importJob{file: &ast.File{Package: f.Package, Name: f.Name, Decls: []ast.Decl{one}}, keys: []string{key}})
		}
	}
	return jobs
}

// commitImport records imports as declared under the running cell's file name.
func (s *Session) commitImport(keys []string) {
	file := s.cur.unit
	if s.fileImports[file] == nil {
		s.fileImports[file] = map[string]bool{}
	}
	for _, key := range keys {
		if isNamed(key) {
			if !s.imported[key] {
				s.named = append(s.named, key)
			}
			s.fileImports[file][key] = true
		}
		s.imported[key] = true
	}
}

// noteDecls records declared names for completion.
func (s *Session) noteDecls(f *ast.File) {
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				s.declared[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					s.declared[sp.Name.Name] = true
				case *ast.ValueSpec:
					for _, n := range sp.Names {
						s.declared[n.Name] = true
					}
				}
			}
		}
	}
}

// wrapCompound runs a top-level compound statement (for, if, switch, select, block) inside a
// function literal called at once. yaegi runs top-level statements on the interpreter's global
// frame, whose run id the next evaluation resets: a canceled loop that was blocked in a compiled
// call (time.Sleep) would wake up and go on running beside later cells. A function's frame keeps
// the run id it started with, so a canceled loop inside one stays stopped. Compound statements
// declare nothing at top level, so the wrapper changes no scope.
func (s *Session) wrapCompound(b *ast.BlockStmt) {
	if len(b.List) != 1 {
		return
	}
	st := b.List[0]
	switch st.(type) {
	case *ast.ForStmt, *ast.RangeStmt, *ast.IfStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt, *ast.BlockStmt, *ast.LabeledStmt:
	default:
		return
	}
	if hasDefer(st) {
		return // a defer would run at the wrapper's end instead of the cell's
	}
	lit := &ast.FuncLit{
		Type: &ast.FuncType{Func: st.Pos(), Params: &ast.FieldList{Opening: st.Pos(), Closing: st.Pos()}},
		Body: &ast.BlockStmt{Lbrace: st.Pos(), List: []ast.Stmt{st}, Rbrace: st.End() - 1},
	}
	b.List[0] = &ast.ExprStmt{X: &ast.CallExpr{Fun: lit, Lparen: st.End() - 1, Rparen: st.End() - 1}}
	s.wrappers[s.in.FileSet().Position(st.Pos()).String()] = true
}

// hasDefer reports whether a defer statement appears in st outside function literals.
func hasDefer(st ast.Stmt) bool {
	found := false
	ast.Inspect(st, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.DeferStmt:
			found = true
		case *ast.FuncLit:
			return false
		}
		return !found
	})
	return found
}

// definedNames lists the names that top-level statements define with :=.
func definedNames(b *ast.BlockStmt) map[string]bool {
	out := map[string]bool{}
	for _, st := range b.List {
		if a, ok := st.(*ast.AssignStmt); ok && a.Tok == token.DEFINE {
			for _, l := range a.Lhs {
				if id, ok := l.(*ast.Ident); ok {
					out[id.Name] = true
				}
			}
		}
	}
	return out
}

// noteStmts records names defined at the top level of a cell's statements.
func (s *Session) noteStmts(b *ast.BlockStmt) {
	for _, st := range b.List {
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE {
				for _, l := range st.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
						s.declared[id.Name] = true
					}
				}
			}
		case *ast.DeclStmt:
			if gd, ok := st.Decl.(*ast.GenDecl); ok {
				s.noteDecls(&ast.File{Decls: []ast.Decl{gd}})
			}
		}
	}
}

// run compiles and executes one unit.
func (s *Session) run(ctx context.Context, n ast.Node) error {
	prog, err := s.compile(n)
	if err != nil {
		return err
	}
	return s.execute(ctx, prog, s.unitPos(n))
}

// unitPos is where a unit starts in the user's source: the position a canceled evaluation
// reports (the statement that was running, since every statement is its own unit).
func (s *Session) unitPos(n ast.Node) token.Position {
	switch n := n.(type) {
	case *ast.BlockStmt:
		if len(n.List) > 0 {
			return s.in.FileSet().Position(n.List[0].Pos())
		}
	case *ast.File:
		if len(n.Decls) > 0 {
			return s.in.FileSet().Position(n.Decls[len(n.Decls)-1].Pos())
		}
	}
	return token.Position{}
}

// compile compiles a unit, turning the interpreter's own panics into errors.
func (s *Session) compile(n ast.Node) (prog *interp.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = unsupportedError(n, s.in.FileSet(), r)
		}
	}()
	rewriteGo(n, s.in.FileSet())
	renameMain(n)
	prog, err = s.in.CompileAST(n)
	if err == nil {
		s.units = append(s.units, n)
	}
	if err != nil {
		e := compileError(err)
		if m, ok := strings.CutPrefix(e.Msg, "undefined method: "); ok {
			e.Msg = "undefined field or method: " + m
			if sel := findSelector(n, s.in.FileSet(), e.Pos, m); sel != nil {
				e.Pos = s.in.FileSet().Position(sel.Sel.Pos())
			}
		}
		if strings.Contains(e.Msg, "constant definition loop") || strings.Contains(e.Msg, "undefined type") {
			if id := s.findUndefined(n); id != nil {
				e.Pos, e.Msg = s.in.FileSet().Position(id.Pos()), explainCompile("undefined: "+id.Name)
			}
		}
		if !e.Pos.IsValid() || e.Pos.Filename == "" {
			// An error inside the interpreter's own source (its generic standard library): point
			// at the user's statement that reached it.
			e.Msg = fmt.Sprintf("%s (in the interpreter's generic standard library code, reached from here)", e.Msg)
			e.Pos = s.unitPos(n)
		}
		if name, ok := strings.CutPrefix(e.Msg, "undefined: "); ok && s.cur != nil && s.cur.stmtNames[name] {
			if _, isFile := n.(*ast.File); isFile {
				e.Msg += " (a statement of this cell defines it, but a cell's declarations run before its statements: declare it with var, or use it from a later cell)"
			}
		}
		return nil, e
	}
	return prog, nil
}

// execute runs a compiled unit under ctx and converts panics into positioned errors.
func (s *Session) execute(ctx context.Context, prog *interp.Program, at token.Position) (err error) {
	if err := ctx.Err(); err != nil {
		return canceledError(err, at)
	}
	s.cur.traceMu.Lock()
	s.cur.panicPos = nil
	s.cur.traceMu.Unlock()
	defer func() {
		if r := recover(); r != nil { // a panic that escaped the interpreter
			if x, ok := r.(exitPanic); ok {
				err = &ExitError{Code: x.code}
				return
			}
			err = s.runtimeError(r, debug.Stack())
		}
	}()
	_, err = s.in.ExecuteWithContext(ctx, prog)
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if ctx.Err() != nil {
			return canceledError(err, at)
		}
	}
	var p interp.Panic
	if errors.As(err, &p) {
		if x, ok := p.Value.(exitPanic); ok {
			return &ExitError{Code: x.code}
		}
		return s.runtimeError(p.Value, p.Stack)
	}
	return compileError(err)
}

// runtimeError builds a positioned error from a recovered panic value and the interpreter's
// panic trace.
func (s *Session) runtimeError(v any, stack []byte) *Error {
	s.cur.traceMu.Lock()
	e := &Error{Kind: Runtime, Value: v, Trace: append([]token.Position(nil), s.cur.panicPos...)}
	s.cur.traceMu.Unlock()
	if err, ok := v.(error); ok {
		e.err = err
	}
	e.Msg = panicMessage(v)
	if len(e.Trace) > 1 {
		var kept []token.Position
		for i, p := range e.Trace {
			if i > 0 && s.wrappers[p.String()] {
				continue
			}
			kept = append(kept, p)
		}
		e.Trace = kept
	}
	if len(e.Trace) > 0 {
		match := panicKind(v, e.Msg)
		e.Trace = append([]token.Position(nil), e.Trace...)
		for i := range e.Trace {
			e.Trace[i] = s.refine(e.Trace[i], match)
			// The next frame out is a call of the function this one is in (any call when that
			// function has no name).
			callee := s.enclosingFuncName(e.Trace[i])
			match = func(n ast.Node, _ *Session) bool {
				if callee != "" {
					return isCallTo(n, callee)
				}
				_, ok := n.(*ast.CallExpr)
				return ok
			}
		}
		e.Pos = e.Trace[0]
	}
	if !e.Pos.IsValid() {
		e.GoStack = stack // no position in the user's code: keep the interpreter's stack
	}
	return e
}

// panicMessage words a panic value for the user.
func panicMessage(v any) string {
	if ue, ok := v.(*dsl.UsageError); ok {
		return ue.Error()
	}
	msg := fmt.Sprint(v)
	if err, ok := v.(error); ok {
		msg = err.Error()
	}
	switch {
	case strings.Contains(msg, "slice index out of range"), strings.Contains(msg, "array index out of range"):
		return "runtime error: index out of range"
	case strings.Contains(msg, "on zero Value"), strings.Contains(msg, "call of nil function"), strings.Contains(msg, "nil pointer dereference"):
		return "runtime error: nil pointer dereference (a pointer, func, map or interface value is nil here)"
	case strings.HasPrefix(msg, "runtime error: "):
		return msg
	}
	return "panic: " + msg
}

// unsupportedError explains a panic of the interpreter's compiler. In yaegi v0.16.1 the known
// cause is a range over an int or a func (Go 1.22/1.23 forms it does not implement).
func unsupportedError(n ast.Node, fset *token.FileSet, r any) *Error {
	// The range statement to blame: one over something that is surely an int (a literal, len,
	// arithmetic) or a func literal first, else the first that is not obviously a container.
	var rng *ast.RangeStmt
	best := 3
	ast.Inspect(n, func(x ast.Node) bool {
		if rs, ok := x.(*ast.RangeStmt); ok && !obviouslyContainer(rs.X) {
			if score := rangeSuspicion(rs.X); score < best {
				rng, best = rs, score
			}
		}
		return true
	})
	if rng != nil {
		return &Error{Kind: Unsupported, Pos: fset.Position(rng.X.Pos()),
			Msg:   fmt.Sprintf("cannot range over %s here: the interpreter (yaegi v0.16.1) has no range over an int or a func; write a classic loop, for i := 0; i < n; i++", exprString(fset, rng.X)),
			Value: r}
	}
	return &Error{Kind: Unsupported, Pos: fset.Position(n.Pos()), Msg: fmt.Sprintf("the interpreter failed on this code: %v", r), Value: r}
}

// rangeSuspicion ranks how likely a range expression is an int or a func (lower: likelier).
func rangeSuspicion(x ast.Expr) int {
	switch x := x.(type) {
	case *ast.BasicLit:
		return 0
	case *ast.BinaryExpr, *ast.FuncLit:
		return 0
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && (id.Name == "len" || id.Name == "cap" || id.Name == "int") {
			return 0
		}
		return 1
	}
	return 2
}

// obviouslyContainer reports whether a range expression is syntactically a slice, array, map,
// string or channel, so that it cannot be the unsupported range over an int or a func.
func obviouslyContainer(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.CompositeLit:
		return true
	case *ast.BasicLit:
		return x.Kind == token.STRING
	case *ast.SliceExpr:
		return true
	}
	return false
}

func exprString(fset *token.FileSet, x ast.Expr) string {
	var b bytes.Buffer
	if err := formatNode(&b, fset, x); err != nil {
		return "this expression"
	}
	return b.String()
}

// switchWriter is the interpreter's stdout or stderr: it forwards to the running evaluation's
// capture buffer and live writer. Writes between evaluations (from goroutines a cell left
// running) are dropped.
type switchWriter struct {
	mu          sync.Mutex
	capture     io.Writer
	live        io.Writer
	onPanicLine func(string) bool // for stderr: swallows yaegi's panic trace lines
}

func (w *switchWriter) set(capture, live io.Writer) {
	w.mu.Lock()
	w.capture, w.live = capture, live
	w.mu.Unlock()
}

func (w *switchWriter) Write(p []byte) (int, error) {
	if w.onPanicLine != nil && w.onPanicLine(string(p)) {
		return len(p), nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.capture != nil {
		w.capture.Write(p)
	}
	if w.live != nil {
		w.live.Write(p)
	}
	return len(p), nil
}

// switchReader is the interpreter's stdin: the running evaluation's reader, or end of file.
type switchReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (r *switchReader) set(x io.Reader) {
	r.mu.Lock()
	r.r = x
	r.mu.Unlock()
}

func (r *switchReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	x := r.r
	r.mu.Unlock()
	if x == nil {
		return 0, io.EOF
	}
	return x.Read(p)
}
