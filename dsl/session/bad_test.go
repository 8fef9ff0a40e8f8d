package session

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBadScripts runs every cell of ../testdata/bad. Each starts with a comment
//
//	// want: LINE:COL message fragment
//
// (and optionally "// timeout: 1s"), and must fail with an *Error at exactly that position whose
// message contains the fragment. The session must then still evaluate a cell correctly.
func TestBadScripts(t *testing.T) {
	files, err := filepath.Glob("../testdata/bad/*.cell")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("found %d bad scripts, want at least 30", len(files))
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".cell"), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			src := string(b)
			line, col, frag, timeout := parseWant(t, src)
			s := newSession(t)
			ctx := context.Background()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			_, err = s.Eval(ctx, src, WithName(name))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want an *Error", err, err)
			}
			if e.Pos.Filename != name || e.Pos.Line != line || e.Pos.Column != col || !strings.Contains(e.Msg, frag) {
				t.Errorf("got error\n\t%v\nwant %s:%d:%d: ...%s...", err, name, line, col, frag)
			}
			r, err := s.Eval(context.Background(), "after := 6 * 7\nafter")
			if err != nil || r.Value != 42 {
				t.Errorf("session unusable after the error: %v, %v", r.Value, err)
			}
		})
	}
}

func parseWant(t *testing.T, src string) (line, col int, frag string, timeout time.Duration) {
	t.Helper()
	for _, l := range strings.Split(src, "\n") {
		if v, ok := strings.CutPrefix(l, "// timeout: "); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				t.Fatal(err)
			}
			timeout = d
		}
		if v, ok := strings.CutPrefix(l, "// want: "); ok {
			pos, msg, _ := strings.Cut(v, " ")
			ls, cs, _ := strings.Cut(pos, ":")
			var err1, err2 error
			line, err1 = strconv.Atoi(ls)
			col, err2 = strconv.Atoi(cs)
			if err1 != nil || err2 != nil {
				t.Fatalf("bad want line %q", l)
			}
			return line, col, msg, timeout
		}
	}
	t.Fatal("no // want: line")
	return
}
