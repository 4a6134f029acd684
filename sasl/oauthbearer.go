package sasl

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Token is an OAuth 2 bearer token for OAUTHBEARER.
type Token struct {
	// Value is the token itself, as a JWT; it must not be empty.
	Value string
	// AuthzID, if set, is sent as the GS2 authorization identity.
	AuthzID string
	// Extensions are KIP-342 SASL extensions sent with the token, as
	// Confluent Cloud's logicalCluster and identityPoolId. Keys are
	// letters only and "auth" is reserved.
	Extensions map[string]string
}

// TokenProvider returns a current token (kafka-python's
// sasl_oauth_token_provider). It is called for every authentication, new
// connections and re-authentications alike, so it can hand out short-lived
// tokens (OIDC, the AWS MSK IAM signer's); cache inside it if fetching is
// slow.
type TokenProvider func(ctx context.Context) (Token, error)

// OAuthBearer is the OAUTHBEARER mechanism (RFC 7628, KIP-255) with the
// KIP-342 extensions.
func OAuthBearer(provider TokenProvider) Mechanism { return oauthBearer{provider} }

type oauthBearer struct{ provider TokenProvider }

func (oauthBearer) Name() string { return "OAUTHBEARER" }

func (m oauthBearer) Start(ctx context.Context, _ ConnInfo) (Session, error) {
	tok, err := m.provider(ctx)
	if err != nil {
		return nil, fmt.Errorf("OAUTHBEARER token provider: %w", err)
	}
	msg, err := OAuthBearerMessage(tok)
	if err != nil {
		return nil, err
	}
	return &oauthSession{msg: msg}, nil
}

// OAuthBearerMessage builds the client's initial response of RFC 7628
// section 3.1 as Kafka expects it (KIP-255, KIP-342):
//
//	n,a=<authzid>,\x01auth=Bearer <token>\x01<key>=<value>\x01...\x01
//
// Extensions are sorted by key so the message is deterministic.
func OAuthBearerMessage(tok Token) ([]byte, error) {
	if tok.Value == "" {
		return nil, errors.New("OAUTHBEARER: empty token")
	}
	// RFC 6750 b64token characters; anything else would let the token
	// break out of the auth field.
	for i := 0; i < len(tok.Value); i++ {
		if !isB64TokenChar(tok.Value[i]) {
			return nil, errors.New("OAUTHBEARER: the token has a character a bearer token cannot have")
		}
	}
	keys := make([]string, 0, len(tok.Extensions))
	for k, v := range tok.Extensions {
		if !validExtensionKey(k) {
			return nil, fmt.Errorf("OAUTHBEARER: extension key %q must be letters only and not \"auth\"", k)
		}
		if !validExtensionValue(v) {
			return nil, fmt.Errorf("OAUTHBEARER: extension %q has a value with characters RFC 7628 does not allow", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("n,")
	if tok.AuthzID != "" {
		// RFC 5801 saslname: ',' and '=' are escaped.
		b.WriteString("a=")
		b.WriteString(strings.NewReplacer("=", "=3D", ",", "=2C").Replace(tok.AuthzID))
	}
	b.WriteString(",\x01auth=Bearer ")
	b.WriteString(tok.Value)
	b.WriteByte(1)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(tok.Extensions[k])
		b.WriteByte(1)
	}
	b.WriteByte(1)
	return []byte(b.String()), nil
}

func isB64TokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/=", c) >= 0
}

// validExtensionKey is RFC 7628's key = 1*(ALPHA), minus Kafka's reserved
// "auth" (KIP-342).
func validExtensionKey(k string) bool {
	if k == "" || k == "auth" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// validExtensionValue is RFC 7628's value = *(VCHAR / SP / HTAB / CR / LF).
func validExtensionValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 0x21 && c <= 0x7e || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			return false
		}
	}
	return true
}

type oauthSession struct {
	msg    []byte
	step   int
	status string
}

func (s *oauthSession) Next(challenge []byte) ([]byte, bool, error) {
	s.step++
	switch {
	case s.step == 1:
		return s.msg, false, nil
	case s.step == 2 && len(challenge) == 0:
		// An empty answer is success.
		return nil, true, nil
	case s.step == 2:
		// RFC 7628 section 3.2.2: the server's error is a JSON status; the
		// client answers with a lone %x01 and the broker then fails the
		// exchange with SASL_AUTHENTICATION_FAILED.
		s.status = string(challenge)
		return []byte{1}, false, nil
	}
	return nil, false, fmt.Errorf("OAUTHBEARER: the broker rejected the token: %s", s.status)
}
