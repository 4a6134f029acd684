package kafka

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// The keys in testdata/tls were written by OpenSSL 3 from plain.key:
// "openssl pkcs8 -topk8 -v2 <cipher> [-v2prf <prf>]" for the PBES2 ones,
// "openssl ec -aes256" for the legacy PEM one and "-v1 PBE-SHA1-3DES" for
// pbes1.key; the password is "s3cret".
func TestEncryptedClientKeys(t *testing.T) {
	const dir = "testdata/tls/"
	plain, err := loadClientCert(dir+"client.pem", dir+"plain.key", "")
	require.NoError(t, err)
	for _, name := range []string{"pbes2-aes256.key", "pbes2-des3-sha1.key", "pbes2-aes128-sha512.key", "legacy.key"} {
		t.Run(name, func(t *testing.T) {
			cert, err := loadClientCert(dir+"client.pem", dir+name, "s3cret")
			require.NoError(t, err)
			require.Equal(t, plain.PrivateKey, cert.PrivateKey)

			_, err = loadClientCert(dir+"client.pem", dir+name, "wrong-pw")
			require.ErrorIs(t, err, ErrInvalidConfig)
			require.Contains(t, err.Error(), "ssl_password")
			require.NotContains(t, err.Error(), "wrong-pw")

			_, err = loadClientCert(dir+"client.pem", dir+name, "")
			require.ErrorContains(t, err, "set ssl_password")
		})
	}
	_, err = loadClientCert(dir+"client.pem", dir+"pbes1.key", "s3cret")
	require.ErrorContains(t, err, "not supported")
	_, err = loadClientCert(dir+"client.pem", dir+"plain.key", "s3cret")
	require.ErrorContains(t, err, "not encrypted")

	// Through the options, as kafka-python's ssl_keyfile and ssl_password.
	p, err := NewProducer(SecurityProtocol("SSL"), SSLCertFile(dir+"client.pem"), SSLKeyFile(dir+"pbes2-aes256.key"), SSLPassword("s3cret"))
	require.NoError(t, err)
	require.NoError(t, p.Close(context.Background()))
}
