package jupyter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zeromq/zmq4"
)

// Client is the frontend side of a connection: it dials a kernel's five channels, matches replies
// to requests and iopub messages to the request that caused them.
type Client struct {
	Shell, Control, Stdin, IOPub *Channel

	// Input answers the kernel's input_request messages. When nil the client answers with an
	// empty line. Set it before use, or with SetInput while requests are running.
	Input func(prompt string, password bool) string

	// AfterIdle keeps [Client.Exchange] delivering a request's iopub messages this long after its
	// "idle" status, for kernels that publish late: GoNB forwards a cell's displays from a pipe
	// that it does not wait for before going idle. Zero stops at idle, as the protocol intends.
	AfterIdle time.Duration

	hb      zmq4.Socket
	hbMu    sync.Mutex
	session string

	mu      sync.Mutex
	replies map[string]chan *Message // by request msg_id
	iopub   map[string]chan *Message // by parent msg_id

	bad       atomic.Int64 // messages that failed verification or parsing
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// Dial connects a client to the kernel described by ci. The sockets live as long as ctx (or
// until Close). Dial does not wait for the kernel to be up: see [Client.WaitReady].
func Dial(ctx context.Context, ci ConnectionInfo) (*Client, error) {
	if err := ci.Validate(); err != nil {
		return nil, err
	}
	codec := NewCodec(ci)
	session := newID()
	opts := []zmq4.Option{zmq4.WithDialerRetry(50 * time.Millisecond), zmq4.WithDialerMaxRetries(200)}
	// Shell and stdin share one routing identity, as in jupyter_client: the kernel sends
	// input_request to the identity of the shell request that asked for input.
	id := append(opts, zmq4.WithID(zmq4.SocketIdentity(session)))
	c := &Client{
		Shell:   &Channel{name: "shell", sock: zmq4.NewDealer(ctx, id...), codec: codec},
		Control: &Channel{name: "control", sock: zmq4.NewDealer(ctx, id...), codec: codec},
		Stdin:   &Channel{name: "stdin", sock: zmq4.NewDealer(ctx, id...), codec: codec},
		IOPub:   &Channel{name: "iopub", sock: zmq4.NewSub(ctx, opts...), codec: codec},
		hb:      zmq4.NewReq(ctx, opts...),
		session: session,
		replies: map[string]chan *Message{},
		iopub:   map[string]chan *Message{},
		done:    make(chan struct{}),
	}
	dials := []struct {
		name string
		sock zmq4.Socket
		port int
	}{
		{"shell", c.Shell.sock, ci.ShellPort},
		{"control", c.Control.sock, ci.ControlPort},
		{"stdin", c.Stdin.sock, ci.StdinPort},
		{"iopub", c.IOPub.sock, ci.IOPubPort},
		{"heartbeat", c.hb, ci.HBPort},
	}
	for _, d := range dials {
		if err := d.sock.Dial(ci.Endpoint(d.port)); err != nil {
			c.closeSockets()
			return nil, fmt.Errorf("dialing %s channel %s: %w", d.name, ci.Endpoint(d.port), err)
		}
	}
	if err := c.IOPub.sock.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		c.closeSockets()
		return nil, fmt.Errorf("subscribing to iopub: %w", err)
	}
	for _, ch := range []*Channel{c.Shell, c.Control} {
		c.wg.Add(1)
		go c.readReplies(ch)
	}
	c.wg.Add(2)
	go c.readIOPub()
	go c.readStdin()
	return c, nil
}

// SetInput replaces Input safely while the client runs.
func (c *Client) SetInput(f func(prompt string, password bool) string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Input = f
}

// Session returns the client's session id.
func (c *Client) Session() string { return c.session }

// BadMessages returns how many received messages failed verification or parsing.
func (c *Client) BadMessages() int64 { return c.bad.Load() }

func (c *Client) readReplies(ch *Channel) {
	defer c.wg.Done()
	for {
		m, err := ch.Recv()
		if errors.Is(err, ErrClosed) {
			return
		}
		if err != nil {
			c.bad.Add(1)
			continue
		}
		c.mu.Lock()
		w := c.replies[m.ParentHeader.MsgID]
		delete(c.replies, m.ParentHeader.MsgID)
		c.mu.Unlock()
		if w != nil {
			w <- m
		}
	}
}

func (c *Client) readIOPub() {
	defer c.wg.Done()
	for {
		m, err := c.IOPub.Recv()
		if errors.Is(err, ErrClosed) {
			return
		}
		if err != nil {
			c.bad.Add(1)
			continue
		}
		c.mu.Lock()
		w := c.iopub[m.ParentHeader.MsgID]
		c.mu.Unlock()
		if w != nil {
			select {
			case w <- m:
			case <-c.done:
				return
			}
		}
	}
}

func (c *Client) readStdin() {
	defer c.wg.Done()
	for {
		m, err := c.Stdin.Recv()
		if errors.Is(err, ErrClosed) {
			return
		}
		if err != nil || m.Type() != "input_request" {
			c.bad.Add(1)
			continue
		}
		var req struct {
			Prompt   string `json:"prompt"`
			Password bool   `json:"password"`
		}
		_ = m.Decode(&req)
		value := ""
		c.mu.Lock()
		input := c.Input
		c.mu.Unlock()
		if input != nil {
			value = input(req.Prompt, req.Password)
		}
		reply, err := NewMessage("input_reply", m, c.session, map[string]any{"value": value})
		if err == nil {
			reply.Identities = nil
			_ = c.Stdin.Send(reply)
		}
	}
}

// subscribe registers interest in the reply to, and the iopub messages caused by, msgID.
func (c *Client) subscribe(msgID string, withIOPub bool) (reply, iopub chan *Message) {
	reply = make(chan *Message, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.replies[msgID] = reply
	if withIOPub {
		iopub = make(chan *Message, 4096)
		c.iopub[msgID] = iopub
	}
	return reply, iopub
}

func (c *Client) unsubscribe(msgID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.replies, msgID)
	delete(c.iopub, msgID)
}

// NewRequest returns a request message of this client's session.
func (c *Client) NewRequest(msgType string, content any) (*Message, error) {
	return NewMessage(msgType, nil, c.session, content)
}

// Request sends a request on ch (Shell or Control) and returns its reply.
func (c *Client) Request(ctx context.Context, ch *Channel, msgType string, content any) (*Message, error) {
	m, err := c.NewRequest(msgType, content)
	if err != nil {
		return nil, err
	}
	reply, _ := c.subscribe(m.Header.MsgID, false)
	defer c.unsubscribe(m.Header.MsgID)
	if err := ch.Send(m); err != nil {
		return nil, err
	}
	select {
	case r := <-reply:
		return r, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the reply to %s: %w", msgType, ctx.Err())
	}
}

// Exchange sends request m on ch and calls onIOPub for every iopub message it causes, until both
// its reply and its final "idle" status have arrived. It returns the reply.
//
// When ctx is cancelled first, Exchange sends one interrupt_request on the control channel and
// keeps waiting for up to interruptGrace for the kernel to finish the request, as a frontend's
// interrupt button does.
func (c *Client) Exchange(ctx context.Context, ch *Channel, m *Message, onIOPub func(*Message)) (*Message, error) {
	const interruptGrace = 30 * time.Second
	replyC, iopubC := c.subscribe(m.Header.MsgID, true)
	defer c.unsubscribe(m.Header.MsgID)
	if err := ch.Send(m); err != nil {
		return nil, err
	}
	var reply *Message
	idle := false
	done := ctx.Done()
	var grace <-chan time.Time
	var linger <-chan time.Time
	for {
		if reply != nil && idle {
			if c.AfterIdle <= 0 {
				break
			}
			if linger == nil {
				linger = time.After(c.AfterIdle)
			}
		}
		select {
		case <-linger:
			return reply, nil
		case r := <-replyC:
			reply = r
		case im := <-iopubC:
			if im.Type() == "status" {
				var st struct {
					State string `json:"execution_state"`
				}
				_ = im.Decode(&st)
				if st.State == "idle" {
					idle = true
				}
			}
			if onIOPub != nil {
				onIOPub(im)
			}
		case <-done:
			done = nil
			grace = time.After(interruptGrace)
			if _, err := c.Request(context.Background(), c.Control, "interrupt_request", nil); err != nil {
				return nil, fmt.Errorf("interrupting %s: %w", m.Type(), err)
			}
		case <-grace:
			return reply, fmt.Errorf("%s: kernel did not finish within %v of an interrupt: %w", m.Type(), interruptGrace, ctx.Err())
		case <-c.done:
			return reply, fmt.Errorf("%s: client closed", m.Type())
		}
	}
	return reply, nil
}

// Execute runs code in the kernel (an execute_request on the shell channel); see [Client.Exchange].
func (c *Client) Execute(ctx context.Context, code string, onIOPub func(*Message)) (*Message, error) {
	m, err := c.NewRequest("execute_request", map[string]any{
		"code": code, "silent": false, "store_history": true,
		"user_expressions": map[string]any{}, "allow_stdin": c.allowStdin(), "stop_on_error": true,
	})
	if err != nil {
		return nil, err
	}
	return c.Exchange(ctx, c.Shell, m, onIOPub)
}

func (c *Client) allowStdin() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Input != nil
}

// WaitReady sends kernel_info requests until one is answered and its iopub status messages come
// through, which proves that the iopub subscription is live (ZeroMQ drops messages published
// before a subscriber joins). It returns the kernel_info reply.
func (c *Client) WaitReady(ctx context.Context) (*Message, error) {
	for {
		m, err := c.NewRequest("kernel_info_request", nil)
		if err != nil {
			return nil, err
		}
		try, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		replyC, iopubC := c.subscribe(m.Header.MsgID, true)
		var reply *Message
		sawIOPub := false
		if err := c.Shell.Send(m); err != nil {
			cancel()
			c.unsubscribe(m.Header.MsgID)
			return nil, err
		}
	wait:
		for reply == nil || !sawIOPub {
			select {
			case reply = <-replyC:
			case <-iopubC:
				sawIOPub = true
			case <-try.Done():
				break wait
			}
		}
		cancel()
		c.unsubscribe(m.Header.MsgID)
		if reply != nil && sawIOPub {
			return reply, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("kernel not ready: %w", ctx.Err())
		}
	}
}

// Ping sends one heartbeat and waits for its echo.
func (c *Client) Ping(ctx context.Context) error {
	c.hbMu.Lock()
	defer c.hbMu.Unlock()
	errc := make(chan error, 1)
	go func() {
		if err := c.hb.Send(zmq4.NewMsgString("ping")); err != nil {
			errc <- err
			return
		}
		m, err := c.hb.Recv()
		if err == nil && string(m.Bytes()) != "ping" {
			err = fmt.Errorf("heartbeat echoed %q, want %q", m.Bytes(), "ping")
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return fmt.Errorf("heartbeat: %w", ctx.Err())
	}
}

func (c *Client) closeSockets() {
	for _, ch := range []*Channel{c.Shell, c.Control, c.Stdin, c.IOPub} {
		ch.Close()
	}
	c.hb.Close()
}

// Close disconnects the client.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		c.closeSockets()
		c.wg.Wait()
	})
	return nil
}
