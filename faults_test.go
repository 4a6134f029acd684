package kafka

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kpgo/kafka/protocol"
)

// Each of these codes means the broker's view of our sequences differs
// from ours: the producer must bump its epoch (KIP-360) and resend
// without losing, duplicating or reordering. It bumps the epoch itself,
// keeping its producer id, as the Java client does: no InitProducerId.
func TestEpochBumpOnSequenceErrors(t *testing.T) {
	for _, code := range []*kerr.Error{kerr.OutOfOrderSequenceNumber, kerr.UnknownProducerID, kerr.InvalidProducerEpoch} {
		t.Run(code.Message, func(t *testing.T) {
			env := newTestEnv(t)
			fake := env.needFake()
			topic := env.topic(1)
			inits := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.InitProducerID}, Observe: true, Count: -1})
			p := env.producer(Linger(time.Millisecond), RetryBackoff(10*time.Millisecond))
			first := sendNumbered(t, p, topic, 50)
			for _, f := range first {
				_, err := f.Get(context.Background())
				require.NoError(t, err)
			}
			require.Equal(t, 1, inits.Hits())
			fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: code})
			futs := append(first, sendMoreNumbered(t, p, topic, 50, 500)...)
			requireExactlyOnceInOrder(t, env, topic, futs)
			require.Equal(t, 1, inits.Hits(), "the epoch is bumped without InitProducerId")
			got := env.consumeExactly(topic, len(futs))
			require.Equal(t, got[0].ProducerID, got[len(got)-1].ProducerID, "the same producer id")
			require.Equal(t, got[0].ProducerEpoch+1, got[len(got)-1].ProducerEpoch, "the next epoch")
		})
	}
}

// A batch given up after an epoch bump may still reach its broker late.
// The bump keeps the producer id and takes the next epoch, so the broker
// refuses that batch once a batch of the new epoch was written; with a new
// producer id, as InitProducerId hands an idempotent producer, it was
// appended behind records sent after it.
func TestLateBatchOfTheOldEpochIsRefused(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(2)
	// Partition 1's leader is another broker, whose connection the
	// held requests do not block.
	if l0 := fake.LeaderFor(topic, 0); fake.LeaderFor(topic, 1) == l0 {
		require.NoError(t, fake.MoveTopicPartition(topic, 1, (l0+1)%3))
	}
	p := env.producerFor(topic, RequestTimeout(300*time.Millisecond), DeliveryTimeout(time.Minute), Linger(0),
		RetryBackoff(10*time.Millisecond), RetryBackoffMax(20*time.Millisecond))
	ctx := context.Background()
	// The broker holds partition 0's requests for a second and a half,
	// then appends them, while hold is set.
	var hold atomic.Bool
	hold.Store(true)
	var held sync.WaitGroup
	arrived := make(chan struct{}, 1)
	fake.ControlKey(int16(kmsg.Produce), func(r kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		for _, rt := range r.(*kmsg.ProduceRequest).Topics {
			for _, rp := range rt.Partitions {
				if rp.Partition == 0 && hold.Load() {
					held.Add(1)
					select {
					case arrived <- struct{}{}:
					default:
					}
					fake.SleepControl(func() { time.Sleep(1500 * time.Millisecond) })
					held.Done()
				}
			}
		}
		return nil, nil, false
	})
	a, err := p.Send(ctx, Record{Topic: topic, Partition: new(int32(0)), Value: []byte("a")})
	require.NoError(t, err)
	<-arrived
	// An answer on partition 1 asks for a new epoch; a's attempts time
	// out meanwhile, and a is given up.
	fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Partitions: []int32{1}, Err: kerr.OutOfOrderSequenceNumber})
	c, err := p.Send(ctx, Record{Topic: topic, Partition: new(int32(1)), Value: []byte("c")})
	require.NoError(t, err)
	_, err = c.Get(ctx)
	require.NoError(t, err)
	_, err = a.Get(ctx)
	require.ErrorIs(t, err, ErrDeliveryUncertain)

	hold.Store(false)
	b, err := p.Send(ctx, Record{Topic: topic, Partition: new(int32(0)), Value: []byte("b")})
	require.NoError(t, err)
	_, err = b.Get(ctx)
	require.NoError(t, err)
	// a's requests reach the log only now, behind b: refused.
	time.Sleep(100 * time.Millisecond)
	held.Wait()
	var p0 []string
	for _, r := range env.consumeExactly(topic, 2) {
		if r.Partition == 0 {
			p0 = append(p0, string(r.Value))
		}
	}
	require.Equal(t, []string{"b"}, p0, "a, sent before b, must not be written after it")
}

// A batch answered OUT_OF_ORDER_SEQUENCE_NUMBER while an earlier batch of
// its partition is still on its way (held at the old leader when the
// leader moved) is retried without an epoch bump, as the Java client does
// (TransactionManager.canRetry): the earlier one may still land. Bumping
// failed the earlier batch as uncertain once its retry timed out too,
// although the cluster recovered well within delivery_timeout_ms.
func TestOutOfOrderBehindAnEarlierBatchIsRetried(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(3)
	// A partition on every broker: metadata requests never queue behind
	// the held produce request.
	for i := range int32(3) {
		require.NoError(t, fake.MoveTopicPartition(topic, i, i))
	}
	const rt = 500 * time.Millisecond
	p := env.producerFor(topic, RequestTimeout(rt), Linger(time.Millisecond), MetadataMaxAge(50*time.Millisecond),
		RetryBackoff(10*time.Millisecond), RetryBackoffMax(50*time.Millisecond), DeliveryTimeout(20*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	send := func(from, to int) []Future {
		var out []Future
		for i := from; i < to; i++ {
			f, err := p.Send(ctx, Record{Topic: topic, Value: fmt.Appendf(nil, "%d", i), Partition: new(int32(0))})
			require.NoError(t, err)
			out = append(out, f)
		}
		return out
	}
	for _, f := range send(0, 10) {
		_, err := f.Get(ctx)
		require.NoError(t, err)
	}
	var armed atomic.Bool
	armed.Store(true)
	var n atomic.Int32
	arrived := make(chan struct{}, 1)
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		if !armed.Load() {
			return nil, nil, false
		}
		switch n.Add(1) {
		case 1: // A at the old leader
			arrived <- struct{}{}
			fake.SleepControl(func() { time.Sleep(rt + 300*time.Millisecond) })
		case 3: // A's retry at the new leader, behind B
			fake.SleepControl(func() { time.Sleep(rt + 300*time.Millisecond) })
		}
		return nil, nil, false
	})
	a := send(10, 20)
	<-arrived
	require.NoError(t, fake.MoveTopicPartition(topic, 0, 1))
	time.Sleep(200 * time.Millisecond) // metadata_max_age_ms brings the new leader
	b := send(20, 30)
	for i, f := range append(a, b...) {
		_, err := f.Get(ctx)
		require.NoError(t, err, "record %d", 10+i)
	}
	armed.Store(false)
	var p0 []string
	for _, r := range env.consumeExactly(topic, 30) {
		p0 = append(p0, string(r.Value))
	}
	for i, v := range p0 {
		require.Equal(t, fmt.Sprint(i), v)
	}
}

// franz-go#1484: a batch whose append was ambiguous (the broker wrote it
// but answered REQUEST_TIMED_OUT) fails at its delivery timeout. The next
// batch, of the same size, must not reuse its sequence numbers, or the
// broker takes it for a duplicate and it is acknowledged without being
// written.
func TestFailedAmbiguousBatchDoesNotSwallowTheNext(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	// The linger puts each set of ten records in one batch. With none, the
	// first record could go alone, and the nine behind it would wait for
	// its acknowledgement (KAFKA-15591), never be written, and leave the
	// second set at offset 1.
	p := env.producer(DeliveryTimeout(time.Second), RequestTimeout(500*time.Millisecond), Linger(100*time.Millisecond),
		RetryBackoff(20*time.Millisecond), RetryBackoffMax(50*time.Millisecond))
	_, err := p.PartitionsFor(context.Background(), topic)
	require.NoError(t, err)
	h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.RequestTimedOut, Count: -1})
	a := sendNumbered(t, p, topic, 10)
	for _, f := range a {
		_, err := f.Get(context.Background())
		require.Error(t, err)
		require.True(t, errors.Is(err, ErrDeliveryTimeout) || errors.Is(err, ErrDeliveryUncertain), "got %v", err)
	}
	h.Remove()
	b := sendMoreNumbered(t, p, topic, 10, 20)
	for _, f := range b {
		md, err := f.Get(context.Background())
		require.NoError(t, err)
		require.GreaterOrEqual(t, md.Offset, int64(10), "written after the first batch")
	}
	// The first batch is in the log once (it was appended every time and
	// deduplicated), the second after it.
	got := env.consumeExactly(topic, 20)
	for i, r := range got {
		require.Equal(t, fmt.Sprint(i), string(r.Value))
	}
}

// KIP-126: a batch the broker refuses as too large is split in halves that
// keep order and sequence numbers, as often as needed.
func TestMessageTooLargeSplitsBatch(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producerFor(topic, Linger(50*time.Millisecond), BatchSize(1<<20), RetryBackoff(10*time.Millisecond))
	h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.MessageTooLarge, Count: 3})
	futs := sendNumbered(t, p, topic, 400)
	requireExactlyOnceInOrder(t, env, topic, futs)
	require.Equal(t, 3, h.Hits())
	require.GreaterOrEqual(t, p.MetricsSnapshot().BatchesSplit, int64(3))
}

// A batch whose first attempt was lost on the way, and whose retry the
// broker refuses as too large, is split like any other: a broker checks
// the size before it looks for duplicates, so resending it whole only met
// the same answer until the delivery timeout.
func TestTooLargeAfterALostAttemptSplits(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := fmt.Sprintf("too-large-%d", time.Now().UnixNano())
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, 1, 1
	limit := kmsg.NewCreateTopicsRequestTopicConfig()
	limit.Name, limit.Value = "max.message.bytes", kmsg.StringPtr("4096")
	rt.Configs = append(rt.Configs, limit)
	req.Topics = append(req.Topics, rt)
	require.Zero(t, env.admin(req).(*kmsg.CreateTopicsResponse).Topics[0].ErrorCode)

	var dropped atomic.Bool
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		if dropped.CompareAndSwap(false, true) {
			return nil, errors.New("dropped by the test"), true
		}
		return nil, nil, false
	})
	p := env.producerFor(topic, Linger(50*time.Millisecond), BatchSize(1<<20), DeliveryTimeout(10*time.Second),
		RequestTimeout(time.Second), RetryBackoff(10*time.Millisecond), RetryBackoffMax(50*time.Millisecond))
	futs := make([]Future, 0, 100)
	for i := range 100 {
		f, err := p.Send(context.Background(), Record{Topic: topic, Value: fmt.Appendf(nil, "%d|%0200d", i, i)})
		require.NoError(t, err)
		futs = append(futs, f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, f := range futs {
		_, err := f.Get(ctx)
		require.NoError(t, err, "record %d", i)
	}
	require.True(t, dropped.Load())
	got := env.consumeExactly(topic, 100)
	for i, r := range got {
		require.Equal(t, fmt.Sprintf("%d|%0200d", i, i), string(r.Value))
	}
}

// An OUT_OF_ORDER_SEQUENCE_NUMBER answer proves a batch unwritten (the
// broker would have called a written one a duplicate), except for a part
// of a split batch that may be in the log whole: the broker matches
// duplicates by their whole sequence range, which the part does not have.
func TestPartOfAmbiguousBatchStaysOfUnknownFate(t *testing.T) {
	s := &sender{producerID: 7, epoch: 3}
	p := &partition{}
	part := &batch{part: p, seqSet: true, producerID: 7, epoch: 3, baseSeq: 0, partOfAmbiguous: true}
	later := &batch{part: p, seqSet: true, producerID: 7, epoch: 3, baseSeq: 10, ambiguous: true}
	p.batches = []*batch{part, later}
	s.notWritten(part)
	require.True(t, part.ambiguous, "its whole may be in the log")
	require.True(t, later.ambiguous, "nothing was proven about later sequences")

	plain := &batch{part: p, seqSet: true, producerID: 7, epoch: 3, baseSeq: 5, ambiguous: true}
	p.batches = []*batch{plain, later}
	s.notWritten(plain)
	require.False(t, plain.ambiguous)
	require.False(t, later.ambiguous, "sequences are written in order")
}

// A single record that the broker refuses as too large cannot be split:
// it fails with its size, and later records still go.
func TestSingleRecordTooLargeFails(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producerFor(topic)
	fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.MessageTooLarge})
	f, err := p.Send(context.Background(), Record{Topic: topic, Value: make([]byte, 5000)})
	require.NoError(t, err)
	_, err = f.Get(context.Background())
	require.ErrorIs(t, err, ErrRecordTooLarge)
	require.ErrorIs(t, err, MessageTooLarge)
	require.Contains(t, err.Error(), "bytes")
	futs := sendNumbered(t, p, topic, 5)
	requireExactlyOnceInOrder(t, env, topic, futs)
}

// A broker that holds a produce request past request_timeout_ms: the
// request is abandoned, its batches retried on a new connection, and the
// late append is recognised as a duplicate.
func TestRequestTimeoutRetries(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producerFor(topic, RequestTimeout(300*time.Millisecond), Linger(time.Millisecond), RetryBackoff(10*time.Millisecond))
	slept := false
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		if !slept {
			slept = true
			fake.SleepControl(func() { time.Sleep(600 * time.Millisecond) })
		}
		return nil, nil, false
	})
	start := time.Now()
	futs := sendNumbered(t, p, topic, 200)
	requireExactlyOnceInOrder(t, env, topic, futs)
	require.True(t, slept)
	require.Less(t, time.Since(start), 20*time.Second, "no future waits for the delivery timeout")
}

// Leaders move under the producer (ShufflePartitionLeaders, a broker
// added and another removed) while it sends to many partitions: every
// record arrives once, in order per key.
func TestLeaderShufflesAndNodeChanges(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(6)
	p := env.producerFor(topic, Linger(2*time.Millisecond), RetryBackoff(10*time.Millisecond))
	var futs []Future
	send := func(from, to int) {
		for i := from; i < to; i++ {
			f, err := p.Send(context.Background(), Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i%12), Value: fmt.Appendf(nil, "%d", i)})
			require.NoError(t, err)
			futs = append(futs, f)
		}
	}
	send(0, 1000)
	fake.ShufflePartitionLeaders()
	send(1000, 2000)
	_, _, err := fake.AddNode(-1, 0)
	require.NoError(t, err)
	fake.ShufflePartitionLeaders()
	send(2000, 3000)
	require.NoError(t, fake.RemoveNode(fake.LeaderFor(topic, 0)))
	send(3000, 4000)
	fake.ShufflePartitionLeaders()
	send(4000, 5000)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offsets := make(map[int32]map[int64]int)
	for i, f := range futs {
		md, err := f.Get(ctx)
		require.NoError(t, err, "record %d", i)
		if offsets[md.Partition] == nil {
			offsets[md.Partition] = make(map[int64]int)
		}
		offsets[md.Partition][md.Offset] = i
	}
	got := env.consumeExactly(topic, len(futs))
	lastPerKey := make(map[string]int)
	for _, r := range got {
		var i int
		_, err := fmt.Sscan(string(r.Value), &i)
		require.NoError(t, err)
		require.Equal(t, i, offsets[r.Partition][r.Offset], "record at %d-%d is the one its future named", r.Partition, r.Offset)
		k := string(r.Key)
		if last, ok := lastPerKey[k]; ok {
			require.Less(t, last, i, "order of key %s", k)
		}
		lastPerKey[k] = i
	}
}

// A partition's leader leaves the cluster before the producer ever
// connected to it: the failed connects must lead to a metadata refresh
// that names the new leader, not leave the records waiting for
// metadata_max_age_ms (the Java client refreshes on every disconnect).
func TestUnreachableLeaderLeadsToRefresh(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producerFor(topic, RetryBackoff(10*time.Millisecond), ReconnectBackoff(10*time.Millisecond), ReconnectBackoffMax(50*time.Millisecond))
	require.NoError(t, fake.RemoveNode(fake.LeaderFor(topic, 0)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("after the leader left")})
	require.NoError(t, err)
	_, err = f.Get(ctx)
	require.NoError(t, err, "delivered to the new leader")
	require.Equal(t, []byte("after the leader left"), env.consume(topic, 1)[0].Value)
}

// A partition without a leader is asked about again soon, backing off,
// only while it holds records: one that stays offline must not have the
// producer poll the cluster every retry_backoff_ms meanwhile.
func TestLeaderlessPartitionIsAskedAboutOnlyWithRecords(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(2)
	h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Metadata}, Topic: topic, Partitions: []int32{0}, Err: kerr.LeaderNotAvailable, Count: -1})
	p := env.producerFor(topic, RetryBackoff(10*time.Millisecond), RetryBackoffMax(40*time.Millisecond))
	ctx := context.Background()
	// Keyless records go to the partition with a leader.
	for range 5 {
		f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
		require.NoError(t, err)
		md, err := f.Get(ctx)
		require.NoError(t, err)
		require.Equal(t, int32(1), md.Partition)
	}
	before := h.Hits()
	time.Sleep(500 * time.Millisecond)
	require.LessOrEqual(t, h.Hits()-before, 1, "metadata requests while partition 0 has no leader and no records")

	f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("waits for a leader"), Partition: new(int32(0))})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return h.Hits()-before >= 3 }, 10*time.Second, 5*time.Millisecond,
		"asked again while a record waits")
	// By now the backoff is at retry_backoff_max_ms (40 ms, less 20%
	// jitter): at most about 16 requests in 500 ms.
	before = h.Hits()
	time.Sleep(500 * time.Millisecond)
	require.LessOrEqual(t, h.Hits()-before, 18, "backing off to retry_backoff_max_ms")
	h.Remove()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	md, err := f.Get(cctx)
	require.NoError(t, err)
	require.Equal(t, int32(0), md.Partition)
}

// A topic deleted and created again under the producer, with fewer
// partitions: produce v13 names topics by id (KIP-516), so the old id is
// refused with UNKNOWN_TOPIC_ID and only a metadata refresh gives the new
// one. Records then go to the new topic; records already queued for a
// partition it no longer has fail at once, not at the delivery timeout.
func TestTopicRecreatedWithFewerPartitions(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(3)
	p := env.producerFor(topic, RetryBackoff(20*time.Millisecond), DeliveryTimeout(20*time.Second), RequestTimeout(5*time.Second))
	ctx := context.Background()
	wave := func(name string) (ok []RecordMetadata, failed []error) {
		var futs []Future
		for i := range 30 {
			f, err := p.Send(ctx, Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "%s-%d", name, i)})
			require.NoError(t, err)
			futs = append(futs, f)
		}
		for _, f := range futs {
			md, err := f.Get(ctx)
			if err != nil {
				failed = append(failed, err)
			} else {
				ok = append(ok, md)
			}
		}
		return ok, failed
	}
	_, failed := wave("old")
	require.Empty(t, failed)

	env.deleteTopic(topic)
	env.createTopic(topic, 2)

	start := time.Now()
	ok, failed := wave("new")
	require.Less(t, time.Since(start), 10*time.Second, "nothing waited for the delivery timeout")
	for _, err := range failed {
		require.ErrorIs(t, err, UnknownTopicOrPartition, "only records for the partition that is gone fail")
	}
	require.NotEmpty(t, ok)
	for _, md := range ok {
		require.Less(t, md.Partition, int32(2))
	}
	// Now the producer knows the new topic: every record lands.
	ok2, failed := wave("newer")
	require.Empty(t, failed)
	require.Len(t, env.consumeExactly(topic, len(ok)+len(ok2)), len(ok)+len(ok2))
}

// A topic created again starts its leader epochs again under a new topic
// id; the producer must follow the new leader though its epoch is lower
// than the one it knew. It kept the old leader, and every record to the
// partition failed at the delivery timeout, for good.
func TestTopicRecreatedWithLowerLeaderEpochs(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	// Leader moves raise the partition's leader epoch to 6.
	for i := range 6 {
		require.NoError(t, fake.MoveTopicPartition(topic, 0, int32(i%3)))
	}
	p := env.producerFor(topic, RetryBackoff(20*time.Millisecond), RetryBackoffMax(100*time.Millisecond),
		DeliveryTimeout(5*time.Second), RequestTimeout(2*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("old")})
	require.NoError(t, err)
	_, err = f.Get(ctx)
	require.NoError(t, err)
	oldLeader := fake.LeaderFor(topic, 0)

	env.deleteTopic(topic)
	env.createTopic(topic, 1)
	if fake.LeaderFor(topic, 0) == oldLeader {
		require.NoError(t, fake.MoveTopicPartition(topic, 0, (oldLeader+1)%3))
	}
	futs := sendNumbered(t, p, topic, 10)
	for i, f := range futs {
		_, err := f.Get(ctx)
		require.NoError(t, err, "record %d", i)
	}
	requireExactlyOnceInOrder(t, env, topic, futs)
}

// Failover: after MoveTopicPartition the producer finds the new leader
// from the NOT_LEADER_OR_FOLLOWER answer (KIP-951) or a prompt metadata
// refresh. The figure is logged; the bound only catches a throttled
// refresh of seconds.
func TestFailoverTime(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producer()
	ctx := context.Background()
	sendOne := func() time.Duration {
		start := time.Now()
		f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
		require.NoError(t, err)
		_, err = f.Get(ctx)
		require.NoError(t, err)
		return time.Since(start)
	}
	sendOne()
	var worst time.Duration
	var total time.Duration
	const moves = 5
	for i := 0; i < moves; i++ {
		leader := fake.LeaderFor(topic, 0)
		require.NoError(t, fake.MoveTopicPartition(topic, 0, (leader+1)%3))
		d := sendOne()
		total += d
		worst = max(worst, d)
	}
	t.Logf("failover after MoveTopicPartition: mean %v, worst %v over %d moves", total/moves, worst, moves)
	require.Less(t, worst, 3*time.Second)
}

// Fatal errors stop the producer at once: the affected futures fail with
// the broker's typed error and later sends fail fast.
func TestFatalErrors(t *testing.T) {
	t.Run("ProducerFenced", func(t *testing.T) {
		env := newTestEnv(t)
		fake := env.needFake()
		topic := env.topic(1)
		p := env.producerFor(topic)
		fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.ProducerFenced, Count: -1})
		start := time.Now()
		for _, f := range sendNumbered(t, p, topic, 5) {
			_, err := f.Get(context.Background())
			require.ErrorIs(t, err, ProducerFenced)
		}
		_, err := p.Send(context.Background(), Record{Topic: topic, Value: []byte("late")})
		require.ErrorIs(t, err, ProducerFenced)
		require.Less(t, time.Since(start), 5*time.Second)
	})
	t.Run("ClusterAuthorizationFailed", func(t *testing.T) {
		env := newTestEnv(t)
		fake := env.needFake()
		topic := env.topic(1)
		fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.InitProducerID}, Err: kerr.ClusterAuthorizationFailed, Count: -1})
		p := env.producer()
		start := time.Now()
		f, err := p.Send(context.Background(), Record{Topic: topic, Value: []byte("x")})
		if err == nil {
			_, err = f.Get(context.Background())
		}
		require.ErrorIs(t, err, ClusterAuthorizationFailed)
		var ke *KafkaError
		require.ErrorAs(t, err, &ke)
		require.Less(t, time.Since(start), 5*time.Second)
	})
}

// An epoch bump waits for batches of unknown fate to be resolved under the
// old epoch, but not longer than request_timeout_ms: a partition whose
// answers stay ambiguous must not hold up the others. Its batch then
// fails as uncertain, and the rest go on under the new epoch.
func TestBumpDoesNotWaitForeverOnAmbiguousPartition(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(2)
	p := env.producer(RequestTimeout(time.Second), DeliveryTimeout(time.Minute),
		RetryBackoff(20*time.Millisecond), RetryBackoffMax(50*time.Millisecond))
	_, err := p.PartitionsFor(context.Background(), topic)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	stuck := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Partitions: []int32{0}, Err: kerr.RequestTimedOut, Count: -1})
	defer stuck.Remove()
	a, err := p.Send(ctx, Record{Topic: topic, Partition: new(int32(0)), Value: []byte("a")})
	require.NoError(t, err)
	require.NoError(t, stuck.Wait(ctx, 2))

	fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Partitions: []int32{1}, Err: kerr.OutOfOrderSequenceNumber})
	start := time.Now()
	b, err := p.Send(ctx, Record{Topic: topic, Partition: new(int32(1)), Value: []byte("b")})
	require.NoError(t, err)
	_, err = b.Get(ctx)
	require.NoError(t, err)
	require.Less(t, time.Since(start), 10*time.Second)
	_, err = a.Get(ctx)
	require.ErrorIs(t, err, ErrDeliveryUncertain)
}

// answerProduce answers req in the test's stead, every partition with
// offset 0 and no error unless set changes it; the broker keeps nothing.
func answerProduce(req *kmsg.ProduceRequest, set func(*kmsg.ProduceResponseTopicPartition)) *kmsg.ProduceResponse {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			set(&sp)
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// A broker over a client quota answers at once with a throttle time and
// expects no produce request before it has passed (KIP-219); records sent
// meanwhile wait in their batches and arrive afterwards.
func TestThrottledBrokerGetsNoRequestsUntilTheThrottleEnds(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	const throttle = 300 * time.Millisecond
	var mu sync.Mutex
	var answeredAt time.Time
	var arrivals []time.Time
	fake.ControlKey(int16(kmsg.Produce), func(r kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		mu.Lock()
		defer mu.Unlock()
		if !answeredAt.IsZero() {
			arrivals = append(arrivals, time.Now())
			return nil, nil, false
		}
		// The first request is acknowledged here, throttled; the broker
		// does not keep its record.
		resp := answerProduce(r.(*kmsg.ProduceRequest), func(*kmsg.ProduceResponseTopicPartition) {})
		resp.ThrottleMillis = int32(throttle / time.Millisecond)
		answeredAt = time.Now()
		return resp, nil, true
	})
	// Without idempotence: the broker never saw the first sequence.
	p := env.producerFor(topic, EnableIdempotence(false), Acks(AcksLeader), Linger(0))
	ctx := context.Background()
	send := func(v string) {
		t.Helper()
		f, err := p.Send(ctx, Record{Topic: topic, Value: []byte(v)})
		require.NoError(t, err)
		_, err = f.Get(ctx)
		require.NoError(t, err)
	}
	send("throttled")
	send("after")
	mu.Lock()
	require.NotEmpty(t, arrivals)
	gap := arrivals[0].Sub(answeredAt)
	mu.Unlock()
	require.GreaterOrEqual(t, gap, throttle, "the next produce request came before the throttle ended")
	got := env.consumeExactly(topic, 1)
	require.Equal(t, "after", string(got[0].Value))
}

// A Metadata answer's throttle time (KIP-219) is kept as a Produce
// answer's is: while it lasts, metadata is asked of another broker, one
// connected to for the purpose if need be, not of the muted one.
func TestThrottledBrokerIsNotAskedForMetadata(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producerFor(topic, MetadataMaxAge(50*time.Millisecond))
	ctx := context.Background()
	f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
	require.NoError(t, err)
	_, err = f.Get(ctx)
	require.NoError(t, err)

	const throttle = 2 * time.Second
	real := env.admin(&kmsg.MetadataRequest{Topics: []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr(topic)}}}).(*kmsg.MetadataResponse)
	var mu sync.Mutex
	throttled := int32(-1)
	var throttledAt time.Time
	var during []int32
	fake.ControlKey(int16(kmsg.Metadata), func(r kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		mu.Lock()
		defer mu.Unlock()
		if throttled < 0 {
			throttled, throttledAt = fake.CurrentNode(), time.Now()
			resp := metadataAnswer(r, real, true)
			resp.ThrottleMillis = int32(throttle / time.Millisecond)
			return resp, nil, true
		}
		if time.Since(throttledAt) < throttle {
			during = append(during, fake.CurrentNode())
		}
		return nil, nil, false
	})
	time.Sleep(time.Second)
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, throttled, int32(0), "no metadata request came")
	require.GreaterOrEqual(t, len(during), 3, "metadata_max_age_ms is 50 ms: the producer kept asking")
	require.NotContains(t, during, throttled, "the throttled broker %d was asked", throttled)
}

// metadataAnswer answers the Metadata request r with the brokers of real,
// an answer fetched beforehand, and its topics if withTopics.
func metadataAnswer(r kmsg.Request, real *kmsg.MetadataResponse, withTopics bool) *kmsg.MetadataResponse {
	resp := r.ResponseKind().(*kmsg.MetadataResponse)
	resp.Brokers, resp.ClusterID, resp.ControllerID = real.Brokers, real.ClusterID, real.ControllerID
	if withTopics {
		resp.Topics = real.Topics
	}
	return resp
}

// countingDialer dials normally and counts the dials.
func countingDialer() (*atomic.Int32, func(ctx context.Context, network, addr string) (net.Conn, error)) {
	dials := new(atomic.Int32)
	return dials, func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

// When every broker the producer knows is throttled, metadata goes to a
// throttled one (the broker serves it once the throttle ends) rather than
// through a new bootstrap connection, which each answer closed again: a
// dial per request.
func TestAllBrokersThrottledDialsNoBootstrapConnections(t *testing.T) {
	env := newTestEnv(t, kfake.NumBrokers(1))
	fake := env.needFake()
	topic := env.topic(1)
	dials, dialer := countingDialer()
	p := env.producerFor(topic, Dialer(dialer), MetadataMaxAge(50*time.Millisecond))
	ctx := context.Background()
	f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
	require.NoError(t, err)
	_, err = f.Get(ctx)
	require.NoError(t, err)

	real := env.admin(&kmsg.MetadataRequest{Topics: []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr(topic)}}}).(*kmsg.MetadataResponse)
	var asked atomic.Int32
	fake.ControlKey(int16(kmsg.Metadata), func(r kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		asked.Add(1)
		resp := metadataAnswer(r, real, true)
		resp.ThrottleMillis = 200
		return resp, nil, true
	})
	before := dials.Load()
	time.Sleep(time.Second)
	require.GreaterOrEqual(t, asked.Load(), int32(3), "metadata_max_age_ms kept asking")
	require.LessOrEqual(t, dials.Load()-before, int32(1), "dials while the one broker was throttled")
}

// A topic a Send waits for that a metadata answer leaves out (no broker
// should) is asked about again after retry_backoff_ms, not at once: the
// producer sent requests back to back, tens of thousands a second.
func TestTopicLeftOutOfMetadataIsAskedAfterTheBackoff(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	env.topic(1)
	real := env.admin(&kmsg.MetadataRequest{}).(*kmsg.MetadataResponse)
	var asked atomic.Int32
	fake.ControlKey(int16(kmsg.Metadata), func(r kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		asked.Add(1)
		return metadataAnswer(r, real, false), nil, true
	})
	p := env.producer(MaxBlock(time.Second), RetryBackoff(100*time.Millisecond), RetryBackoffMax(100*time.Millisecond))
	_, err := p.Send(context.Background(), Record{Topic: "left-out", Value: []byte("x")})
	require.ErrorIs(t, err, ErrMetadataTimeout)
	// About ten at one per 100 ms.
	require.Less(t, asked.Load(), int32(40))
}

// reconnect_backoff_ms holds after a connection is lost, not only after
// a failed dial: a broker that accepts connections and drops them at the
// first request was dialled in a tight loop (157 times a second here).
func TestReconnectBackoffAfterALostConnection(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	dials, dialer := countingDialer()
	p := env.producerFor(topic, Dialer(dialer), ReconnectBackoff(200*time.Millisecond), ReconnectBackoffMax(200*time.Millisecond),
		RetryBackoff(5*time.Millisecond), RetryBackoffMax(5*time.Millisecond), DeliveryTimeout(2*time.Second), RequestTimeout(time.Second))
	ctx := context.Background()
	f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("warm")})
	require.NoError(t, err)
	_, err = f.Get(ctx)
	require.NoError(t, err)
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		return nil, errors.New("dropped by the test"), true
	})
	before := dials.Load()
	_, err = p.Send(ctx, Record{Topic: topic, Value: []byte("dropped")})
	require.NoError(t, err)
	time.Sleep(time.Second)
	// One dial per 200 ms (±20%), to the leader and for metadata.
	require.LessOrEqual(t, dials.Load()-before, int32(15))
}

// The idle sweep spares the connection an InitProducerId is out on, as
// it spares one with a produce or metadata request: with
// connections_max_idle_ms shorter than the broker's answer, it closed it
// every time, and the producer never got an id.
func TestIdleSweepSparesInitProducerID(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	fake.ControlKey(int16(kmsg.InitProducerID), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		fake.SleepControl(func() { time.Sleep(1500 * time.Millisecond) })
		return nil, nil, false
	})
	p := env.producerFor(topic, ConnectionsMaxIdle(150*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
	require.NoError(t, err)
	_, err = f.Get(ctx)
	require.NoError(t, err)
}

// blackholeDialer stands for a host that drops packets: dials to hole
// wait for their context to end, and the time each was given is
// recorded; other addresses are dialled normally.
type blackholeDialer struct {
	mu    sync.Mutex
	hole  string
	given []time.Duration
	conns []net.Conn
}

func (d *blackholeDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	hole := d.hole
	d.mu.Unlock()
	if addr != hole {
		var nd net.Dialer
		c, err := nd.DialContext(ctx, network, addr)
		if err == nil {
			d.mu.Lock()
			d.conns = append(d.conns, c)
			d.mu.Unlock()
		}
		return c, err
	}
	dl, ok := ctx.Deadline()
	d.mu.Lock()
	if ok {
		d.given = append(d.given, time.Until(dl))
	} else {
		d.given = append(d.given, -1)
	}
	d.mu.Unlock()
	<-ctx.Done()
	return nil, ctx.Err()
}

// drop makes addr the hole and closes the connections made to it.
func (d *blackholeDialer) drop(addr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hole = addr
	for _, c := range d.conns {
		if c.RemoteAddr().String() == addr {
			c.Close()
		}
	}
}

func (d *blackholeDialer) attempts() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.given)
}

// A bootstrap address that drops packets holds the first Send up only for
// socket_connection_setup_timeout_ms (KIP-601), not for the request
// timeout; the bound doubles with each failed attempt, up to its maximum.
func TestConnectionSetupTimeout(t *testing.T) {
	env := newTestEnv(t)
	env.needFake()
	topic := env.topic(1)
	const hole = "192.0.2.1:9092" // TEST-NET-1: nothing answers there

	t.Run("another address is tried after it", func(t *testing.T) {
		d := &blackholeDialer{hole: hole}
		p, err := NewProducer(BootstrapServers(append([]string{hole}, env.addrs...)...), Dialer(d.dial),
			SocketConnectionSetupTimeout(100*time.Millisecond), MaxBlock(5*time.Second))
		require.NoError(t, err)
		defer p.Close(context.Background())
		f, err := p.Send(context.Background(), Record{Topic: topic, Value: []byte("v")})
		require.NoError(t, err, "the Send waited for metadata past max_block_ms")
		_, err = f.Get(context.Background())
		require.NoError(t, err)
		require.NotEmpty(t, d.attempts(), "the blackholed address was never tried")
		require.LessOrEqual(t, d.attempts()[0], 120*time.Millisecond)
	})

	t.Run("the bound grows per failed attempt", func(t *testing.T) {
		d := &blackholeDialer{hole: hole}
		p, err := NewProducer(BootstrapServers(hole), Dialer(d.dial), ReconnectBackoff(time.Millisecond), ReconnectBackoffMax(time.Millisecond),
			SocketConnectionSetupTimeout(40*time.Millisecond), SocketConnectionSetupTimeoutMax(320*time.Millisecond), MaxBlock(2500*time.Millisecond))
		require.NoError(t, err)
		defer p.Close(context.Background())
		_, err = p.Send(context.Background(), Record{Topic: topic, Value: []byte("v")})
		require.ErrorIs(t, err, ErrMetadataTimeout)
		given := d.attempts()
		// 40, 80, 160, 320, 320 ms... each ±20%: at least five attempts
		// fit in 2.5 s.
		require.GreaterOrEqual(t, len(given), 5, "attempts: %v", given)
		require.LessOrEqual(t, given[0], 48*time.Millisecond)
		require.Greater(t, given[0], time.Duration(0))
		most := slices.Max(given)
		require.LessOrEqual(t, most, 384*time.Millisecond, "attempts: %v", given)
		require.Greater(t, most, 200*time.Millisecond, "the bound did not grow: %v", given)
	})
}

// A batch refused for some of its records (INVALID_RECORD with
// record_errors, KIP-467): each named record fails with the broker's error
// and its own message, the others with ErrRejectedWithBatch and can be
// sent again. Futures and append-time callbacks agree.
func TestRecordErrorsFailOnlyTheNamedRecords(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	const why = "Compacted topic cannot accept message without key"
	var mu sync.Mutex
	refused := false
	fake.ControlKey(int16(kmsg.Produce), func(r kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		mu.Lock()
		defer mu.Unlock()
		if refused {
			return nil, nil, false
		}
		refused = true
		resp := answerProduce(r.(*kmsg.ProduceRequest), func(sp *kmsg.ProduceResponseTopicPartition) {
			sp.ErrorCode = kerr.InvalidRecord.Code
			sp.ErrorMessage = kmsg.StringPtr("One or more records have been rejected")
			for _, i := range []int32{1, 3} {
				re := kmsg.NewProduceResponseTopicPartitionErrorRecord()
				re.RelativeOffset = i
				if i == 1 {
					re.ErrorMessage = kmsg.StringPtr(why)
				}
				sp.ErrorRecords = append(sp.ErrorRecords, re)
			}
		})
		return resp, nil, true
	})
	p := env.producerFor(topic, Linger(time.Hour))
	ctx := context.Background()
	var futs []Future
	cbErrs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range 4 {
		rec := Record{Topic: topic, Value: []byte(fmt.Sprint("v", i))}
		if i%2 == 0 {
			f, err := p.Send(ctx, rec)
			require.NoError(t, err)
			futs = append(futs, f)
			continue
		}
		wg.Add(1)
		require.NoError(t, p.Produce(ctx, rec, func(_ RecordMetadata, err error) { cbErrs[i] = err; wg.Done() }))
	}
	require.NoError(t, p.Flush(ctx))
	wg.Wait()
	errs := []error{nil, cbErrs[1], nil, cbErrs[3]}
	for i, f := range futs {
		_, errs[2*i] = f.Get(ctx)
	}
	for i, err := range errs {
		require.Error(t, err, "record %d", i)
		if i%2 == 1 {
			require.ErrorIs(t, err, InvalidRecord, "record %d", i)
			require.NotErrorIs(t, err, ErrRejectedWithBatch)
			continue
		}
		require.ErrorIs(t, err, ErrRejectedWithBatch, "record %d", i)
		require.NotErrorIs(t, err, InvalidRecord, "record %d was valid", i)
	}
	require.ErrorContains(t, errs[1], why)
	require.ErrorContains(t, errs[3], "One or more records have been rejected")
	// The valid ones go again, and land.
	for _, v := range []string{"v0", "v2"} {
		f, err := p.Send(ctx, Record{Topic: topic, Value: []byte(v)})
		require.NoError(t, err)
		require.NoError(t, p.Flush(ctx))
		_, err = f.Get(ctx)
		require.NoError(t, err)
	}
	got := env.consumeExactly(topic, 2)
	require.Equal(t, "v0", string(got[0].Value))
	require.Equal(t, "v2", string(got[1].Value))
}

// In a batch split after MESSAGE_TOO_LARGE, record_errors count from the
// first record of the part that was refused.
func TestRecordErrorsInASplitBatch(t *testing.T) {
	top := fmt.Errorf("%w: summary", InvalidRecord)
	named := []protocol.BatchIndexAndErrorMessage{{BatchIndex: 1, BatchIndexErrorMessage: kmsg.StringPtr("bad")}}
	r := newBatchResult("t", 0)
	r.segs = []segment{
		{first: 0, baseOffset: 10, logAppendTime: -1},
		{first: 4, baseOffset: -1, logAppendTime: -1, err: newRecordErrors(InvalidRecord, top, named)},
	}
	for i := range int32(4) {
		base, _, err := r.outcome(i)
		require.NoError(t, err)
		require.Equal(t, int64(10), base)
	}
	for i := int32(4); i < 8; i++ {
		_, _, err := r.outcome(i)
		if i == 5 {
			require.ErrorIs(t, err, InvalidRecord)
			require.ErrorContains(t, err, "bad")
			continue
		}
		require.ErrorIs(t, err, ErrRejectedWithBatch, "record %d", i)
	}
}

// A batch that already has sequence numbers and waits for a retry still
// expires at delivery_timeout_ms when no answer can come for its
// partition: its leader dropped the connection and cannot be reached
// again, or the epoch bump it waits for cannot finish. Its records, and
// those queued behind it, fail with ErrDeliveryTimeout; later records land
// once, in order, when the cluster is back.
func TestBatchWithSequenceExpires(t *testing.T) {
	for _, tc := range []string{"leader unreachable", "epoch bump cannot finish"} {
		t.Run(tc, func(t *testing.T) {
			env := newTestEnv(t)
			fake := env.needFake()
			topic := env.topic(1)
			// For the bump that cannot finish, the first producer id comes
			// with its epoch exhausted: the bump needs a new id, which the
			// broker does not hand out until lifted.
			var blockInit atomic.Bool
			if tc == "epoch bump cannot finish" {
				var answered atomic.Bool
				fake.ControlKey(int16(kmsg.InitProducerID), func(r kmsg.Request) (kmsg.Response, error, bool) {
					fake.KeepControl()
					resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
					switch {
					case answered.CompareAndSwap(false, true):
						resp.ProducerID, resp.ProducerEpoch = 1<<40, math.MaxInt16
					case blockInit.Load():
						resp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
					default:
						return nil, nil, false
					}
					return resp, nil, true
				})
			}
			d := &blackholeDialer{}
			p := env.producerFor(topic, Dialer(d.dial), DeliveryTimeout(1500*time.Millisecond), RequestTimeout(time.Second),
				Linger(0), RetryBackoff(20*time.Millisecond), RetryBackoffMax(100*time.Millisecond),
				SocketConnectionSetupTimeout(200*time.Millisecond), SocketConnectionSetupTimeoutMax(400*time.Millisecond))
			ctx := context.Background()
			first := sendNumbered(t, p, topic, 1)
			_, err := first[0].Get(ctx)
			require.NoError(t, err)

			var lift func()
			switch tc {
			case "leader unreachable":
				// The leader drops the connection instead of answering,
				// and dials to it hang from then on.
				leader := fake.LeaderFor(topic, 0)
				var addr string
				for _, b := range env.admin(kmsg.NewPtrMetadataRequest()).(*kmsg.MetadataResponse).Brokers {
					if b.NodeID == leader {
						addr = net.JoinHostPort(b.Host, fmt.Sprint(b.Port))
					}
				}
				fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
					d.drop(addr)
					return nil, errors.New("dropped by the test"), true
				})
				lift = func() { d.drop("") }
			case "epoch bump cannot finish":
				blockInit.Store(true)
				fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.OutOfOrderSequenceNumber})
				lift = func() { blockInit.Store(false) }
			}
			futs := sendMoreNumbered(t, p, topic, 1, 11)
			wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			for i, f := range futs {
				_, err := f.Get(wctx)
				require.ErrorIs(t, err, ErrDeliveryTimeout, "record %d", i+1)
				if i == 0 && tc == "leader unreachable" {
					// Its request was lost on the way: it may be in the log.
					require.ErrorIs(t, err, ErrDeliveryUncertain)
				}
			}
			lift()
			more := sendMoreNumbered(t, p, topic, 11, 21)
			for i, f := range more {
				_, err := f.Get(wctx)
				require.NoError(t, err, "record %d", 11+i)
			}
			got := env.consumeExactly(topic, 11)
			require.Equal(t, "0", string(got[0].Value))
			for i, r := range got[1:] {
				require.Equal(t, fmt.Sprint(11+i), string(r.Value))
			}
		})
	}
}

// A batch split after MESSAGE_TOO_LARGE hands its places in
// queue_buffering_max_messages to its halves; the original gave them back
// as well, so each split raised the bound by the batch's record count.
func TestSplitKeepsRecordCount(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	const most = 20
	p := env.producerFor(topic, MaxBufferedRecords(most), Linger(100*time.Millisecond), BatchSize(1<<20),
		MaxBlock(200*time.Millisecond), RetryBackoff(10*time.Millisecond))
	fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.MessageTooLarge, Count: 1})
	futs := sendNumbered(t, p, topic, most)
	ctx := context.Background()
	require.NoError(t, p.Flush(ctx))
	for _, f := range futs {
		_, err := f.Get(ctx)
		require.NoError(t, err)
	}
	require.GreaterOrEqual(t, p.MetricsSnapshot().BatchesSplit, int64(1))
	require.Equal(t, int64(most), p.acc.records.available(), "record places after a split")
	require.Equal(t, p.cfg.bufferMemory, p.acc.pool.available(), "buffer memory after a split")
}

// A batch whose append may have happened (REQUEST_TIMED_OUT) and that is
// then given up for another reason, here Close, fails with an error that
// also matches ErrDeliveryUncertain: it is in the log.
func TestGivenUpAmbiguousBatchIsUncertain(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producerFor(topic, Linger(0), RetryBackoff(3*time.Second), RetryBackoffMax(3*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.RequestTimedOut})
	f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("ambiguous")})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return h.Hits() == 1 }, 5*time.Second, time.Millisecond)
	cctx, ccancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer ccancel()
	require.ErrorIs(t, p.Close(cctx), context.DeadlineExceeded)
	_, err = f.Get(ctx)
	require.ErrorIs(t, err, ErrProducerClosed)
	require.ErrorIs(t, err, ErrDeliveryUncertain)
	got := env.consume(topic, 1)
	require.Equal(t, "ambiguous", string(got[0].Value), "the record is in the log")
}
