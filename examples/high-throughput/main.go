// High-throughput is kafka-python's high-throughput configuration: larger
// batches, a little linger, lz4, a 32 MiB buffer, many sends, one flush.
//
//	go run ./examples/high-throughput
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/kpgo/kafka"
	"github.com/kpgo/kafka/examples/internal/embedded"
)

func main() {
	servers, stop := embedded.Bootstrap("high-volume-topic")
	defer stop()

	producer, err := kafka.NewProducer(
		kafka.BootstrapServers(servers...),
		kafka.BatchSize(16384),            // batch_size=16384
		kafka.Linger(10*time.Millisecond), // linger_ms=10
		kafka.CompressionType("lz4"),      // compression_type='lz4'
		kafka.BufferMemory(33554432),      // buffer_memory=33554432
		kafka.MaxInFlightRequestsPerConnection(5),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	const n = 100_000
	start := time.Now()
	var failed int
	for i := 0; i < n; i++ {
		err := producer.Produce(ctx, kafka.Record{Topic: "high-volume-topic", Value: []byte(fmt.Sprintf("message-%d", i))},
			func(_ kafka.RecordMetadata, err error) {
				if err != nil {
					failed++ // Callbacks run one at a time on the sender goroutine.
				}
			})
		if err != nil {
			log.Fatal(err)
		}
	}
	if err := producer.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	elapsed := time.Since(start)
	m := producer.MetricsSnapshot()
	fmt.Printf("sent %d records in %v (%.0f records/s), %d failed, %d requests\n",
		m.RecordsSent, elapsed.Round(time.Millisecond), float64(m.RecordsSent)/elapsed.Seconds(), failed, m.Requests)
	if err := producer.Close(ctx); err != nil {
		log.Fatal(err)
	}
}
