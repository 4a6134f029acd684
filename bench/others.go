//go:build others

package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash"
	"time"

	"github.com/IBM/sarama"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/kpgo/kafka"
)

// The other Go clients the speed issue names, for a wider table, built
// with -tags others only: linked into every client process, their package
// initialisation alone added 2 MiB to the peak RSS measured for ours and
// franz. Neither batches per partition as the Java client does, so each is
// configured as near the workload as its options allow; the differences
// are stated where they are made.

// othersBuilt says that sarama and kafka-go are in this binary.
const othersBuilt = true

// saramaClient runs a workload through sarama's AsyncProducer.
type saramaClient struct {
	w    Workload
	p    sarama.AsyncProducer
	d    *data
	next int64
	t    tracker
	done chan struct{}
}

// murmur2Hash gives sarama Kafka's key hash; with WithAbsFirst sarama then
// takes (hash & 0x7fffffff) % partitions, as the Java client does.
type murmur2Hash struct{ key []byte }

func (h *murmur2Hash) Write(p []byte) (int, error) { h.key = append(h.key, p...); return len(p), nil }
func (h *murmur2Hash) Sum(b []byte) []byte {
	return binary.BigEndian.AppendUint32(b, h.Sum32())
}
func (h *murmur2Hash) Reset()         { h.key = h.key[:0] }
func (h *murmur2Hash) Size() int      { return 4 }
func (h *murmur2Hash) BlockSize() int { return 4 }
func (h *murmur2Hash) Sum32() uint32  { return kafka.Murmur2(h.key) }

func saramaConfig(w Workload) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	cfg.Producer.RequiredAcks = sarama.WaitForLocal
	if w.Acks == kafka.AcksAll {
		cfg.Producer.RequiredAcks = sarama.WaitForAll
	}
	switch w.Compression {
	case "lz4":
		cfg.Producer.Compression = sarama.CompressionLZ4
	case "zstd":
		cfg.Producer.Compression = sarama.CompressionZSTD
	}
	// sarama buffers per broker, not per partition: it flushes a broker's
	// records after linger or once they reach a batch's worth of bytes.
	// With no linger it sends as soon as it can; a byte threshold alone
	// would hold a last partial buffer forever.
	if w.Linger > 0 {
		cfg.Producer.Flush.Frequency = w.Linger
		cfg.Producer.Flush.Bytes = w.BatchBytes
	}
	if w.Idempotent {
		cfg.Producer.Idempotent = true
		// sarama's rule for idempotence.
		cfg.Net.MaxOpenRequests = 1
	}
	if w.Keyed {
		cfg.Producer.Partitioner = sarama.NewCustomPartitioner(sarama.WithAbsFirst(),
			sarama.WithCustomHashFunction(func() hash.Hash32 { return new(murmur2Hash) }))
	}
	// Keyless records go to a random partition: sarama has no sticky
	// partitioner.
	return cfg
}

func newSarama(w Workload, bootstrap []string) (*saramaClient, error) {
	p, err := sarama.NewAsyncProducer(bootstrap, saramaConfig(w))
	if err != nil {
		return nil, err
	}
	c := &saramaClient{w: w, p: p, d: newData(w.ValueSize), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		succ, errs := p.Successes(), p.Errors()
		for succ != nil || errs != nil {
			select {
			case _, ok := <-succ:
				if !ok {
					succ = nil
					continue
				}
				c.t.done(nil)
			case e, ok := <-errs:
				if !ok {
					errs = nil
					continue
				}
				c.t.done(e.Err)
			}
		}
	}()
	return c, nil
}

// Produce allocates a ProducerMessage per record, as sarama's API requires.
func (c *saramaClient) Produce(ctx context.Context, n int64) error {
	c.t.expect(n)
	for end := c.next + n; c.next < end; c.next++ {
		m := &sarama.ProducerMessage{Topic: Topic, Value: sarama.ByteEncoder(c.d.value(c.next, c.w.ValueSize))}
		if c.w.Keyed {
			m.Key = sarama.ByteEncoder(c.d.key(c.next))
		}
		select {
		case c.p.Input() <- m:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return c.t.wait(ctx)
}

func (c *saramaClient) Close() {
	c.p.AsyncClose()
	<-c.done
}

// kafkaGoClient runs a workload through segmentio/kafka-go's Writer in
// its asynchronous mode, one WriteMessages call a record.
type kafkaGoClient struct {
	w    Workload
	wr   *kafkago.Writer
	d    *data
	next int64
	t    tracker
	msg  [1]kafkago.Message
}

func newKafkaGo(w Workload, bootstrap []string) (*kafkaGoClient, error) {
	c := &kafkaGoClient{w: w, d: newData(w.ValueSize)}
	wr := &kafkago.Writer{
		Addr:         kafkago.TCP(bootstrap...),
		Topic:        Topic,
		RequiredAcks: kafkago.RequireOne,
		BatchBytes:   int64(w.BatchBytes),
		// kafka-go closes a batch at BatchSize records (default 100)
		// or BatchBytes, whichever comes first, and sizes its batches'
		// arrays by BatchSize: give it the records a batch's bytes hold.
		BatchSize: w.BatchBytes/(w.ValueSize+recordOverhead(w)) + 1,
		// kafka-go has no linger of zero (0 means its default, 1 s).
		BatchTimeout: max(w.Linger, time.Millisecond),
		Async:        true,
		Completion: func(msgs []kafkago.Message, err error) {
			for range msgs {
				c.t.done(err)
			}
		},
		// Keyless records go round robin: kafka-go has no sticky
		// balancer.
		Balancer: &kafkago.RoundRobin{},
	}
	if w.Acks == kafka.AcksAll {
		wr.RequiredAcks = kafkago.RequireAll
	}
	switch w.Compression {
	case "lz4":
		wr.Compression = kafkago.Lz4
	case "zstd":
		wr.Compression = kafkago.Zstd
	}
	if w.Keyed {
		wr.Balancer = &kafkago.Murmur2Balancer{}
	}
	// kafka-go has no idempotent producer: W4 runs without idempotence.
	c.wr = wr
	return c, nil
}

// recordOverhead is about what a record adds to its value in a batch: its
// length, attributes, deltas and header count, plus the key.
func recordOverhead(w Workload) int {
	if w.Keyed {
		return 8 + len("key-000000000000")
	}
	return 8
}

func (c *kafkaGoClient) Produce(ctx context.Context, n int64) error {
	c.t.expect(n)
	for end := c.next + n; c.next < end; c.next++ {
		c.msg[0] = kafkago.Message{Value: c.d.value(c.next, c.w.ValueSize)}
		if c.w.Keyed {
			c.msg[0].Key = c.d.key(c.next)
		}
		if err := c.wr.WriteMessages(ctx, c.msg[:]...); err != nil {
			return fmt.Errorf("kafka-go: %w", err)
		}
	}
	return c.t.wait(ctx)
}

func (c *kafkaGoClient) Close() { _ = c.wr.Close() }
