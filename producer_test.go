package kafka

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kpgo/kafka/protocol"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type sent struct {
	rec Record
	md  RecordMetadata
}

// recordShapes returns records of every shape the producer must carry
// byte for byte.
func recordShapes(topic string, maxValue int) []Record {
	ts := time.UnixMilli(1700000000123)
	big := bytes.Repeat([]byte("v"), maxValue)
	return []Record{
		{Topic: topic, Value: []byte("value only")},
		{Topic: topic, Key: []byte("key only")},
		{Topic: topic, Key: []byte("k"), Value: []byte{}},
		{Topic: topic, Key: []byte{}, Value: []byte("empty key")},
		{Topic: topic, Key: []byte("hdrs"), Value: []byte("v"), Headers: []Header{{Key: "a", Value: []byte("1")}, {Key: "nil", Value: nil}, {Key: "", Value: []byte{}}}},
		{Topic: topic, Key: []byte("ts"), Value: []byte("explicit timestamp"), Timestamp: ts},
		{Topic: topic, Key: []byte("older"), Value: []byte("older timestamp"), Timestamp: ts.Add(-time.Hour)},
		{Topic: topic, Value: []byte("partition 0"), Partition: new(int32(0))},
		{Topic: topic, Value: []byte("partition 2"), Partition: new(int32(2))},
		{Topic: topic, Key: []byte("big"), Value: big},
		{Topic: topic, Key: []byte("after big"), Value: []byte("x")},
	}
}

// checkReadBack compares what kgo read with what was sent: bytes, headers,
// timestamps, and the offsets the futures gave.
func checkReadBack(t *testing.T, sentRecs []sent, got []*kgo.Record, acks int) {
	t.Helper()
	type pos struct {
		p int32
		o int64
	}
	byPos := map[pos]*kgo.Record{}
	for _, r := range got {
		byPos[pos{r.Partition, r.Offset}] = r
	}
	lastOffset := map[int32]int64{}
	for i, s := range sentRecs {
		if acks == AcksNone {
			require.Equal(t, int64(-1), s.md.Offset)
			continue
		}
		r := byPos[pos{s.md.Partition, s.md.Offset}]
		require.NotNil(t, r, "record %d at %d/%d not read back", i, s.md.Partition, s.md.Offset)
		require.Equal(t, s.rec.Key, r.Key, "key of record %d", i)
		require.Equal(t, s.rec.Value, r.Value, "value of record %d", i)
		if s.rec.Key == nil {
			require.Nil(t, r.Key)
		}
		if s.rec.Value == nil {
			require.Nil(t, r.Value)
		}
		require.Len(t, r.Headers, len(s.rec.Headers))
		for j, h := range s.rec.Headers {
			require.Equal(t, h.Key, r.Headers[j].Key)
			require.Equal(t, h.Value, r.Headers[j].Value)
		}
		if !s.rec.Timestamp.IsZero() {
			require.Equal(t, s.rec.Timestamp.UnixMilli(), r.Timestamp.UnixMilli())
			require.Equal(t, s.rec.Timestamp.UnixMilli(), s.md.Timestamp.UnixMilli())
		}
		if s.rec.Partition != nil {
			require.Equal(t, *s.rec.Partition, s.md.Partition)
		}
		// Order per partition: offsets grow in send order.
		if last, ok := lastOffset[s.md.Partition]; ok {
			require.Greater(t, s.md.Offset, last, "order in partition %d", s.md.Partition)
		}
		lastOffset[s.md.Partition] = s.md.Offset
	}
}

func TestProduceShapesCodecsAcks(t *testing.T) {
	env := newTestEnv(t)
	const maxReq = 256 << 10
	for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		for _, acks := range []int{AcksAll, AcksLeader, AcksNone} {
			t.Run(fmt.Sprintf("%s/acks=%d", codec, acks), func(t *testing.T) {
				topic := env.topic(3)
				p := env.producer(CompressionType(codec), Acks(acks), Linger(5*time.Millisecond), MaxRequestSize(maxReq))
				ctx := context.Background()
				// A value as large as max_request_size allows, less the
				// record and batch overhead.
				recs := recordShapes(topic, maxReq-200)
				var out []sent
				var futs []Future
				for round := 0; round < 3; round++ {
					for _, r := range recs {
						f, err := p.Send(ctx, r)
						require.NoError(t, err)
						futs = append(futs, f)
						out = append(out, sent{rec: r})
					}
				}
				require.NoError(t, p.Flush(ctx))
				for i, f := range futs {
					require.True(t, f.IsDone())
					md, err := f.Get(ctx)
					require.NoError(t, err)
					require.Equal(t, topic, md.Topic)
					out[i].md = md
				}
				if acks == AcksNone {
					checkReadBack(t, out, nil, acks)
					env.consume(topic, len(out))
					return
				}
				checkReadBack(t, out, env.consume(topic, len(out)), acks)
			})
		}
	}
}

func TestMurmur2Vectors(t *testing.T) {
	// kafka-python's test vectors for its default partitioner, with 1000
	// partitions.
	cases := map[string]int32{"": 681, "a": 524, "ab": 434, "abc": 107, "123456789": 566, "\x00 ": 742}
	var p DefaultPartitioner
	for key, want := range cases {
		require.Equal(t, want, p.Partition("t", []byte(key), 1000, nil), "key %q", key)
	}
	require.Equal(t, AnyPartition, p.Partition("t", nil, 10, nil))
}

func TestKeyedRecordsLandOnMurmur2Partition(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(12)
	p := env.producer()
	ctx := context.Background()
	var futs []Future
	var keys [][]byte
	for i := 0; i < 500; i++ {
		k := []byte(fmt.Sprintf("key-%d", i))
		f, err := p.Send(ctx, Record{Topic: topic, Key: k, Value: []byte("v")})
		require.NoError(t, err)
		futs = append(futs, f)
		keys = append(keys, k)
	}
	for i, f := range futs {
		md, err := f.Get(ctx)
		require.NoError(t, err)
		want := int32((Murmur2(keys[i]) & 0x7fffffff) % 12)
		require.Equal(t, want, md.Partition, "key %s", keys[i])
	}
	got := env.consume(topic, len(futs))
	for _, r := range got {
		require.Equal(t, int32((Murmur2(r.Key)&0x7fffffff)%12), r.Partition)
	}
}

func TestStickyPartitionerSpreadsKeylessRecords(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(6)
	p := env.producer(BatchSize(1024))
	ctx := context.Background()
	seen := map[int32]int{}
	var futs []Future
	for i := 0; i < 3000; i++ {
		f, err := p.Send(ctx, Record{Topic: topic, Value: bytes.Repeat([]byte{'x'}, 50)})
		require.NoError(t, err)
		futs = append(futs, f)
	}
	for _, f := range futs {
		md, err := f.Get(ctx)
		require.NoError(t, err)
		seen[md.Partition]++
	}
	// About 150 KB over 1 KB batches moves partitions many times.
	require.Greater(t, len(seen), 3, "keyless records stuck to too few partitions: %v", seen)
}

// partitioner_ignore_keys (KIP-794) spreads keyed records as keyless ones;
// a custom partitioner is used as it is.
func TestPartitionerIgnoreKeys(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(6)
	spread := func(opts ...Option) map[int32]int {
		t.Helper()
		p := env.producer(append([]Option{BatchSize(1024)}, opts...)...)
		ctx := context.Background()
		var futs []Future
		for i := 0; i < 3000; i++ {
			f, err := p.Send(ctx, Record{Topic: topic, Key: []byte("one key"), Value: bytes.Repeat([]byte{'x'}, 50)})
			require.NoError(t, err)
			futs = append(futs, f)
		}
		seen := map[int32]int{}
		for _, f := range futs {
			md, err := f.Get(ctx)
			require.NoError(t, err)
			seen[md.Partition]++
		}
		return seen
	}
	require.Len(t, spread(), 1)
	require.Greater(t, len(spread(PartitionerIgnoreKeys(true))), 3)
	opts, err := OptionsFromMap(map[string]string{"partitioner.ignore.keys": "true"})
	require.NoError(t, err)
	require.Greater(t, len(spread(opts...)), 3)
	two := WithPartitioner(PartitionerFunc(func(string, []byte, int, []int32) int32 { return 2 }))
	require.Equal(t, map[int32]int{2: 3000}, spread(PartitionerIgnoreKeys(true), two))
}

func TestConcurrentSends(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(12)
	p := env.producer(Linger(2 * time.Millisecond))
	const goroutines, total = 16, 200_000
	ctx := context.Background()
	var wg sync.WaitGroup
	var resolved, failed atomic.Int64
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			futs := make([]Future, 0, total/goroutines)
			for i := 0; i < total/goroutines; i++ {
				f, err := p.Send(ctx, Record{Topic: topic, Key: []byte(fmt.Sprintf("g%d", g)), Value: []byte(fmt.Sprintf("%d-%d", g, i))})
				if err != nil {
					t.Errorf("send: %v", err)
					return
				}
				futs = append(futs, f)
			}
			last := int64(-1)
			for _, f := range futs {
				md, err := f.Get(ctx)
				resolved.Add(1)
				if err != nil {
					failed.Add(1)
					continue
				}
				// One key per goroutine: one partition, offsets in send order.
				if md.Offset <= last {
					t.Errorf("goroutine %d: offset %d after %d", g, md.Offset, last)
				}
				last = md.Offset
			}
		}(g)
	}
	wg.Wait()
	require.Equal(t, int64(total), resolved.Load())
	require.Zero(t, failed.Load())
	m := p.MetricsSnapshot()
	require.Equal(t, int64(total), m.RecordsSent)
}

func TestProduceCallbackForm(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(2)
	p := env.producer()
	ctx := context.Background()
	var mu sync.Mutex
	got := map[string]RecordMetadata{}
	for i := 0; i < 100; i++ {
		v := fmt.Sprintf("v%d", i)
		err := p.Produce(ctx, Record{Topic: topic, Value: []byte(v)}, func(md RecordMetadata, err error) {
			require.NoError(t, err)
			mu.Lock()
			got[v] = md
			mu.Unlock()
		})
		require.NoError(t, err)
	}
	require.NoError(t, p.Flush(ctx))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 100)
	for _, r := range env.consume(topic, 100) {
		md := got[string(r.Value)]
		require.Equal(t, r.Partition, md.Partition)
		require.Equal(t, r.Offset, md.Offset)
	}
}

func TestFutureCallbacks(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	p := env.producer(Linger(50 * time.Millisecond))
	ctx := context.Background()
	f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
	require.NoError(t, err)
	okCh := make(chan RecordMetadata, 2)
	f.AddCallback(func(md RecordMetadata) { okCh <- md })
	f.AddErrback(func(err error) { t.Errorf("errback on success: %v", err) })
	<-f.Done()
	md := <-okCh
	require.Equal(t, int64(0), md.Offset)
	require.Equal(t, int32(-1), md.SerializedKeySize)
	require.Equal(t, int32(1), md.SerializedValueSize)
	// Already done: runs at once, on this goroutine.
	f.AddCallback(func(md RecordMetadata) { okCh <- md })
	require.Equal(t, md, <-okCh)
}

func TestSendErrors(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(3)
	p := env.producer(MaxRequestSize(10_000), MaxBlock(300*time.Millisecond), AllowAutoCreateTopics(false))
	ctx := context.Background()
	cases := []struct {
		name string
		rec  Record
		want error
	}{
		{"empty topic", Record{Value: []byte("x")}, ErrInvalidRecord},
		{"bad topic", Record{Topic: "a/b", Value: []byte("x")}, ErrInvalidRecord},
		{"dot topic", Record{Topic: "..", Value: []byte("x")}, ErrInvalidRecord},
		{"nil key and value", Record{Topic: topic}, ErrInvalidRecord},
		{"timestamp before 1970", Record{Topic: topic, Value: []byte("x"), Timestamp: time.UnixMilli(-1)}, ErrInvalidRecord},
		{"too large", Record{Topic: topic, Value: make([]byte, 10_000)}, ErrRecordTooLarge},
		{"unknown partition", Record{Topic: topic, Value: []byte("x"), Partition: new(int32(3))}, ErrUnknownPartition},
		{"negative partition", Record{Topic: topic, Value: []byte("x"), Partition: new(int32(-2))}, ErrUnknownPartition},
		{"no metadata", Record{Topic: "does-not-exist", Value: []byte("x")}, ErrMetadataTimeout},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := p.Send(ctx, c.rec)
			require.ErrorIs(t, err, c.want)
			require.Less(t, time.Since(start), 5*time.Second)
		})
	}
	t.Run("metadata wait says why", func(t *testing.T) {
		p := env.producer(MaxBlock(time.Second), AllowAutoCreateTopics(false))
		_, err := p.Send(ctx, Record{Topic: "does-not-exist", Value: []byte("x")})
		require.ErrorIs(t, err, ErrMetadataTimeout)
		require.ErrorIs(t, err, UnknownTopicOrPartition, "the metadata answers' reason")
	})
	t.Run("ctx ends metadata wait", func(t *testing.T) {
		p := env.producer(AllowAutoCreateTopics(false))
		cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		_, err := p.Send(cctx, Record{Topic: "missing-topic", Value: []byte("x")})
		require.ErrorIs(t, err, ErrMetadataTimeout)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorIs(t, err, UnknownTopicOrPartition, "the reason, as when max_block_ms ends the wait")
	})
	t.Run("closed", func(t *testing.T) {
		p := env.producer()
		require.NoError(t, p.Close(ctx))
		_, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
		require.ErrorIs(t, err, ErrProducerClosed)
		require.NoError(t, p.Close(ctx), "Close is idempotent")
	})
}

// A topic without metadata is asked about while a Send waits for it (it
// may be being created), and not after the Send gave up: one Send to a
// misspelt topic must not have the producer poll the cluster every
// retry_backoff_ms for the rest of its life.
func TestMissingTopicIsAskedAboutOnlyWhileASendWaits(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	p := env.producer(MaxBlock(10*time.Second), AllowAutoCreateTopics(false), RetryBackoff(20*time.Millisecond))
	ctx := context.Background()
	name := fmt.Sprintf("created-later-%d", rand.IntN(1<<30))
	created := make(chan struct{})
	go func() {
		defer close(created)
		time.Sleep(300 * time.Millisecond)
		env.createTopic(name, 1)
	}()
	f, err := p.Send(ctx, Record{Topic: name, Value: []byte("waited")})
	<-created
	require.NoError(t, err, "the Send waited for the topic to be created")
	_, err = f.Get(ctx)
	require.NoError(t, err)

	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = p.Send(cctx, Record{Topic: "never-created", Value: []byte("x")})
	cancel()
	require.ErrorIs(t, err, ErrMetadataTimeout)
	h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Metadata}, Observe: true, Count: -1})
	time.Sleep(time.Second)
	// One may have been on its way when the Send gave up.
	require.LessOrEqual(t, h.Hits(), 1, "metadata requests after the Send gave up")
}

// observeMetadata records the topics of every Metadata request fake
// answers; last returns the latest list.
func observeMetadata(fake *kfake.Cluster) (last func() []string, total func() int) {
	var mu sync.Mutex
	var asked [][]string
	fake.ControlKey(int16(kmsg.Metadata), func(r kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		names := []string{}
		for _, t := range r.(*kmsg.MetadataRequest).Topics {
			if t.Topic != nil {
				names = append(names, *t.Topic)
			}
		}
		mu.Lock()
		asked = append(asked, names)
		mu.Unlock()
		return nil, nil, false
	})
	last = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return asked[len(asked)-1]
	}
	total = func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, a := range asked {
			n += len(a)
		}
		return n
	}
	return last, total
}

// A topic no record went to for metadata_max_idle_ms drops out of the
// metadata requests (KIP-526) and comes back with its next record, which
// its kept metadata delivers meanwhile.
func TestIdleTopicLeavesMetadataRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out metadata_max_idle_ms's 5 s minimum")
	}
	env := newTestEnv(t)
	fake := env.needFake()
	active, idle := env.topic(1), env.topic(1)
	lastAsked, _ := observeMetadata(fake)
	p := env.producer(MetadataMaxIdle(5*time.Second), RetryBackoff(10*time.Millisecond))
	ctx := context.Background()
	send := func(topic string) {
		t.Helper()
		f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
		require.NoError(t, err)
		_, err = f.Get(ctx)
		require.NoError(t, err)
	}
	// A refused record asks for every topic in use.
	refresh := func() {
		t.Helper()
		fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: active, Err: kerr.NotLeaderForPartition})
		send(active)
	}
	send(active)
	send(idle)
	for start := time.Now(); time.Since(start) < 5500*time.Millisecond; {
		send(active)
		time.Sleep(100 * time.Millisecond)
	}
	refresh()
	require.Equal(t, []string{active}, lastAsked(), "the idle topic is left out")

	send(idle)
	refresh()
	require.ElementsMatch(t, []string{active, idle}, lastAsked(), "back once a record went to it")
}

// The backoff between metadata requests grows while a Send waits for a
// topic that does not exist, but it is for asking about that topic again:
// a topic never asked about is asked about at once, during that wait and
// after it gave up. Before, it waited out the other topic's backoff,
// seconds with this retry_backoff_max_ms.
func TestMissingTopicsBackoffDoesNotDelayOthers(t *testing.T) {
	env := newTestEnv(t)
	p := env.producer(MaxBlock(6*time.Second), RetryBackoff(50*time.Millisecond), RetryBackoffMax(30*time.Second),
		AllowAutoCreateTopics(false))
	ctx := context.Background()
	missing := make(chan error, 1)
	go func() {
		_, err := p.Send(ctx, Record{Topic: fmt.Sprintf("missing-%d", time.Now().UnixNano()), Value: []byte("x")})
		missing <- err
	}()
	prompt := func(what string) {
		t.Helper()
		// Far below the backoff grown by then (2.5 s and more).
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := p.Send(sctx, Record{Topic: env.topic(1), Value: []byte("x")})
		require.NoError(t, err, what)
	}
	time.Sleep(4 * time.Second)
	prompt("while the other Send waits")
	err := <-missing
	require.ErrorIs(t, err, ErrMetadataTimeout)
	require.ErrorIs(t, err, UnknownTopicOrPartition)
	prompt("after the other Send gave up")
}

// A metadata_max_age_ms below the sender's one-second tick is kept too:
// an idle producer asks again every age, not every second.
func TestShortMetadataMaxAge(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	var asked atomic.Int32
	fake.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		asked.Add(1)
		return nil, nil, false
	})
	p := env.producer(MetadataMaxAge(50 * time.Millisecond))
	ctx := context.Background()
	f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
	require.NoError(t, err)
	_, err = f.Get(ctx)
	require.NoError(t, err)
	before := asked.Load()
	// Eight take about 400 ms at one every 50 ms, and eight seconds
	// at the loop's one a second. Four seconds leave room for a slow
	// machine, where one refresh can fail and back off for up to
	// retry_backoff_max_ms (a CI run once saw none in a second).
	deadline := time.Now().Add(4 * time.Second)
	for asked.Load()-before < 8 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.GreaterOrEqual(t, asked.Load()-before, int32(8))
}

// The first record to each of many topics asks about that topic alone,
// not about every topic the producer knows (KIP-526's partial update):
// asking about all of them made warming up n topics cost n² entries.
func TestNewTopicsAreAskedAboutAlone(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	const n = 40
	var topics []string
	for range n {
		topics = append(topics, env.topic(1))
	}
	lastAsked, total := observeMetadata(fake)
	p := env.producer()
	ctx := context.Background()
	for _, topic := range topics {
		f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
		require.NoError(t, err)
		_, err = f.Get(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{topic}, lastAsked())
	}
	require.LessOrEqual(t, total(), 2*n, "topic entries over all metadata requests")
}

// A broker whose metadata lags answers with fewer partitions than we know
// of; the topic id tells it apart from a topic created again.
func TestPadTopicMeta(t *testing.T) {
	old := &topicMeta{id: protocol.UUID{1}, partitions: []partitionMeta{{0, 1}, {1, 1}, {-1, 1}, {2, 1}}, available: []int32{0, 1, 3}}
	lag := &topicMeta{id: protocol.UUID{1}, partitions: []partitionMeta{{2, 2}, {1, 2}}, available: []int32{0, 1}}
	got := padTopicMeta(lag, old)
	require.Equal(t, []partitionMeta{{2, 2}, {1, 2}, {-1, 1}, {2, 1}}, got.partitions)
	require.Equal(t, []int32{0, 1, 3}, got.available)
	require.Len(t, lag.partitions, 2, "the answer itself is left as it was")
}

// A record for a partition just added to its topic waits for the metadata
// that shows it, as in the Java client, instead of failing until the next
// periodic refresh (metadata_max_age_ms, 5 minutes by default).
func TestSendWaitsForAddedPartition(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(2)
	p := env.producerFor(topic, MaxBlock(20*time.Second))
	ctx := context.Background()
	ts := topicStateOf(t, p, topic)
	require.NotNil(t, ts)

	grown := make(chan struct{})
	go func() {
		defer close(grown)
		// Let the Send below start waiting first.
		time.Sleep(300 * time.Millisecond)
		env.addPartitions(topic, 4)
	}()
	f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("new partition"), Partition: new(int32(3))})
	<-grown
	require.NoError(t, err)
	md, err := f.Get(ctx)
	require.NoError(t, err)
	require.Equal(t, int32(3), md.Partition)
	recs := env.consume(topic, 1)
	require.Equal(t, int32(3), recs[0].Partition)
	require.Equal(t, []byte("new partition"), recs[0].Value)
	require.Zero(t, ts.wantParts.Load(), "no Send waits, so the sender stops asking")

	t.Run("times out", func(t *testing.T) {
		p := env.producerFor(topic, MaxBlock(300*time.Millisecond), RetryBackoff(20*time.Millisecond))
		start := time.Now()
		_, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x"), Partition: new(int32(7))})
		require.ErrorIs(t, err, ErrUnknownPartition)
		require.ErrorIs(t, err, ErrMetadataTimeout)
		require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "it waited max_block_ms")
		require.Zero(t, topicStateOf(t, p, topic).wantParts.Load())
	})
	t.Run("ctx ends the wait", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := p.Send(cctx, Record{Topic: topic, Value: []byte("x"), Partition: new(int32(9))})
		require.ErrorIs(t, err, ErrUnknownPartition)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("close ends the wait", func(t *testing.T) {
		p := env.producerFor(topic)
		errc := make(chan error, 1)
		go func() {
			_, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x"), Partition: new(int32(9))})
			errc <- err
		}()
		time.Sleep(100 * time.Millisecond)
		require.NoError(t, p.Close(ctx))
		require.ErrorIs(t, <-errc, ErrProducerClosed)
	})
}

func topicStateOf(t *testing.T, p *Producer, name string) *topicState {
	t.Helper()
	v, ok := p.acc.topics.Load(name)
	require.True(t, ok, "the producer knows topic %s", name)
	return v.(*topicState)
}

func TestBackPressure(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producer(BufferMemory(64<<10), BatchSize(16<<10), MaxBlock(300*time.Millisecond), Linger(0))
	ctx := context.Background()
	// Learn the metadata first so the stall only hits produce requests.
	_, err := p.PartitionsFor(ctx, topic)
	require.NoError(t, err)

	release := make(chan struct{})
	var stalled atomic.Int32
	fake.ControlKey(0, func(kreq kmsgRequest) (kmsgResponse, error, bool) {
		fake.KeepControl()
		if stalled.Add(1) == 1 {
			fake.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})
	var futs []Future
	var sendErr error
	start := time.Now()
	for i := 0; i < 1000; i++ {
		f, err := p.Send(ctx, Record{Topic: topic, Value: make([]byte, 1000)})
		if err != nil {
			sendErr = err
			break
		}
		futs = append(futs, f)
	}
	require.ErrorIs(t, sendErr, ErrBufferFull)
	require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "Send blocked for max_block_ms")
	// Memory stayed bounded: fewer records buffered than the buffer holds.
	require.LessOrEqual(t, len(futs)*1000, 64<<10)

	// A context ending first ends the wait too.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = p.Send(cctx, Record{Topic: topic, Value: make([]byte, 1000)})
	cancel()
	require.ErrorIs(t, err, ErrBufferFull)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	close(release)
	for _, f := range futs {
		_, err := f.Get(ctx)
		require.NoError(t, err)
	}
}

// queue_buffering_max_messages bounds the records buffered: a Send beyond
// it waits for room up to max_block_ms, a Send that fails gives its place
// back, and room returns as records are acknowledged.
func TestMaxBufferedRecords(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	p := env.producer(MaxBufferedRecords(10), Linger(time.Hour), MaxBlock(100*time.Millisecond))
	ctx := context.Background()
	_, err := p.PartitionsFor(ctx, topic)
	require.NoError(t, err)
	var futs []Future
	for range 10 {
		f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
		require.NoError(t, err)
		futs = append(futs, f)
	}
	for range 3 {
		_, err = p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
		require.ErrorIs(t, err, ErrBufferFull)
		require.Contains(t, err.Error(), "queue_buffering_max_messages")
	}
	require.Equal(t, int64(0), p.acc.records.available(), "failed Sends took no place")
	require.NoError(t, p.Flush(ctx))
	for _, f := range futs {
		_, err := f.Get(ctx)
		require.NoError(t, err)
	}
	require.Equal(t, int64(10), p.acc.records.available())
	_, err = p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
	require.NoError(t, err)

	// A Send that fails for want of buffer_memory gives its record's
	// place back too.
	fake := env.needFake()
	release := make(chan struct{})
	defer close(release)
	fake.ControlKey(0, func(kmsgRequest) (kmsgResponse, error, bool) {
		fake.KeepControl()
		fake.SleepControl(func() { <-release })
		return nil, nil, false
	})
	p = env.producer(MaxBufferedRecords(100), BufferMemory(32<<10), BatchSize(16<<10), Linger(time.Hour), MaxBlock(100*time.Millisecond))
	_, err = p.PartitionsFor(ctx, topic)
	require.NoError(t, err)
	sent := 0
	for ; sent < 100; sent++ {
		if _, err = p.Send(ctx, Record{Topic: topic, Value: make([]byte, 10_000)}); err != nil {
			break
		}
	}
	require.ErrorIs(t, err, ErrBufferFull)
	require.Contains(t, err.Error(), "buffer_memory")
	require.Equal(t, int64(100-sent), p.acc.records.available())
}

func TestCloseWithBufferedRecords(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(2)
	p, err := NewProducer(BootstrapServers(env.addrs...), Linger(time.Hour), BatchSize(1<<20))
	require.NoError(t, err)
	ctx := context.Background()
	var futs []Future
	for i := 0; i < 1000; i++ {
		f, err := p.Send(ctx, Record{Topic: topic, Value: []byte(fmt.Sprintf("%d", i))})
		require.NoError(t, err)
		futs = append(futs, f)
	}
	// Close flushes despite the hour of linger.
	require.NoError(t, p.Close(ctx))
	for _, f := range futs {
		_, err := f.Get(ctx)
		require.NoError(t, err)
	}

	// Now a broker that never answers: Close gives up at its deadline and
	// fails what is left with ErrProducerClosed.
	p, err = NewProducer(BootstrapServers(env.addrs...), Linger(time.Hour))
	require.NoError(t, err)
	_, err = p.PartitionsFor(ctx, topic)
	require.NoError(t, err)
	block := make(chan struct{})
	defer close(block)
	fake.ControlKey(0, func(kmsgRequest) (kmsgResponse, error, bool) {
		fake.KeepControl()
		fake.SleepControl(func() { <-block })
		return nil, nil, false
	})
	futs = futs[:0]
	for i := 0; i < 100; i++ {
		f, err := p.Send(ctx, Record{Topic: topic, Value: []byte("x")})
		require.NoError(t, err)
		futs = append(futs, f)
	}
	n, _ := producerGoroutines()
	require.Positive(t, n, "the producer's goroutines are counted")
	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = p.Close(cctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second, "Close returned within its context")
	for _, f := range futs {
		require.True(t, f.IsDone(), "every future resolved")
		_, err := f.Get(ctx)
		require.ErrorIs(t, err, ErrProducerClosed)
	}
	// Every batch buffer came back, so the arena (where there is one)
	// went back to the system.
	require.Nil(t, p.acc.pool.arena)
	require.Zero(t, p.acc.pool.arenaOut)
	// No goroutine of either producer is left. Counting only the
	// producer's own keeps kfake's, still serving the held request, out.
	requireNoProducerGoroutines(t)
}

func TestPartitionsForAndBootstrapConnected(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(5)
	p := env.producer()
	require.False(t, p.BootstrapConnected())
	parts, err := p.PartitionsFor(context.Background(), topic)
	require.NoError(t, err)
	require.Equal(t, []int32{0, 1, 2, 3, 4}, parts)
	require.True(t, p.BootstrapConnected())
}

func TestUnreachableBootstrap(t *testing.T) {
	p, err := NewProducer(BootstrapServers("127.0.0.1:1"), MaxBlock(300*time.Millisecond))
	require.NoError(t, err)
	defer p.Close(context.Background())
	_, err = p.Send(context.Background(), Record{Topic: "t", Value: []byte("x")})
	require.ErrorIs(t, err, ErrMetadataTimeout)
	// The error says why, or a typo in bootstrap_servers would read like
	// a missing topic.
	require.ErrorIs(t, err, ErrBrokerUnreachable)
	require.Contains(t, err.Error(), "127.0.0.1:1")
	require.False(t, p.BootstrapConnected())
}

func TestTypedProducer(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	type event struct {
		Action string `json:"action"`
	}
	p, err := NewTypedProducer(StringSerializer(), JSONSerializer[event](), BootstrapServers(env.addrs...))
	require.NoError(t, err)
	defer p.Close(context.Background())
	ctx := context.Background()
	f, err := p.Send(ctx, topic, "user123", event{Action: "login"})
	require.NoError(t, err)
	md, err := f.Get(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(0), md.Offset)
	got := env.consume(topic, 1)
	require.Equal(t, "user123", string(got[0].Key))
	require.JSONEq(t, `{"action":"login"}`, string(got[0].Value))

	bad, err := NewTypedProducer(StringSerializer(), JSONSerializer[any](), BootstrapServers(env.addrs...))
	require.NoError(t, err)
	defer bad.Close(ctx)
	_, err = bad.Send(ctx, topic, "k", make(chan int))
	require.ErrorIs(t, err, ErrSerialization)
}

func TestSendAllocations(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	p := env.producer(Linger(time.Hour), BatchSize(1<<20), BufferMemory(256<<20), Acks(AcksLeader))
	ctx := context.Background()
	rec := Record{Topic: topic, Key: []byte("key"), Value: bytes.Repeat([]byte("v"), 100)}
	_, err := p.Send(ctx, rec)
	require.NoError(t, err)
	// Warm the batch buffer, then measure the steady state.
	for i := 0; i < 1000; i++ {
		_, _ = p.Send(ctx, rec)
	}
	sendAllocs := testing.AllocsPerRun(2000, func() {
		if _, err := p.Send(ctx, rec); err != nil {
			t.Fatal(err)
		}
	})
	cb := func(RecordMetadata, error) {}
	produceAllocs := testing.AllocsPerRun(2000, func() {
		if err := p.Produce(ctx, rec, cb); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocations per record: Send %.2f, Produce %.2f", sendAllocs, produceAllocs)
	// Send returns its future by value: no allocation per record. The
	// callback form keeps callbacks in a slice reused per batch; appending
	// to it grows amortized, below one allocation per record.
	require.LessOrEqual(t, sendAllocs, 0.0)
	require.Less(t, produceAllocs, 0.1)
	require.NoError(t, p.Flush(ctx))
}

// A Close made while another is still running waits for it only as long
// as its own context allows.
func TestConcurrentCloseKeepsItsOwnContext(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(1)
	p := env.producerFor(topic)
	block := make(chan struct{})
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		fake.SleepControl(func() { <-block })
		return nil, nil, false
	})
	f, err := p.Send(context.Background(), Record{Topic: topic, Value: []byte("x")})
	require.NoError(t, err)
	long, cancelLong := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancelLong()
	first := make(chan error, 1)
	go func() { first <- p.Close(long) }()
	require.Eventually(t, p.closed.Load, 5*time.Second, time.Millisecond)
	short, cancelShort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelShort()
	require.ErrorIs(t, p.Close(short), context.DeadlineExceeded)
	select {
	case err := <-first:
		t.Fatalf("the first Close ended (%v) while the broker held its record", err)
	default:
	}
	close(block)
	require.NoError(t, <-first)
	_, err = f.Get(context.Background())
	require.NoError(t, err)
	// Once the first has finished, later calls return its result at once.
	require.NoError(t, p.Close(short))
}
