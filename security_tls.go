package kafka

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
)

// loadClientCert reads a PEM certificate chain and its private key, which
// may be in the same file and may be encrypted with password. Errors name
// the option and never the password.
func loadClientCert(certFile, keyFile, password string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, configError("ssl_certfile", "%v", err)
	}
	keyOption, keyPEM := "ssl_certfile", certPEM
	if keyFile != "" {
		if keyPEM, err = os.ReadFile(keyFile); err != nil {
			return tls.Certificate{}, configError("ssl_keyfile", "%v", err)
		}
		keyOption = "ssl_keyfile"
	}
	var keyBlock *pem.Block
	for rest := keyPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if strings.HasSuffix(b.Type, "PRIVATE KEY") {
			keyBlock = b
			break
		}
	}
	if keyBlock == nil {
		return tls.Certificate{}, configError(keyOption, "no PEM private key found")
	}
	der, err := decryptKeyBlock(keyBlock, password)
	if err != nil {
		return tls.Certificate{}, configError("ssl_password", "%s: %v", keyOption, err)
	}
	key, err := parsePrivateKey(der)
	if err != nil {
		return tls.Certificate{}, configError(keyOption, "%v", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, configError(keyOption, "%v", err)
	}
	// X509KeyPair checks that the key belongs to the certificate.
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	if err != nil {
		return tls.Certificate{}, configError("ssl_certfile", "%v", err)
	}
	return cert, nil
}

// decryptKeyBlock returns the DER of a PEM private key, decrypting it if it
// is encrypted.
func decryptKeyBlock(b *pem.Block, password string) ([]byte, error) {
	switch {
	case b.Type == "ENCRYPTED PRIVATE KEY":
		if password == "" {
			return nil, errors.New("the key is encrypted; set ssl_password")
		}
		return decryptPKCS8(b.Bytes, []byte(password))
	case x509.IsEncryptedPEMBlock(b): //nolint:staticcheck // See below.
		// Legacy PEM encryption ("Proc-Type: 4,ENCRYPTED") is weak and
		// deprecated, but keys written by "openssl rsa -des3" before
		// OpenSSL 1.1 still use it and kafka-python accepts them; the
		// deprecated stdlib decoder is the only one there is.
		if password == "" {
			return nil, errors.New("the key is encrypted; set ssl_password")
		}
		der, err := x509.DecryptPEMBlock(b, []byte(password)) //nolint:staticcheck
		if err != nil {
			return nil, errors.New("cannot decrypt the key (wrong password?)")
		}
		return der, nil
	}
	if password != "" {
		return nil, errors.New("is set but the key is not encrypted")
	}
	return b.Bytes, nil
}

func parsePrivateKey(der []byte) (any, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("the private key is not PKCS#8, PKCS#1 or SEC 1")
}

// PKCS#5 v2.1 (RFC 8018) structures and identifiers. The standard library
// parses PKCS#8 but cannot decrypt it, so PBES2 is done here with
// crypto/pbkdf2 and the CBC ciphers: it is what OpenSSL 1.1+ and Java's
// keytool write for "ENCRYPTED PRIVATE KEY".
var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type encryptedPrivateKeyInfo struct {
	Algorithm     algorithmIdentifier
	EncryptedData []byte
}

type pbes2Params struct {
	KeyDerivationFunc algorithmIdentifier
	EncryptionScheme  algorithmIdentifier
}

type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int                 `asn1:"optional"`
	PRF            algorithmIdentifier `asn1:"optional"`
}

// decryptPKCS8 decrypts a PBES2 EncryptedPrivateKeyInfo. Older PBES1
// schemes (PBE-SHA1-3DES) are reported as unsupported.
func decryptPKCS8(der, password []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, errors.New("malformed ENCRYPTED PRIVATE KEY")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("key encryption %v is not supported; convert the key with 'openssl pkcs8 -topk8 -v2 aes-256-cbc'", info.Algorithm.Algorithm)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, errors.New("malformed PBES2 parameters")
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("key derivation %v is not supported (only PBKDF2)", params.KeyDerivationFunc.Algorithm)
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
		return nil, errors.New("malformed PBKDF2 parameters")
	}
	var prf func() hash.Hash
	switch alg := kdf.PRF.Algorithm; {
	case len(alg) == 0, alg.Equal(oidHMACSHA1):
		prf = sha1.New // The default of RFC 8018.
	case alg.Equal(oidHMACSHA224):
		prf = sha256.New224
	case alg.Equal(oidHMACSHA256):
		prf = sha256.New
	case alg.Equal(oidHMACSHA384):
		prf = sha512.New384
	case alg.Equal(oidHMACSHA512):
		prf = sha512.New
	default:
		return nil, fmt.Errorf("PBKDF2 PRF %v is not supported", alg)
	}
	var keyLen int
	var newCipher func([]byte) (cipher.Block, error)
	switch alg := params.EncryptionScheme.Algorithm; {
	case alg.Equal(oidAES128CBC):
		keyLen, newCipher = 16, aes.NewCipher
	case alg.Equal(oidAES192CBC):
		keyLen, newCipher = 24, aes.NewCipher
	case alg.Equal(oidAES256CBC):
		keyLen, newCipher = 32, aes.NewCipher
	case alg.Equal(oidDESEDE3CBC):
		keyLen, newCipher = 24, des.NewTripleDESCipher
	default:
		return nil, fmt.Errorf("key cipher %v is not supported (AES-CBC or DES-EDE3-CBC)", alg)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, errors.New("PBKDF2 key length does not match the cipher")
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil {
		return nil, errors.New("malformed cipher IV")
	}
	if kdf.IterationCount <= 0 || kdf.IterationCount > 10_000_000 {
		return nil, errors.New("PBKDF2 iteration count out of range")
	}
	key, err := pbkdf2.Key(prf, string(password), kdf.Salt, kdf.IterationCount, keyLen)
	if err != nil {
		return nil, err
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, err
	}
	data := info.EncryptedData
	if len(iv) != block.BlockSize() || len(data) == 0 || len(data)%block.BlockSize() != 0 {
		return nil, errors.New("malformed encrypted key")
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	// PKCS#7 padding; a wrong password almost always breaks it, and the
	// DER parse afterwards catches the rest.
	n := int(out[len(out)-1])
	if n == 0 || n > block.BlockSize() || !bytes.Equal(out[len(out)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, errors.New("cannot decrypt the key (wrong password?)")
	}
	out = out[:len(out)-n]
	if _, err := x509.ParsePKCS8PrivateKey(out); err != nil {
		return nil, errors.New("cannot decrypt the key (wrong password?)")
	}
	return out, nil
}

// loadCRL reads a PEM ("X509 CRL") or DER revocation list.
func loadCRL(path string) (*x509.RevocationList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "X509 CRL" {
			return nil, fmt.Errorf("%s: PEM block %q is not an X509 CRL", path, b.Type)
		}
		data = b.Bytes
	}
	crl, err := x509.ParseRevocationList(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return crl, nil
}

// installVerifier makes cfg verify the broker's chain without the host
// name when checkHost is false, and check it against crl when set.
func installVerifier(cfg *tls.Config, checkHost bool, crl *x509.RevocationList) {
	if !checkHost {
		// The chain is still verified, below; only the name check is
		// skipped (kafka-python's ssl_check_hostname=False).
		cfg.InsecureSkipVerify = true
	}
	roots := cfg.RootCAs
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		chains := cs.VerifiedChains
		if !checkHost {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the broker sent no certificate")
			}
			opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			var err error
			if chains, err = cs.PeerCertificates[0].Verify(opts); err != nil {
				return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			}
		}
		if crl != nil {
			return checkRevoked(chains, crl)
		}
		return nil
	}
}

// checkRevoked fails when a certificate of a verified chain was issued by
// the CRL's issuer and is on its list. A CRL that does not verify against
// that issuer fails too, so a forged list cannot be slipped in; a chain
// the CRL does not cover passes.
func checkRevoked(chains [][]*x509.Certificate, crl *x509.RevocationList) error {
	for _, chain := range chains {
		for i := 0; i+1 < len(chain); i++ {
			cert, issuer := chain[i], chain[i+1]
			if !bytes.Equal(cert.RawIssuer, crl.RawIssuer) {
				continue
			}
			if err := crl.CheckSignatureFrom(issuer); err != nil {
				return fmt.Errorf("ssl_crlfile is not signed by %q: %w", issuer.Subject, err)
			}
			for _, rc := range crl.RevokedCertificateEntries {
				if rc.SerialNumber.Cmp(cert.SerialNumber) == 0 {
					return fmt.Errorf("%w: %q (serial %s) was revoked at %s", ErrCertificateRevoked,
						cert.Subject, cert.SerialNumber, rc.RevocationTime.UTC().Format("2006-01-02T15:04:05Z"))
				}
			}
		}
	}
	return nil
}

// opensslCiphers maps OpenSSL's TLS 1.2 cipher names to Go's suites.
var opensslCiphers = map[string]uint16{
	"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-RSA-AES128-GCM-SHA256":   tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-ECDSA-AES256-GCM-SHA384": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-RSA-AES256-GCM-SHA384":   tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-ECDSA-CHACHA20-POLY1305": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-RSA-CHACHA20-POLY1305":   tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-ECDSA-AES128-SHA256":     tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	"ECDHE-RSA-AES128-SHA256":       tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	"ECDHE-ECDSA-AES128-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	"ECDHE-RSA-AES128-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	"ECDHE-ECDSA-AES256-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-AES256-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-DES-CBC3-SHA":        tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	"AES128-GCM-SHA256":             tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	"AES256-GCM-SHA384":             tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	"AES128-SHA256":                 tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	"AES128-SHA":                    tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	"AES256-SHA":                    tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	"DES-CBC3-SHA":                  tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
}

// parseCiphers turns an ssl_ciphers list into Go suites. TLS 1.3 names are
// accepted and need nothing (Go always enables them); only13 reports that
// nothing else was named.
func parseCiphers(list string) (suites []uint16, only13 bool, err error) {
	byName := map[string]uint16{}
	tls13 := map[string]bool{}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		byName[s.Name] = s.ID
		if len(s.SupportedVersions) == 1 && s.SupportedVersions[0] == tls.VersionTLS13 {
			tls13[s.Name] = true
		}
	}
	names := strings.FieldsFunc(list, func(r rune) bool { return r == ':' || r == ',' || r == ' ' })
	if len(names) == 0 {
		return nil, false, errors.New("no cipher named")
	}
	saw13 := false
	for _, n := range names {
		if tls13[n] {
			saw13 = true
			continue
		}
		id, ok := opensslCiphers[n]
		if !ok {
			id, ok = byName[n]
		}
		if !ok {
			return nil, false, fmt.Errorf("unknown cipher %q (OpenSSL or IANA names of TLS 1.2 suites; keywords such as HIGH or !aNULL are not supported)", n)
		}
		suites = append(suites, id)
	}
	return suites, saw13 && len(suites) == 0, nil
}
