package main

import (
	"strings"
	"testing"

	"github.com/kpgo/kafka/kafkatest"
	"github.com/stretchr/testify/require"
)

// The tool reaches a SASL_SSL cluster with the same properties as Kafka's
// (security.protocol, sasl.mechanism, credentials, the CA file).
func TestSecureCluster(t *testing.T) {
	certs, err := kafkatest.NewCertificates("127.0.0.1", "localhost")
	require.NoError(t, err)
	caFile, _, _, err := certs.WriteFiles(t.TempDir())
	require.NoError(t, err)
	c, err := kafkatest.NewCluster(kafkatest.SeedTopic("secure", 1), kafkatest.TLS(certs.ServerTLS(false)),
		kafkatest.SASLUser("SCRAM-SHA-256", "alice", "alice-secret"))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	base := []string{"--bootstrap-server", c.BootstrapServers(), "--topic", "secure", "--print-offsets",
		"--producer-property", "security.protocol=SASL_SSL",
		"--producer-property", "sasl.mechanism=SCRAM-SHA-256",
		"--producer-property", "sasl.username=alice",
		"--producer-property", "ssl.ca.location=" + caFile}
	r := runTool(t, "one\ntwo\n", append(base, "--producer-property", "sasl.password=alice-secret")...)
	require.Equal(t, 0, r.code, r.stderr)
	require.Len(t, strings.Split(strings.TrimSpace(r.stdout), "\n"), 2)

	r = runTool(t, "one\n", append(base, "--producer-property", "sasl.password=Xq7-not-it", "--max-block-ms", "5000")...)
	require.NotEqual(t, 0, r.code)
	require.Contains(t, r.stderr, "authentication")
	require.NotContains(t, r.stderr, "Xq7-not-it", "the password is never printed")
}
