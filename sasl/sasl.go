// Package sasl holds the SASL mechanisms the producer authenticates with:
// PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER. Each is a Mechanism;
// the producer runs one Session of it on every new connection and again on
// every re-authentication (KIP-368), so credentials read inside Start are
// always the current ones.
//
// # Plugging in other mechanisms
//
// GSSAPI (Kerberos) and AWS_MSK_IAM are not in this module, so that it
// needs no Kerberos library or AWS SDK. A separate module implements them
// against this package alone and the application passes the result with
// kafka.WithSASL:
//
//	type mskIAM struct{ signer *v4.Signer; creds aws.CredentialsProvider }
//
//	func (m *mskIAM) Name() string { return "AWS_MSK_IAM" }
//
//	func (m *mskIAM) Start(ctx context.Context, info sasl.ConnInfo) (sasl.Session, error) {
//		// Fetch fresh credentials and sign a payload for info.Host here.
//		return &mskSession{payload: payload}, nil
//	}
//
//	type mskSession struct{ payload []byte; sent bool }
//
//	func (s *mskSession) Next(challenge []byte) ([]byte, bool, error) {
//		if !s.sent {
//			s.sent = true
//			return s.payload, false, nil
//		}
//		return nil, true, nil // the broker's JSON answer ends the exchange
//	}
//
//	p, err := kafka.NewProducer(
//		kafka.SecurityProtocol("SASL_SSL"),
//		kafka.WithSASL(&mskIAM{...}),
//	)
//
// A GSSAPI module does the same with several Next rounds (the Kerberos
// token, then the RFC 4752 security layer negotiation), using info.Host
// for the service principal "kafka/<host>".
//
// The producer sends every message Next returns in a SaslAuthenticate
// request (SaslHandshake v1 first names the mechanism), hands the broker's
// answer to the next call, and stops after a call that returns done. A
// broker's error code ends the exchange with that error, so a Session
// never sees a failure it has to interpret, except in the mechanism's own
// bytes (as OAUTHBEARER's error JSON).
package sasl

import "context"

// Mechanism is a SASL mechanism. Implementations must be safe for
// concurrent use: the producer authenticates connections to several
// brokers at once.
type Mechanism interface {
	// Name is the mechanism's name as the broker knows it, as
	// "SCRAM-SHA-256"; it is sent in SaslHandshake.
	Name() string
	// Start begins one authentication exchange with the broker described
	// by info. It is called for every connection and every
	// re-authentication, so credentials it reads are fresh. ctx bounds the
	// whole exchange.
	Start(ctx context.Context, info ConnInfo) (Session, error)
}

// Session is one authentication exchange in progress.
type Session interface {
	// Next takes the broker's last message (nil on the first call) and
	// returns the client's next message. done reports that the exchange is
	// over: the returned message, if any, is still sent, and the broker's
	// answer to it is not given to the session. A mechanism whose last
	// step is checking the broker's final message (SCRAM) returns done
	// with a nil message from that call.
	Next(challenge []byte) (msg []byte, done bool, err error)
}

// ConnInfo describes the connection being authenticated.
type ConnInfo struct {
	// Host is the broker's host name, as in its advertised address.
	Host string
	// Addr is the broker's host:port.
	Addr string
	// TLS reports whether the connection is encrypted (SASL_SSL).
	TLS bool
}
