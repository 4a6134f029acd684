// Package embedded gives the examples a cluster: the one named by
// KAFKA_BOOTSTRAP_SERVERS, or an in-process kafkatest cluster when it is
// unset, so every example runs with `go run` on a machine with no broker.
package embedded

import (
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/kpgo/kafka/kafkatest"
)

// Bootstrap returns the bootstrap servers to use and a function that stops
// the embedded cluster, if one was started.
func Bootstrap(topics ...string) ([]string, func()) {
	if s := os.Getenv("KAFKA_BOOTSTRAP_SERVERS"); s != "" {
		fmt.Printf("using the cluster at %s (KAFKA_BOOTSTRAP_SERVERS)\n", s)
		return strings.Split(s, ","), func() {}
	}
	opts := []kafkatest.Option{kafkatest.Brokers(3), kafkatest.AutoCreateTopics(3)}
	for _, t := range topics {
		opts = append(opts, kafkatest.SeedTopic(t, 3))
	}
	c, err := kafkatest.NewCluster(opts...)
	if err != nil {
		log.Fatalf("starting an in-process cluster: %v", err)
	}
	fmt.Printf("KAFKA_BOOTSTRAP_SERVERS is unset: started an in-process kafkatest cluster at %s\n", c.BootstrapServers())
	return c.Addrs(), c.Close
}
