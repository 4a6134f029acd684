package kafka

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
)

// BenchmarkSendAck measures Send through acknowledgement against an
// in-process kfake cluster of three brokers that discards what it is sent,
// so the figure is the producer's, not the broker's storage. One op is one
// record; run with -benchtime=1000000x for stable figures.
func BenchmarkSendAck(b *testing.B) {
	b.Run("acks=all,idempotent", func(b *testing.B) { benchSendAck(b) })
	b.Run("acks=1,lz4", func(b *testing.B) { benchSendAck(b, Acks(AcksLeader), CompressionType("lz4")) })
}

// benchSendAck sends b.N 100-byte records with the callback form and
// waits for every acknowledgement; opts come on top of linger 5 ms and
// 64 KiB batches.
func benchSendAck(b *testing.B, opts ...Option) {
	env := newTestEnv(b, kfake.BlackholeProduce())
	topic := env.topic(12)
	p, err := NewProducer(append([]Option{BootstrapServers(env.addrs...), Linger(5 * time.Millisecond), BatchSize(64 << 10)}, opts...)...)
	require.NoError(b, err)
	defer p.Close(context.Background())
	ctx := context.Background()
	_, err = p.PartitionsFor(ctx, topic)
	require.NoError(b, err)
	value := make([]byte, 100)
	var wg sync.WaitGroup
	var failed error
	var mu sync.Mutex
	cb := func(_ RecordMetadata, err error) {
		if err != nil {
			mu.Lock()
			failed = err
			mu.Unlock()
		}
		wg.Done()
	}
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		if err := p.Produce(ctx, Record{Topic: topic, Value: value}, cb); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	require.NoError(b, failed)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
}
