package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kpgo/kafka/protocol"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kversion"
)

// The producer negotiates every API version with the broker it talks to:
// against clusters capped at older Kafka releases it falls back (ApiVersions
// in the v0 format, KIP-511), speaks the Produce, Metadata and
// InitProducerId versions they know, and delivers exactly once in order.
func TestOlderBrokerVersions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		v     *kversion.Versions
		codec string
	}{
		{"0.11", kversion.V0_11_0(), "gzip"}, // Produce v3, ApiVersions v1, no KIP-360
		{"2.1", kversion.V2_1_0(), "zstd"},   // Produce v7: the first with zstd
		{"2.3", kversion.V2_3_0(), "lz4"},    // ApiVersions v2: the v3 request is refused
		{"2.8", kversion.V2_8_0(), "snappy"}, // flexible versions, no topic IDs in Produce
		{"3.9", kversion.V3_9_0(), "none"},   // Produce v11
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.name != "0.11" {
				t.Skip("short")
			}
			env := newTestEnv(t, kfake.MaxVersions(tc.v))
			env.needFake()
			topic := env.topic(2)
			p := env.producer(CompressionType(tc.codec), Linger(time.Millisecond))
			var futs []Future
			for i := 0; i < 200; i++ {
				f, err := p.Send(context.Background(), Record{Topic: topic, Key: []byte("k"), Value: fmt.Appendf(nil, "%d", i)})
				require.NoError(t, err)
				futs = append(futs, f)
			}
			requireExactlyOnceInOrder(t, env, topic, futs)
		})
	}
}

// zstd needs Produce v7 (Kafka 2.1, KIP-110): against an older broker the
// records fail at once with UNSUPPORTED_COMPRESSION_TYPE, not after the
// delivery timeout.
func TestZstdNeedsKafka21(t *testing.T) {
	env := newTestEnv(t, kfake.MaxVersions(kversion.V2_0_0()))
	env.needFake()
	topic := env.topic(1)
	p := env.producer(CompressionType("zstd"))
	start := time.Now()
	f, err := p.Send(context.Background(), Record{Topic: topic, Value: []byte("v")})
	require.NoError(t, err)
	_, err = f.Get(context.Background())
	require.ErrorIs(t, err, protocol.UnsupportedCompressionType)
	require.Less(t, time.Since(start), 10*time.Second)
}

// A consumer group's membership needs TxnOffsetCommit v3 (Kafka 2.5,
// KIP-447): a caller who asked for the fencing from an older coordinator
// gets an error, not offsets sent unfenced, and may send them without it.
func TestGroupMembershipNeedsKafka25(t *testing.T) {
	env := newTestEnv(t, kfake.MaxVersions(kversion.V2_4_0()))
	env.needFake()
	in, out := env.topic(1), env.topic(1)
	group := fmt.Sprintf("group-%d", time.Now().UnixNano())
	p := env.producer(TransactionalID(txnID(t)))
	ctx := context.Background()
	require.NoError(t, p.InitTransactions(ctx))
	offsets := map[TopicPartition]OffsetAndMetadata{{in, 0}: {Offset: 3, LeaderEpoch: -1}}

	require.NoError(t, p.BeginTransaction())
	txnRecords(t, p, out, "x", 1)
	err := p.SendOffsetsToTransactionWithGroup(ctx, offsets, ConsumerGroupMetadata{GroupID: group, GenerationID: 1, MemberID: "m"})
	require.ErrorIs(t, err, protocol.UnsupportedVersion)
	// Nothing was sent: the transaction goes on without the fencing.
	require.NotErrorIs(t, err, ErrTransactionAbortable)
	require.NoError(t, p.SendOffsetsToTransaction(ctx, offsets, group))
	require.NoError(t, p.CommitTransaction(ctx))
	require.Equal(t, map[int32]int64{0: 3}, committedOffsets(t, env, group, in))
}
