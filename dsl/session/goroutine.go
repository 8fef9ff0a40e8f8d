package session

import (
	"fmt"
	"go/ast"
	"go/token"
	"reflect"
	"sync"
	"time"
)

// A panic in a goroutine that interpreted code started is not recovered by yaegi: it would end
// the process (the notebook kernel, nat run). The session therefore rewrites every
//
//	go f(a, b)
//
// into
//
//	__nat.Go("file:line:col", false, f, a, b)
//
// which evaluates the function and its arguments at the go statement, as Go does, and starts
// the goroutine from compiled code that recovers a panic and reports it: as the error of the
// cell when the cell is still running, on the session's stderr otherwise. (The values travel
// through compiled code rather than a closure because yaegi shares a nested block's variables
// between loop iterations.)

// builtinNames cannot be assigned to variables, so go statements calling them are left alone.
var builtinNames = map[string]bool{"append": true, "cap": true, "clear": true, "close": true, "complex": true,
	"copy": true, "delete": true, "imag": true, "len": true, "make": true, "max": true, "min": true, "new": true,
	"panic": true, "print": true, "println": true, "real": true, "recover": true}

// rewriteGo applies the rewrite to every go statement under n.
func rewriteGo(n ast.Node, fset *token.FileSet) {
	rewriteList := func(list []ast.Stmt) {
		for i, st := range list {
			if g, ok := st.(*ast.GoStmt); ok {
				if b := goBlock(g, fset); b != nil {
					list[i] = b
				}
			}
		}
	}
	ast.Inspect(n, func(x ast.Node) bool {
		switch x := x.(type) {
		case *ast.BlockStmt:
			rewriteList(x.List)
		case *ast.CaseClause:
			rewriteList(x.Body)
		case *ast.CommClause:
			rewriteList(x.Body)
		case *ast.LabeledStmt:
			if g, ok := x.Stmt.(*ast.GoStmt); ok {
				if b := goBlock(g, fset); b != nil {
					x.Stmt = b
				}
			}
		}
		return true
	})
}

// goBlock builds the replacement of one go statement, or nil to leave it alone.
func goBlock(g *ast.GoStmt, fset *token.FileSet) ast.Stmt {
	call := g.Call
	if id, ok := call.Fun.(*ast.Ident); ok && builtinNames[id.Name] {
		return nil
	}
	at := fset.Position(g.Pos())
	spread := "false"
	if call.Ellipsis.IsValid() {
		spread = "true"
	}
	args := []ast.Expr{
		&ast.BasicLit{Kind: token.STRING, Value: fmt.Sprintf("%q", at.String()), ValuePos: g.Pos()},
		&ast.Ident{Name: spread, NamePos: g.Pos()},
		call.Fun,
	}
	args = append(args, call.Args...)
	return &ast.ExprStmt{X: &ast.CallExpr{
		Fun:    &ast.SelectorExpr{X: &ast.Ident{Name: "__nat", NamePos: g.Pos()}, Sel: &ast.Ident{Name: "Go", NamePos: g.Pos()}},
		Lparen: call.Lparen, Args: args, Rparen: call.Rparen,
	}}
}

// goroutines tracks the goroutines started by interpreted code and their panics.
type goroutines struct {
	mu     sync.Mutex
	panics []*Error   // not yet reported
	cell   *cellGroup // the goroutines started during the current (or last) cell
}

// cellGroup counts the running goroutines one cell started.
type cellGroup struct {
	running int           // started and not yet finished
	idle    chan struct{} // closed when running drops to zero; nil while nothing waits
}

func (g *goroutines) add(e *Error) {
	g.mu.Lock()
	g.panics = append(g.panics, e)
	g.mu.Unlock()
}

// begin starts a new cell's group: goroutines earlier cells left running are not waited for.
func (g *goroutines) begin() {
	g.mu.Lock()
	g.cell = &cellGroup{}
	g.mu.Unlock()
}

// started counts a goroutine in the current cell's group and returns the group.
func (g *goroutines) started() *cellGroup {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cell == nil {
		g.cell = &cellGroup{}
	}
	g.cell.running++
	return g.cell
}

func (g *goroutines) finished(c *cellGroup) {
	g.mu.Lock()
	c.running--
	if c.running == 0 && c.idle != nil {
		close(c.idle)
		c.idle = nil
	}
	g.mu.Unlock()
}

// settle waits up to grace for the goroutines the current cell started to finish. A goroutine
// that panics runs its interpreted defers (which may be what the cell waits on, as in defer
// close(done)) before the compiled wrapper recovers and records the panic, so a cell can end in
// between; a short wait lets that panic count as the cell's error. Goroutines still running
// after grace (work meant to outlive the cell) are left alone and report on stderr.
func (g *goroutines) settle(grace time.Duration) {
	g.mu.Lock()
	c := g.cell
	if c == nil || c.running == 0 {
		g.mu.Unlock()
		return
	}
	if c.idle == nil {
		c.idle = make(chan struct{})
	}
	idle := c.idle
	g.mu.Unlock()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
}

func (g *goroutines) take() []*Error {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.panics
	g.panics = nil
	return p
}

// startGoroutine is __nat.Go: it calls f with args in a goroutine and turns a panic into a
// report. Arguments are converted to f's parameter types (untyped constants arrive as their
// default type); with spread, the last argument is the variadic slice.
func (s *Session) startGoroutine(at string, spread bool, f any, args ...any) {
	fv := reflect.ValueOf(f)
	if fv.Kind() != reflect.Func {
		panic(fmt.Sprintf("go statement: %T is not a function", f))
	}
	ft := fv.Type()
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		var pt reflect.Type
		switch {
		case ft.IsVariadic() && i >= ft.NumIn()-1 && !spread:
			pt = ft.In(ft.NumIn() - 1).Elem()
		case i < ft.NumIn():
			pt = ft.In(i)
		default:
			panic(fmt.Sprintf("go statement: too many arguments for %s", ft))
		}
		v := reflect.ValueOf(a)
		switch {
		case !v.IsValid():
			v = reflect.Zero(pt)
		case v.Type() != pt && v.Type().ConvertibleTo(pt) && !v.Type().AssignableTo(pt):
			v = v.Convert(pt)
		}
		in[i] = v
	}
	group := s.goPanics.started()
	go func() {
		defer s.goPanics.finished(group)
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			pos, _, _ := splitPos(at + ": ")
			e := &Error{Kind: Runtime, Pos: pos, Value: r, Msg: panicMessage(r) + " (in a goroutine started here)"}
			if err, ok := r.(error); ok {
				e.err = err
			}
			s.goPanics.add(e)
			// Also say it now: the cell that started the goroutine may be over.
			fmt.Fprintf(s.errw, "%s\n", e.Error())
		}()
		if spread {
			fv.CallSlice(in)
		} else {
			fv.Call(in)
		}
	}()
}

// goroutineGrace is how long the end of a cell waits for goroutines it started (see settle).
const goroutineGrace = 100 * time.Millisecond
