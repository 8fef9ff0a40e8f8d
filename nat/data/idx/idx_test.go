package idx

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// encode builds an IDX stream of unsigned bytes with the given dims.
func encode(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, TypeUint8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestReadPlainAndGzipAgree(t *testing.T) {
	data := make([]byte, 2*3*4)
	for i := range data {
		data[i] = byte(i * 7)
	}
	raw := encode([]int{2, 3, 4}, data)
	for name, stream := range map[string][]byte{"plain": raw, "gzip": gz(raw)} {
		a, err := Read(bytes.NewReader(stream))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(a.Dims) != 3 || a.Dims[0] != 2 || a.Dims[1] != 3 || a.Dims[2] != 4 {
			t.Errorf("%s: dims %v, want [2 3 4]", name, a.Dims)
		}
		if !bytes.Equal(a.Data, data) || a.Len() != len(data) {
			t.Errorf("%s: data differs", name)
		}
	}
}

func TestReadRejectsBadInput(t *testing.T) {
	good := encode([]int{3, 2}, []byte{1, 2, 3, 4, 5, 6})
	gzGood := gz(good)
	badCRC := append([]byte(nil), gzGood...)
	badCRC[len(badCRC)-6] ^= 0xff // inside the CRC32 trailer
	cases := []struct {
		name, want string
		in         []byte
	}{
		{"empty", "truncated: file ends after 0 of the 4 magic", nil},
		{"short magic", "truncated: file ends after 2 of the 4 magic", []byte{0, 0}},
		{"not idx", "bad magic number 50 4b 03 04", []byte("PK\x03\x04rest")},
		{"unknown type", "unknown element type 0x42", []byte{0, 0, 0x42, 1, 0, 0, 0, 0}},
		{"float type", "element type 0x0d (float32) is not supported", []byte{0, 0, 0x0D, 1, 0, 0, 0, 0}},
		{"zero dims", "zero dimensions", []byte{0, 0, 8, 0}},
		{"short header", "header declares 3 dimensions but file ends after 5 of their 12", []byte{0, 0, 8, 3, 0, 0, 0, 1, 0}},
		{"short data", "truncated: header declares 3x2 = 6 bytes of data, file has only 4", good[:len(good)-2]},
		{"trailing", "trailing data after the 3x2 = 6 bytes", append(append([]byte(nil), good...), 9)},
		{"huge dims", "implausible dimensions", []byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2}},
		{"gzip truncated", "compressed stream is truncated", gzGood[:len(gzGood)-10]},
		{"gzip bad crc", "gzip checksum mismatch", badCRC},
		{"gzip bad header", "corrupt gzip header", []byte{0x1f, 0x8b, 1, 2}},
	}
	for _, c := range cases {
		_, err := Read(bytes.NewReader(c.in))
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.want)
		}
	}
}

func TestReadFileNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "train-images-idx3-ubyte.gz")
	raw := encode([]int{10, 28, 28}, make([]byte, 10*28*28))
	z := gz(raw)
	if err := os.WriteFile(path, z[:len(z)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("error %v should name %s and say truncated", err, path)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "absent")); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Fatalf("missing file: error %v should name the file", err)
	}
}

// FuzzRead checks that no input makes Read panic or return an inconsistent
// array.
func FuzzRead(f *testing.F) {
	good := encode([]int{2, 2, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(good)
	f.Add(gz(good))
	f.Add(good[:7])
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 0})
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := Read(bytes.NewReader(in))
		if err != nil {
			return
		}
		if len(a.Data) != a.Len() {
			t.Fatalf("dims %v declare %d elements, got %d", a.Dims, a.Len(), len(a.Data))
		}
	})
}
