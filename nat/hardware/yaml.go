package hardware

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// The published tables are YAML of one fixed, flat shape (what PyYAML's dump writes for a dict
// of dicts):
//
//	MBConv-input:100x100x16-output:100x100x16-expand:1-kernel:3-stride:1-idskip:1-se:0:
//	  mean: 0.45952554792165756
//	  var: 0.0002015640251613604
//
// We read and write that shape by hand rather than through gopkg.in/yaml.v3: the module is in
// our dependency graph only indirectly and not in go.sum, and pulling it in for a two-level map
// of floats would mean a go.mod change outside this package. The reader is strict about the
// shape (a key line, then indented "mean", "var" or "std", and optional "count"/"samples"
// lines, or a one-line {mean: ..., var: ...} flow map) and reports file:line for anything else.
// NAT's own metadata travels in comment lines ("# nat-lut device: ..."), so the files stay
// readable by PyYAML and by the authors' code.

const metaPrefix = "# nat-lut "

// ReadYAML reads a table in the published YAML format. name is used for the table's name
// (unless the file's metadata names it) and in error messages.
func ReadYAML(r io.Reader, name string) (*LUT, error) {
	t := &LUT{Name: name, entries: map[string]Stat{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	type pending struct {
		key        string
		line       int
		mean, vari float64
		hasMean    bool
		hasVar     bool
		samples    int
	}
	var cur *pending
	firstLine := map[string]int{}
	flush := func() error {
		if cur == nil {
			return nil
		}
		if !cur.hasMean {
			return fmt.Errorf("%s:%d: entry %q has no mean", name, cur.line, cur.key)
		}
		if err := t.Set(cur.key, Stat{Mean: cur.mean, Var: cur.vari, Samples: cur.samples}); err != nil {
			return fmt.Errorf("%s:%d: %w", name, cur.line, err)
		}
		cur = nil
		return nil
	}
	field := func(lineNo, col int, label, val string) error {
		v, err := parseYAMLFloat(val)
		if err != nil {
			return fmt.Errorf("%s:%d:%d: %s %q: %v", name, lineNo, col, label, val, err)
		}
		switch label {
		case "mean":
			cur.mean, cur.hasMean = v, true
		case "var":
			cur.vari, cur.hasVar = v, true
		case "std":
			cur.vari, cur.hasVar = v*v, true
		case "count", "samples":
			if v != math.Trunc(v) || v < 0 {
				return fmt.Errorf("%s:%d:%d: %s %q is not a count", name, lineNo, col, label, val)
			}
			cur.samples = int(v)
		default:
			return fmt.Errorf("%s:%d:%d: unknown field %q (want mean, var, std, count or samples)", name, lineNo, col, label)
		}
		return nil
	}
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(line, metaPrefix) {
			if err := t.setMeta(strings.TrimPrefix(line, metaPrefix)); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
			}
			continue
		}
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || trimmed == "---" || trimmed == "..." {
			continue
		}
		indent := len(line) - len(trimmed)
		if indent == 0 {
			if err := flush(); err != nil {
				return nil, err
			}
			key, rest, err := splitKey(trimmed)
			if err != nil {
				return nil, fmt.Errorf("%s:%d:1: %v", name, lineNo, err)
			}
			if prev, dup := firstLine[key]; dup {
				return nil, fmt.Errorf("%s:%d:1: key %q already given at line %d", name, lineNo, key, prev)
			}
			firstLine[key] = lineNo
			cur = &pending{key: key, line: lineNo}
			if rest != "" {
				// Flow style: key: {mean: 1.0, var: 0.1}
				if !strings.HasPrefix(rest, "{") || !strings.HasSuffix(rest, "}") {
					return nil, fmt.Errorf("%s:%d: key %q: want a newline or {mean: ..., var: ...} after the colon, got %q", name, lineNo, key, rest)
				}
				col := len(line) - len(rest) + 2
				for _, part := range strings.Split(rest[1:len(rest)-1], ",") {
					label, val, ok := strings.Cut(part, ":")
					if !ok {
						return nil, fmt.Errorf("%s:%d:%d: %q is not label: value", name, lineNo, col, strings.TrimSpace(part))
					}
					if err := field(lineNo, col, strings.TrimSpace(label), strings.TrimSpace(val)); err != nil {
						return nil, err
					}
					col += len(part) + 1
				}
				if err := flush(); err != nil {
					return nil, err
				}
			}
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("%s:%d:%d: indented line %q outside an entry", name, lineNo, indent+1, trimmed)
		}
		label, val, ok := strings.Cut(trimmed, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d:%d: %q is not label: value", name, lineNo, indent+1, trimmed)
		}
		if err := field(lineNo, indent+len(label)+3, strings.TrimSpace(label), stripComment(strings.TrimSpace(val))); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if t.Len() == 0 {
		return nil, fmt.Errorf("%s: no entries: not a latency lookup table", name)
	}
	return t, nil
}

// splitKey splits "key:" or "key: rest" (the key possibly quoted) at its final mapping colon.
func splitKey(s string) (key, rest string, err error) {
	if s[0] == '\'' || s[0] == '"' {
		q := s[0]
		end := strings.IndexByte(s[1:], q)
		if end < 0 {
			return "", "", fmt.Errorf("unterminated quoted key %s", s)
		}
		key, after := s[1:1+end], strings.TrimLeft(s[2+end:], " ")
		if !strings.HasPrefix(after, ":") {
			return "", "", fmt.Errorf("quoted key %q is not followed by ':'", key)
		}
		return key, stripComment(strings.TrimSpace(after[1:])), nil
	}
	// Keys contain ':' themselves ("input:112x112x16"); the mapping colon is the one followed by
	// a space or the end of the line.
	if strings.HasSuffix(s, ":") {
		return s[:len(s)-1], "", nil
	}
	i := strings.Index(s, ": ")
	if i < 0 {
		return "", "", fmt.Errorf("line %q is not a key followed by ':'", s)
	}
	return s[:i], stripComment(strings.TrimSpace(s[i+2:])), nil
}

func stripComment(s string) string {
	if i := strings.Index(s, " #"); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

func parseYAMLFloat(s string) (float64, error) {
	switch strings.ToLower(s) {
	case ".nan", ".inf", "+.inf", "-.inf":
		return 0, fmt.Errorf("not a finite number")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("not a number")
	}
	return v, nil
}

// WriteYAML writes the table in the published format, keys sorted and floats spelled as PyYAML
// spells them, so a published table read and written back is byte-for-byte the same. NAT's
// metadata, when set, comes first as comment lines.
func WriteYAML(w io.Writer, t *LUT) error {
	bw := bufio.NewWriter(w)
	if t.Meta != (Meta{}) {
		for _, kv := range t.metaPairs() {
			fmt.Fprintf(bw, "%s%s: %s\n", metaPrefix, kv[0], strings.ReplaceAll(kv[1], "\n", " "))
		}
	}
	for _, k := range t.Keys() {
		s := t.entries[k]
		fmt.Fprintf(bw, "%s:\n  mean: %s\n  var: %s\n", k, pyFloat(s.Mean), pyFloat(s.Var))
		if s.Samples > 0 {
			fmt.Fprintf(bw, "  samples: %d\n", s.Samples)
		}
	}
	return bw.Flush()
}

// pyFloat spells v as PyYAML's represent_float does: Python's repr (shortest round-trip digits,
// scientific below 1e-4 and from 1e16), lower case, with ".0" added to an integral mantissa.
func pyFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return ".nan"
	case math.IsInf(v, 1):
		return ".inf"
	case math.IsInf(v, -1):
		return "-.inf"
	}
	if v == 0 {
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(v, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		if !strings.Contains(e, ".") {
			e = strings.Replace(e, "e", ".0e", 1)
		}
		return e
	}
	f := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(f, ".") {
		f += ".0"
	}
	return f
}
