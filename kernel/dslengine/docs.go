package dslengine

import (
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Docs holds the doc comments of a Go package's exported names, read from its source, so that
// inspecting a vocabulary name in the notebook shows its documentation and not only its type.
// The compiled symbols the interpreter runs carry no comments, hence the source.
type Docs struct {
	byName   map[string]string   // "Name" and "Type.Method" -> doc comment
	byMethod map[string][]string // "Method" -> ["Type.Method", ...]
	decl     map[string]string   // same keys -> declaration as written
}

// LoadDocs reads the doc comments of the package in dir (test files excluded).
func LoadDocs(dir string) (*Docs, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading documentation: %w", err)
	}
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("reading documentation: %w", err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("reading documentation: no Go files in %s", dir)
	}
	pkg, err := doc.NewFromFiles(fset, files, "")
	if err != nil {
		return nil, fmt.Errorf("reading documentation: %w", err)
	}
	d := &Docs{byName: map[string]string{}, byMethod: map[string][]string{}, decl: map[string]string{}}
	add := func(key, text string, decl ast.Node) {
		d.byName[key] = strings.TrimSpace(text)
		if decl != nil {
			d.decl[key] = declString(fset, decl)
		}
	}
	for _, f := range pkg.Funcs {
		add(f.Name, f.Doc, f.Decl)
	}
	for _, t := range pkg.Types {
		add(t.Name, t.Doc, nil)
		for _, f := range t.Funcs { // constructors
			add(f.Name, f.Doc, f.Decl)
		}
		for _, m := range t.Methods {
			key := t.Name + "." + m.Name
			add(key, m.Doc, m.Decl)
			d.byMethod[m.Name] = append(d.byMethod[m.Name], key)
		}
		for _, v := range append(t.Consts, t.Vars...) {
			for _, n := range v.Names {
				add(n, v.Doc, nil)
			}
		}
	}
	for _, v := range append(pkg.Consts, pkg.Vars...) {
		for _, n := range v.Names {
			add(n, v.Doc, nil)
		}
	}
	return d, nil
}

// declString prints a function declaration without its body.
func declString(fset *token.FileSet, n ast.Node) string {
	fd, ok := n.(*ast.FuncDecl)
	if !ok {
		return ""
	}
	c := *fd
	c.Body = nil
	c.Doc = nil
	var b strings.Builder
	if err := formatNode(&b, fset, &c); err != nil {
		return ""
	}
	return b.String()
}

// Lookup returns the documentation of name, a package-level name or a method; qualifier is what
// precedes a dot (a type or a value), used only to tell methods of the same name apart.
func (d *Docs) Lookup(name string) (decl, text string, ok bool) {
	if d == nil {
		return "", "", false
	}
	if t, ok := d.byName[name]; ok {
		return d.decl[name], t, true
	}
	keys := d.byMethod[name]
	if len(keys) == 0 {
		return "", "", false
	}
	sort.Strings(keys)
	if len(keys) == 1 {
		return d.decl[keys[0]], d.byName[keys[0]], true
	}
	// Several types have the method: show each.
	var decls, texts []string
	for _, k := range keys {
		decls = append(decls, d.decl[k])
		texts = append(texts, k+": "+d.byName[k])
	}
	return strings.Join(decls, "\n"), strings.Join(texts, "\n\n"), true
}

// identAt returns the identifier around byte offset cursor in code.
func identAt(code string, cursor int) string {
	if cursor < 0 {
		cursor = 0
	}
	if cursor > len(code) {
		cursor = len(code)
	}
	start, end := cursor, cursor
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(code[:start])
		if !isIdent(r) {
			break
		}
		start -= size
	}
	for end < len(code) {
		r, size := utf8.DecodeRuneInString(code[end:])
		if !isIdent(r) {
			break
		}
		end += size
	}
	return code[start:end]
}

func isIdent(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
