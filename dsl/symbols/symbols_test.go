package symbols

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"sort"
	"strings"
	"testing"
)

// TestVocabularyTablesAreCurrent fails when the vocabulary exports a name that the generated
// symbol table lacks (or the other way round): run go generate in dsl/symbols.
func TestVocabularyTablesAreCurrent(t *testing.T) {
	for dir, key := range map[string]string{
		"..":         "github.com/natgo/nat/dsl/dsl",
		"../display": "github.com/natgo/nat/dsl/display/display",
	} {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, p := range pkgs {
			for _, f := range p.Files {
				for _, d := range f.Decls {
					switch d := d.(type) {
					case *ast.FuncDecl:
						if d.Recv == nil && d.Name.IsExported() {
							want[d.Name.Name] = true
						}
					case *ast.GenDecl:
						for _, sp := range d.Specs {
							switch sp := sp.(type) {
							case *ast.TypeSpec:
								if sp.Name.IsExported() {
									want[sp.Name.Name] = true
								}
							case *ast.ValueSpec:
								for _, n := range sp.Names {
									if n.IsExported() {
										want[n.Name] = true
									}
								}
							}
						}
					}
				}
			}
		}
		got := Symbols[key]
		var missing, extra []string
		for n := range want {
			if _, ok := got[n]; !ok {
				missing = append(missing, n)
			}
		}
		for n := range got {
			if !want[n] && !strings.HasPrefix(n, "_") {
				extra = append(extra, n)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 || len(extra) > 0 {
			t.Errorf("%s: symbol table is stale (run go generate in dsl/symbols): missing %v, extra %v", key, missing, extra)
		}
	}
}
