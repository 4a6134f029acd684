package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// sendNumbered sends n records "0".."n-1" keyed "k" (one partition) and
// returns their futures.
func sendNumbered(t *testing.T, p *Producer, topic string, n int) []Future {
	t.Helper()
	return sendMoreNumbered(t, p, topic, 0, n)
}

// sendMoreNumbered sends records from..to-1 like sendNumbered.
func sendMoreNumbered(t *testing.T, p *Producer, topic string, from, to int) []Future {
	t.Helper()
	futs := make([]Future, 0, to-from)
	for i := from; i < to; i++ {
		f, err := p.Send(context.Background(), Record{Topic: topic, Key: []byte("k"), Value: fmt.Appendf(nil, "%d", i)})
		require.NoError(t, err)
		futs = append(futs, f)
	}
	return futs
}

// requireExactlyOnceInOrder checks that every future succeeded and that the
// topic holds each record once, in send order.
func requireExactlyOnceInOrder(t *testing.T, env *testEnv, topic string, futs []Future) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, f := range futs {
		_, err := f.Get(ctx)
		require.NoError(t, err, "record %d", i)
	}
	got := env.consumeExactly(topic, len(futs))
	for i, r := range got {
		require.Equal(t, fmt.Sprintf("%d", i), string(r.Value), "record at offset %d", r.Offset)
	}
}

func TestRetriableErrorsAreRetried(t *testing.T) {
	for _, code := range []*kerr.Error{kerr.NotLeaderForPartition, kerr.LeaderNotAvailable, kerr.NotEnoughReplicas, kerr.RequestTimedOut} {
		t.Run(code.Message, func(t *testing.T) {
			env := newTestEnv(t)
			fake := env.needFake()
			topic := env.topic(1)
			p := env.producer(Linger(time.Millisecond), RetryBackoff(10*time.Millisecond))
			// REQUEST_TIMED_OUT is answered after the append, as a broker
			// does when replication is slow: the retry must be recognised
			// as a duplicate by its sequence, not written twice.
			h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: code, Count: 3})
			futs := sendNumbered(t, p, topic, 500)
			requireExactlyOnceInOrder(t, env, topic, futs)
			require.Equal(t, 3, h.Hits())
			require.Positive(t, p.MetricsSnapshot().RecordsRetried)
		})
	}
}

func TestNonRetriableErrorFailsAtOnce(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producer()
	fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.TopicAuthorizationFailed, Count: -1})
	start := time.Now()
	futs := sendNumbered(t, p, topic, 10)
	for _, f := range futs {
		_, err := f.Get(context.Background())
		require.ErrorIs(t, err, TopicAuthorizationFailed)
		var kerrp *KafkaError
		require.True(t, errors.As(err, &kerrp))
		require.Equal(t, int16(29), kerrp.Code)
	}
	require.Less(t, time.Since(start), 5*time.Second, "no retry loop")
	require.Equal(t, int64(10), p.MetricsSnapshot().RecordsFailed)
}

// A topic whose metadata was refused (no ACL yet, say) is asked about again
// by later Sends, so a long-lived producer can use it once access is
// granted, and each refusal reaches its Send as the broker's error.
func TestRefusedTopicIsAskedAgain(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(2)
	p := env.producer(MaxBlock(10*time.Second), RetryBackoff(20*time.Millisecond))
	ctx := context.Background()
	h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Metadata}, Topic: topic, Err: kerr.TopicAuthorizationFailed, Count: -1})
	for range 3 {
		start := time.Now()
		_, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
		require.ErrorIs(t, err, TopicAuthorizationFailed)
		require.NotErrorIs(t, err, ErrMetadataTimeout, "the broker's answer, not a wait to max_block_ms")
		require.Less(t, time.Since(start), 5*time.Second)
	}
	asked := h.Hits()
	require.GreaterOrEqual(t, asked, 3, "each Send asked again")

	h.Remove()
	f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("granted")})
	require.NoError(t, err)
	_, err = f.Get(ctx)
	require.NoError(t, err)
	recs := env.consume(topic, 1)
	require.Equal(t, []byte("granted"), recs[0].Value)
	require.Zero(t, topicStateOf(t, p, topic).wantParts.Load())
}

func TestConnectionDroppedMidRequest(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producerFor(topic, Linger(time.Millisecond), RetryBackoff(10*time.Millisecond))
	// The broker closes the connection instead of answering the first two
	// produce requests; the batches in flight must be resent once.
	var drops int
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		drops++
		fake.KeepControl()
		if drops == 2 {
			fake.DropControl()
		}
		return nil, errors.New("dropped by test"), true
	})
	futs := sendNumbered(t, p, topic, 300)
	requireExactlyOnceInOrder(t, env, topic, futs)
	m := p.MetricsSnapshot()
	require.GreaterOrEqual(t, m.ConnectionsCreated, int64(2), "reconnected")
}

func TestLeaderMoveIsFollowed(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producer(Linger(time.Millisecond))
	first := sendNumbered(t, p, topic, 100)
	for _, f := range first {
		_, err := f.Get(context.Background())
		require.NoError(t, err)
	}
	leader := fake.LeaderFor(topic, 0)
	require.NoError(t, fake.MoveTopicPartition(topic, 0, (leader+1)%3))
	futs := append(first, sendMoreNumbered(t, p, topic, 100, 300)...)
	requireExactlyOnceInOrder(t, env, topic, futs)
}

func TestDeliveryTimeoutFailsFutures(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producer(DeliveryTimeout(time.Second), RequestTimeout(500*time.Millisecond), Linger(0),
		RetryBackoff(20*time.Millisecond), RetryBackoffMax(50*time.Millisecond))
	_, err := p.PartitionsFor(context.Background(), topic)
	require.NoError(t, err)
	h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotEnoughReplicas, Count: -1})
	defer h.Remove()
	start := time.Now()
	futs := sendNumbered(t, p, topic, 20)
	for _, f := range futs {
		_, err := f.Get(context.Background())
		require.ErrorIs(t, err, ErrDeliveryTimeout)
		require.ErrorIs(t, err, NotEnoughReplicas, "the last broker error is kept")
	}
	elapsed := time.Since(start)
	require.GreaterOrEqual(t, elapsed, 900*time.Millisecond)
	require.Less(t, elapsed, 5*time.Second)
}

func TestAcksZeroDoesNotWaitForResponses(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(2)
	p := env.producer(Acks(AcksNone))
	futs := sendNumbered(t, p, topic, 1000)
	require.NoError(t, p.Flush(context.Background()))
	for _, f := range futs {
		md, err := f.Get(context.Background())
		require.NoError(t, err)
		require.Equal(t, int64(-1), md.Offset)
	}
	env.consumeExactly(topic, 1000)
}

// A batch that comes back for a retry must not take new records: its bytes
// were sealed when it was first drained, so records added later would be
// acknowledged without ever being written.
func TestRetriedBatchTakesNoNewRecords(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producerFor(topic, RetryBackoff(400*time.Millisecond), RetryBackoffMax(400*time.Millisecond))
	h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.LeaderNotAvailable})
	futs := sendNumbered(t, p, topic, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, h.Wait(ctx, 1))
	require.Eventually(t, func() bool { return p.MetricsSnapshot().RecordsRetried > 0 }, 5*time.Second, time.Millisecond)
	// The first batch now waits out its 400 ms backoff at the head of the
	// queue (it was requeued right after the retry was counted).
	time.Sleep(20 * time.Millisecond)
	futs = append(futs, sendMoreNumbered(t, p, topic, 1, 20)...)
	requireExactlyOnceInOrder(t, env, topic, futs)
}

// firstSequence is the base sequence of a Produce request's first batch,
// or -1.
func firstSequence(req kmsg.Request) int32 {
	pr, ok := req.(*kmsg.ProduceRequest)
	if !ok || len(pr.Topics) == 0 || len(pr.Topics[0].Partitions) == 0 {
		return -1
	}
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(pr.Topics[0].Partitions[0].Records); err != nil {
		return -1
	}
	return rb.FirstSequence
}

// A batch written but answered with an error, whose later batches were
// acknowledged, is in the log even when the broker no longer remembers it
// (it keeps only the last five batches) and answers its retry with
// OUT_OF_ORDER_SEQUENCE_NUMBER: the broker takes sequences only in order.
// It must not be given fresh sequences under a new epoch and written again.
func TestOutOfOrderAfterLaterAckIsNotProofOfLoss(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producerFor(topic, Linger(0), BatchSize(1), RetryBackoff(200*time.Millisecond))

	// Record 0 is acknowledged first, so later batches may be in flight
	// together (KAFKA-15591 holds the first batch alone).
	f0 := sendNumbered(t, p, topic, 1)
	_, err := f0[0].Get(context.Background())
	require.NoError(t, err)

	// Record 1 (sequence 1) is appended but answered
	// NOT_ENOUGH_REPLICAS_AFTER_APPEND, slowly, so records 2-4 are sent
	// meanwhile; its retry is answered OUT_OF_ORDER_SEQUENCE_NUMBER, as by
	// a broker that has forgotten it.
	isOne := func(req kmsg.Request) bool { return firstSequence(req) == 1 }
	fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotEnoughReplicasAfterAppend, Count: 1, When: isOne})
	ooo := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.OutOfOrderSequenceNumber, Count: 1, When: isOne})
	var slept atomic.Bool
	fake.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		if isOne(req) && slept.CompareAndSwap(false, true) {
			fake.SleepControl(func() { time.Sleep(200 * time.Millisecond) })
		}
		return nil, nil, false
	})
	futs := append(f0, sendMoreNumbered(t, p, topic, 1, 5)...)
	requireExactlyOnceInOrder(t, env, topic, futs)
	require.Equal(t, 1, ooo.Hits(), "the retry was answered OUT_OF_ORDER_SEQUENCE_NUMBER")
}

// A request to many topics, and its answer, are matched topic by topic
// through a map rather than a scan (answerIndex, buildProduceRequest), by
// topic id from Produce v13 and by name before: every record lands once,
// in order, and its future names its offset.
func TestRequestsToManyTopics(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []kfake.Opt
	}{
		// One broker, so that one request carries every topic.
		{"by id", []kfake.Opt{kfake.NumBrokers(1)}},
		{"by name", []kfake.Opt{kfake.NumBrokers(1), kfake.MaxVersions(kversion.V3_9_0())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, tc.opts...)
			var topics []string
			for range manyTopics + 4 {
				topics = append(topics, env.topic(1))
			}
			requests := 0
			var mu sync.Mutex
			most := 0
			if fake := env.fake; fake != nil {
				fake.ControlKey(int16(kmsg.Produce), func(r kmsg.Request) (kmsg.Response, error, bool) {
					fake.KeepControl()
					mu.Lock()
					requests++
					most = max(most, len(r.(*kmsg.ProduceRequest).Topics))
					mu.Unlock()
					return nil, nil, false
				})
			}
			p := env.producer(Linger(200 * time.Millisecond))
			for _, topic := range topics {
				// Metadata first, so that the records share one linger.
				_, err := p.PartitionsFor(context.Background(), topic)
				require.NoError(t, err)
			}
			futs := map[string][]Future{}
			for i := range 20 {
				for _, topic := range topics {
					f, err := p.Send(context.Background(), Record{Topic: topic, Value: []byte(fmt.Sprint(i))})
					require.NoError(t, err)
					futs[topic] = append(futs[topic], f)
				}
			}
			for _, topic := range topics {
				requireExactlyOnceInOrder(t, env, topic, futs[topic])
				for i, f := range futs[topic] {
					md, err := f.Get(context.Background())
					require.NoError(t, err)
					require.Equal(t, int64(i), md.Offset, "%s record %d", topic, i)
				}
			}
			if env.fake != nil {
				mu.Lock()
				defer mu.Unlock()
				require.Greater(t, most, manyTopics, "no request carried more than %d topics (%d requests)", manyTopics, requests)
			}
		})
	}
}
