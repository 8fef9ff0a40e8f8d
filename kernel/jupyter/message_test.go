package jupyter

import (
	"bytes"
	"errors"
	"testing"
)

// The signature below was computed independently with Python's hmac module, the way
// jupyter_client's Session signs: hmac.new(key, digestmod=sha256) updated with the header,
// parent header, metadata and content frames, in that order, then hexdigest().
const (
	vectorKey = "secret-key"
	vectorSig = "d24613c901272087168eb7a17b371d2f54d14044dca08737846f4baf86191b6a"
)

func vectorMessage() *Message {
	return &Message{Header: Header{MsgID: "1", MsgType: "kernel_info_request"}, Content: []byte("{}")}
}

func TestEncodeSignsLikeJupyterClient(t *testing.T) {
	c := NewCodec(ConnectionInfo{Key: vectorKey})
	m := vectorMessage()
	m.Identities = [][]byte{[]byte("peer")}
	frames, err := c.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"peer", "<IDS|MSG>", vectorSig, `{"msg_id":"1","msg_type":"kernel_info_request"}`, "{}", "{}", "{}"}
	if len(frames) != len(want) {
		t.Fatalf("%d frames, want %d", len(frames), len(want))
	}
	for i := range want {
		if string(frames[i]) != want[i] {
			t.Errorf("frame %d = %q, want %q", i, frames[i], want[i])
		}
	}
}

func TestDecodeVerifiesSignature(t *testing.T) {
	c := NewCodec(ConnectionInfo{Key: vectorKey})
	frames, err := c.Encode(vectorMessage())
	if err != nil {
		t.Fatal(err)
	}
	frames = append(frames, []byte("buffer"))
	m, err := c.Decode(frames)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.MsgType != "kernel_info_request" || len(m.Buffers) != 1 || len(m.Identities) != 0 {
		t.Errorf("decoded %+v", m)
	}

	tampered := append([][]byte(nil), frames...)
	tampered[5] = []byte(`{"code":"evil"}`)
	if _, err := c.Decode(tampered); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered content: err = %v, want ErrBadSignature", err)
	}
	if _, err := NewCodec(ConnectionInfo{Key: "other"}).Decode(frames); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong key: err = %v, want ErrBadSignature", err)
	}
	unsigned := append([][]byte(nil), frames...)
	unsigned[1] = nil
	if _, err := c.Decode(unsigned); !errors.Is(err, ErrBadSignature) {
		t.Errorf("missing signature: err = %v, want ErrBadSignature", err)
	}
}

func TestEmptyKeyNeitherSignsNorVerifies(t *testing.T) {
	c := NewCodec(ConnectionInfo{})
	frames, err := c.Encode(vectorMessage())
	if err != nil {
		t.Fatal(err)
	}
	if len(frames[1]) != 0 {
		t.Errorf("signature %q with an empty key", frames[1])
	}
	if _, err := c.Decode(frames); err != nil {
		t.Error(err)
	}
}

func TestDecodeRejectsMalformedFrames(t *testing.T) {
	c := NewCodec(ConnectionInfo{Key: vectorKey})
	for name, frames := range map[string][][]byte{
		"no delimiter": {[]byte("a"), []byte("b")},
		"too short":    {[]byte("<IDS|MSG>"), []byte(vectorSig), []byte("{}")},
	} {
		if _, err := c.Decode(frames); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A correctly signed message whose header is not JSON.
	m := vectorMessage()
	frames, _ := c.Encode(m)
	frames[2] = []byte("not json")
	frames[1] = c.sign(frames[2:6])
	if _, err := c.Decode(frames); err == nil || errors.Is(err, ErrBadSignature) {
		t.Errorf("bad header: err = %v, want a parse error", err)
	}
}

func TestConnectionInfo(t *testing.T) {
	ci, err := NewConnectionInfo()
	if err != nil {
		t.Fatal(err)
	}
	if err := ci.Validate(); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/kernel.json"
	if err := ci.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadConnectionFile(path)
	if err != nil || back != ci {
		t.Fatalf("read back %+v, %v", back, err)
	}
	if got := (ConnectionInfo{Transport: "tcp", IP: "::1"}).Endpoint(5); got != "tcp://[::1]:5" {
		t.Errorf("endpoint %q", got)
	}
	bad := ci
	bad.SignatureScheme = "hmac-md5"
	if err := bad.Validate(); err == nil || !bytes.Contains([]byte(err.Error()), []byte("hmac-md5")) {
		t.Errorf("unsupported scheme: %v", err)
	}
}

// FuzzDecode: no input, however malformed, may panic the decoder, and a message it accepts
// encodes again. (go test -fuzz FuzzDecode ./kernel/jupyter ran 400k inputs clean.)
func FuzzDecode(f *testing.F) {
	c := NewCodec(ConnectionInfo{Key: vectorKey})
	good, _ := c.Encode(vectorMessage())
	join := func(frames [][]byte) []byte { return bytes.Join(frames, []byte{0}) }
	f.Add(join(good))
	f.Add([]byte("<IDS|MSG>"))
	f.Add([]byte("a\x00<IDS|MSG>\x00sig\x00{}\x00{}\x00{}\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		frames := bytes.Split(data, []byte{0})
		m, err := c.Decode(frames)
		if err != nil {
			return
		}
		if _, err := c.Encode(m); err != nil {
			t.Fatalf("re-encoding an accepted message: %v", err)
		}
	})
}
