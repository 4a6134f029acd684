package kafka

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// mixedRecord is the i-th record of a mixed run: its shape varies with i
// so the metadata a callback reports can be told apart.
func mixedRecord(topic string, i int) Record {
	r := Record{Topic: topic, Value: fmt.Appendf(nil, "value-%d", i)}
	switch i % 5 {
	case 1:
		r.Key = fmt.Appendf(nil, "key-%d", i)
	case 2:
		r.Headers = []Header{{Key: "h", Value: []byte("12345")}, {Key: "nil", Value: nil}}
	case 3:
		r.Timestamp = time.UnixMilli(1700000000000 + int64(i))
	case 4:
		r.Value = nil
		r.Key = []byte{}
	}
	return r
}

// checkMetadata checks what a callback reported of record i, sent as r,
// at offset want.
func checkMetadata(t *testing.T, i int, r Record, md RecordMetadata, want int64, sentAfter time.Time) {
	t.Helper()
	require.Equal(t, want, md.Offset, "offset of record %d", i)
	size := func(b []byte) int32 {
		if b == nil {
			return -1
		}
		return int32(len(b))
	}
	require.Equal(t, size(r.Key), md.SerializedKeySize, "key size of record %d", i)
	require.Equal(t, size(r.Value), md.SerializedValueSize, "value size of record %d", i)
	hs := int32(-1)
	if len(r.Headers) > 0 {
		hs = 0
		for _, h := range r.Headers {
			hs += int32(len(h.Key) + len(h.Value))
		}
	}
	require.Equal(t, hs, md.SerializedHeaderSize, "header size of record %d", i)
	if !r.Timestamp.IsZero() {
		require.Equal(t, r.Timestamp.UnixMilli(), md.Timestamp.UnixMilli(), "timestamp of record %d", i)
	} else {
		require.GreaterOrEqual(t, md.Timestamp.UnixMilli(), sentAfter.UnixMilli()-1, "timestamp of record %d", i)
		require.LessOrEqual(t, md.Timestamp.UnixMilli(), time.Now().UnixMilli(), "timestamp of record %d", i)
	}
}

// sendMixed sends n records to one partition through every form of send
// at once: a shared callback, a closure per record, and futures, which a
// batch keeps apart. It returns a wait that checks what each record's
// callback or future reported against its offset in send order.
func sendMixed(t *testing.T, p *Producer, topic string, n int) func() {
	ctx := context.Background()
	start := time.Now()
	var mu sync.Mutex
	got := make([]*RecordMetadata, n)
	recs := make([]Record, n)
	futs := map[int]Future{}
	var shared sync.Map // index by value, for the shared callback
	sharedCb := func(md RecordMetadata, err error) {
		require.NoError(t, err)
		// The value names the record, except for null values, which
		// the shared callback is never given.
		i, ok := shared.Load(md.Offset)
		require.True(t, ok)
		mu.Lock()
		got[i.(int)] = &md
		mu.Unlock()
	}
	for i := range n {
		recs[i] = mixedRecord(topic, i)
		switch {
		case i%7 == 3:
			f, err := p.Send(ctx, recs[i])
			require.NoError(t, err)
			futs[i] = f
		case i%3 == 0 && recs[i].Value != nil:
			// Offsets are the send order on one partition.
			shared.Store(int64(i), i)
			require.NoError(t, p.Produce(ctx, recs[i], sharedCb))
		default:
			require.NoError(t, p.Produce(ctx, recs[i], func(md RecordMetadata, err error) {
				require.NoError(t, err)
				mu.Lock()
				got[i] = &md
				mu.Unlock()
			}))
		}
	}
	return func() {
		require.NoError(t, p.Flush(ctx))
		for i, f := range futs {
			md, err := f.Get(ctx)
			require.NoError(t, err)
			got[i] = &md
		}
		mu.Lock()
		defer mu.Unlock()
		for i := range n {
			require.NotNil(t, got[i], "record %d reported nothing", i)
			checkMetadata(t, i, recs[i], *got[i], int64(i), start)
		}
	}
}

// Batches keep a run per callback and a shape per record instead of a
// callback per record; every form of send still reports each record's own
// offset, sizes and timestamp.
func TestProduceCallbacksReportTheirRecords(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	p := env.producerFor(topic, Linger(100*time.Millisecond))
	sendMixed(t, p, topic, 500)()
}

// A batch split after MESSAGE_TOO_LARGE (KIP-126) hands each record's
// callback on to the half that carries it.
func TestProduceCallbacksSurviveSplit(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producerFor(topic, Linger(100*time.Millisecond), BatchSize(1<<20), RetryBackoff(10*time.Millisecond))
	h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.MessageTooLarge, Count: 2})
	sendMixed(t, p, topic, 400)()
	require.Equal(t, 2, h.Hits())
}

// A closure per record needs a run per record: more than a batch reserves.
// The batch takes more of buffer_memory while it can, and else closes, so
// every record is still delivered and reported, and the memory comes back.
func TestProduceCallbackPerRecordWithinBufferMemory(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	const bufferMemory = 64 << 10
	p := env.producer(Linger(20*time.Millisecond), BatchSize(16<<10), BufferMemory(bufferMemory))
	ctx := context.Background()
	_, err := p.PartitionsFor(ctx, topic)
	require.NoError(t, err)
	const n = 3000
	var wg sync.WaitGroup
	offsets := make([]int64, n)
	for i := range n {
		wg.Add(1)
		require.NoError(t, p.Produce(ctx, Record{Topic: topic, Value: []byte("x")}, func(md RecordMetadata, err error) {
			defer wg.Done()
			require.NoError(t, err)
			offsets[i] = md.Offset
		}))
	}
	wg.Wait()
	for i, o := range offsets {
		require.Equal(t, int64(i), o)
	}
	// A batch's memory goes back just after its callbacks ran; once
	// Flush returns, it is back.
	require.NoError(t, p.Flush(ctx))
	require.Equal(t, int64(bufferMemory), p.acc.pool.available())
}

// Produce with a nil callback sends the record and reports nothing.
func TestProduceNilCallback(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	p := env.producerFor(topic)
	ctx := context.Background()
	for i := range 10 {
		require.NoError(t, p.Produce(ctx, Record{Topic: topic, Value: fmt.Appendf(nil, "%d", i)}, nil))
	}
	require.NoError(t, p.Flush(ctx))
	for i, r := range env.consumeExactly(topic, 10) {
		require.Equal(t, fmt.Sprintf("%d", i), string(r.Value))
	}
}

// within runs f and fails the test if it has not returned after a
// generous bound: the calls below used to wait forever.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not return", what)
	}
}

// A delivery callback runs on the goroutine that completes records, so a
// call that waits for records cannot succeed there: Flush, a Send that
// must wait for metadata or room, and Close fail at once with
// ErrCalledFromCallback instead of waiting forever (or max_block_ms).
func TestCallsFromACallbackFailAtOnce(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	p := env.producerFor(topic, BufferMemory(64<<10), BatchSize(16<<10), Linger(time.Hour))
	ctx := context.Background()
	type results struct{ flush, newTopic, full, close error }
	var got results
	ran := make(chan struct{})
	within(t, "the callback", func() {
		require.NoError(t, p.Produce(ctx, Record{Topic: topic, Value: []byte("first")}, func(_ RecordMetadata, err error) {
			defer close(ran)
			require.NoError(t, err)
			got.flush = p.Flush(ctx)
			_, got.newTopic = p.Send(ctx, Record{Topic: env.topic(1) + "-never-asked", Value: []byte("x")})
			// Nothing frees room while this callback runs.
			for i := 0; i < 100 && got.full == nil; i++ {
				got.full = p.Produce(ctx, Record{Topic: topic, Value: make([]byte, 8<<10)}, func(RecordMetadata, error) {})
			}
			got.close = p.Close(ctx)
		}))
		require.NoError(t, p.Flush(ctx))
		<-ran
	})
	require.ErrorIs(t, got.flush, ErrCalledFromCallback)
	require.ErrorIs(t, got.newTopic, ErrCalledFromCallback)
	require.ErrorIs(t, got.newTopic, ErrMetadataTimeout)
	require.ErrorIs(t, got.full, ErrCalledFromCallback)
	require.ErrorIs(t, got.full, ErrBufferFull)
	require.ErrorIs(t, got.close, ErrCalledFromCallback)

	// The Close from the callback closed the producer once the callback
	// returned: a later Close waits for that shutdown, and nothing is
	// left running.
	within(t, "Close", func() { require.ErrorIs(t, p.Close(ctx), ErrCalledFromCallback) })
	requireNoProducerGoroutines(t)
	_, err := p.Send(ctx, Record{Topic: topic, Value: []byte("late")})
	require.ErrorIs(t, err, ErrProducerClosed)
}

// Close with no time left fails the records in flight and queued; their
// callbacks may call Flush and Close too.
func TestCallbacksRunByCloseMayCallIt(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	fake := env.needFake()
	p := env.producerFor(topic, MaxInFlightRequestsPerConnection(1))
	ctx := context.Background()
	f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("warm")})
	require.NoError(t, err)
	_, err = f.Get(ctx)
	require.NoError(t, err)
	// The broker holds produce requests until the test ends.
	release := make(chan struct{})
	defer close(release)
	arrived := make(chan struct{}, 1)
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		select {
		case arrived <- struct{}{}:
		default:
		}
		fake.SleepControl(func() { <-release })
		return nil, nil, false
	})
	// One request is held, and the record behind it stays queued.
	_, err = p.Send(ctx, Record{Topic: topic, Value: []byte("held")})
	require.NoError(t, err)
	<-arrived
	var flushErr, closeErr error
	failed := make(chan error, 1)
	require.NoError(t, p.Produce(ctx, Record{Topic: topic, Value: []byte("queued")}, func(_ RecordMetadata, err error) {
		flushErr = p.Flush(ctx)
		closeErr = p.Close(ctx)
		failed <- err
	}))
	expired, cancel := context.WithCancel(ctx)
	cancel()
	within(t, "Close", func() { require.ErrorIs(t, p.Close(expired), context.Canceled) })
	require.ErrorIs(t, <-failed, ErrProducerClosed)
	require.ErrorIs(t, flushErr, ErrCalledFromCallback)
	require.NoError(t, closeErr)
}

// The transactional calls wait for the sender or hold the lock a commit
// keeps while it waits for records: none may run in a callback.
func TestTransactionalCallsFromACallbackFailAtOnce(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	p := newTxnProducer(t, env)
	ctx := context.Background()
	require.NoError(t, p.BeginTransaction())
	errs := map[string]error{}
	within(t, "the callback", func() {
		done := make(chan struct{})
		require.NoError(t, p.Produce(ctx, Record{Topic: topic, Value: []byte("in-txn-0")}, func(_ RecordMetadata, err error) {
			defer close(done)
			require.NoError(t, err)
			errs["InitTransactions"] = p.InitTransactions(ctx)
			errs["BeginTransaction"] = p.BeginTransaction()
			errs["SendOffsetsToTransaction"] = p.SendOffsetsToTransaction(ctx, map[TopicPartition]OffsetAndMetadata{{Topic: topic}: {Offset: 1}}, "group")
			errs["CommitTransaction"] = p.CommitTransaction(ctx)
			errs["AbortTransaction"] = p.AbortTransaction(ctx)
		}))
		<-done
	})
	for call, err := range errs {
		require.ErrorIs(t, err, ErrCalledFromCallback, call)
		require.Contains(t, err.Error(), call)
	}
	require.NoError(t, p.CommitTransaction(ctx))
	requireCommitted(t, env, topic, "in-txn", 1)
}

// A HookBatchWritten may read the producer's metrics: it used to run
// under the metrics' lock, and the producer stopped for good.
func TestHookMayReadMetrics(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	var p *Producer
	var read atomic.Int32
	hook := batchWrittenFunc(func(BatchWritten) {
		if len(p.Metrics()) > 0 {
			read.Add(1)
		}
	})
	p = env.producerFor(topic, WithHooks(hook))
	within(t, "the send", func() {
		f, err := p.Send(context.Background(), Record{Topic: topic, Value: []byte("x")})
		require.NoError(t, err)
		_, err = f.Get(context.Background())
		require.NoError(t, err)
	})
	require.Positive(t, read.Load())
}

type batchWrittenFunc func(BatchWritten)

func (f batchWrittenFunc) OnBatchWritten(b BatchWritten) { f(b) }

// Close's goroutine runs the callbacks of the records it fails only while
// it shuts the producer down: afterwards a second Close on it returns the
// first one's result, and Flush is not refused as from a callback.
func TestCloseGoroutineIsNoCallbackAfterwards(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	fake := env.needFake()
	p := env.producerFor(topic)
	ctx := context.Background()
	release := make(chan struct{})
	defer close(release)
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		fake.SleepControl(func() { <-release })
		return nil, nil, false
	})
	_, err := p.Send(ctx, Record{Topic: topic, Value: []byte("held")})
	require.NoError(t, err)
	expired, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, p.Close(expired), context.Canceled)
	require.ErrorIs(t, p.Close(ctx), context.Canceled, "the first Close's result")
	require.NoError(t, p.Flush(ctx))
}
