package kafka

import (
	"context"
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kpgo/kafka/protocol"
	"github.com/kpgo/kafka/sasl"
)

// saslBroker is a fake broker speaking ApiVersions, SaslHandshake,
// SaslAuthenticate and ApiVersions again, over one net.Pipe; it records
// every SaslAuthenticate message and answers with authenticate().
type saslBroker struct {
	t            *testing.T
	mechanisms   []string
	lifetimeMs   int64
	authenticate func(msg []byte) (challenge []byte, code int16)

	mu       sync.Mutex
	messages [][]byte
	order    []int16 // API keys in the order they arrived
}

func (b *saslBroker) serve(nc net.Conn) {
	defer nc.Close()
	for {
		frame, err := readFrame(nc, nil)
		if err != nil {
			return
		}
		key := int16(binary.BigEndian.Uint16(frame))
		version := int16(binary.BigEndian.Uint16(frame[2:]))
		r := protocol.NewReader(frame)
		h := protocol.ReadRequestHeader(r, protocol.IsFlexible(key, version))
		body := r.Rest()
		b.mu.Lock()
		b.order = append(b.order, key)
		b.mu.Unlock()
		var resp []byte
		switch key {
		case protocol.APIKeyApiVersions:
			m := protocol.ApiVersionsResponse{ApiKeys: []protocol.ApiVersion{
				{ApiKey: protocol.APIKeyApiVersions, MinVersion: 0, MaxVersion: 3},
				{ApiKey: protocol.APIKeySaslHandshake, MinVersion: 0, MaxVersion: 1},
				{ApiKey: protocol.APIKeySaslAuthenticate, MinVersion: 0, MaxVersion: 2},
			}}
			resp = m.AppendTo(nil, version)
		case protocol.APIKeySaslHandshake:
			var req protocol.SaslHandshakeRequest
			require.NoError(b.t, req.Decode(body, version))
			m := protocol.SaslHandshakeResponse{Mechanisms: b.mechanisms}
			found := false
			for _, name := range b.mechanisms {
				found = found || name == req.Mechanism
			}
			if !found {
				m.ErrorCode = protocol.UnsupportedSaslMechanism.Code
			}
			resp = m.AppendTo(nil, version)
		case protocol.APIKeySaslAuthenticate:
			var req protocol.SaslAuthenticateRequest
			require.NoError(b.t, req.Decode(body, version))
			b.mu.Lock()
			b.messages = append(b.messages, append([]byte(nil), req.AuthBytes...))
			b.mu.Unlock()
			challenge, code := b.authenticate(req.AuthBytes)
			m := protocol.SaslAuthenticateResponse{ErrorCode: code, AuthBytes: challenge, SessionLifetimeMs: b.lifetimeMs}
			if code != 0 {
				msg := "Authentication failed: invalid token"
				m.ErrorMessage = &msg
			}
			resp = m.AppendTo(nil, version)
		default:
			b.t.Errorf("unexpected API key %d", key)
			return
		}
		out := protocol.AppendInt32(nil, 0)
		out = protocol.AppendResponseHeader(out, h.CorrelationID, protocol.ResponseHeaderFlexible(key, version))
		out = append(out, resp...)
		binary.BigEndian.PutUint32(out, uint32(len(out)-4))
		if _, err := nc.Write(out); err != nil {
			return
		}
	}
}

func (b *saslBroker) dial(t *testing.T, opts ...Option) (*conn, error) {
	cfg := defaultConfig()
	for _, o := range append([]Option{BootstrapServers("broker.example:9092"), Dialer(func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go b.serve(server)
		return client, nil
	})}, opts...) {
		o.apply(&cfg)
	}
	require.NoError(t, cfg.validate())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return dialConn(ctx, &cfg, 0, "broker.example:9092", 5)
}

// apiVersionsRequest sends an ApiVersions request on c through its
// pipeline and waits for the answer.
func apiVersionsRequest(t *testing.T, c *conn) {
	t.Helper()
	done := make(chan error, 1)
	c.send(&request{
		apiKey: protocol.APIKeyApiVersions, version: 3, timeout: 5 * time.Second,
		encode: func(dst []byte) ([]byte, error) {
			m := protocol.ApiVersionsRequest{ClientSoftwareName: "t", ClientSoftwareVersion: "1"}
			return m.AppendTo(dst, 3), nil
		},
		done: func(_ []byte, err error) { done <- err },
	})
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("request did not complete")
	}
}

// TestOAuthBearerExchangeAndRefresh checks the KIP-255/KIP-342 client
// message on the wire, and that re-authentication (KIP-368) on the live
// connection asks the provider for a fresh token.
func TestOAuthBearerExchangeAndRefresh(t *testing.T) {
	b := &saslBroker{t: t, mechanisms: []string{"OAUTHBEARER"}, lifetimeMs: 200,
		authenticate: func([]byte) ([]byte, int16) { return nil, 0 }}
	var mu sync.Mutex
	calls := 0
	c, err := b.dial(t, SecurityProtocol("SASL_PLAINTEXT"), SASLOAuthTokenProvider(func(context.Context) (sasl.Token, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return sasl.Token{Value: "tok-" + string(rune('0'+calls)), Extensions: map[string]string{"logicalCluster": "lkc-1", "identityPoolId": "pool-2"}}, nil
	}))
	require.NoError(t, err)
	defer c.close()
	b.mu.Lock()
	require.Equal(t, [][]byte{[]byte("n,,\x01auth=Bearer tok-1\x01identityPoolId=pool-2\x01logicalCluster=lkc-1\x01\x01")}, b.messages)
	b.mu.Unlock()

	// Before the session is due nothing renews.
	apiVersionsRequest(t, c)
	// After 85-95% of 200 ms the next request renews first.
	time.Sleep(250 * time.Millisecond)
	apiVersionsRequest(t, c)
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Len(t, b.messages, 2)
	require.Contains(t, string(b.messages[1]), "auth=Bearer tok-2\x01")
	require.Equal(t, []int16{
		protocol.APIKeyApiVersions, protocol.APIKeySaslHandshake, protocol.APIKeySaslAuthenticate,
		protocol.APIKeyApiVersions,
		protocol.APIKeySaslHandshake, protocol.APIKeySaslAuthenticate, protocol.APIKeyApiVersions,
	}, b.order)
}

// TestOAuthBearerRejected follows RFC 7628's failure: the broker's JSON
// status, the client's %x01, then SASL_AUTHENTICATION_FAILED.
func TestOAuthBearerRejected(t *testing.T) {
	b := &saslBroker{t: t, mechanisms: []string{"OAUTHBEARER"}}
	b.authenticate = func(msg []byte) ([]byte, int16) {
		if string(msg) == "\x01" {
			return nil, protocol.SaslAuthenticationFailed.Code
		}
		return []byte(`{"status":"invalid_token"}`), 0
	}
	_, err := b.dial(t, SecurityProtocol("SASL_PLAINTEXT"), SASLOAuthTokenProvider(func(context.Context) (sasl.Token, error) {
		return sasl.Token{Value: "secret-token"}, nil
	}))
	require.ErrorIs(t, err, SaslAuthenticationFailed)
	require.ErrorIs(t, err, ErrAuthentication)
	require.NotContains(t, err.Error(), "secret-token")
	require.Equal(t, [][]byte{[]byte("n,,\x01auth=Bearer secret-token\x01\x01"), {1}}, b.messages)
}

func TestSASLHandshakeUnsupportedMechanism(t *testing.T) {
	b := &saslBroker{t: t, mechanisms: []string{"PLAIN"}}
	_, err := b.dial(t, SecurityProtocol("SASL_PLAINTEXT"), SASLMechanism("SCRAM-SHA-512"),
		SASLPlainUsername("u"), SASLPlainPassword("p"))
	require.ErrorIs(t, err, UnsupportedSaslMechanism)
	require.Contains(t, err.Error(), "[PLAIN]")
}

func TestSASLPlainWireFormat(t *testing.T) {
	b := &saslBroker{t: t, mechanisms: []string{"PLAIN"}, authenticate: func([]byte) ([]byte, int16) { return nil, 0 }}
	c, err := b.dial(t, SecurityProtocol("SASL_PLAINTEXT"), SASLMechanism("plain"),
		SASLPlainUsername("user"), SASLPlainPassword("pass"))
	require.NoError(t, err)
	c.close()
	require.Equal(t, [][]byte{[]byte("\x00user\x00pass")}, b.messages)
}
