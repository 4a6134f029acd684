package kafka

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kpgo/kafka/protocol"
	"github.com/kpgo/kafka/sasl"
)

// probeTimeout bounds the extra connection that tells a protocol mismatch
// from a broker that is just down.
const probeTimeout = 3 * time.Second

// saslState is a connection's SASL mechanism and when its session needs
// renewing (KIP-368). Only the writer goroutine touches it after dialConn.
type saslState struct {
	mech     sasl.Mechanism
	info     sasl.ConnInfo
	timeout  time.Duration
	reauthAt time.Time     // zero: the session does not expire
	drops    *atomic.Int32 // the producer's securityConfig.saslDrops
}

// saslDropsBeforeFailure is how many connections in a row a broker may
// close during SaslAuthenticate before that counts as an authentication
// failure. Kafka 1.0+ answers bad credentials with
// SASL_AUTHENTICATION_FAILED, so a lone close is most likely a broker
// restarting or the network, which the Java client treats as a plain
// disconnect; but some brokers and proxies close on bad credentials, and
// retrying those until delivery_timeout_ms would hide the cause.
const saslDropsBeforeFailure = 3

// handshake makes a fresh connection usable: TLS when configured, then
// ApiVersions, then SASL. It replaces c.nc with the TLS connection.
func (c *conn) handshake(ctx context.Context, cfg *config) (map[int16][2]int16, error) {
	sec := &cfg.security
	if sec.useTLS() {
		if err := c.startTLS(ctx, cfg); err != nil {
			return nil, err
		}
	}
	versions, err := c.negotiate(cfg)
	if err != nil {
		if alert := remoteTLSAlert(err); sec.useTLS() && alert != nil {
			// In TLS 1.3 the client's handshake ends before the broker
			// checks the client's certificate, so a rejection arrives as
			// an alert on the first read.
			return nil, &authError{kind: ErrTLSHandshake, addr: c.addr, msg: "the broker rejected the TLS connection", cause: alert}
		}
		if !sec.useTLS() && isTransportError(err) && probeTLS(ctx, cfg, c.addr) {
			return nil, &authError{kind: ErrSecurityProtocolMismatch, addr: c.addr,
				msg: "the broker expects TLS; set security_protocol to SSL or SASL_SSL (it is " + sec.protocol + ")"}
		}
		return nil, err
	}
	if sec.sasl == nil {
		return versions, nil
	}
	c.versions = versions
	st := &saslState{
		mech:    sec.sasl,
		info:    sasl.ConnInfo{Host: hostOf(c.addr), Addr: c.addr, TLS: sec.useTLS()},
		timeout: cfg.requestTimeout,
		drops:   &sec.saslDrops,
	}
	lifetime, err := st.exchange(ctx, c, c.roundTrip)
	if err != nil {
		return nil, err
	}
	st.schedule(lifetime)
	c.sasl = st
	return versions, nil
}

func hostOf(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// startTLS runs the TLS handshake on c.nc and swaps in the TLS connection.
func (c *conn) startTLS(ctx context.Context, cfg *config) error {
	// ctx carries socket_connection_setup_timeout_ms (KIP-601): a
	// plaintext broker never answers a ClientHello.
	tc := tls.Client(c.nc, cfg.security.tlsFor(hostOf(c.addr)))
	err := tc.HandshakeContext(ctx)
	if err == nil {
		c.nc = tc
		return nil
	}
	var rhe tls.RecordHeaderError
	switch {
	case errors.As(err, &rhe):
		// The broker answered, but not in TLS.
		return &authError{kind: ErrSecurityProtocolMismatch, also: ErrTLSHandshake, addr: c.addr,
			msg: "the broker did not answer in TLS; is this a plaintext listener?", cause: err}
	case isTransportError(err):
		// A plaintext broker reads a ClientHello as the start of a huge
		// request and waits for the rest or drops the connection; ask it
		// in plaintext to tell that from a broker that is down.
		if probePlaintext(ctx, cfg, c.addr) {
			return &authError{kind: ErrSecurityProtocolMismatch, also: ErrTLSHandshake, addr: c.addr,
				msg: "the broker speaks plaintext; set security_protocol to PLAINTEXT or SASL_PLAINTEXT (it is " + cfg.security.protocol + ")"}
		}
		return fmt.Errorf("%w: TLS handshake with %s: %w", ErrBrokerUnreachable, c.addr, err)
	}
	// Certificate verification, a revoked certificate, the broker
	// rejecting our certificate or no common version or cipher: none of
	// these get better by retrying.
	return &authError{kind: ErrTLSHandshake, addr: c.addr, msg: "TLS handshake", cause: err}
}

// isTransportError reports errors of the network rather than of the
// protocol on it: the peer closed or reset the connection, or did not
// answer in time.
func isTransportError(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// probeTLS reports whether addr completes a TLS handshake, when a
// plaintext ApiVersions got no answer: then the listener is TLS. The probe
// skips verification; it only learns which protocol the port speaks.
func probeTLS(ctx context.Context, cfg *config, addr string) bool {
	return probe(ctx, cfg, addr, func(ctx context.Context, nc net.Conn) bool {
		tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true, ServerName: hostOf(addr)}) //nolint:gosec // Probe only, no data is sent.
		err := tc.HandshakeContext(ctx)
		// A broker that wants a client certificate rejects ours with an
		// alert: that still is TLS.
		return err == nil || remoteTLSAlert(err) != nil
	})
}

// probe dials addr on a context of its own, because the connection's
// deadline may have passed already, and reports what check finds there.
func probe(ctx context.Context, cfg *config, addr string, check func(context.Context, net.Conn) bool) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeTimeout)
	defer cancel()
	nc, err := cfg.dial(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer nc.Close()
	return check(ctx, nc)
}

// remoteTLSAlert returns the TLS alert the peer sent, if err is one. The
// tls package reports it as a *net.OpError with Op "remote error" (and as
// tls.AlertError over QUIC).
func remoteTLSAlert(err error) error {
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return alert
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		return op
	}
	return nil
}

// probePlaintext reports whether addr answers a plaintext ApiVersions v0.
func probePlaintext(ctx context.Context, cfg *config, addr string) bool {
	return probe(ctx, cfg, addr, func(ctx context.Context, nc net.Conn) bool {
		if d, ok := ctx.Deadline(); ok {
			_ = nc.SetDeadline(d)
		}
		const corrID = 0x6b70 // any value; the answer must echo it
		frame := protocol.AppendInt32(nil, 0)
		frame = protocol.AppendRequestHeader(frame, protocol.RequestHeader{
			APIKey: protocol.APIKeyApiVersions, APIVersion: 0, CorrelationID: corrID,
		}, false)
		binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
		if _, err := nc.Write(frame); err != nil {
			return false
		}
		resp, err := readFrame(nc, nil)
		return err == nil && len(resp) >= 4 && int32(binary.BigEndian.Uint32(resp)) == corrID
	})
}

// schedule sets when to re-authenticate: at a random point between 85%
// and 95% of the session lifetime the broker gave, as the Java client does
// (KIP-368), so connections made together do not renew together.
func (st *saslState) schedule(lifetimeMs int64) {
	if lifetimeMs <= 0 {
		st.reauthAt = time.Time{}
		return
	}
	f := 0.85 + 0.10*rand.Float64()
	st.reauthAt = time.Now().Add(time.Duration(float64(lifetimeMs)*f) * time.Millisecond)
}

func (st *saslState) due(now time.Time) bool {
	return !st.reauthAt.IsZero() && !now.Before(st.reauthAt)
}

// roundTripFunc sends one request and returns its response body.
type roundTripFunc func(apiKey, version int16, body []byte) ([]byte, error)

// exchange runs SaslHandshake v1 and the mechanism's SaslAuthenticate
// rounds, returning the session lifetime in milliseconds (0: none).
// SaslHandshake v0, whose tokens travel as raw frames (Kafka before 1.0),
// is not supported.
func (st *saslState) exchange(ctx context.Context, c *conn, rt roundTripFunc) (int64, error) {
	name := st.mech.Name()
	hsVersion, ok := c.version(protocol.APIKeySaslHandshake, 1)
	authVersion, ok2 := c.version(protocol.APIKeySaslAuthenticate, 2)
	if !ok || !ok2 || hsVersion < 1 {
		return 0, &authError{kind: UnsupportedSaslMechanism, addr: c.addr,
			msg: "the broker does not support SaslHandshake v1 and SaslAuthenticate (Kafka 1.0+ is needed)"}
	}
	hs := protocol.SaslHandshakeRequest{Mechanism: name}
	body, err := rt(protocol.APIKeySaslHandshake, hsVersion, hs.AppendTo(nil, hsVersion))
	if err != nil {
		return 0, err
	}
	var hsResp protocol.SaslHandshakeResponse
	if err := hsResp.Decode(body, hsVersion); err != nil {
		return 0, fmt.Errorf("%w: SaslHandshake from %s: %w", ErrBrokerUnreachable, c.addr, err)
	}
	if code := protocol.ErrorForCode(hsResp.ErrorCode); code != nil {
		msg := "SaslHandshake for " + name
		if errors.Is(code, protocol.UnsupportedSaslMechanism) {
			msg = fmt.Sprintf("the broker does not enable %s; it offers %v", name, hsResp.Mechanisms)
		}
		return 0, &authError{kind: code, addr: c.addr, msg: msg}
	}
	sctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	sess, err := st.mech.Start(sctx, st.info)
	if err != nil {
		return 0, &authError{addr: c.addr, msg: name + ": cannot start", cause: err}
	}
	var challenge []byte
	var lifetime int64
	for round := 0; ; round++ {
		if round == 32 {
			return 0, &authError{kind: IllegalSaslState, addr: c.addr, msg: name + ": the exchange does not end"}
		}
		msg, done, err := sess.Next(challenge)
		if err != nil {
			return 0, &authError{kind: SaslAuthenticationFailed, addr: c.addr, msg: name, cause: err}
		}
		if done && msg == nil {
			st.drops.Store(0)
			return lifetime, nil
		}
		req := protocol.SaslAuthenticateRequest{AuthBytes: msg}
		body, err := rt(protocol.APIKeySaslAuthenticate, authVersion, req.AppendTo(nil, authVersion))
		if err != nil {
			if isTransportError(err) && !isTimeout(err) {
				if n := st.drops.Add(1); n >= saslDropsBeforeFailure {
					return 0, &authError{kind: SaslAuthenticationFailed, addr: c.addr,
						msg: fmt.Sprintf("%s: the broker closed the connection during authentication %d times in a row (wrong credentials?)", name, n)}
				}
				// err wraps ErrBrokerUnreachable: retried.
				return 0, fmt.Errorf("kafka: SASL %s: the broker closed the connection during authentication: %w", name, err)
			}
			return 0, err
		}
		var resp protocol.SaslAuthenticateResponse
		if err := resp.Decode(body, authVersion); err != nil {
			return 0, fmt.Errorf("%w: SaslAuthenticate from %s: %w", ErrBrokerUnreachable, c.addr, err)
		}
		if code := protocol.ErrorForCode(resp.ErrorCode); code != nil {
			msg := name
			if resp.ErrorMessage != nil && *resp.ErrorMessage != "" {
				// The broker's message names the mechanism and the reason,
				// never the secret.
				msg += ": " + *resp.ErrorMessage
			}
			return 0, &authError{kind: code, addr: c.addr, msg: msg}
		}
		lifetime = resp.SessionLifetimeMs
		if done {
			st.drops.Store(0)
			return lifetime, nil
		}
		challenge = resp.AuthBytes
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// maybeReauthenticate renews the SASL session (KIP-368) when it is due. It
// runs on the writer goroutine before the next request is written, so no
// request can be sent between SaslHandshake and the last
// SaslAuthenticate, as the broker requires. Requests already written stay
// in flight: the broker answers in order, so their responses come before
// the handshake's and the reader matches them as usual.
func (c *conn) maybeReauthenticate(w *bufio.Writer, corrID *int32) error {
	if c.sasl == nil || !c.sasl.due(time.Now()) {
		return nil
	}
	type result struct {
		body []byte
		err  error
	}
	rt := func(apiKey, version int16, body []byte) ([]byte, error) {
		*corrID++
		ch := make(chan result, 1)
		req := &request{
			apiKey: apiKey, version: version, timeout: c.sasl.timeout, corrID: *corrID,
			deadline: time.Now().Add(c.sasl.timeout),
			// The body is only valid during done, so keep a copy.
			done: func(b []byte, err error) { ch <- result{bytes.Clone(b), err} },
		}
		frame := protocol.AppendInt32(nil, 0)
		frame = protocol.AppendRequestHeader(frame, protocol.RequestHeader{
			APIKey: apiKey, APIVersion: version, CorrelationID: *corrID, ClientID: c.clientID,
		}, protocol.IsFlexible(apiKey, version))
		frame = append(frame, body...)
		binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
		select {
		case c.pending <- req:
		case <-c.quit:
			return nil, c.failure()
		}
		_, err := w.Write(frame)
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			werr := fmt.Errorf("%w: write to %s: %w", ErrBrokerUnreachable, c.addr, err)
			c.fail(werr)
			return nil, werr
		}
		// The reader completes req, or fails it once the connection is
		// closed; quit also ends the wait because the reader's final drain
		// waits for this goroutine.
		select {
		case r := <-ch:
			return r.body, r.err
		case <-c.quit:
			return nil, c.failure()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.sasl.timeout)
	defer cancel()
	lifetime, err := c.sasl.exchange(ctx, c, rt)
	if err != nil {
		return err
	}
	c.sasl.schedule(lifetime)
	return nil
}

// onAuthFailure fails fast what waits on a broker whose connection failed
// TLS or SASL: retrying until delivery_timeout_ms would not help and would
// hide the cause. Topics still waiting for their first metadata fail their
// Sends with err and are forgotten, so a later Send (after credentials
// rotate, say) tries again; batches queued for partitions this broker
// leads fail with err.
func (s *sender) onAuthFailure(b *brokerState, err error) {
	if !errors.Is(err, ErrAuthentication) {
		return
	}
	s.cfg.logger.Error("kafka: authentication with broker failed; failing its sends", "broker", b.id, "addr", b.addr, "err", err)
	s.acc.forEachTopic(func(t *topicState) {
		if t.meta.Load() == nil && t.fatal.Load() == nil {
			// Forget the topic before waking its Sends, so a Send that
			// follows their failure starts afresh instead of finding
			// the failed state.
			s.acc.forgetTopic(t)
			e := err
			t.fatal.Store(&e)
			t.markReady()
			return
		}
		if b.id < 0 {
			return
		}
		if ps := t.parts.Load(); ps != nil {
			s.failParts(led(*ps, b.id), err)
		}
	})
}
