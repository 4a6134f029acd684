// Transactions is kafka-python's transactional producer in Go: records
// sent between BeginTransaction and CommitTransaction become visible to
// read_committed consumers together, or, after AbortTransaction, never.
//
//	go run ./examples/transactions
package main

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/kpgo/kafka"
	"github.com/kpgo/kafka/examples/internal/embedded"
)

func main() {
	servers, stop := embedded.Bootstrap("orders")
	defer stop()

	// producer = KafkaProducer(bootstrap_servers=[...], transactional_id='order-writer')
	producer, err := kafka.NewProducer(
		kafka.BootstrapServers(servers...),
		kafka.TransactionalID("order-writer"),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	defer producer.Close(ctx)

	// producer.init_transactions()
	if err := producer.InitTransactions(ctx); err != nil {
		log.Fatal(err)
	}

	for batch := 0; batch < 2; batch++ {
		// producer.begin_transaction()
		if err := producer.BeginTransaction(); err != nil {
			log.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			value := fmt.Sprintf("order %d.%d", batch, i)
			if _, err := producer.Send(ctx, kafka.Record{Topic: "orders", Key: []byte("customer-1"), Value: []byte(value)}); err != nil {
				log.Fatal(err)
			}
		}
		if batch == 1 {
			// producer.abort_transaction(): none of this batch is seen
			// by read_committed consumers.
			if err := producer.AbortTransaction(ctx); err != nil {
				log.Fatal(err)
			}
			fmt.Println("aborted transaction", batch)
			continue
		}
		// producer.commit_transaction()
		err := producer.CommitTransaction(ctx)
		switch {
		case errors.Is(err, kafka.ErrTransactionAbortable):
			// A record failed: the transaction can only be aborted.
			if err := producer.AbortTransaction(ctx); err != nil {
				log.Fatal(err)
			}
			fmt.Println("aborted after a failure:", err)
		case errors.Is(err, kafka.ProducerFenced):
			// Another producer with the same transactional_id took over.
			log.Fatal(err)
		case err != nil:
			log.Fatal(err)
		default:
			fmt.Println("committed transaction", batch)
		}
	}
}
