package kafka

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/kpgo/kafka/kafkatest"
	"github.com/kpgo/kafka/sasl"
)

// testPKI is a CA and the certificates the security tests need, made
// fresh per test binary run.
type testPKI struct {
	caKey    *ecdsa.PrivateKey
	ca       *x509.Certificate
	caPEM    []byte
	pool     *x509.CertPool
	server   tls.Certificate // for 127.0.0.1 and localhost
	client   tls.Certificate
	expired  tls.Certificate // for 127.0.0.1, expired yesterday
	wrong    tls.Certificate // for wrong.example.com only
	revoked  tls.Certificate // for 127.0.0.1, on crlPEM
	crlPEM   []byte
	otherCA  *x509.CertPool // a CA that signed none of these
	otherPEM []byte
	clientPE struct{ cert, key []byte }
}

var (
	pkiOnce sync.Once
	pki     *testPKI
)

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	pkiOnce.Do(func() {
		p := &testPKI{}
		var err error
		p.caKey, p.ca, p.caPEM = mustCA("test CA")
		p.pool = x509.NewCertPool()
		p.pool.AddCert(p.ca)
		now := time.Now()
		local := []string{"127.0.0.1", "localhost"}
		p.server, _, _ = p.leaf(10, local, now.Add(-time.Hour), now.Add(24*time.Hour), x509.ExtKeyUsageServerAuth)
		var cpem, kpem []byte
		p.client, cpem, kpem = p.leaf(11, nil, now.Add(-time.Hour), now.Add(24*time.Hour), x509.ExtKeyUsageClientAuth)
		p.clientPE.cert, p.clientPE.key = cpem, kpem
		p.expired, _, _ = p.leaf(12, local, now.Add(-48*time.Hour), now.Add(-24*time.Hour), x509.ExtKeyUsageServerAuth)
		p.wrong, _, _ = p.leaf(13, []string{"wrong.example.com"}, now.Add(-time.Hour), now.Add(24*time.Hour), x509.ExtKeyUsageServerAuth)
		p.revoked, _, _ = p.leaf(14, local, now.Add(-time.Hour), now.Add(24*time.Hour), x509.ExtKeyUsageServerAuth)
		crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number:     big.NewInt(1),
			ThisUpdate: now.Add(-time.Hour),
			NextUpdate: now.Add(24 * time.Hour),
			RevokedCertificateEntries: []x509.RevocationListEntry{
				{SerialNumber: big.NewInt(14), RevocationTime: now.Add(-time.Minute)},
			},
		}, p.ca, p.caKey)
		if err != nil {
			panic(err)
		}
		p.crlPEM = pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl})
		_, other, otherPEM := mustCA("other CA")
		p.otherPEM = otherPEM
		p.otherCA = x509.NewCertPool()
		p.otherCA.AddCert(other)
		pki = p
	})
	return pki
}

func mustCA(name string) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return key, cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func (p *testPKI) leaf(serial int64, hosts []string, from, to time.Time, usage x509.ExtKeyUsage) (tls.Certificate, []byte, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: fmt.Sprintf("leaf %d", serial)},
		NotBefore: from, NotAfter: to, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		panic(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		panic(err)
	}
	return cert, certPEM, keyPEM
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

func serverTLS(cert tls.Certificate, clientCAs *x509.CertPool) *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAs != nil {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = clientCAs
	}
	return cfg
}

const secTopic = "secure"

// secureCase is one security_protocol setup: how the cluster listens,
// how our producer connects and how an independent kgo client connects.
type secureCase struct {
	name    string
	cluster []kafkatest.Option
	opts    []Option
	kgo     []kgo.Opt
}

func secureCases(t *testing.T) []secureCase {
	p := newTestPKI(t)
	caFile := writeTemp(t, "ca.pem", p.caPEM)
	certFile := writeTemp(t, "client.pem", p.clientPE.cert)
	keyFile := writeTemp(t, "client.key", p.clientPE.key)
	kgoTLS := func(withCert bool) kgo.Opt {
		cfg := &tls.Config{RootCAs: p.pool}
		if withCert {
			cfg.Certificates = []tls.Certificate{p.client}
		}
		return kgo.DialTLSConfig(cfg)
	}
	users := []struct {
		mech string
		kgo  kgo.Opt
	}{
		{"PLAIN", kgo.SASL(plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism())},
		{"SCRAM-SHA-256", kgo.SASL(scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism())},
		{"SCRAM-SHA-512", kgo.SASL(scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism())},
	}
	cases := []secureCase{
		{name: "PLAINTEXT"},
		{
			name:    "SSL/cafile",
			cluster: []kafkatest.Option{kafkatest.TLS(serverTLS(p.server, nil))},
			opts:    []Option{SecurityProtocol("SSL"), SSLCAFile(caFile)},
			kgo:     []kgo.Opt{kgoTLS(false)},
		},
		{
			name:    "SSL/mTLS-files",
			cluster: []kafkatest.Option{kafkatest.TLS(serverTLS(p.server, p.pool))},
			opts:    []Option{SecurityProtocol("SSL"), SSLCAFile(caFile), SSLCertFile(certFile), SSLKeyFile(keyFile)},
			kgo:     []kgo.Opt{kgoTLS(true)},
		},
		{
			name:    "SSL/mTLS-context",
			cluster: []kafkatest.Option{kafkatest.TLS(serverTLS(p.server, p.pool))},
			opts:    []Option{SecurityProtocol("SSL"), SSLContext(&tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}})},
			kgo:     []kgo.Opt{kgoTLS(true)},
		},
	}
	for _, u := range users {
		cases = append(cases, secureCase{
			name:    "SASL_PLAINTEXT/" + u.mech,
			cluster: []kafkatest.Option{kafkatest.SASLUser(u.mech, "alice", "alice-secret")},
			opts:    []Option{SecurityProtocol("SASL_PLAINTEXT"), SASLMechanism(u.mech), SASLPlainUsername("alice"), SASLPlainPassword("alice-secret")},
			kgo:     []kgo.Opt{u.kgo},
		}, secureCase{
			name:    "SASL_SSL/" + u.mech,
			cluster: []kafkatest.Option{kafkatest.SASLUser(u.mech, "alice", "alice-secret"), kafkatest.TLS(serverTLS(p.server, nil))},
			opts: []Option{SecurityProtocol("SASL_SSL"), SSLCAFile(caFile), SASLMechanism(u.mech),
				SASLCredentials(sasl.Static("alice", "alice-secret"))},
			kgo: []kgo.Opt{u.kgo, kgoTLS(false)},
		})
	}
	return cases
}

func newSecureCluster(t *testing.T, opts ...kafkatest.Option) *kafkatest.Cluster {
	t.Helper()
	c, err := kafkatest.NewCluster(append([]kafkatest.Option{kafkatest.Brokers(1), kafkatest.SeedTopic(secTopic, 2)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// TestSecureProduceReadBack produces over every security_protocol and
// mechanism and reads the records back through kgo with the same setup.
func TestSecureProduceReadBack(t *testing.T) {
	for _, tc := range secureCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			c := newSecureCluster(t, tc.cluster...)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			p, err := NewProducer(append([]Option{BootstrapServers(c.Addrs()...), Linger(time.Millisecond)}, tc.opts...)...)
			require.NoError(t, err)
			defer p.Close(context.Background())
			const n = 20
			var futures []Future
			for i := 0; i < n; i++ {
				f, err := p.Send(ctx, Record{Topic: secTopic, Key: []byte(fmt.Sprint(i)), Value: []byte("v" + fmt.Sprint(i))})
				require.NoError(t, err)
				futures = append(futures, f)
			}
			for _, f := range futures {
				_, err := f.Get(ctx)
				require.NoError(t, err)
			}
			cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.Addrs()...), kgo.ConsumeTopics(secTopic),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, tc.kgo...)...)
			require.NoError(t, err)
			defer cl.Close()
			got := map[string]string{}
			for len(got) < n {
				fs := cl.PollFetches(ctx)
				require.NoError(t, ctx.Err(), "read back %d of %d records", len(got), n)
				for _, e := range fs.Errors() {
					require.NoError(t, e.Err)
				}
				fs.EachRecord(func(r *kgo.Record) { got[string(r.Key)] = string(r.Value) })
			}
			for i := 0; i < n; i++ {
				require.Equal(t, "v"+fmt.Sprint(i), got[fmt.Sprint(i)])
			}
		})
	}
}

// failFast sends one record and returns the error, from Send or from the
// future, requiring that it came within bound.
func failFast(t *testing.T, bound time.Duration, opts ...Option) error {
	t.Helper()
	p, err := NewProducer(append([]Option{MaxBlock(30 * time.Second), DeliveryTimeout(60 * time.Second)}, opts...)...)
	require.NoError(t, err)
	defer p.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	f, err := p.Send(ctx, Record{Topic: secTopic, Value: []byte("x")})
	if err == nil {
		_, err = f.Get(ctx)
	}
	took := time.Since(start)
	require.Error(t, err)
	require.Less(t, took, bound, "failed after %v with %v", took, err)
	require.ErrorIs(t, err, ErrAuthentication)
	require.False(t, IsRetriable(err), "an authentication failure must not be retriable: %v", err)
	return err
}

func TestSecureFailuresAreFastAndTyped(t *testing.T) {
	p := newTestPKI(t)
	const bound = 5 * time.Second
	t.Run("wrong password", func(t *testing.T) {
		c := newSecureCluster(t, kafkatest.SASLUser("SCRAM-SHA-256", "alice", "right"))
		err := failFast(t, bound, BootstrapServers(c.Addrs()...), SecurityProtocol("SASL_PLAINTEXT"),
			SASLMechanism("SCRAM-SHA-256"), SASLPlainUsername("alice"), SASLPlainPassword("hunter2-wrong"))
		require.ErrorIs(t, err, SaslAuthenticationFailed)
		require.NotContains(t, err.Error(), "hunter2")
	})
	t.Run("mechanism not offered", func(t *testing.T) {
		c := newSecureCluster(t, kafkatest.SASLUser("SCRAM-SHA-256", "alice", "right"))
		err := failFast(t, bound, BootstrapServers(c.Addrs()...), SecurityProtocol("SASL_PLAINTEXT"),
			WithSASL(namedMechanism("GSSAPI")))
		require.ErrorIs(t, err, UnsupportedSaslMechanism)
		require.Contains(t, err.Error(), "SCRAM-SHA-256", "the error lists what the broker offers")
	})
	t.Run("unknown CA", func(t *testing.T) {
		c := newSecureCluster(t, kafkatest.TLS(serverTLS(p.server, nil)))
		err := failFast(t, bound, BootstrapServers(c.Addrs()...), SecurityProtocol("SSL"), SSLContext(&tls.Config{RootCAs: p.otherCA}))
		require.ErrorIs(t, err, ErrTLSHandshake)
		var ua x509.UnknownAuthorityError
		require.ErrorAs(t, err, &ua)
	})
	t.Run("hostname mismatch", func(t *testing.T) {
		c := newSecureCluster(t, kafkatest.TLS(serverTLS(p.wrong, nil)))
		caFile := writeTemp(t, "ca.pem", p.caPEM)
		err := failFast(t, bound, BootstrapServers(c.Addrs()...), SecurityProtocol("SSL"), SSLCAFile(caFile))
		require.ErrorIs(t, err, ErrTLSHandshake)
		var he x509.HostnameError
		require.ErrorAs(t, err, &he)

		// ssl_check_hostname=False still verifies the chain, and then works.
		pr, err := NewProducer(BootstrapServers(c.Addrs()...), SecurityProtocol("SSL"), SSLCAFile(caFile), SSLCheckHostname(false))
		require.NoError(t, err)
		defer pr.Close(context.Background())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		f, err := pr.Send(ctx, Record{Topic: secTopic, Value: []byte("x")})
		require.NoError(t, err)
		_, err = f.Get(ctx)
		require.NoError(t, err)
	})
	t.Run("hostname check off still checks the CA", func(t *testing.T) {
		c := newSecureCluster(t, kafkatest.TLS(serverTLS(p.wrong, nil)))
		otherFile := writeTemp(t, "other.pem", p.otherPEM)
		err := failFast(t, bound, BootstrapServers(c.Addrs()...), SecurityProtocol("SSL"), SSLCAFile(otherFile), SSLCheckHostname(false))
		var ua x509.UnknownAuthorityError
		require.ErrorAs(t, err, &ua)
	})
	t.Run("expired certificate", func(t *testing.T) {
		c := newSecureCluster(t, kafkatest.TLS(serverTLS(p.expired, nil)))
		err := failFast(t, bound, BootstrapServers(c.Addrs()...), SecurityProtocol("SSL"), SSLContext(&tls.Config{RootCAs: p.pool}))
		var ci x509.CertificateInvalidError
		require.ErrorAs(t, err, &ci)
		require.Equal(t, x509.Expired, ci.Reason)
	})
	t.Run("revoked certificate", func(t *testing.T) {
		c := newSecureCluster(t, kafkatest.TLS(serverTLS(p.revoked, nil)))
		err := failFast(t, bound, BootstrapServers(c.Addrs()...), SecurityProtocol("SSL"),
			SSLCAFile(writeTemp(t, "ca.pem", p.caPEM)), SSLCRLFile(writeTemp(t, "crl.pem", p.crlPEM)))
		require.ErrorIs(t, err, ErrCertificateRevoked)
	})
	t.Run("no client certificate for mTLS", func(t *testing.T) {
		c := newSecureCluster(t, kafkatest.TLS(serverTLS(p.server, p.pool)))
		err := failFast(t, bound, BootstrapServers(c.Addrs()...), SecurityProtocol("SSL"), SSLContext(&tls.Config{RootCAs: p.pool}))
		require.ErrorIs(t, err, ErrTLSHandshake)
	})
	t.Run("plaintext to a TLS port", func(t *testing.T) {
		c := newSecureCluster(t, kafkatest.TLS(serverTLS(p.server, nil)))
		err := failFast(t, bound, BootstrapServers(c.Addrs()...))
		require.ErrorIs(t, err, ErrSecurityProtocolMismatch)
	})
	t.Run("TLS to a plaintext port", func(t *testing.T) {
		// kfake reads a ClientHello as the start of a huge request and
		// waits, so the handshake ends at its timeout:
		// socket_connection_setup_timeout_ms (KIP-601), 10 s by default.
		c := newSecureCluster(t)
		err := failFast(t, bound, BootstrapServers(c.Addrs()...), SocketConnectionSetupTimeout(time.Second),
			SecurityProtocol("SSL"), SSLContext(&tls.Config{RootCAs: p.pool}))
		require.ErrorIs(t, err, ErrSecurityProtocolMismatch)
		require.ErrorIs(t, err, ErrTLSHandshake)
	})
}

// namedMechanism is a mechanism the broker is not expected to offer.
type namedMechanism string

func (m namedMechanism) Name() string { return string(m) }
func (m namedMechanism) Start(context.Context, sasl.ConnInfo) (sasl.Session, error) {
	return nil, errors.New("never started: the handshake fails first")
}

// TestSASLCredentialsRotate shows credentials supplied by callback: a
// failure with the old password fails Send fast, and once the callback
// returns the new one the next Send goes through on the same producer.
func TestSASLCredentialsRotate(t *testing.T) {
	c := newSecureCluster(t, kafkatest.SASLUser("SCRAM-SHA-512", "bob", "new-password"))
	var pass atomic.Value
	pass.Store("old-password")
	p, err := NewProducer(BootstrapServers(c.Addrs()...), SecurityProtocol("SASL_PLAINTEXT"), SASLMechanism("SCRAM-SHA-512"),
		SASLCredentials(func(context.Context) (sasl.Credentials, error) {
			return sasl.Credentials{Username: "bob", Password: pass.Load().(string)}, nil
		}), ReconnectBackoff(10*time.Millisecond), ReconnectBackoffMax(50*time.Millisecond))
	require.NoError(t, err)
	defer p.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = p.Send(ctx, Record{Topic: secTopic, Value: []byte("x")})
	require.ErrorIs(t, err, SaslAuthenticationFailed)
	require.NotContains(t, err.Error(), "old-password")

	pass.Store("new-password")
	f, err := p.Send(ctx, Record{Topic: secTopic, Value: []byte("y")})
	require.NoError(t, err)
	_, err = f.Get(ctx)
	require.NoError(t, err)
}

// TestSASLReauthentication runs a producer through several KIP-368
// session lifetimes while it keeps requests in flight. The broker closes a
// connection that sends anything but SASL between SaslHandshake and the
// end of SaslAuthenticate, so a racy re-authentication would show as new
// connections; it must renew on the connections it has.
func TestSASLReauthentication(t *testing.T) {
	c := newSecureCluster(t, kafkatest.SASLUser("SCRAM-SHA-256", "carol", "pw"), kafkatest.SASLSessionLifetime(400*time.Millisecond))
	var dials, auths atomic.Int32
	d := &net.Dialer{}
	p, err := NewProducer(BootstrapServers(c.Addrs()...), SecurityProtocol("SASL_PLAINTEXT"), SASLMechanism("SCRAM-SHA-256"),
		SASLCredentials(func(context.Context) (sasl.Credentials, error) {
			auths.Add(1)
			return sasl.Credentials{Username: "carol", Password: "pw"}, nil
		}),
		Dialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, addr)
		}), Linger(2*time.Millisecond), MetadataMaxAge(time.Hour))
	require.NoError(t, err)
	defer p.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Warm up: metadata, producer id and the leader's connection.
	f, err := p.Send(ctx, Record{Topic: secTopic, Value: []byte("first")})
	require.NoError(t, err)
	_, err = f.Get(ctx)
	require.NoError(t, err)
	dialsBefore, authsBefore := dials.Load(), auths.Load()
	deadline := time.Now().Add(1500 * time.Millisecond)
	var futures []Future
	for i := 0; time.Now().Before(deadline); i++ {
		f, err := p.Send(ctx, Record{Topic: secTopic, Value: []byte(fmt.Sprint(i))})
		require.NoError(t, err)
		futures = append(futures, f)
		if i%50 == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, f := range futures {
		_, err := f.Get(ctx)
		require.NoError(t, err)
	}
	// The leader's connection renewed its session at least twice in
	// 1.5 s of 400 ms sessions, without a new connection.
	require.Equal(t, dialsBefore, dials.Load(), "re-authentication must not cost connections")
	require.GreaterOrEqual(t, auths.Load(), authsBefore+2, "sessions were not renewed")
}

func TestSecurityConfigValidation(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		opts   []Option
		option string
		rule   string
	}{
		{[]Option{SecurityProtocol("TLS")}, "security_protocol", "must be"},
		{[]Option{SecurityProtocol("SASL_SSL")}, "sasl_mechanism", "is required"},
		{[]Option{SecurityProtocol("SASL_PLAINTEXT"), SASLMechanism("SCRAM-SHA-1")}, "sasl_mechanism", "unknown mechanism"},
		{[]Option{SecurityProtocol("SASL_PLAINTEXT"), SASLMechanism("GSSAPI")}, "sasl_mechanism", "WithSASL"},
		{[]Option{SecurityProtocol("SASL_PLAINTEXT"), SASLMechanism("PLAIN")}, "sasl_plain_username", "is required"},
		{[]Option{SecurityProtocol("SASL_PLAINTEXT"), SASLMechanism("OAUTHBEARER")}, "sasl_oauth_token_provider", "is required"},
		{[]Option{SASLMechanism("PLAIN"), SASLPlainUsername("u")}, "sasl_mechanism", "security_protocol is PLAINTEXT"},
		{[]Option{SSLCAFile("/x")}, "ssl_cafile", "security_protocol is PLAINTEXT"},
		{[]Option{SecurityProtocol("SSL"), SSLCAFile(filepath.Join(dir, "missing.pem"))}, "ssl_cafile", "no such file"},
		{[]Option{SecurityProtocol("SSL"), SSLCiphers("ECDHE-RSA-AES128-GCM-SHA256:NOPE-CIPHER")}, "ssl_ciphers", "NOPE-CIPHER"},
		{[]Option{SecurityProtocol("SSL"), SSLCiphers("HIGH:!aNULL")}, "ssl_ciphers", "unknown cipher"},
		{[]Option{SecurityProtocol("SSL"), SSLContext(&tls.Config{}), SSLCAFile("/x")}, "ssl_cafile", "ssl_context"},
		{[]Option{SecurityProtocol("SSL"), SSLKeyFile("/x")}, "ssl_keyfile", "needs ssl_certfile"},
	}
	for _, tc := range cases {
		_, err := NewProducer(tc.opts...)
		require.ErrorIs(t, err, ErrInvalidConfig)
		require.Contains(t, err.Error(), tc.option)
		require.Contains(t, err.Error(), tc.rule)
	}

	// Ciphers: OpenSSL and IANA names both map; TLS 1.3 names alone
	// require TLS 1.3.
	suites, only13, err := parseCiphers("ECDHE-RSA-AES128-GCM-SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")
	require.NoError(t, err)
	require.False(t, only13)
	require.Equal(t, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}, suites)
	_, only13, err = parseCiphers("TLS_AES_128_GCM_SHA256")
	require.NoError(t, err)
	require.True(t, only13)
}

func TestSecurityProperties(t *testing.T) {
	p := newTestPKI(t)
	caFile := writeTemp(t, "ca.pem", p.caPEM)
	opts, err := OptionsFromMap(map[string]string{
		"security.protocol":                     "sasl_ssl",
		"ssl.ca.location":                       caFile,
		"ssl.endpoint.identification.algorithm": "",
		"sasl.mechanism":                        "SCRAM-SHA-256",
		"sasl.username":                         "alice",
		"sasl_plain_password":                   " secret with spaces ",
	})
	require.NoError(t, err)
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	require.NoError(t, cfg.validate())
	require.Equal(t, protoSASLSSL, cfg.security.protocol)
	require.True(t, cfg.security.noCheckHost)
	require.Equal(t, " secret with spaces ", cfg.security.password)
	require.Equal(t, "SCRAM-SHA-256", cfg.security.sasl.Name())
	require.NotNil(t, cfg.security.tls.RootCAs)

	_, err = OptionsFromMap(map[string]string{"ssl.endpoint.identification.algorithm": "maybe"})
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.True(t, strings.Contains(err.Error(), "ssl.endpoint.identification.algorithm"))
}

// A broker that closes a connection during SaslAuthenticate once (a
// restart, the network) costs a reconnect, not the records: only closes
// in a row count as an authentication failure.
func TestSASLDropIsRetried(t *testing.T) {
	c := newSecureCluster(t, kafkatest.SASLUser("SCRAM-SHA-256", "alice", "right"))
	fake := c.Fake()
	const dropped = 2 // fewer than saslDropsBeforeFailure
	var drops atomic.Int32
	fake.ControlKey(int16(kmsg.SASLAuthenticate), func(kmsg.Request) (kmsg.Response, error, bool) {
		if drops.Add(1) <= dropped {
			fake.KeepControl()
			return nil, errors.New("dropped by test"), true
		}
		return nil, nil, false
	})
	p, err := NewProducer(BootstrapServers(c.Addrs()...), SecurityProtocol("SASL_PLAINTEXT"),
		SASLMechanism("SCRAM-SHA-256"), SASLPlainUsername("alice"), SASLPlainPassword("right"),
		ReconnectBackoff(10*time.Millisecond), ReconnectBackoffMax(50*time.Millisecond))
	require.NoError(t, err)
	defer p.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f, err := p.Send(ctx, Record{Topic: secTopic, Value: []byte("x")})
	require.NoError(t, err)
	_, err = f.Get(ctx)
	require.NoError(t, err)
	require.Greater(t, drops.Load(), int32(dropped), "the broker dropped connections, then authenticated")
}
