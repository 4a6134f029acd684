package kafka

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
)

// BenchmarkSendMetrics is BenchmarkSendAck's acks=all workload with
// metrics on (the default) and off, to show what metrics cost Send through
// acknowledgement. Compare the two with benchstat over -count=10; one op is
// one record.
func BenchmarkSendMetrics(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []Option
	}{
		{"metrics=on", nil},
		{"metrics=off", []Option{MetricsEnabled(false)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			env := newTestEnv(b, kfake.BlackholeProduce())
			topic := env.topic(12)
			opts := append([]Option{BootstrapServers(env.addrs...), Linger(5 * time.Millisecond), BatchSize(64 << 10)}, bc.opts...)
			p, err := NewProducer(opts...)
			require.NoError(b, err)
			defer p.Close(context.Background())
			ctx := context.Background()
			_, err = p.PartitionsFor(ctx, topic)
			require.NoError(b, err)
			value := make([]byte, 100)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failed error
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
			for i := 0; i < b.N; i++ {
				wg.Add(1)
				if err := p.Produce(ctx, Record{Topic: topic, Value: value}, cb); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
			b.StopTimer()
			require.NoError(b, failed)
		})
	}
}
