package sasl

import (
	"context"
	"errors"
	"sync"

	"github.com/xdg-go/scram"
)

// ScramSHA256 is SCRAM-SHA-256 (RFC 7677, KIP-84).
func ScramSHA256(creds CredentialsFunc) Mechanism {
	return &scramMech{name: "SCRAM-SHA-256", hash: scram.SHA256, creds: creds}
}

// ScramSHA512 is SCRAM-SHA-512 (KIP-84).
func ScramSHA512(creds CredentialsFunc) Mechanism {
	return &scramMech{name: "SCRAM-SHA-512", hash: scram.SHA512, creds: creds}
}

type scramMech struct {
	name  string
	hash  scram.HashGeneratorFcn
	creds CredentialsFunc

	// The last client is kept because it caches the salted password per
	// salt and iteration count, so reconnecting with unchanged credentials
	// does not run PBKDF2 again.
	mu     sync.Mutex
	last   Credentials
	client *scram.Client
}

func (m *scramMech) Name() string { return m.name }

func (m *scramMech) Start(ctx context.Context, _ ConnInfo) (Session, error) {
	c, err := m.creds(ctx)
	if err != nil {
		return nil, err
	}
	if c.Username == "" {
		return nil, errors.New(m.name + ": empty username")
	}
	m.mu.Lock()
	if m.client == nil || c != m.last {
		// Kafka's SCRAM formatter does not SASLprep names or passwords
		// (ScramFormatter), so neither do we: a password that Kafka
		// accepts must hash the same here.
		m.client, err = m.hash.NewClientUnprepped(c.Username, c.Password, c.AuthzID)
		if err != nil {
			m.client = nil
			m.mu.Unlock()
			return nil, errors.New(m.name + ": cannot create client")
		}
		m.last = c
	}
	client := m.client
	m.mu.Unlock()
	return &scramSession{name: m.name, conv: client.NewConversation()}, nil
}

type scramSession struct {
	name string
	conv *scram.ClientConversation
}

func (s *scramSession) Next(challenge []byte) ([]byte, bool, error) {
	msg, err := s.conv.Step(string(challenge))
	if err != nil {
		// xdg-go/scram's messages describe the protocol step, never the
		// password.
		return nil, false, errors.New(s.name + ": " + err.Error())
	}
	if s.conv.Done() {
		// The last step checked the broker's signature; nothing to send.
		if !s.conv.Valid() {
			return nil, false, errors.New(s.name + ": the broker's final message did not verify")
		}
		return nil, true, nil
	}
	return []byte(msg), false, nil
}
