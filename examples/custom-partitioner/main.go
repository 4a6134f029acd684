// Custom-partitioner sends keys that start with "priority-" to partition
// 0 and leaves the rest to the default partitioner, like kafka-python's
// CustomPartitioner example.
//
//	go run ./examples/custom-partitioner
package main

import (
	"bytes"
	"context"
	"fmt"
	"log"

	"github.com/kpgo/kafka"
	"github.com/kpgo/kafka/examples/internal/embedded"
)

// priorityPartitioner is kafka-python's CustomPartitioner.
type priorityPartitioner struct {
	fallback kafka.DefaultPartitioner
}

func (p priorityPartitioner) Partition(topic string, key []byte, numPartitions int, available []int32) int32 {
	if bytes.HasPrefix(key, []byte("priority-")) {
		return 0 // Send priority messages to partition 0.
	}
	return p.fallback.Partition(topic, key, numPartitions, available)
}

func main() {
	servers, stop := embedded.Bootstrap("orders")
	defer stop()

	producer, err := kafka.NewProducer(
		kafka.BootstrapServers(servers...),
		kafka.WithPartitioner(priorityPartitioner{}),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range []string{"priority-1", "user-7", "priority-2", "user-42", "user-99"} {
		f, err := producer.Send(ctx, kafka.Record{Topic: "orders", Key: []byte(key), Value: []byte("payload")})
		if err != nil {
			log.Fatal(err)
		}
		md, err := f.Get(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-10s -> partition %d, offset %d\n", key, md.Partition, md.Offset)
	}
	if err := producer.Close(ctx); err != nil {
		log.Fatal(err)
	}
}
