package session

import (
	"go/ast"
	"go/token"
	"go/types"
	"path"
	"strconv"
	"strings"
)

// findUndefined looks for the first identifier of n that names nothing the session knows. yaegi
// reports an undefined name in a top-level declaration as "constant definition loop" at the
// start of the declaration; this finds the name itself so the error can point at it.
func (s *Session) findUndefined(n ast.Node) *ast.Ident {
	known := map[string]bool{}
	for name := range s.declared {
		known[name] = true
	}
	for _, name := range types.Universe.Names() {
		known[name] = true
	}
	for _, missing := range []string{"min", "max", "clear"} { // Go 1.21 builtins yaegi lacks
		delete(known, missing)
	}
	for key := range s.imported {
		s.addImportNames(key, known)
	}
	for key := range s.pending {
		s.addImportNames(key, known)
	}
	// Names defined inside n, and names that are not references (selectors, field keys).
	skip := map[*ast.Ident]bool{}
	ast.Inspect(n, func(x ast.Node) bool {
		switch x := x.(type) {
		case *ast.File:
			skip[x.Name] = true
		case *ast.FuncDecl:
			known[x.Name.Name] = true
		case *ast.Field:
			for _, id := range x.Names {
				known[id.Name] = true
			}
		case *ast.AssignStmt:
			if x.Tok.String() == ":=" {
				for _, l := range x.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						known[id.Name] = true
					}
				}
			}
		case *ast.ValueSpec:
			for _, id := range x.Names {
				known[id.Name] = true
			}
		case *ast.TypeSpec:
			known[x.Name.Name] = true
		case *ast.RangeStmt:
			for _, e := range []ast.Expr{x.Key, x.Value} {
				if id, ok := e.(*ast.Ident); ok {
					known[id.Name] = true
				}
			}
		case *ast.ImportSpec:
			if x.Name != nil {
				known[x.Name.Name] = true
			}
		case *ast.SelectorExpr:
			skip[x.Sel] = true
		case *ast.KeyValueExpr:
			if id, ok := x.Key.(*ast.Ident); ok {
				skip[id] = true
			}
		case *ast.LabeledStmt:
			skip[x.Label] = true
		case *ast.BranchStmt:
			if x.Label != nil {
				skip[x.Label] = true
			}
		}
		return true
	})
	var found *ast.Ident
	ast.Inspect(n, func(x ast.Node) bool {
		if found != nil {
			return false
		}
		if id, ok := x.(*ast.Ident); ok && !skip[id] && !known[id.Name] && id.Name != "_" && id.Name != "__nat" {
			found = id
		}
		return true
	})
	return found
}

// addImportNames adds the names an import spec key ("name \"path\"" or "\"path\"") brings in.
func (s *Session) addImportNames(key string, known map[string]bool) {
	name, quoted, hasName := strings.Cut(key, " ")
	if !hasName {
		quoted, name = key, ""
	}
	p, err := strconv.Unquote(quoted)
	if err != nil {
		return
	}
	switch name {
	case "_":
	case ".":
		for k := range s.in.Symbols(p)[p+"/"+path.Base(p)] {
			known[k] = true
		}
	case "":
		known[path.Base(p)] = true
	default:
		known[name] = true
	}
}

// findSelector finds the selector x.name at or after pos (yaegi reports an undefined method at
// the start of the statement).
func findSelector(n ast.Node, fset *token.FileSet, pos token.Position, name string) *ast.SelectorExpr {
	var found *ast.SelectorExpr
	ast.Inspect(n, func(x ast.Node) bool {
		if found != nil {
			return false
		}
		if sel, ok := x.(*ast.SelectorExpr); ok && sel.Sel.Name == name {
			p := fset.Position(sel.Pos())
			if p.Filename == pos.Filename && (p.Line > pos.Line || (p.Line == pos.Line && p.Column >= pos.Column)) {
				found = sel
			}
		}
		return true
	})
	return found
}
