package kernel

import (
	"go/scanner"
	"go/token"
	"strings"
	"unicode/utf8"
)

// GoCompleteness decides whether code is a complete Go cell by scanning its tokens: open
// brackets, an unterminated raw string or comment, or a trailing binary operator or comma make
// it incomplete, with the indentation of the last line plus one tab per open bracket.
// Other scanning errors make it "invalid".
func GoCompleteness(code string) (status, indent string) {
	if strings.TrimSpace(code) == "" {
		return "complete", ""
	}
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(code))
	var errs scanner.ErrorList
	var s scanner.Scanner
	s.Init(file, []byte(code), func(pos token.Position, msg string) { errs.Add(pos, msg) }, scanner.ScanComments)
	depth := 0
	last := token.ILLEGAL
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		switch tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue // automatic semicolon: not what the user typed
		}
		if tok != token.COMMENT {
			last = tok
		}
	}
	for _, e := range errs {
		if strings.Contains(e.Msg, "not terminated") {
			return "incomplete", ""
		}
	}
	if len(errs) > 0 {
		return "invalid", ""
	}
	if depth < 0 {
		return "invalid", ""
	}
	trailing := last.IsOperator() && last != token.RPAREN && last != token.RBRACK && last != token.RBRACE &&
		last != token.INC && last != token.DEC && last != token.SEMICOLON && last != token.COLON
	if depth == 0 && !trailing {
		return "complete", ""
	}
	lines := strings.Split(code, "\n")
	lastLine := lines[len(lines)-1]
	base := lastLine[:len(lastLine)-len(strings.TrimLeft(lastLine, " \t"))]
	if depth > 0 {
		base += "\t"
	}
	return "incomplete", base
}

// byteOffset converts a cursor position counted in Unicode code points (the protocol's unit
// since 5.2) into a byte offset in code.
func byteOffset(code string, runes int) int {
	if runes <= 0 {
		return 0
	}
	for i := range code {
		if runes == 0 {
			return i
		}
		runes--
	}
	return len(code)
}

// runeOffset converts a byte offset in code into a count of code points.
func runeOffset(code string, bytes int) int {
	if bytes > len(code) {
		bytes = len(code)
	}
	if bytes < 0 {
		bytes = 0
	}
	return utf8.RuneCountInString(code[:bytes])
}
