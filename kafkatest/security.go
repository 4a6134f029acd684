package kafkatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// TLS makes every broker listen with TLS using cfg (its Certificates, and
// ClientAuth and ClientCAs for mutual TLS). Certificates can make one.
func TLS(cfg *tls.Config) Option {
	return func(c *config) { c.extra = append(c.extra, kfake.TLS(cfg)) }
}

// SASLUser turns on SASL and adds a user for mechanism "PLAIN",
// "SCRAM-SHA-256" or "SCRAM-SHA-512". Give it once per user and mechanism;
// a connection that does not authenticate can only ask ApiVersions.
func SASLUser(mechanism, user, password string) Option {
	return func(c *config) {
		c.extra = append(c.extra, kfake.EnableSASL(), kfake.Superuser(mechanism, user, password))
	}
}

// SASLSessionLifetime makes the brokers give SASL sessions this lifetime
// (connections.max.reauth.ms, KIP-368), so clients must re-authenticate
// before it ends.
func SASLSessionLifetime(d time.Duration) Option {
	return func(c *config) {
		c.extra = append(c.extra, kfake.BrokerConfigs(map[string]string{
			"connections.max.reauth.ms": strconv.FormatInt(d.Milliseconds(), 10),
		}))
	}
}

// Certificates is a throwaway CA with a server and a client certificate it
// signed, for TLS and mutual TLS tests.
type Certificates struct {
	// CAPEM is the CA certificate in PEM, for a client's ssl_cafile.
	CAPEM []byte
	// CertPool holds the CA.
	CertPool *x509.CertPool
	// Server is the brokers' certificate, valid for the hosts given to
	// NewCertificates.
	Server tls.Certificate
	// Client is a client certificate for mutual TLS.
	Client tls.Certificate
	// ClientCertPEM and ClientKeyPEM are Client in PEM, for ssl_certfile
	// and ssl_keyfile.
	ClientCertPEM, ClientKeyPEM []byte
}

// NewCertificates makes a CA and certificates valid for one day. The
// server certificate names hosts (DNS names or IP addresses); with none it
// names "localhost" and 127.0.0.1, where clusters listen.
func NewCertificates(hosts ...string) (*Certificates, error) {
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kafkatest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, names []string) (tls.Certificate, []byte, []byte, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		for _, h := range names {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return tls.Certificate{}, nil, nil, err
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return tls.Certificate{}, nil, nil, err
		}
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		return cert, certPEM, keyPEM, err
	}
	c := &Certificates{
		CAPEM:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CertPool: x509.NewCertPool(),
	}
	c.CertPool.AddCert(ca)
	if c.Server, _, _, err = leaf(2, "kafkatest broker", x509.ExtKeyUsageServerAuth, hosts); err != nil {
		return nil, err
	}
	if c.Client, c.ClientCertPEM, c.ClientKeyPEM, err = leaf(3, "kafkatest client", x509.ExtKeyUsageClientAuth, nil); err != nil {
		return nil, err
	}
	return c, nil
}

// ServerTLS is a broker TLS config for TLS; with clientAuth the brokers
// require a client certificate signed by the CA (mutual TLS).
func (c *Certificates) ServerTLS(clientAuth bool) *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{c.Server}, MinVersion: tls.VersionTLS12}
	if clientAuth {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = c.CertPool
	}
	return cfg
}

// ClientTLS is a client TLS config that trusts the CA and, with
// clientCert, presents the client certificate.
func (c *Certificates) ClientTLS(clientCert bool) *tls.Config {
	cfg := &tls.Config{RootCAs: c.CertPool, MinVersion: tls.VersionTLS12}
	if clientCert {
		cfg.Certificates = []tls.Certificate{c.Client}
	}
	return cfg
}

// WriteFiles writes ca.pem, client.pem and client.key into dir, for the
// file options (ssl_cafile, ssl_certfile, ssl_keyfile), and returns their
// paths.
func (c *Certificates) WriteFiles(dir string) (caFile, certFile, keyFile string, err error) {
	caFile = filepath.Join(dir, "ca.pem")
	certFile = filepath.Join(dir, "client.pem")
	keyFile = filepath.Join(dir, "client.key")
	for _, f := range []struct {
		path string
		data []byte
	}{{caFile, c.CAPEM}, {certFile, c.ClientCertPEM}, {keyFile, c.ClientKeyPEM}} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return "", "", "", fmt.Errorf("kafkatest: %w", err)
		}
	}
	return caFile, certFile, keyFile, nil
}
