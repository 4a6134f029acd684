package sasl

import (
	"context"
	"errors"
	"strings"
)

// Credentials are a user name and password for PLAIN and SCRAM.
type Credentials struct {
	Username string
	Password string
	// AuthzID asks to act as another identity; most brokers require it to
	// be empty or equal to Username.
	AuthzID string
}

// CredentialsFunc returns the current credentials. It is called for every
// authentication, so rotated credentials are picked up by the next
// connection or re-authentication.
type CredentialsFunc func(ctx context.Context) (Credentials, error)

// Static returns a CredentialsFunc that always returns the same user and
// password.
func Static(username, password string) CredentialsFunc {
	c := Credentials{Username: username, Password: password}
	return func(context.Context) (Credentials, error) { return c, nil }
}

// Plain is the PLAIN mechanism (RFC 4616). It sends the password as is, so
// use it only over TLS (SASL_SSL).
func Plain(creds CredentialsFunc) Mechanism { return plain{creds} }

type plain struct{ creds CredentialsFunc }

func (plain) Name() string { return "PLAIN" }

func (m plain) Start(ctx context.Context, _ ConnInfo) (Session, error) {
	c, err := m.creds(ctx)
	if err != nil {
		return nil, err
	}
	// A NUL separates the fields, so none may contain one. The error names
	// the field only: a password must never reach an error message.
	if c.Username == "" {
		return nil, errors.New("PLAIN: empty username")
	}
	if strings.ContainsRune(c.Username, 0) || strings.ContainsRune(c.AuthzID, 0) {
		return nil, errors.New("PLAIN: username contains a NUL byte")
	}
	if strings.ContainsRune(c.Password, 0) {
		return nil, errors.New("PLAIN: password contains a NUL byte")
	}
	msg := make([]byte, 0, len(c.AuthzID)+len(c.Username)+len(c.Password)+2)
	msg = append(msg, c.AuthzID...)
	msg = append(msg, 0)
	msg = append(msg, c.Username...)
	msg = append(msg, 0)
	msg = append(msg, c.Password...)
	return &oneShot{msg: msg}, nil
}

// oneShot sends one message and is done: the broker's answer is only its
// error code.
type oneShot struct {
	msg  []byte
	sent bool
}

func (s *oneShot) Next([]byte) ([]byte, bool, error) {
	if s.sent {
		return nil, true, errors.New("exchange already done")
	}
	s.sent = true
	return s.msg, true, nil
}
