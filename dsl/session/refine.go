package session

import (
	"go/ast"
	"go/token"
	"strings"

	"github.com/natgo/nat/dsl"
)

// yaegi v0.16.1 locates a run-time panic by searching the failing function for the first node
// whose code is the same closure as the failing one: it finds the right function, often the
// right statement, but not always the right node (a division may be reported at an earlier
// subtraction). refine moves the position to the first node, at or after the reported one in
// the same function, of the kind that can raise this panic. It never moves a position to
// another function.

// panicKind says which syntax can raise a panic message.
func panicKind(v any, msg string) func(n ast.Node, s *Session) bool {
	if ue, ok := v.(*dsl.UsageError); ok {
		fn := ue.Func[strings.LastIndex(ue.Func, ".")+1:]
		return func(n ast.Node, _ *Session) bool { return isCallTo(n, fn) }
	}
	switch {
	case strings.Contains(msg, "divide by zero"):
		return func(n ast.Node, _ *Session) bool {
			b, ok := n.(*ast.BinaryExpr)
			if ok && (b.Op == token.QUO || b.Op == token.REM) {
				return true
			}
			a, ok := n.(*ast.AssignStmt)
			return ok && (a.Tok == token.QUO_ASSIGN || a.Tok == token.REM_ASSIGN)
		}
	case strings.Contains(msg, "index out of range"), strings.Contains(msg, "nil map"):
		return func(n ast.Node, _ *Session) bool { _, ok := n.(*ast.IndexExpr); return ok }
	case strings.Contains(msg, "slice bounds out of range"):
		return func(n ast.Node, _ *Session) bool { _, ok := n.(*ast.SliceExpr); return ok }
	case strings.Contains(msg, "interface conversion"):
		return func(n ast.Node, _ *Session) bool { _, ok := n.(*ast.TypeAssertExpr); return ok }
	case strings.Contains(msg, "nil pointer dereference"):
		return func(n ast.Node, s *Session) bool {
			switch x := n.(type) {
			case *ast.StarExpr:
				return true
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && s.packagePath(id.Name) != "" {
					return false
				}
				return true
			case *ast.CallExpr:
				_, isIdent := x.Fun.(*ast.Ident)
				return isIdent
			}
			return false
		}
	case strings.HasPrefix(msg, "panic: "):
		return func(n ast.Node, _ *Session) bool { return isCallTo(n, "panic") }
	}
	return nil
}

// isCallTo reports whether n calls a function or method named name.
func isCallTo(n ast.Node, name string) bool {
	c, ok := n.(*ast.CallExpr)
	if !ok {
		return false
	}
	switch f := c.Fun.(type) {
	case *ast.Ident:
		return f.Name == name
	case *ast.SelectorExpr:
		return f.Sel.Name == name
	}
	return false
}

// refine returns a better position for a panic reported at pos, or pos itself.
func (s *Session) refine(pos token.Position, match func(ast.Node, *Session) bool) token.Position {
	if match == nil || !pos.IsValid() {
		return pos
	}
	fset := s.in.FileSet()
	before := func(a, b token.Position) bool {
		return a.Line < b.Line || (a.Line == b.Line && a.Column < b.Column)
	}
	contains := func(n ast.Node) bool {
		p, e := fset.Position(n.Pos()), fset.Position(n.End())
		return p.Filename == pos.Filename && !before(pos, p) && before(pos, e)
	}
	// The innermost function or top-level statement that contains pos.
	var scope ast.Node
	consider := func(n ast.Node) {
		if contains(n) && (scope == nil || n.End()-n.Pos() < scope.End()-scope.Pos()) {
			scope = n
		}
	}
	for _, u := range s.units {
		if b, ok := u.(*ast.BlockStmt); ok {
			for _, st := range b.List {
				consider(st)
			}
		}
		ast.Inspect(u, func(n ast.Node) bool {
			switch n.(type) {
			case *ast.FuncLit, *ast.FuncDecl:
				consider(n)
			}
			return true
		})
	}
	if scope == nil {
		return pos
	}
	var best ast.Node
	ast.Inspect(scope, func(n ast.Node) bool {
		if n == nil || best != nil {
			return false
		}
		if match(n, s) && fset.Position(n.Pos()).Filename == pos.Filename && before(pos, fset.Position(n.End())) {
			best = n
			return false
		}
		return true
	})
	if best == nil {
		return pos
	}
	return fset.Position(best.Pos())
}

// enclosingFuncName is the name of the innermost function declaration that contains pos, or ""
// when pos is in a function literal or at top level.
func (s *Session) enclosingFuncName(pos token.Position) string {
	fset := s.in.FileSet()
	before := func(a, b token.Position) bool {
		return a.Line < b.Line || (a.Line == b.Line && a.Column < b.Column)
	}
	var best ast.Node
	name := ""
	for _, u := range s.units {
		ast.Inspect(u, func(n ast.Node) bool {
			switch n.(type) {
			case *ast.FuncDecl, *ast.FuncLit:
			default:
				return true
			}
			p, e := fset.Position(n.Pos()), fset.Position(n.End())
			if p.Filename != pos.Filename || before(pos, p) || !before(pos, e) {
				return true
			}
			if best == nil || n.End()-n.Pos() < best.End()-best.Pos() {
				best = n
				name = ""
				if fd, ok := n.(*ast.FuncDecl); ok {
					name = fd.Name.Name
				}
			}
			return true
		})
	}
	return name
}
