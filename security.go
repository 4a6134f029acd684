package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/kpgo/kafka/protocol"
	"github.com/kpgo/kafka/sasl"
)

// Security errors. Every TLS or SASL failure wraps ErrAuthentication as
// well as the specific cause, so callers can match either; none is retried
// until the delivery timeout: the sends waiting for that broker fail at
// once (kafka-python's AuthenticationFailedError, the Java client's
// AuthenticationException).
var (
	// ErrAuthentication is wrapped by every TLS handshake and SASL
	// failure.
	ErrAuthentication = errors.New("kafka: authentication failed")

	// ErrTLSHandshake fails a connection whose TLS handshake failed. The
	// cause is wrapped too: errors.As finds *x509.UnknownAuthorityError,
	// x509.HostnameError, x509.CertificateInvalidError (an expired
	// certificate has Reason x509.Expired) or *tls.CertificateVerificationError.
	ErrTLSHandshake = errors.New("kafka: TLS handshake failed")

	// ErrSecurityProtocolMismatch fails a connection that speaks TLS to a
	// plaintext listener, or plaintext to a TLS listener: check
	// security_protocol against the broker's listener.
	ErrSecurityProtocolMismatch = errors.New("kafka: security protocol mismatch")

	// ErrCertificateRevoked fails a TLS handshake whose peer certificate
	// is listed in ssl_crlfile.
	ErrCertificateRevoked = errors.New("kafka: certificate revoked")
)

// Kafka's SASL error codes, matched with errors.Is: a wrong password is
// SaslAuthenticationFailed, a mechanism the broker does not enable is
// UnsupportedSaslMechanism.
var (
	SaslAuthenticationFailed = protocol.SaslAuthenticationFailed
	UnsupportedSaslMechanism = protocol.UnsupportedSaslMechanism
	IllegalSaslState         = protocol.IllegalSaslState
)

// authError is a TLS or SASL failure on one broker connection. It unwraps
// to ErrAuthentication, its kind and its cause. Its message names the
// broker, the cause and a hint, never a credential.
type authError struct {
	kind  error // ErrTLSHandshake, ErrSecurityProtocolMismatch, a SASL *KafkaError, or nil
	also  error // a second kind, or nil
	addr  string
	msg   string
	cause error
}

func (e *authError) Error() string {
	s := "kafka: authentication with " + e.addr + " failed: " + e.msg
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

func (e *authError) Unwrap() []error {
	out := []error{ErrAuthentication}
	for _, err := range []error{e.kind, e.also, e.cause} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// Security protocols (security_protocol, security.protocol).
const (
	protoPlaintext     = "PLAINTEXT"
	protoSSL           = "SSL"
	protoSASLPlaintext = "SASL_PLAINTEXT"
	protoSASLSSL       = "SASL_SSL"
)

// securityConfig holds the TLS and SASL options; config embeds one.
type securityConfig struct {
	protocol      string
	tlsContext    *tls.Config
	caFile        string
	certFile      string
	keyFile       string
	keyPassword   string
	noCheckHost   bool
	crlFile       string
	ciphers       string
	mechanism     string
	username      string
	password      string
	usernameSet   bool
	credentials   sasl.CredentialsFunc
	tokenProvider sasl.TokenProvider
	custom        sasl.Mechanism

	// Derived by validate.
	tls  *tls.Config // nil without TLS
	sasl sasl.Mechanism

	// saslDrops counts the connections in a row that a broker closed
	// during SaslAuthenticate (conn_security.go).
	saslDrops atomic.Int32
}

func (s *securityConfig) useTLS() bool {
	return s.protocol == protoSSL || s.protocol == protoSASLSSL
}

func (s *securityConfig) useSASL() bool {
	return s.protocol == protoSASLPlaintext || s.protocol == protoSASLSSL
}

// SecurityProtocol sets how the producer talks to brokers
// (security_protocol, security.protocol): "PLAINTEXT", "SSL" (TLS),
// "SASL_PLAINTEXT" (SASL without TLS) or "SASL_SSL" (SASL over TLS).
// Default "PLAINTEXT".
func SecurityProtocol(protocol string) Option {
	return optionFunc(func(c *config) { c.security.protocol = protocol })
}

// SSLContext sets the TLS configuration (kafka-python's ssl_context). It
// is cloned per connection; when its ServerName is empty the broker's host
// is used, so hostname verification works with one config for every
// broker. It cannot be combined with the ssl_* file options. Default:
// built from those options.
func SSLContext(cfg *tls.Config) Option {
	return optionFunc(func(c *config) { c.security.tlsContext = cfg })
}

// SSLCAFile names a PEM file of CA certificates that broker certificates
// must chain to (ssl_cafile, ssl.ca.location). Default: the system's
// roots.
func SSLCAFile(path string) Option { return optionFunc(func(c *config) { c.security.caFile = path }) }

// SSLCertFile names the PEM client certificate for mutual TLS (ssl_certfile,
// ssl.certificate.location); it may hold the private key too. Default none.
func SSLCertFile(path string) Option {
	return optionFunc(func(c *config) { c.security.certFile = path })
}

// SSLKeyFile names the PEM private key of SSLCertFile (ssl_keyfile,
// ssl.key.location). Default: the key is in SSLCertFile.
func SSLKeyFile(path string) Option { return optionFunc(func(c *config) { c.security.keyFile = path }) }

// SSLPassword decrypts an encrypted private key (ssl_password,
// ssl.key.password): PKCS#8 "ENCRYPTED PRIVATE KEY" with PBES2 (PBKDF2 and
// AES-CBC or 3DES, what OpenSSL 1.1+ writes) or a legacy "Proc-Type:
// 4,ENCRYPTED" PEM key. Default none.
func SSLPassword(password string) Option {
	return optionFunc(func(c *config) { c.security.keyPassword = password })
}

// SSLCheckHostname makes the producer check that the broker's certificate
// names the host it connected to (ssl_check_hostname; Java's
// ssl.endpoint.identification.algorithm=https). The chain is verified
// either way. Default true.
func SSLCheckHostname(check bool) Option {
	return optionFunc(func(c *config) { c.security.noCheckHost = !check })
}

// SSLCRLFile names a PEM or DER certificate revocation list; a broker
// certificate on it fails the handshake with ErrCertificateRevoked
// (ssl_crlfile, ssl.crl.location). Default none.
func SSLCRLFile(path string) Option { return optionFunc(func(c *config) { c.security.crlFile = path }) }

// SSLCiphers limits the TLS 1.2 cipher suites (ssl_ciphers,
// ssl.cipher.suites): OpenSSL names ("ECDHE-RSA-AES128-GCM-SHA256") or
// IANA names ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), separated by ':'
// or ','. TLS 1.3 suites are always on in Go; naming only those requires
// TLS 1.3. OpenSSL keywords ("HIGH", "!aNULL") are not supported. An
// unknown name fails NewProducer. Default: Go's secure defaults.
func SSLCiphers(ciphers string) Option {
	return optionFunc(func(c *config) { c.security.ciphers = ciphers })
}

// SASLMechanism names the SASL mechanism (sasl_mechanism, sasl.mechanism):
// "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512" or "OAUTHBEARER". Others, as
// "GSSAPI" or "AWS_MSK_IAM", plug in with WithSASL. Required with
// SASL_PLAINTEXT and SASL_SSL unless WithSASL is given.
func SASLMechanism(name string) Option {
	return optionFunc(func(c *config) { c.security.mechanism = name })
}

// SASLPlainUsername is the user name for PLAIN and SCRAM
// (sasl_plain_username, sasl.username).
func SASLPlainUsername(username string) Option {
	return optionFunc(func(c *config) { c.security.username, c.security.usernameSet = username, true })
}

// SASLPlainPassword is the password for PLAIN and SCRAM
// (sasl_plain_password, sasl.password). It never appears in logs or
// errors.
func SASLPlainPassword(password string) Option {
	return optionFunc(func(c *config) { c.security.password = password })
}

// SASLCredentials supplies the PLAIN or SCRAM credentials by callback
// instead of SASLPlainUsername and SASLPlainPassword. It is called for
// every authentication (each new connection, each KIP-368
// re-authentication), so rotated credentials are picked up without a new
// producer.
func SASLCredentials(fn sasl.CredentialsFunc) Option {
	return optionFunc(func(c *config) { c.security.credentials = fn })
}

// SASLOAuthTokenProvider supplies OAUTHBEARER tokens
// (sasl_oauth_token_provider). It is called for every authentication, so
// short-lived tokens are always fresh. Setting it implies
// SASLMechanism("OAUTHBEARER") unless another mechanism is named.
func SASLOAuthTokenProvider(p sasl.TokenProvider) Option {
	return optionFunc(func(c *config) { c.security.tokenProvider = p })
}

// WithSASL sets a SASL mechanism implementation, for mechanisms this
// module does not ship (GSSAPI, AWS_MSK_IAM) or custom credential
// handling; see package sasl. It overrides SASLMechanism and the
// credential options.
func WithSASL(m sasl.Mechanism) Option {
	return optionFunc(func(c *config) { c.security.custom = m })
}

// validate checks the security options and derives the TLS config and the
// SASL mechanism. Files are read here, so a missing or bad file fails
// NewProducer rather than the first connection.
func (s *securityConfig) validate() error {
	s.protocol = strings.ToUpper(strings.TrimSpace(s.protocol))
	if s.protocol == "" {
		s.protocol = protoPlaintext
	}
	switch s.protocol {
	case protoPlaintext, protoSSL, protoSASLPlaintext, protoSASLSSL:
	default:
		return configError("security_protocol", "must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got %q", s.protocol)
	}
	if err := s.validateTLS(); err != nil {
		return err
	}
	return s.validateSASL()
}

func (s *securityConfig) validateTLS() error {
	files := []struct{ option, value string }{
		{"ssl_cafile", s.caFile}, {"ssl_certfile", s.certFile}, {"ssl_keyfile", s.keyFile},
		{"ssl_password", s.keyPassword}, {"ssl_crlfile", s.crlFile}, {"ssl_ciphers", s.ciphers},
	}
	if !s.useTLS() {
		if s.tlsContext != nil {
			return configError("ssl_context", "is set but security_protocol is %s; use SSL or SASL_SSL", s.protocol)
		}
		for _, f := range files {
			if f.value != "" {
				return configError(f.option, "is set but security_protocol is %s; use SSL or SASL_SSL", s.protocol)
			}
		}
		return nil
	}
	if s.tlsContext != nil {
		for _, f := range files {
			if f.value != "" {
				return configError(f.option, "cannot be combined with ssl_context; configure the *tls.Config instead")
			}
		}
		s.tls = s.tlsContext.Clone()
		return nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.caFile != "" {
		pem, err := os.ReadFile(s.caFile)
		if err != nil {
			return configError("ssl_cafile", "%v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return configError("ssl_cafile", "%s holds no PEM certificate", s.caFile)
		}
		cfg.RootCAs = pool
	}
	if s.keyFile != "" && s.certFile == "" {
		return configError("ssl_keyfile", "needs ssl_certfile")
	}
	if s.keyPassword != "" && s.certFile == "" {
		return configError("ssl_password", "needs ssl_certfile and ssl_keyfile")
	}
	if s.certFile != "" {
		cert, err := loadClientCert(s.certFile, s.keyFile, s.keyPassword)
		if err != nil {
			return err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if s.ciphers != "" {
		suites, only13, err := parseCiphers(s.ciphers)
		if err != nil {
			return configError("ssl_ciphers", "%v", err)
		}
		cfg.CipherSuites = suites
		if only13 {
			cfg.MinVersion = tls.VersionTLS13
		}
	}
	var crl *x509.RevocationList
	if s.crlFile != "" {
		var err error
		if crl, err = loadCRL(s.crlFile); err != nil {
			return configError("ssl_crlfile", "%v", err)
		}
	}
	if s.noCheckHost || crl != nil {
		installVerifier(cfg, !s.noCheckHost, crl)
	}
	s.tls = cfg
	return nil
}

// mechanismNames lists the mechanisms built in, for error messages.
const mechanismNames = "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER"

func (s *securityConfig) validateSASL() error {
	mech := strings.ToUpper(strings.TrimSpace(s.mechanism))
	if mech == "" && s.tokenProvider != nil {
		mech = "OAUTHBEARER"
	}
	saslSet := mech != "" || s.custom != nil || s.usernameSet || s.password != "" || s.credentials != nil || s.tokenProvider != nil
	if !s.useSASL() {
		if saslSet {
			return configError("sasl_mechanism", "SASL options are set but security_protocol is %s; use SASL_PLAINTEXT or SASL_SSL", s.protocol)
		}
		return nil
	}
	if s.custom != nil {
		if s.custom.Name() == "" {
			return configError("sasl_mechanism", "the WithSASL mechanism has an empty Name")
		}
		s.sasl = s.custom
		return nil
	}
	creds := s.credentials
	switch mech {
	case "":
		return configError("sasl_mechanism", "is required with security_protocol %s: %s", s.protocol, mechanismNames)
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if creds == nil {
			if !s.usernameSet || s.username == "" {
				return configError("sasl_plain_username", "is required with sasl_mechanism %s (or set SASLCredentials)", mech)
			}
			creds = sasl.Static(s.username, s.password)
		} else if s.usernameSet || s.password != "" {
			return configError("sasl_plain_username", "cannot be combined with SASLCredentials")
		}
		switch mech {
		case "PLAIN":
			s.sasl = sasl.Plain(creds)
		case "SCRAM-SHA-256":
			s.sasl = sasl.ScramSHA256(creds)
		default:
			s.sasl = sasl.ScramSHA512(creds)
		}
	case "OAUTHBEARER":
		if s.tokenProvider == nil {
			return configError("sasl_oauth_token_provider", "is required with sasl_mechanism OAUTHBEARER")
		}
		s.sasl = sasl.OAuthBearer(s.tokenProvider)
	case "GSSAPI", "AWS_MSK_IAM":
		return configError("sasl_mechanism", "%s is not built in; plug in an implementation with kafka.WithSASL (see package sasl)", mech)
	default:
		return configError("sasl_mechanism", "unknown mechanism %q: want %s, or kafka.WithSASL", s.mechanism, mechanismNames)
	}
	if mech != "OAUTHBEARER" && s.tokenProvider != nil {
		return configError("sasl_oauth_token_provider", "is set but sasl_mechanism is %s", mech)
	}
	return nil
}

// tlsFor returns the TLS config for one broker: the server name is the
// broker's host unless the config names one.
func (s *securityConfig) tlsFor(host string) *tls.Config {
	cfg := s.tls.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	return cfg
}

// securityProperties are the property names of the security options, in
// the normalized form props.go looks names up in. The Java and librdkafka
// names are listed only where they mean the same thing.
var securityProperties = map[string]property{
	"security_protocol":        strProp(SecurityProtocol),
	"ssl_cafile":               strProp(SSLCAFile),
	"ssl_ca_location":          strProp(SSLCAFile),
	"ssl_certfile":             strProp(SSLCertFile),
	"ssl_certificate_location": strProp(SSLCertFile),
	"ssl_keyfile":              strProp(SSLKeyFile),
	"ssl_key_location":         strProp(SSLKeyFile),
	"ssl_password":             rawProp(SSLPassword),
	"ssl_key_password":         rawProp(SSLPassword),
	"ssl_check_hostname":       boolProp(SSLCheckHostname),
	"ssl_crlfile":              strProp(SSLCRLFile),
	"ssl_crl_location":         strProp(SSLCRLFile),
	"ssl_ciphers":              strProp(SSLCiphers),
	"ssl_cipher_suites":        strProp(SSLCiphers),
	"sasl_mechanism":           strProp(SASLMechanism),
	"sasl_mechanisms":          strProp(SASLMechanism),
	"sasl_plain_username":      rawProp(SASLPlainUsername),
	"sasl_username":            rawProp(SASLPlainUsername),
	"sasl_plain_password":      rawProp(SASLPlainPassword),
	"sasl_password":            rawProp(SASLPlainPassword),
	"ssl_endpoint_identification_algorithm": func(v string) (Option, error) {
		// Java: "https" checks the host name, "" turns the check off;
		// librdkafka says "none" for off.
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "https":
			return SSLCheckHostname(true), nil
		case "", "none":
			return SSLCheckHostname(false), nil
		}
		return nil, fmt.Errorf("must be https, none or empty, got %q", v)
	},
}

func strProp(f func(string) Option) property {
	return func(v string) (Option, error) { return f(strings.TrimSpace(v)), nil }
}

// rawProp keeps the value as given: a password may begin or end with a
// space.
func rawProp(f func(string) Option) property {
	return func(v string) (Option, error) { return f(v), nil }
}

func init() {
	for name, p := range securityProperties {
		properties[name] = p
	}
}
