// Secure is kafka-python's "Secure Producer (SSL + SASL)" in Go: SASL_SSL
// with SCRAM-SHA-256, the broker's CA from ssl_cafile and host name
// checking on.
//
//	go run ./examples/secure
//
// With KAFKA_BOOTSTRAP_SERVERS unset it starts an in-process kafkatest
// cluster that listens with TLS (a throwaway CA, written to a temporary
// ca-cert.pem) and knows the SCRAM user myuser/mypassword. Against a real
// cluster set KAFKA_BOOTSTRAP_SERVERS, KAFKA_SASL_USERNAME,
// KAFKA_SASL_PASSWORD and KAFKA_SSL_CAFILE.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kpgo/kafka"
	"github.com/kpgo/kafka/kafkatest"
)

func main() {
	servers, user, password, caFile, stop := cluster()
	defer stop()

	// producer = KafkaProducer(
	//     bootstrap_servers=['secure-broker:9093'],
	//     security_protocol='SASL_SSL',
	//     sasl_mechanism='SCRAM-SHA-256',
	//     sasl_plain_username='myuser',
	//     sasl_plain_password='mypassword',
	//     ssl_check_hostname=True,
	//     ssl_cafile='ca-cert.pem')
	producer, err := kafka.NewProducer(
		kafka.BootstrapServers(servers...),
		kafka.SecurityProtocol("SASL_SSL"),
		kafka.SASLMechanism("SCRAM-SHA-256"),
		kafka.SASLPlainUsername(user),
		kafka.SASLPlainPassword(password),
		kafka.SSLCheckHostname(true),
		kafka.SSLCAFile(caFile),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer producer.Close(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	future, err := producer.Send(ctx, kafka.Record{Topic: "secure-topic", Value: []byte("hello over SASL_SSL")})
	if err != nil {
		// A wrong password, an untrusted CA or a host name mismatch ends
		// here at once, as kafka.ErrAuthentication and its cause.
		log.Fatal(err)
	}
	md, err := future.Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Sent over SASL_SSL to partition %d at offset %d\n", md.Partition, md.Offset)
}

// cluster returns the cluster to use and its credentials: the one in the
// environment, or an in-process one with TLS and SCRAM.
func cluster() (servers []string, user, password, caFile string, stop func()) {
	if s := os.Getenv("KAFKA_BOOTSTRAP_SERVERS"); s != "" {
		fmt.Printf("using the cluster at %s (KAFKA_BOOTSTRAP_SERVERS)\n", s)
		return strings.Split(s, ","), os.Getenv("KAFKA_SASL_USERNAME"), os.Getenv("KAFKA_SASL_PASSWORD"),
			os.Getenv("KAFKA_SSL_CAFILE"), func() {}
	}
	certs, err := kafkatest.NewCertificates() // for localhost and 127.0.0.1
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "kafka-secure-example")
	if err != nil {
		log.Fatal(err)
	}
	caFile = filepath.Join(dir, "ca-cert.pem")
	if err := os.WriteFile(caFile, certs.CAPEM, 0o600); err != nil {
		log.Fatal(err)
	}
	c, err := kafkatest.NewCluster(
		kafkatest.Brokers(1),
		kafkatest.SeedTopic("secure-topic", 3),
		kafkatest.TLS(certs.ServerTLS(false)),
		kafkatest.SASLUser("SCRAM-SHA-256", "myuser", "mypassword"),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("KAFKA_BOOTSTRAP_SERVERS is unset: started an in-process SASL_SSL cluster at %s (CA in %s)\n", c.BootstrapServers(), caFile)
	return c.Addrs(), "myuser", "mypassword", caFile, func() {
		c.Close()
		os.RemoveAll(dir)
	}
}
