package sasl

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xdg-go/scram"
)

func TestPlainMessage(t *testing.T) {
	s, err := Plain(Static("user", "pass")).Start(context.Background(), ConnInfo{})
	require.NoError(t, err)
	msg, done, err := s.Next(nil)
	require.NoError(t, err)
	require.True(t, done)
	require.Equal(t, "\x00user\x00pass", string(msg))

	_, err = Plain(Static("user", "pa\x00ss")).Start(context.Background(), ConnInfo{})
	require.ErrorContains(t, err, "password contains a NUL")
	require.NotContains(t, err.Error(), "pa\x00ss")
}

// TestScramAgainstServer runs our SCRAM session against xdg-go/scram's
// server, for both hashes, and with a wrong password.
func TestScramAgainstServer(t *testing.T) {
	for _, tc := range []struct {
		mech Mechanism
		hash scram.HashGeneratorFcn
	}{
		{ScramSHA256(Static("alice", "pw")), scram.SHA256},
		{ScramSHA512(Static("alice", "pw")), scram.SHA512},
	} {
		client, err := tc.hash.NewClientUnprepped("alice", "pw", "")
		require.NoError(t, err)
		stored := client.GetStoredCredentials(scram.KeyFactors{Salt: "NaCl-salt", Iters: 4096})
		server, err := tc.hash.NewServer(func(user string) (scram.StoredCredentials, error) {
			if user != "alice" {
				return scram.StoredCredentials{}, errors.New("no such user")
			}
			return stored, nil
		})
		require.NoError(t, err)
		run := func(m Mechanism) error {
			conv := server.NewConversation()
			s, err := m.Start(context.Background(), ConnInfo{})
			require.NoError(t, err)
			var challenge []byte
			for {
				msg, done, err := s.Next(challenge)
				if err != nil {
					return err
				}
				if done && msg == nil {
					require.True(t, conv.Valid())
					return nil
				}
				resp, err := conv.Step(string(msg))
				if err != nil {
					return err
				}
				challenge = []byte(resp)
			}
		}
		require.NoError(t, run(tc.mech), tc.mech.Name())
		require.NoError(t, run(tc.mech), "a second exchange reuses the cached keys")
		wrong := ScramSHA256(Static("alice", "nope"))
		if tc.mech.Name() == "SCRAM-SHA-512" {
			wrong = ScramSHA512(Static("alice", "nope"))
		}
		require.Error(t, run(wrong))
	}
}

func TestOAuthBearerMessage(t *testing.T) {
	msg, err := OAuthBearerMessage(Token{Value: "eyJ.a-b_c.d", AuthzID: "a,b=c", Extensions: map[string]string{"b": "2", "a": "1 x"}})
	require.NoError(t, err)
	require.Equal(t, "n,a=a=2Cb=3Dc,\x01auth=Bearer eyJ.a-b_c.d\x01a=1 x\x01b=2\x01\x01", string(msg))

	for _, tok := range []Token{
		{},
		{Value: "bad token"},
		{Value: "t", Extensions: map[string]string{"auth": "x"}},
		{Value: "t", Extensions: map[string]string{"bad-key": "x"}},
		{Value: "t", Extensions: map[string]string{"k": "\x01"}},
	} {
		_, err := OAuthBearerMessage(tok)
		require.Error(t, err, "%+v", tok)
	}
}

// TestOAuthBearerFreshTokens checks that every Start asks the provider,
// so each connection and re-authentication has a current token.
func TestOAuthBearerFreshTokens(t *testing.T) {
	n := 0
	m := OAuthBearer(func(context.Context) (Token, error) {
		n++
		return Token{Value: "t" + string(rune('0'+n))}, nil
	})
	for i := 1; i <= 3; i++ {
		s, err := m.Start(context.Background(), ConnInfo{})
		require.NoError(t, err)
		msg, done, err := s.Next(nil)
		require.NoError(t, err)
		require.False(t, done)
		require.Contains(t, string(msg), "auth=Bearer t"+string(rune('0'+i))+"\x01")
		_, done, err = s.Next(nil)
		require.NoError(t, err)
		require.True(t, done, "an empty answer is success")
	}
	_, err := OAuthBearer(func(context.Context) (Token, error) { return Token{}, errors.New("idp down") }).Start(context.Background(), ConnInfo{})
	require.ErrorContains(t, err, "idp down")
}
