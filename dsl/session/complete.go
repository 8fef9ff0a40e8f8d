package session

import (
	"fmt"

	"github.com/natgo/nat/dsl/symbols"
	"go/token"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Completion is the answer to a completion request: the candidates that may replace
// code[Start:End] (byte offsets).
type Completion struct {
	Matches    []string
	Start, End int
}

// Complete lists the names that can complete the identifier before cursor (a byte offset in
// code): after "pkg." the package's exported names, after "value." the fields and methods of a
// session value, otherwise the session's own names, its imports, the vocabulary, Go's keywords
// and builtins.
//
// While a cell runs, the session's state is not read: Complete returns no matches at once
// rather than wait for the cell.
func (s *Session) Complete(code string, cursor int) Completion {
	if !s.mu.TryLock() {
		return Completion{Start: clampCursor(code, cursor), End: clampCursor(code, cursor)}
	}
	defer s.mu.Unlock()
	cursor = clampCursor(code, cursor)
	start := cursor
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(code[:start])
		if !isIdentRune(r) {
			break
		}
		start -= size
	}
	prefix := code[start:cursor]
	end := cursor
	for end < len(code) {
		r, size := utf8.DecodeRuneInString(code[end:])
		if !isIdentRune(r) {
			break
		}
		end += size
	}
	var cands []string
	if start > 0 && code[start-1] == '.' {
		qual := identBefore(code, start-1)
		cands = s.memberNames(qual)
	} else {
		cands = s.topNames()
	}
	var out []string
	seen := map[string]bool{}
	for _, c := range cands {
		if strings.HasPrefix(c, prefix) && !seen[c] && !strings.HasPrefix(c, "__") {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return Completion{Matches: out, Start: start, End: end}
}

// Inspect describes the identifier under cursor: its kind, type and, for a session value, its
// current value. It returns "" when there is nothing to say.
// Like Complete, it answers "" at once while a cell runs.
func (s *Session) Inspect(code string, cursor int) string {
	if !s.mu.TryLock() {
		return ""
	}
	defer s.mu.Unlock()
	cursor = clampCursor(code, cursor)
	start, end := cursor, cursor
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(code[:start])
		if !isIdentRune(r) {
			break
		}
		start -= size
	}
	for end < len(code) {
		r, size := utf8.DecodeRuneInString(code[end:])
		if !isIdentRune(r) {
			break
		}
		end += size
	}
	name := code[start:end]
	if name == "" {
		return ""
	}
	if start > 0 && code[start-1] == '.' {
		qual := identBefore(code, start-1)
		if p := s.packagePath(qual); p != "" {
			if v, ok := s.binSymbols(p)[name]; ok {
				return withDoc(describeSymbol(qual+"."+name, v), p+"."+name)
			}
		}
		if v, ok := s.in.Globals()[qual]; ok && v.IsValid() {
			return withDoc(describeMember(v, name), typeKey(v)+"."+name)
		}
		return ""
	}
	if v, ok := s.in.Globals()[name]; ok && v.IsValid() {
		return withDoc(fmt.Sprintf("%s %s = %s", name, v.Type(), Text(v.Interface())), typeKey(v))
	}
	for key := range s.imported {
		if strings.HasPrefix(key, ". ") {
			p, _ := strconv.Unquote(strings.TrimPrefix(key, ". "))
			if v, ok := s.binSymbols(p)[name]; ok {
				return withDoc(describeSymbol(name, v), p+"."+name)
			}
		}
	}
	if p := s.packagePath(name); p != "" {
		return fmt.Sprintf("package %s (%q)", name, p)
	}
	if token.IsKeyword(name) {
		return name + " is a Go keyword"
	}
	return ""
}

func clampCursor(code string, c int) int {
	if c < 0 {
		return 0
	}
	if c > len(code) {
		return len(code)
	}
	return c
}

func isIdentRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// identBefore returns the identifier that ends at byte offset end.
func identBefore(code string, end int) string {
	start := end
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(code[:start])
		if !isIdentRune(r) {
			break
		}
		start -= size
	}
	return code[start:end]
}

// binSymbols returns the compiled symbols of an import path.
func (s *Session) binSymbols(p string) map[string]reflect.Value {
	for _, syms := range s.in.Symbols(p) {
		return syms
	}
	return nil
}

// packagePath returns the import path bound to a package name in the session, or "".
func (s *Session) packagePath(name string) string {
	for key := range s.imported {
		n, quoted, hasName := strings.Cut(key, " ")
		if !hasName {
			quoted = key
		}
		p, err := strconv.Unquote(quoted)
		if err != nil {
			continue
		}
		if (hasName && n == name) || (!hasName && lastElem(p) == name) {
			return p
		}
	}
	return ""
}

func lastElem(p string) string { return p[strings.LastIndex(p, "/")+1:] }

// topNames lists every name usable at the start of an expression.
func (s *Session) topNames() []string {
	var out []string
	for n := range s.declared {
		out = append(out, n)
	}
	for n := range s.in.Globals() {
		out = append(out, n)
	}
	for key := range s.imported {
		n, quoted, hasName := strings.Cut(key, " ")
		if !hasName {
			quoted = key
		}
		p, err := strconv.Unquote(quoted)
		if err != nil {
			continue
		}
		switch {
		case n == ".":
			for k := range s.binSymbols(p) {
				out = append(out, k)
			}
		case n == "_":
		case hasName:
			out = append(out, n)
		default:
			out = append(out, lastElem(p))
		}
	}
	for t := token.BREAK; t <= token.VAR; t++ {
		if t.IsKeyword() {
			out = append(out, t.String())
		}
	}
	// Go 1.21's min, max and clear are missing from yaegi v0.16.1.
	out = append(out, "append", "cap", "close", "complex", "copy", "delete", "imag", "len",
		"make", "new", "panic", "print", "println", "real", "recover",
		"bool", "byte", "complex128", "complex64", "error", "float32", "float64", "int", "int16",
		"int32", "int64", "int8", "rune", "string", "uint", "uint16", "uint32", "uint64", "uint8",
		"uintptr", "any", "true", "false", "nil", "iota")
	return out
}

// memberNames lists what may follow "qual.": a package's exports or a value's fields and methods.
func (s *Session) memberNames(qual string) []string {
	if p := s.packagePath(qual); p != "" {
		var out []string
		for k := range s.binSymbols(p) {
			out = append(out, k)
		}
		return out
	}
	v, ok := s.in.Globals()[qual]
	if !ok || !v.IsValid() {
		return nil
	}
	return valueMembers(v)
}

// valueMembers lists the exported fields and methods of a value.
func valueMembers(v reflect.Value) []string {
	var out []string
	t := v.Type()
	for i := 0; i < t.NumMethod(); i++ {
		out = append(out, t.Method(i).Name)
	}
	if t.Kind() != reflect.Pointer {
		pt := reflect.PointerTo(t)
		for i := 0; i < pt.NumMethod(); i++ {
			out = append(out, pt.Method(i).Name)
		}
	}
	st := t
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if st.Kind() == reflect.Struct {
		for i := 0; i < st.NumField(); i++ {
			if f := st.Field(i); f.IsExported() {
				out = append(out, f.Name)
			}
		}
	}
	return out
}

// describeSymbol describes a compiled symbol: a type, a function's signature, or a value.
func describeSymbol(name string, v reflect.Value) string {
	if !v.IsValid() {
		return name
	}
	if v.Kind() == reflect.Pointer && v.IsNil() && v.Type().Elem().Kind() != reflect.Invalid {
		// yaegi represents a type T by a nil *T.
		return fmt.Sprintf("type %s %s", name, v.Type().Elem().Kind())
	}
	if v.Kind() == reflect.Func {
		return fmt.Sprintf("func %s%s", name, strings.TrimPrefix(v.Type().String(), "func"))
	}
	return fmt.Sprintf("%s %s", name, v.Type())
}

// describeMember describes a field or method of a session value.
func describeMember(v reflect.Value, name string) string {
	if m := v.MethodByName(name); m.IsValid() {
		return fmt.Sprintf("method %s%s", name, strings.TrimPrefix(m.Type().String(), "func"))
	}
	e := v
	if e.Kind() == reflect.Pointer && !e.IsNil() {
		e = e.Elem()
	}
	if e.Kind() == reflect.Struct {
		if f := e.FieldByName(name); f.IsValid() && f.CanInterface() {
			return fmt.Sprintf("%s %s = %s", name, f.Type(), Text(f.Interface()))
		}
	}
	return ""
}

// withDoc appends the doc comment recorded for key, if any.
func withDoc(desc, key string) string {
	if desc == "" {
		return ""
	}
	if d, ok := symbols.Docs[key]; ok {
		return desc + "\n\n" + d
	}
	return desc
}

// typeKey is the Docs key of a value's named type ("import/path.Type").
func typeKey(v reflect.Value) string {
	t := v.Type()
	if t.Kind() == reflect.Interface && !v.IsNil() {
		t = v.Elem().Type()
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() == "" || t.PkgPath() == "" {
		return ""
	}
	return t.PkgPath() + "." + t.Name()
}
