// Callbacks shows kafka-python's add_callback / add_errback, and the
// callback form of send that confluent-kafka users know as delivery
// reports.
//
//	go run ./examples/callbacks
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

	producer, err := kafka.NewProducer(kafka.BootstrapServers(servers...))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	onSuccess := func(md kafka.RecordMetadata) {
		fmt.Printf("Message sent to %s:%d:%d\n", md.Topic, md.Partition, md.Offset)
	}
	onError := func(err error) { fmt.Printf("Send failed: %v\n", err) }

	// future = producer.send('my-topic', b'message-value')
	// future.add_callback(on_success); future.add_errback(on_error)
	future, err := producer.Send(ctx, kafka.Record{Topic: "my-topic", Value: []byte("message-value")})
	if err != nil {
		log.Fatal(err)
	}
	future.AddCallback(onSuccess)
	future.AddErrback(onError)

	// A delivery report per record, confluent-kafka style:
	// producer.produce(topic, key, value, callback=delivery_report)
	for i := 0; i < 3; i++ {
		err := producer.Produce(ctx, kafka.Record{
			Topic: "my-topic",
			Key:   []byte(fmt.Sprintf("key-%d", i)),
			Value: []byte(fmt.Sprintf("value-%d", i)),
		}, func(md kafka.RecordMetadata, err error) {
			if err != nil {
				fmt.Printf("Delivery failed: %v\n", err)
				return
			}
			fmt.Printf("Delivered to %s [%d] @ %d\n", md.Topic, md.Partition, md.Offset)
		})
		if err != nil {
			log.Fatal(err)
		}
	}

	// A record that cannot be sent fails with an error, not the program:
	// partition 99 does not exist. The producer waits up to max_block_ms
	// (60 s) for metadata that shows it, for the topic may just have
	// grown; this context ends the wait sooner.
	badCtx, cancelBad := context.WithTimeout(ctx, time.Second)
	defer cancelBad()
	if _, err := producer.Send(badCtx, kafka.Record{Topic: "my-topic", Value: []byte("x"), Partition: new(int32(99))}); err != nil {
		onError(err)
	}

	flushCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := producer.Flush(flushCtx); err != nil {
		log.Fatal(err)
	}
	if err := producer.Close(ctx); err != nil {
		log.Fatal(err)
	}
}
