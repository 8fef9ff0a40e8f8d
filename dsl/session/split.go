package session

import (
	"fmt"
	"go/scanner"
	"go/token"
	"strings"
)

// segmentKind says which compilation unit a top-level piece of a cell belongs to.
type segmentKind int

const (
	segImport segmentKind = iota // import declaration
	segDecl                      // func, method, type, var or const declaration
	segStmt                      // anything else: statements and expressions
)

// segment is one top-level item of a cell: a byte range of the source and where it starts.
type segment struct {
	kind       segmentKind
	start, end int            // byte offsets in the cell source
	pos        token.Position // line:column of start in the user's source
}

// splitCell cuts a cell into its top-level items. A cell may mix import declarations, other
// declarations and statements in any order (which no single Go compilation unit allows); the
// items are found with go/scanner by looking for the semicolons, written or automatic, that end
// items at bracket depth zero. Go itself does the rest: each group is parsed by go/parser after
// being placed, with //line directives, at its original line and column.
//
// A cell that starts with a package clause is a whole Go file and is returned as one declaration
// segment, with isFile set.
func splitCell(name, src string) (segs []segment, isFile bool, err error) {
	fset := token.NewFileSet()
	file := fset.AddFile(name, -1, len(src))
	var errs scanner.ErrorList
	var s scanner.Scanner
	s.Init(file, []byte(src), func(pos token.Position, msg string) { errs.Add(pos, msg) }, 0)

	type tok struct {
		pos token.Pos
		tok token.Token
		lit string
	}
	// Read every token once; items are then found with look-ahead.
	var toks []tok
	for {
		pos, t, lit := s.Scan()
		if t == token.EOF {
			break
		}
		toks = append(toks, tok{pos, t, lit})
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, false, errs
	}
	offset := func(p token.Pos) int { return file.Offset(p) }

	i := 0
	for i < len(toks) {
		if toks[i].tok == token.SEMICOLON {
			i++
			continue
		}
		first := i
		if toks[first].tok == token.PACKAGE {
			return []segment{{kind: segDecl, start: 0, end: len(src), pos: file.Position(toks[first].pos)}}, true, nil
		}
		depth := 0
		// The header of for, if and switch may hold semicolons (for i := 0; i < n; i++ {):
		// they end nothing until the statement's body has opened.
		inHeader := false
		switch toks[first].tok {
		case token.FOR, token.IF, token.SWITCH:
			inHeader = true
		}
		for i < len(toks) {
			switch toks[i].tok {
			case token.LPAREN, token.LBRACK, token.LBRACE:
				if toks[i].tok == token.LBRACE && depth == 0 {
					inHeader = false
				}
				depth++
			case token.RPAREN, token.RBRACK, token.RBRACE:
				depth--
			case token.IF:
				if depth == 0 && i > first && toks[i-1].tok == token.ELSE {
					inHeader = true
				}
			}
			if depth <= 0 && toks[i].tok == token.SEMICOLON && !inHeader {
				break
			}
			i++
		}
		last := i - 1 // last token of the item (before its semicolon)
		end := len(src)
		if last >= first {
			end = offset(toks[last].pos) + tokenLen(toks[last].tok, toks[last].lit)
		}
		if i < len(toks) && toks[i].lit == ";" { // keep an explicit semicolon out of the item
			// nothing: end already stops before it
		}
		kind := segStmt
		switch toks[first].tok {
		case token.IMPORT:
			kind = segImport
		case token.TYPE, token.CONST, token.VAR:
			kind = segDecl
		case token.FUNC:
			if first+1 < len(toks) {
				switch toks[first+1].tok {
				case token.IDENT: // func Name(...)
					kind = segDecl
				case token.LPAREN: // method receiver, or a function literal called at once
					d, j := 0, first+1
					for ; j <= last; j++ {
						if toks[j].tok == token.LPAREN {
							d++
						} else if toks[j].tok == token.RPAREN {
							d--
							if d == 0 {
								break
							}
						}
					}
					if j+1 <= last && toks[j+1].tok == token.IDENT {
						kind = segDecl
					}
				}
			}
		}
		segs = append(segs, segment{kind: kind, start: offset(toks[first].pos), end: end, pos: file.Position(toks[first].pos)})
	}
	return segs, false, nil
}

// tokenLen is the length in bytes of a token as written in the source.
func tokenLen(t token.Token, lit string) int {
	if lit != "" {
		if t == token.SEMICOLON && lit == "\n" {
			return 0
		}
		return len(lit)
	}
	return len(t.String())
}

// lineDirective places the text that follows it at pos in the user's source, so that every
// position go/parser and yaegi report is already in the user's coordinates.
func lineDirective(pos token.Position) string {
	return fmt.Sprintf("\n//line %s:%d:%d\n", pos.Filename, pos.Line, pos.Column)
}

// unit builds the source of one compilation unit from the segments of one kind.
func unit(src string, segs []segment, kind segmentKind) (string, bool) {
	var b strings.Builder
	found := false
	for _, s := range segs {
		if s.kind != kind {
			continue
		}
		found = true
		b.WriteString(lineDirective(s.pos))
		b.WriteString(src[s.start:s.end])
		b.WriteString("\n")
	}
	return b.String(), found
}

// blockDirective is the /*line*/ form of lineDirective: it places the very next character.
func blockDirective(pos token.Position) string {
	return fmt.Sprintf("/*line %s:%d:%d*/", pos.Filename, pos.Line, pos.Column)
}
