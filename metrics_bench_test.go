package kafka

import "testing"

// BenchmarkSendMetrics is BenchmarkSendAck's acks=all workload with
// metrics on (the default) and off, to show what metrics cost Send through
// acknowledgement. Compare the two with benchstat over -count=10; one op is
// one record.
func BenchmarkSendMetrics(b *testing.B) {
	b.Run("metrics=on", func(b *testing.B) { benchSendAck(b) })
	b.Run("metrics=off", func(b *testing.B) { benchSendAck(b, MetricsEnabled(false)) })
}
