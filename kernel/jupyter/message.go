package jupyter

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ProtocolVersion is the version of the messaging protocol this package speaks.
const ProtocolVersion = "5.3"

// delimiter separates the routing identities from the message proper on the wire.
var delimiter = []byte("<IDS|MSG>")

// ErrBadSignature is returned (wrapped) by [Codec.Decode] for a message whose HMAC does not match.
var ErrBadSignature = errors.New("bad message signature")

// Header is a message header (also used as parent header). An empty header encodes as {}.
type Header struct {
	MsgID    string `json:"msg_id,omitempty"`
	Session  string `json:"session,omitempty"`
	Username string `json:"username,omitempty"`
	Date     string `json:"date,omitempty"`
	MsgType  string `json:"msg_type,omitempty"`
	Version  string `json:"version,omitempty"`
}

// Message is one protocol message. Content is kept raw on receipt so that each handler decodes
// the shape it expects; on sending, [NewMessage] marshals any value into it.
type Message struct {
	Identities   [][]byte // ZeroMQ routing identities (shell, control, stdin) or topic (iopub)
	Header       Header
	ParentHeader Header
	Metadata     map[string]any
	Content      json.RawMessage
	Buffers      [][]byte
}

// Type returns the message type.
func (m *Message) Type() string { return m.Header.MsgType }

// Decode unmarshals the content into v.
func (m *Message) Decode(v any) error {
	if len(m.Content) == 0 {
		return nil
	}
	if err := json.Unmarshal(m.Content, v); err != nil {
		return fmt.Errorf("%s content: %w", m.Header.MsgType, err)
	}
	return nil
}

// NewMessage returns a message of type msgType with the given content. When parent is not nil
// the new message is its child: same session and routing identities, and parent header set.
func NewMessage(msgType string, parent *Message, session string, content any) (*Message, error) {
	raw, err := json.Marshal(content)
	if err != nil {
		return nil, fmt.Errorf("encoding %s content: %w", msgType, err)
	}
	if content == nil {
		raw = []byte("{}")
	}
	m := &Message{
		Header: Header{
			MsgID:    newID(),
			Session:  session,
			Username: "nat",
			Date:     time.Now().UTC().Format(time.RFC3339Nano),
			MsgType:  msgType,
			Version:  ProtocolVersion,
		},
		Metadata: map[string]any{},
		Content:  raw,
	}
	if parent != nil {
		m.ParentHeader = parent.Header
		m.Identities = parent.Identities
		if parent.Header.Username != "" {
			m.Header.Username = parent.Header.Username
		}
	}
	return m, nil
}

// Codec signs and verifies messages with the connection's key (HMAC-SHA256). A codec with an
// empty key neither signs nor verifies, as the protocol specifies.
type Codec struct {
	key []byte
}

// NewCodec returns the codec for a connection.
func NewCodec(ci ConnectionInfo) *Codec { return &Codec{key: []byte(ci.Key)} }

// sign returns the hex HMAC of the four signed frames.
func (c *Codec) sign(parts [][]byte) []byte {
	if len(c.key) == 0 {
		return nil
	}
	mac := hmac.New(sha256.New, c.key)
	for _, p := range parts {
		mac.Write(p)
	}
	sum := mac.Sum(nil)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// Encode returns the wire frames of m: identities, delimiter, signature, header, parent header,
// metadata, content, buffers.
func (c *Codec) Encode(m *Message) ([][]byte, error) {
	header, err := json.Marshal(m.Header)
	if err != nil {
		return nil, err
	}
	parent, err := json.Marshal(m.ParentHeader)
	if err != nil {
		return nil, err
	}
	md := m.Metadata
	if md == nil {
		md = map[string]any{}
	}
	meta, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("encoding %s metadata: %w", m.Header.MsgType, err)
	}
	content := []byte(m.Content)
	if len(content) == 0 {
		content = []byte("{}")
	}
	signed := [][]byte{header, parent, meta, content}
	frames := make([][]byte, 0, len(m.Identities)+6+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames, delimiter, c.sign(signed))
	frames = append(frames, signed...)
	frames = append(frames, m.Buffers...)
	return frames, nil
}

// Decode parses wire frames into a message, verifying the signature first: a message whose
// signature does not match is rejected with an error wrapping [ErrBadSignature].
func (c *Codec) Decode(frames [][]byte) (*Message, error) {
	i := 0
	for i < len(frames) && !bytes.Equal(frames[i], delimiter) {
		i++
	}
	if i == len(frames) {
		return nil, fmt.Errorf("malformed message: no %q delimiter in %d frames", delimiter, len(frames))
	}
	if len(frames) < i+6 {
		return nil, fmt.Errorf("malformed message: %d frames after the delimiter, want at least 5", len(frames)-i-1)
	}
	sig, signed := frames[i+1], frames[i+2:i+6]
	if len(c.key) > 0 {
		want := c.sign(signed)
		if !hmac.Equal(bytes.ToLower(sig), want) {
			return nil, fmt.Errorf("%w (header %.120q)", ErrBadSignature, signed[0])
		}
	}
	m := &Message{Identities: frames[:i], Buffers: frames[i+6:]}
	if err := json.Unmarshal(signed[0], &m.Header); err != nil {
		return nil, fmt.Errorf("message header: %w", err)
	}
	if err := json.Unmarshal(signed[1], &m.ParentHeader); err != nil {
		return nil, fmt.Errorf("%s parent header: %w", m.Header.MsgType, err)
	}
	if err := json.Unmarshal(signed[2], &m.Metadata); err != nil {
		return nil, fmt.Errorf("%s metadata: %w", m.Header.MsgType, err)
	}
	m.Content = append(json.RawMessage(nil), signed[3]...)
	return m, nil
}

// newID returns a random UUID (version 4) string, used for message ids, sessions and keys.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // cannot happen on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// NewID returns a fresh random identifier suitable for sessions and display ids.
func NewID() string { return newID() }
