package jupyter

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/go-zeromq/zmq4"
)

// Channel is one ZeroMQ socket carrying protocol messages. Sends are serialised so that
// goroutines may share a channel; receives belong to a single reader.
type Channel struct {
	name  string
	sock  zmq4.Socket
	codec *Codec
	mu    sync.Mutex
}

// Name returns the channel's name ("shell", "control", "stdin", "iopub").
func (c *Channel) Name() string { return c.name }

// Send signs and sends m.
func (c *Channel) Send(m *Message) error {
	frames, err := c.codec.Encode(m)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.sock.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
		return fmt.Errorf("%s: sending %s: %w", c.name, m.Header.MsgType, err)
	}
	return nil
}

// Recv waits for the next message. A message that fails verification or parsing is returned as
// an error (wrapping [ErrBadSignature] for a bad signature) and the channel stays usable;
// an error from the socket itself (closed, broken) wraps [ErrClosed].
func (c *Channel) Recv() (*Message, error) {
	zm, err := c.sock.Recv()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", c.name, ErrClosed, err)
	}
	m, err := c.codec.Decode(zm.Frames)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	return m, nil
}

// Close closes the socket, unblocking a pending Recv.
func (c *Channel) Close() error { return c.sock.Close() }

// ErrClosed is wrapped by [Channel.Recv] errors that come from the socket rather than the message.
var ErrClosed = errors.New("socket closed or failed")

// KernelSockets are the kernel's side of a connection: bound, not dialed.
type KernelSockets struct {
	Shell, Control, Stdin, IOPub *Channel
	hb                           zmq4.Socket
}

// Bind creates the five kernel sockets and binds them to the ports of ci. The sockets live as
// long as ctx (or until Close).
func Bind(ctx context.Context, ci ConnectionInfo) (*KernelSockets, error) {
	if err := ci.Validate(); err != nil {
		return nil, err
	}
	codec := NewCodec(ci)
	ks := &KernelSockets{
		Shell:   &Channel{name: "shell", sock: zmq4.NewRouter(ctx), codec: codec},
		Control: &Channel{name: "control", sock: zmq4.NewRouter(ctx), codec: codec},
		Stdin:   &Channel{name: "stdin", sock: zmq4.NewRouter(ctx), codec: codec},
		IOPub:   &Channel{name: "iopub", sock: zmq4.NewPub(ctx), codec: codec},
		hb:      zmq4.NewRep(ctx),
	}
	binds := []struct {
		name string
		sock zmq4.Socket
		port int
	}{
		{"shell", ks.Shell.sock, ci.ShellPort},
		{"control", ks.Control.sock, ci.ControlPort},
		{"stdin", ks.Stdin.sock, ci.StdinPort},
		{"iopub", ks.IOPub.sock, ci.IOPubPort},
		{"heartbeat", ks.hb, ci.HBPort},
	}
	for _, b := range binds {
		if err := b.sock.Listen(ci.Endpoint(b.port)); err != nil {
			ks.Close()
			return nil, fmt.Errorf("binding %s channel to %s: %w", b.name, ci.Endpoint(b.port), err)
		}
	}
	return ks, nil
}

// ServeHeartbeat echoes heartbeat pings until the socket is closed.
func (ks *KernelSockets) ServeHeartbeat() error {
	for {
		m, err := ks.hb.Recv()
		if err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
		if err := ks.hb.Send(m); err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
	}
}

// Close closes every socket.
func (ks *KernelSockets) Close() error {
	var errs []error
	for _, c := range []*Channel{ks.Shell, ks.Control, ks.Stdin, ks.IOPub} {
		errs = append(errs, c.Close())
	}
	errs = append(errs, ks.hb.Close())
	return errors.Join(errs...)
}
