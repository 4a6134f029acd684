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
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnRecords sends n records "prefix-i" inside the open transaction.
func txnRecords(t *testing.T, p *Producer, topic, prefix string, n int) []Future {
	t.Helper()
	var futs []Future
	for i := 0; i < n; i++ {
		f, err := p.Send(context.Background(), Record{Topic: topic, Key: []byte("k"), Value: fmt.Appendf(nil, "%s-%d", prefix, i)})
		require.NoError(t, err)
		futs = append(futs, f)
	}
	return futs
}

// requireCommitted checks that a read_committed consumer sees exactly the
// n records txnRecords sent with prefix, in order.
func requireCommitted(t *testing.T, env *testEnv, topic, prefix string, n int) {
	t.Helper()
	got := env.consumeExactlyWith(topic, n, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	for i, r := range got {
		require.Equal(t, fmt.Sprintf("%s-%d", prefix, i), string(r.Value))
	}
}

// commitRecords commits n records "prefix-i" in a transaction of their own
// and checks that a read_committed consumer sees exactly those in topic.
func commitRecords(t *testing.T, env *testEnv, p *Producer, topic, prefix string, n int) {
	t.Helper()
	require.NoError(t, p.BeginTransaction())
	txnRecords(t, p, topic, prefix, n)
	require.NoError(t, p.CommitTransaction(context.Background()))
	requireCommitted(t, env, topic, prefix, n)
}

// newTxnProducer starts a producer with a transactional id of its own and
// initialises its transactions.
func newTxnProducer(t *testing.T, env *testEnv, opts ...Option) *Producer {
	t.Helper()
	p := env.producer(append([]Option{TransactionalID(txnID(t)), Linger(time.Millisecond)}, opts...)...)
	require.NoError(t, p.InitTransactions(context.Background()))
	return p
}

func txnID(t *testing.T) string { return fmt.Sprintf("txn-%s-%d", t.Name(), time.Now().UnixNano()) }

func TestTransactionsCommitAndAbort(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(3)
	p := env.producer(TransactionalID(txnID(t)), Linger(5*time.Millisecond))
	ctx := context.Background()
	require.NoError(t, p.InitTransactions(ctx))

	require.NoError(t, p.BeginTransaction())
	txnRecords(t, p, topic, "c1", 20)
	require.NoError(t, p.CommitTransaction(ctx))

	require.NoError(t, p.BeginTransaction())
	aborted := txnRecords(t, p, topic, "ab", 20)
	require.NoError(t, p.Flush(ctx)) // written, then aborted
	require.NoError(t, p.AbortTransaction(ctx))
	for _, f := range aborted {
		_, err := f.Get(ctx)
		require.NoError(t, err, "sent before the abort, so written (and hidden by the abort marker)")
	}

	require.NoError(t, p.BeginTransaction())
	txnRecords(t, p, topic, "c2", 20)
	require.NoError(t, p.CommitTransaction(ctx))

	committed := env.consumeExactlyWith(topic, 40, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	var c1, c2 int
	for _, r := range committed {
		switch v := string(r.Value); {
		case v == fmt.Sprintf("c1-%d", c1):
			c1++
		case v == fmt.Sprintf("c2-%d", c2):
			c2++
		default:
			t.Fatalf("read_committed consumer saw %q", v)
		}
	}
	require.Equal(t, 20, c1)
	require.Equal(t, 20, c2)
	// The aborted records are in the log, visible only to
	// read_uncommitted readers.
	all := env.consumeExactlyWith(topic, 60, kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
	require.Len(t, all, 60)
}

func TestTransactionAbortDropsBufferedRecords(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	p := env.producer(TransactionalID(txnID(t)), Linger(10*time.Second))
	ctx := context.Background()
	require.NoError(t, p.InitTransactions(ctx))
	require.NoError(t, p.BeginTransaction())
	futs := txnRecords(t, p, topic, "x", 5)
	require.NoError(t, p.AbortTransaction(ctx))
	for _, f := range futs {
		_, err := f.Get(ctx)
		require.ErrorIs(t, err, ErrTransactionAborted)
	}
	// The producer goes on with the next transaction.
	commitRecords(t, env, p, topic, "y", 5)
}

func TestTransactionFencing(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	id := txnID(t)
	ctx := context.Background()
	a := env.producer(TransactionalID(id), Linger(time.Millisecond))
	require.NoError(t, a.InitTransactions(ctx))
	require.NoError(t, a.BeginTransaction())
	for _, f := range txnRecords(t, a, topic, "a", 5) {
		_, err := f.Get(ctx)
		require.NoError(t, err)
	}

	// A second producer with the same id fences the first and aborts
	// its open transaction.
	b := env.producer(TransactionalID(id), Linger(time.Millisecond))
	require.NoError(t, b.InitTransactions(ctx))

	txnRecords(t, a, topic, "a-late", 1)
	err := a.CommitTransaction(ctx)
	require.ErrorIs(t, err, ProducerFenced)
	require.Contains(t, err.Error(), "another producer with the same transactional_id")
	require.NotContains(t, err.Error(), "transaction_timeout_ms", "the transaction was young")
	_, err = a.Send(ctx, Record{Topic: topic, Value: []byte("after")})
	require.ErrorIs(t, err, ProducerFenced)

	commitRecords(t, env, b, topic, "b", 5)
}

// A transaction open longer than transaction_timeout_ms is aborted by
// the coordinator, which fences the producer as a newer one would; the
// error says which of the two is likelier.
func TestTransactionTimedOutByTheCoordinator(t *testing.T) {
	env := newTestEnv(t)
	env.needFake()
	topic := env.topic(1)
	ctx := context.Background()
	const timeout = 300 * time.Millisecond
	p := newTxnProducer(t, env, TransactionTimeout(timeout))
	require.NoError(t, p.BeginTransaction())
	for _, f := range txnRecords(t, p, topic, "late", 3) {
		_, err := f.Get(ctx)
		require.NoError(t, err)
	}
	time.Sleep(3 * timeout)
	err := p.CommitTransaction(ctx)
	require.ErrorIs(t, err, ProducerFenced)
	require.Contains(t, err.Error(), "longer than transaction_timeout_ms (300ms)")

	// The aborted records stay invisible to a read_committed consumer,
	// which sees only what a new producer commits after them.
	commitRecords(t, env, newTxnProducer(t, env), topic, "next", 2)
}

// A Close that finds a transaction open aborts it, as the Java client
// does: left open, it would hold read_committed consumers of its
// partitions back until transaction_timeout_ms.
func TestCloseAbortsTheOpenTransaction(t *testing.T) {
	t.Run("open", func(t *testing.T) { testCloseAborts(t, false) })
	t.Run("abort cut short", func(t *testing.T) { testCloseAborts(t, true) })
}

func testCloseAborts(t *testing.T, abortFirst bool) {
	env := newTestEnv(t)
	topic := env.topic(1)
	ctx := context.Background()
	// Longer than the consumer below waits.
	p := newTxnProducer(t, env, TransactionTimeout(5*time.Minute))
	require.NoError(t, p.BeginTransaction())
	for _, f := range txnRecords(t, p, topic, "open", 2) {
		_, err := f.Get(ctx)
		require.NoError(t, err)
	}
	if abortFirst {
		// An abort whose context ended leaves the producer aborting;
		// Close finishes the abort.
		expired, cancel := context.WithCancel(ctx)
		cancel()
		require.ErrorIs(t, p.AbortTransaction(expired), context.Canceled)
	}
	require.NoError(t, p.Close(ctx))

	commitRecords(t, env, newTxnProducer(t, env), topic, "next", 2)
}

// A Send still waiting for its topic's metadata when CommitTransaction
// ends the transaction must not slip its record into the next one (or
// into none the producer knows of): it fails with ErrTransactionState.
func TestSendStraddlingACommitJoinsNoLaterTransaction(t *testing.T) {
	env := newTestEnv(t)
	first := env.topic(1)
	late := fmt.Sprintf("late-%d", time.Now().UnixNano())
	ctx := context.Background()
	p := newTxnProducer(t, env, MaxBlock(20*time.Second), AllowAutoCreateTopics(false))
	require.NoError(t, p.BeginTransaction())
	for _, f := range txnRecords(t, p, first, "a", 1) {
		_, err := f.Get(ctx)
		require.NoError(t, err)
	}
	sent := make(chan error, 1)
	go func() {
		_, err := p.Send(ctx, Record{Topic: late, Value: []byte("straddler")})
		sent <- err
	}()
	time.Sleep(200 * time.Millisecond) // the Send waits for metadata
	require.NoError(t, p.CommitTransaction(ctx))
	env.createTopic(late, 1)
	require.ErrorIs(t, <-sent, ErrTransactionState)

	commitRecords(t, env, p, late, "next", 1)
}

// Sends racing BeginTransaction and AbortTransaction: each fails with a
// transaction error or is buffered in a transaction that is then aborted.
// The abort waited for partition adds with a WaitGroup the sender could
// add to meanwhile, which sync.WaitGroup forbids (a panic).
func TestSendsRacingAborts(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(4)
	ctx := context.Background()
	p := env.producer(TransactionalID(txnID(t)), Linger(0))
	require.NoError(t, p.InitTransactions(ctx))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := p.Send(ctx, Record{Topic: topic, Value: fmt.Appendf(nil, "%d-%d", g, i)})
				if err != nil && !errors.Is(err, ErrTransactionState) {
					t.Errorf("send: %v", err)
					return
				}
			}
		}()
	}
	for range 200 {
		require.NoError(t, p.BeginTransaction())
		require.NoError(t, p.AbortTransaction(ctx))
	}
	close(stop)
	wg.Wait()
	commitRecords(t, env, p, topic, "last", 1)
}

func TestSendOffsetsToTransaction(t *testing.T) {
	env := newTestEnv(t)
	in := env.topic(2)
	out := env.topic(1)
	group := fmt.Sprintf("group-%d", time.Now().UnixNano())
	p := env.producer(TransactionalID(txnID(t)))
	ctx := context.Background()
	require.NoError(t, p.InitTransactions(ctx))

	// Aborted: the offsets are not committed.
	require.NoError(t, p.BeginTransaction())
	txnRecords(t, p, out, "ab", 1)
	require.NoError(t, p.SendOffsetsToTransaction(ctx, map[TopicPartition]OffsetAndMetadata{
		{in, 0}: {Offset: 5, LeaderEpoch: -1},
	}, group))
	require.NoError(t, p.AbortTransaction(ctx))
	require.Empty(t, committedOffsets(t, env, group, in))

	// Committed: they are, with the transaction's records.
	require.NoError(t, p.BeginTransaction())
	txnRecords(t, p, out, "ok", 1)
	require.NoError(t, p.SendOffsetsToTransaction(ctx, map[TopicPartition]OffsetAndMetadata{
		{in, 0}: {Offset: 7, Metadata: "m", LeaderEpoch: -1},
		{in, 1}: {Offset: 9, LeaderEpoch: -1},
	}, group))
	require.NoError(t, p.CommitTransaction(ctx))
	require.Equal(t, map[int32]int64{0: 7, 1: 9}, committedOffsets(t, env, group, in))
}

// committedOffsets fetches a group's committed offsets for topic with kgo.
func committedOffsets(t *testing.T, env *testEnv, group, topic string) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.addrs...))
	require.NoError(t, err)
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	rt.Partitions = []int32{0, 1}
	req.Topics = append(req.Topics, rt)
	req.RequireStable = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		resp, err := req.RequestWith(ctx, cl)
		require.NoError(t, err)
		out := map[int32]int64{}
		unstable := false
		for _, tr := range resp.Topics {
			for _, pr := range tr.Partitions {
				if pr.ErrorCode == 88 { // UNSTABLE_OFFSET_COMMIT: the transaction is completing
					unstable = true
				}
				if pr.Offset >= 0 {
					out[pr.Partition] = pr.Offset
				}
			}
		}
		if !unstable {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTransactionStateErrors(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	ctx := context.Background()

	plain := env.producer()
	require.ErrorIs(t, plain.InitTransactions(ctx), ErrTransactionState)
	require.ErrorIs(t, plain.BeginTransaction(), ErrTransactionState)

	p := env.producer(TransactionalID(txnID(t)))
	_, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
	require.ErrorIs(t, err, ErrTransactionState, "Send before InitTransactions")
	require.ErrorIs(t, p.BeginTransaction(), ErrTransactionState, "Begin before InitTransactions")
	require.NoError(t, p.InitTransactions(ctx))
	_, err = p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
	require.ErrorIs(t, err, ErrTransactionState, "Send outside a transaction")
	require.ErrorIs(t, p.CommitTransaction(ctx), ErrTransactionState)
	require.ErrorIs(t, p.AbortTransaction(ctx), ErrTransactionState)
	require.NoError(t, p.BeginTransaction())
	require.ErrorIs(t, p.BeginTransaction(), ErrTransactionState)
	require.NoError(t, p.CommitTransaction(ctx), "an empty transaction commits")

	_, err = NewProducer(TransactionalID("x"), EnableIdempotence(false))
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.ErrorContains(t, err, "enable_idempotence")
	_, err = NewProducer(TransactionalID("x"), Acks(1))
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.ErrorContains(t, err, "acks")
	opts, err := OptionsFromMap(map[string]string{"transactional.id": "x", "transaction.timeout.ms": "1000"})
	require.NoError(t, err)
	tp, err := NewProducer(opts...)
	require.NoError(t, err)
	require.Equal(t, "x", tp.cfg.transactionalID)
	require.Equal(t, time.Second, tp.cfg.transactionTimeout)
	require.NoError(t, tp.Close(ctx))
}

// With the consumer's group membership (KIP-447), the group coordinator
// takes a transaction's offsets only from the group's current member: a
// zombie's are refused and its transaction must abort.
func TestSendOffsetsToTransactionWithGroup(t *testing.T) {
	env := newTestEnv(t)
	in := env.topic(2)
	out := env.topic(1)
	group := fmt.Sprintf("group-%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A consumer of in joins the group; its first fetch means it has.
	seed := env.producer()
	f, err := seed.Send(ctx, Record{Topic: in, Partition: new(int32), Value: []byte("x")})
	require.NoError(t, err)
	_, err = f.Get(ctx)
	require.NoError(t, err)
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.addrs...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(in),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	for fs := cl.PollFetches(ctx); fs.NumRecords() == 0; fs = cl.PollFetches(ctx) {
		require.NoError(t, ctx.Err())
	}
	member, gen := cl.GroupMetadata()
	require.NotEmpty(t, member)

	p := env.producer(TransactionalID(txnID(t)))
	require.NoError(t, p.InitTransactions(ctx))
	offsets := map[TopicPartition]OffsetAndMetadata{{in, 0}: {Offset: 1, LeaderEpoch: -1}}

	// The current member commits.
	require.NoError(t, p.BeginTransaction())
	txnRecords(t, p, out, "ok", 1)
	require.NoError(t, p.SendOffsetsToTransactionWithGroup(ctx, offsets,
		ConsumerGroupMetadata{GroupID: group, GenerationID: gen, MemberID: member}))
	require.NoError(t, p.CommitTransaction(ctx))
	require.Equal(t, map[int32]int64{0: 1}, committedOffsets(t, env, group, in))

	// A member of an older generation, or one the group does not know, is
	// refused; the transaction aborts and the offsets stay as they were.
	for _, zombie := range []ConsumerGroupMetadata{
		{GroupID: group, GenerationID: gen - 1, MemberID: member},
		{GroupID: group, GenerationID: gen, MemberID: "gone"},
	} {
		require.NoError(t, p.BeginTransaction())
		txnRecords(t, p, out, "zombie", 1)
		err := p.SendOffsetsToTransactionWithGroup(ctx, map[TopicPartition]OffsetAndMetadata{{in, 0}: {Offset: 5, LeaderEpoch: -1}}, zombie)
		require.ErrorIs(t, err, ErrTransactionAbortable, "%+v", zombie)
		require.True(t, errors.Is(err, IllegalGeneration) || errors.Is(err, UnknownMemberID), "%+v: %v", zombie, err)
		require.NoError(t, p.AbortTransaction(ctx))
		require.Equal(t, map[int32]int64{0: 1}, committedOffsets(t, env, group, in))
	}
	requireCommitted(t, env, out, "ok", 1)
}

// Close while CommitTransaction waits for the coordinator: the commit
// fails with ErrProducerClosed instead of retrying on new connections, and
// nothing of the transaction manager outlives Close.
func TestCloseDuringCommit(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producerFor(topic, TransactionalID(txnID(t)), MaxBlock(3*time.Second), RetryBackoff(20*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	require.NoError(t, p.InitTransactions(ctx))
	require.NoError(t, p.BeginTransaction())
	txnRecords(t, p, topic, "a", 5)
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	defer close(release)
	fake.ControlKey(int16(kmsg.EndTxn), func(kmsg.Request) (kmsg.Response, error, bool) {
		arrived <- struct{}{}
		fake.SleepControl(func() { <-release })
		return nil, nil, false
	})
	done := make(chan error, 1)
	go func() { done <- p.CommitTransaction(ctx) }()
	<-arrived
	cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
	defer ccancel()
	require.NoError(t, p.Close(cctx))
	select {
	case err := <-done:
		require.ErrorIs(t, err, ErrProducerClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("CommitTransaction did not return after Close")
	}
	requireNoProducerGoroutines(t)
}

// A second producer with the same transactional_id fences the first while
// its CommitTransaction flushes: the commit reports the fencing, the
// producer stays fatal, and its AbortTransaction does not go to the
// coordinator (it was told the transaction could be aborted before).
func TestFencedDuringCommitFlushStaysFatal(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	id := txnID(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := env.producerFor(topic, TransactionalID(id), Linger(time.Millisecond), MaxBlock(5*time.Second))
	require.NoError(t, a.InitTransactions(ctx))
	require.NoError(t, a.BeginTransaction())
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	var once atomic.Bool
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		if once.CompareAndSwap(false, true) {
			arrived <- struct{}{}
			fake.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})
	futs := txnRecords(t, a, topic, "a", 5)
	commitDone := make(chan error, 1)
	go func() { commitDone <- a.CommitTransaction(ctx) }()
	<-arrived
	b := env.producer(TransactionalID(id))
	require.NoError(t, b.InitTransactions(ctx)) // fences a
	close(release)
	err := <-commitDone
	for _, f := range futs {
		_, _ = f.Get(ctx)
	}
	require.ErrorIs(t, err, ProducerFenced)
	require.NotErrorIs(t, err, ErrTransactionAbortable)
	require.Equal(t, txnStateNames[txnFatal], txnStateNames[a.txn.state.Load()])
	endTxns := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.EndTxn}, Observe: true, Count: -1})
	require.ErrorIs(t, a.AbortTransaction(ctx), ProducerFenced)
	require.Zero(t, endTxns.Hits(), "the fenced producer's abort went to the coordinator")
}

// A CommitTransaction whose context ends while its EndTxn is out leaves
// the producer committing, as in the Java client: the coordinator may
// commit, so Sends fail with ErrTransactionState until a retried commit
// succeeds, and then the transaction's records are committed once.
func TestCommitTimeoutLeavesTheProducerCommitting(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producerFor(topic, TransactionalID(txnID(t)), Linger(time.Millisecond), MaxBlock(5*time.Second),
		RetryBackoff(20*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, p.InitTransactions(ctx))
	require.NoError(t, p.BeginTransaction())
	txnRecords(t, p, topic, "a", 5)
	require.NoError(t, p.Flush(ctx))
	release := make(chan struct{})
	var once atomic.Bool
	fake.ControlKey(int16(kmsg.EndTxn), func(kmsg.Request) (kmsg.Response, error, bool) {
		if once.CompareAndSwap(false, true) {
			fake.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})
	cctx, ccancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err := p.CommitTransaction(cctx)
	ccancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	close(release) // the coordinator commits now
	_, err = p.Send(ctx, Record{Topic: topic, Key: []byte("k"), Value: []byte("b")})
	require.ErrorIs(t, err, ErrTransactionState)
	require.ErrorIs(t, p.AbortTransaction(ctx), ErrTransactionState)
	require.NoError(t, p.CommitTransaction(ctx))
	requireCommitted(t, env, topic, "a", 5)
	require.NoError(t, p.BeginTransaction())
}
