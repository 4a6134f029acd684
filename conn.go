package kafka

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/kpgo/kafka/protocol"
)

// maxResponseSize bounds a response frame, so a peer that is not Kafka (or
// a TLS port read as plaintext) cannot make us allocate gigabytes.
const maxResponseSize = 256 << 20

// request is one request on a connection. done is called exactly once,
// from the connection's goroutines, with the response body (after the
// header) or an error; the body is only valid during the call.
type request struct {
	apiKey  int16
	version int16
	// encode appends the request body.
	encode func(dst []byte) ([]byte, error)
	// encodeVec, if set, is encode leaving large parts of the body out
	// of dst and marking where they go, for connections that write them
	// from where they are (see writeVec).
	encodeVec func(dst []byte, splices []protocol.Splice) ([]byte, []protocol.Splice, error)
	// written, if set, runs on the writer once it is through with the
	// request's bytes, written or not; done may have run already.
	written    func()
	noResponse bool
	timeout    time.Duration
	done       func(body []byte, err error)

	corrID   int32
	deadline time.Time
}

// conn is one broker connection: a writer goroutine that encodes and writes
// requests in order and a reader goroutine that matches responses to them
// (Kafka answers in order on a connection). Both end when the connection
// fails or is closed, failing every request not answered.
type conn struct {
	nodeID   int32
	addr     string
	clientID *string
	nc       net.Conn
	vectored bool               // nc writes net.Buffers with one writev
	versions map[int16][2]int16 // the broker's [min, max] per API key
	sasl     *saslState         // nil without SASL; see conn_security.go

	writeCh chan *request
	pending chan *request
	quit    chan struct{}

	closeOnce  sync.Once
	writerDone chan struct{}
	// sendMu orders send against the writer's final drain, so no request
	// is queued after the drain and left unanswered.
	sendMu   sync.Mutex
	drained  bool
	errMu    sync.Mutex
	err      error
	wg       sync.WaitGroup
	lastUsed atomicTime
	metrics  *producerMetrics // nil without a producer
}

type atomicTime struct {
	mu sync.Mutex
	t  time.Time
}

func (a *atomicTime) set(t time.Time) { a.mu.Lock(); a.t = t; a.mu.Unlock() }
func (a *atomicTime) get() time.Time  { a.mu.Lock(); defer a.mu.Unlock(); return a.t }

// errConnClosed fails requests on a connection that was closed on purpose.
var errConnClosed = errors.New("connection closed")

// dialConn opens a connection and negotiates API versions. It returns a
// connection whose goroutines run until close.
func dialConn(ctx context.Context, cfg *config, nodeID int32, addr string, maxInFlight int) (*conn, error) {
	nc, err := cfg.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %w", ErrBrokerUnreachable, addr, err)
	}
	setSocketBuffers(cfg, nc, addr)
	clientID := cfg.clientID
	c := &conn{
		nodeID:   nodeID,
		addr:     addr,
		clientID: &clientID,
		nc:       nc,
		writeCh:  make(chan *request, maxInFlight+4),
		pending:  make(chan *request, maxInFlight+8),
		quit:     make(chan struct{}),

		writerDone: make(chan struct{}),
		metrics:    cfg.obs.metrics,
	}
	c.lastUsed.set(time.Now())
	if d, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(d)
	}
	// TLS, ApiVersions and SASL (conn_security.go).
	versions, err := c.handshake(ctx, cfg)
	_ = nc.SetDeadline(time.Time{})
	if err != nil {
		nc.Close()
		return nil, err
	}
	c.versions = versions
	// Plain TCP connections write a request's batches with writev; TLS
	// would make a record of each piece, so it gets them copied.
	_, c.vectored = c.nc.(*net.TCPConn)
	c.metrics.connOpened(c)
	c.wg.Add(2)
	go c.writeLoop()
	go c.readLoop()
	return c, nil
}

// setSocketBuffers applies send_buffer_bytes and receive_buffer_bytes to
// nc, if it is a socket (a custom Dialer may return something else).
func setSocketBuffers(cfg *config, nc net.Conn, addr string) {
	type buffered interface {
		SetWriteBuffer(int) error
		SetReadBuffer(int) error
	}
	sc, ok := nc.(buffered)
	if !ok {
		return
	}
	if cfg.sendBuffer > 0 {
		if err := sc.SetWriteBuffer(cfg.sendBuffer); err != nil {
			cfg.logger.Warn("kafka: cannot set send_buffer_bytes", "addr", addr, "err", err)
		}
	}
	if cfg.receiveBuffer > 0 {
		if err := sc.SetReadBuffer(cfg.receiveBuffer); err != nil {
			cfg.logger.Warn("kafka: cannot set receive_buffer_bytes", "addr", addr, "err", err)
		}
	}
}

// negotiate sends ApiVersions before anything else (principle 6). It asks
// at the highest version we know; a broker that does not know it answers
// in the v0 format with UNSUPPORTED_VERSION and its own range, and we ask
// again at the highest version both know (KIP-511).
func (c *conn) negotiate(cfg *config) (map[int16][2]int16, error) {
	_, version, _ := protocol.SupportedVersions(protocol.APIKeyApiVersions)
	for attempt := 0; attempt < 3; attempt++ {
		req := protocol.ApiVersionsRequest{
			ClientSoftwareName:    "kpgo-kafka",
			ClientSoftwareVersion: "0.1.0",
		}
		body, err := c.roundTrip(protocol.APIKeyApiVersions, version, req.AppendTo(nil, version))
		if err != nil {
			return nil, err
		}
		// A broker answers an ApiVersions version it does not know in
		// the v0 format with UNSUPPORTED_VERSION and, since Kafka 2.4, the
		// versions it knows (KIP-511): ask again at the highest of those.
		resp, err := protocol.DecodeApiVersionsResponse(body, version)
		if err != nil {
			return nil, fmt.Errorf("%w: ApiVersions from %s: %w", ErrBrokerUnreachable, c.addr, err)
		}
		if resp.ErrorCode == protocol.UnsupportedVersion.Code {
			next := int16(0)
			if _, hi, ok := resp.VersionRange(protocol.APIKeyApiVersions); ok {
				next = max(min(hi, version-1), 0)
			}
			version = next
			continue
		}
		if err := protocol.ErrorForCode(resp.ErrorCode); err != nil {
			return nil, fmt.Errorf("ApiVersions from %s: %w", c.addr, err)
		}
		out := make(map[int16][2]int16, len(resp.ApiKeys))
		for _, k := range resp.ApiKeys {
			out[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %s: no ApiVersions version both sides support", ErrBrokerUnreachable, c.addr)
}

// roundTrip writes one request and reads its response synchronously; it
// is used only before the connection's goroutines start.
func (c *conn) roundTrip(apiKey, version int16, body []byte) ([]byte, error) {
	flexible := protocol.IsFlexible(apiKey, version)
	frame := protocol.AppendInt32(nil, 0)
	frame = protocol.AppendRequestHeader(frame, protocol.RequestHeader{
		APIKey: apiKey, APIVersion: version, CorrelationID: 0, ClientID: c.clientID,
	}, flexible)
	frame = append(frame, body...)
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	if _, err := c.nc.Write(frame); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBrokerUnreachable, c.addr, err)
	}
	resp, err := readFrame(c.nc, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBrokerUnreachable, c.addr, err)
	}
	r := protocol.NewReader(resp)
	if id := protocol.ReadResponseHeader(r, protocol.ResponseHeaderFlexible(apiKey, version)); id != 0 || r.Err() != nil {
		return nil, fmt.Errorf("%w: %s: bad response header", ErrBrokerUnreachable, c.addr)
	}
	return r.Rest(), nil
}

// readFrame reads one size-prefixed frame into buf's capacity.
func readFrame(r io.Reader, buf []byte) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 0 || n > maxResponseSize {
		return nil, fmt.Errorf("response size %d out of range (is this a Kafka port, and the right protocol?)", n)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// version picks the highest version of apiKey that we and the broker both
// support, capped at max; ok is false when there is none.
func (c *conn) version(apiKey, max int16) (int16, bool) {
	ourMin, ourMax, ok := protocol.SupportedVersions(apiKey)
	if !ok {
		return 0, false
	}
	r, ok := c.versions[apiKey]
	if !ok {
		return 0, false
	}
	hi := min(ourMax, r[1], max)
	lo := maxInt16(ourMin, r[0])
	if hi < lo {
		return 0, false
	}
	return hi, true
}

func maxInt16(a, b int16) int16 {
	if a > b {
		return a
	}
	return b
}

// send queues req; if the connection is already dead, req fails at once.
func (c *conn) send(req *request) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.drained {
		req.done(nil, c.failure())
		return
	}
	select {
	case c.writeCh <- req:
	case <-c.quit:
		req.done(nil, c.failure())
	}
}

func (c *conn) failure() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	if c.err == nil {
		return errConnClosed
	}
	return c.err
}

// fail closes the connection with err; every request not answered fails.
func (c *conn) fail(err error) {
	c.closeOnce.Do(func() {
		c.errMu.Lock()
		c.err = err
		c.errMu.Unlock()
		close(c.quit)
		c.nc.Close()
		c.metrics.connClosed(c, err)
	})
}

// close closes the connection and waits for its goroutines.
func (c *conn) close() {
	c.fail(fmt.Errorf("%w: %s: %w", ErrBrokerUnreachable, c.addr, errConnClosed))
	c.wg.Wait()
}

func (c *conn) dead() bool {
	select {
	case <-c.quit:
		return true
	default:
		return false
	}
}

func (c *conn) writeLoop() {
	defer c.wg.Done()
	defer close(c.writerDone)
	defer c.drainWrites()
	w := bufio.NewWriterSize(c.nc, 64<<10)
	var corrID int32
	var frame []byte
	var splices []protocol.Splice
	var vec net.Buffers
	for {
		var req *request
		select {
		case req = <-c.writeCh:
		case <-c.quit:
			return
		}
		if err := c.maybeReauthenticate(w, &corrID); err != nil {
			c.fail(err)
			req.done(nil, c.failure())
			return
		}
		corrID++
		req.corrID = corrID
		flexible := protocol.IsFlexible(req.apiKey, req.version)
		frame = protocol.AppendInt32(frame[:0], 0)
		frame = protocol.AppendRequestHeader(frame, protocol.RequestHeader{
			APIKey: req.apiKey, APIVersion: req.version, CorrelationID: corrID, ClientID: c.clientID,
		}, flexible)
		var err error
		splices = splices[:0]
		if req.encodeVec != nil && c.vectored {
			frame, splices, err = req.encodeVec(frame, splices)
		} else {
			frame, err = req.encode(frame)
		}
		if err != nil {
			req.done(nil, err)
			continue
		}
		size := len(frame)
		for _, s := range splices {
			size += len(s.Bytes)
		}
		binary.BigEndian.PutUint32(frame, uint32(size-4))
		if !req.noResponse {
			req.deadline = time.Now().Add(req.timeout)
			select {
			case c.pending <- req:
			case <-c.quit:
				req.done(nil, c.failure())
				return
			}
		}
		if size <= w.Available() || len(splices) == 0 {
			// Small: into the buffer, pieces and all.
			_, err = w.Write(frame[:pieceEnd(splices, 0, len(frame))])
			for i := 0; err == nil && i < len(splices); i++ {
				if _, err = w.Write(splices[i].Bytes); err == nil {
					_, err = w.Write(frame[splices[i].At:pieceEnd(splices, i+1, len(frame))])
				}
			}
		} else {
			vec, err = c.writeVec(w, vec, frame, splices)
		}
		// Write out now unless more requests are already waiting, so
		// pipelined requests share a syscall. A request that gets no
		// answer is done once written, so it is written out at once:
		// bytes left in the buffer would be lost if the connection
		// closed before the next flush.
		if err == nil && (len(c.writeCh) == 0 || req.noResponse) {
			err = w.Flush()
		}
		if req.written != nil {
			req.written()
		}
		c.lastUsed.set(time.Now())
		if err != nil {
			werr := fmt.Errorf("%w: write to %s: %w", ErrBrokerUnreachable, c.addr, err)
			if req.noResponse {
				req.done(nil, werr)
			}
			c.fail(werr)
			return
		}
		c.metrics.requestWritten(c, req, size)
		if req.noResponse {
			req.done(nil, nil)
		}
		if cap(frame) > 4<<20 {
			frame = nil // Do not pin a huge buffer.
		}
	}
}

// pieceEnd is where the frame's piece before splice i ends: at splice i,
// or at the frame's end after the last.
func pieceEnd(splices []protocol.Splice, i, end int) int {
	if i < len(splices) {
		return splices[i].At
	}
	return end
}

// writeVec writes a large frame whose batches stay where they are, the
// frame's own bytes between them, with as few writev calls as the system
// allows: a record is then copied once, into its batch, on its way to the
// socket. Requests buffered before it go first. The batches are not
// released while this runs, because that follows the request's done:
// after a response, which the broker sends only once it has every byte,
// so after the writev that copied them; or after a failure, which waits
// for the writer to stop (see readLoop).
func (c *conn) writeVec(w *bufio.Writer, vec net.Buffers, frame []byte, splices []protocol.Splice) (net.Buffers, error) {
	if err := w.Flush(); err != nil {
		return vec, err
	}
	vec = append(vec[:0], frame[:splices[0].At])
	for i, s := range splices {
		vec = append(vec, s.Bytes, frame[s.At:pieceEnd(splices, i+1, len(frame))])
	}
	// WriteTo consumes its receiver; vec keeps the backing array.
	bufs := vec
	_, err := bufs.WriteTo(c.nc)
	clear(vec)
	return vec[:0], err
}

// drainWrites fails requests queued but never written.
func (c *conn) drainWrites() {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	c.drained = true
	for {
		select {
		case req := <-c.writeCh:
			req.done(nil, c.failure())
		default:
			return
		}
	}
}

func (c *conn) readLoop() {
	defer c.wg.Done()
	defer func() {
		// The writer may still push to pending until it stops.
		<-c.writerDone
		c.drainPending()
	}()
	br := bufio.NewReaderSize(c.nc, 64<<10)
	var buf []byte
	for {
		var req *request
		select {
		case req = <-c.pending:
		case <-c.quit:
			return
		}
		_ = c.nc.SetReadDeadline(req.deadline)
		frame, err := readFrame(br, buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				err = fmt.Errorf("%w: %s: no response within request_timeout_ms (%v): %w", ErrBrokerUnreachable, c.addr, req.timeout, protocol.RequestTimedOut)
			} else {
				err = fmt.Errorf("%w: read from %s: %w", ErrBrokerUnreachable, c.addr, err)
			}
			c.fail(err)
			// The writer may still be writing this request, from its
			// batches' own buffers (writeVec): done, after which they
			// may be reused, waits until it stops.
			<-c.writerDone
			req.done(nil, c.failure())
			return
		}
		buf = frame
		r := protocol.NewReader(frame)
		id := protocol.ReadResponseHeader(r, protocol.ResponseHeaderFlexible(req.apiKey, req.version))
		if r.Err() != nil || id != req.corrID {
			err := fmt.Errorf("%w: %s: response correlation id %d, want %d", ErrBrokerUnreachable, c.addr, id, req.corrID)
			c.fail(err)
			<-c.writerDone
			req.done(nil, c.failure())
			return
		}
		c.lastUsed.set(time.Now())
		c.metrics.responseRead(c, req, len(frame)+4)
		req.done(r.Rest(), nil)
		if cap(buf) > 4<<20 {
			buf = nil
		}
	}
}

// drainPending fails requests written but not answered.
func (c *conn) drainPending() {
	for {
		select {
		case req := <-c.pending:
			req.done(nil, c.failure())
		default:
			return
		}
	}
}
