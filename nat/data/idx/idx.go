// Package idx reads the IDX file format used by MNIST and Fashion-MNIST
// (http://yann.lecun.com/exdb/mnist/, section "FILE FORMATS"), plain or
// gzip-compressed.
//
// It is for turning one IDX file into a checked array of bytes; it is not a
// dataset loader (see package nat/data for that). Only the unsigned-byte
// element type (0x08) is supported, since that is what every image and label
// file of both datasets uses; other element types are reported as errors.
//
// The format is small enough that no maintained Go library covers it with the
// checks we need (magic, rank, declared sizes against actual length, trailing
// data, gzip integrity), so it is written here by hand.
package idx

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// TypeUint8 is the IDX element-type code for unsigned bytes.
const TypeUint8 = 0x08

// MaxElements bounds the number of elements a header may declare (4 GiB of
// bytes). It guards against corrupt headers that would otherwise make the
// reader try to allocate absurd amounts of memory.
const MaxElements = 1 << 32

// Array is the content of one IDX file: its dimensions (outermost first) and
// its elements in row-major order.
type Array struct {
	Dims []int
	Data []uint8
}

// Len returns the number of elements the dimensions declare.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Dims {
		n *= d
	}
	return n
}

// typeName names the element types the IDX format defines, for errors.
func typeName(code byte) (string, bool) {
	switch code {
	case 0x08:
		return "unsigned byte", true
	case 0x09:
		return "signed byte", true
	case 0x0B:
		return "int16", true
	case 0x0C:
		return "int32", true
	case 0x0D:
		return "float32", true
	case 0x0E:
		return "float64", true
	}
	return "", false
}

// Read decodes one IDX stream. A gzip stream is recognised by its magic bytes
// (1f 8b) and decompressed transparently. The declared dimensions must match
// the amount of data exactly: short data is reported as truncated, extra bytes
// as trailing data.
func Read(r io.Reader) (*Array, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var src io.Reader = br
	head, err := br.Peek(2)
	if err == nil && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("corrupt gzip header: %w", err)
		}
		defer zr.Close()
		// Concatenated gzip members are not part of the format; a second
		// member would be trailing data, which is reported below.
		zr.Multistream(false)
		src = zr
	}
	return readRaw(src)
}

func readRaw(r io.Reader) (*Array, error) {
	var magic [4]byte
	if n, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("truncated: file ends after %d of the 4 magic-number bytes", n)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("bad magic number %02x %02x %02x %02x: not an IDX file (the first two bytes must be zero)",
			magic[0], magic[1], magic[2], magic[3])
	}
	if magic[2] != TypeUint8 {
		name, ok := typeName(magic[2])
		if !ok {
			return nil, fmt.Errorf("bad magic number %02x %02x %02x %02x: unknown element type 0x%02x",
				magic[0], magic[1], magic[2], magic[3], magic[2])
		}
		return nil, fmt.Errorf("element type 0x%02x (%s) is not supported; only unsigned bytes (0x08) are", magic[2], name)
	}
	rank := int(magic[3])
	if rank == 0 {
		return nil, errors.New("bad magic number: zero dimensions")
	}
	hdr := make([]byte, 4*rank)
	if n, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("truncated: header declares %d dimensions but file ends after %d of their %d size bytes", rank, n, len(hdr))
	}
	dims := make([]int, rank)
	total := uint64(1)
	for i := range dims {
		d := binary.BigEndian.Uint32(hdr[4*i:])
		dims[i] = int(d)
		total *= uint64(d)
		if total > MaxElements {
			return nil, fmt.Errorf("implausible dimensions %s: more than %d elements", dimString(dims[:i+1]), uint64(MaxElements))
		}
	}
	// Grow the buffer as data actually arrives rather than trusting the
	// header with one big allocation; cap the first allocation.
	want := int64(total)
	buf := bytes.NewBuffer(make([]byte, 0, min(want, 1<<22)+1))
	n, err := buf.ReadFrom(io.LimitReader(r, want+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s data: %w", dimString(dims), describe(err))
	}
	if n < want {
		return nil, fmt.Errorf("truncated: header declares %s = %d bytes of data, file has only %d", dimString(dims), want, n)
	}
	if n > want {
		return nil, fmt.Errorf("trailing data after the %s = %d bytes the header declares", dimString(dims), want)
	}
	// n == want means r reported EOF before the limit, and gzip verifies its
	// CRC and length trailer on reaching EOF, so integrity is checked here.
	data := buf.Bytes()[:want:want]
	return &Array{Dims: dims, Data: data}, nil
}

// describe gives gzip's terse errors a readable form.
func describe(err error) error {
	switch {
	case errors.Is(err, gzip.ErrChecksum):
		return fmt.Errorf("gzip checksum mismatch (file is corrupt): %w", err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("compressed stream is truncated: %w", err)
	}
	return err
}

func dimString(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, "x")
}

// ReadFile reads the IDX file at path (plain or gzip). Every error names the
// file.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError already names the file
	}
	defer f.Close()
	a, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("idx file %s: %w", path, err)
	}
	return a, nil
}
