// Quickstart is kafka-python's "basic producer usage" in Go: a JSON value
// serializer, a string key serializer, one send, and the partition and
// offset it landed at.
//
//	go run ./examples/quickstart
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
	servers, stop := embedded.Bootstrap("my-topic")
	defer stop()

	// producer = KafkaProducer(bootstrap_servers=[...],
	//     value_serializer=lambda v: json.dumps(v).encode('utf-8'),
	//     key_serializer=lambda k: str(k).encode('utf-8'))
	producer, err := kafka.NewTypedProducer(
		kafka.StringSerializer(),
		kafka.JSONSerializer[map[string]string](),
		kafka.BootstrapServers(servers...),
	)
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	// future = producer.send('my-topic', key='user123', value={'action': 'login'})
	future, err := producer.Send(ctx, "my-topic", "user123", map[string]string{"action": "login"})
	if err != nil {
		log.Fatal(err)
	}
	// metadata = future.get(timeout=10)
	getCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	md, err := future.Get(getCtx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Sent to partition %d at offset %d\n", md.Partition, md.Offset)

	// producer.close()
	if err := producer.Close(ctx); err != nil {
		log.Fatal(err)
	}
}
