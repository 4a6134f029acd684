package kafka

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Short names for kfake control functions' types.
type (
	kmsgRequest  = kmsg.Request
	kmsgResponse = kmsg.Response
)

// testEnv is a cluster for one test: an in-process kfake cluster of three
// brokers, or the real cluster named by KAFKA_BOOTSTRAP_SERVERS.
type testEnv struct {
	t     testing.TB
	addrs []string
	fake  *kfake.Cluster // nil against a real cluster
}

func newTestEnv(t testing.TB, opts ...kfake.Opt) *testEnv {
	t.Helper()
	if s := os.Getenv("KAFKA_BOOTSTRAP_SERVERS"); s != "" {
		return &testEnv{t: t, addrs: strings.Split(s, ",")}
	}
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(3)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return &testEnv{t: t, addrs: c.ListenAddrs(), fake: c}
}

// needFake skips a test that injects faults when it runs against a real
// cluster.
func (e *testEnv) needFake() *kfake.Cluster {
	e.t.Helper()
	if e.fake == nil {
		e.t.Skip("this test injects faults into kfake; KAFKA_BOOTSTRAP_SERVERS is set")
	}
	return e.fake
}

// topic creates a uniquely named topic with n partitions and returns its
// name, through an independent client (kgo).
func (e *testEnv) topic(n int32) string {
	e.t.Helper()
	name := fmt.Sprintf("test-%d-%d", time.Now().UnixNano(), rand.IntN(1<<30))
	e.createTopic(name, n)
	return name
}

// admin sends req to the cluster through an independent client (kgo) and
// returns the answer.
func (e *testEnv) admin(req kmsg.Request) kmsg.Response {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addrs...))
	require.NoError(e.t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := cl.Request(ctx, req)
	require.NoError(e.t, err)
	return resp
}

// createTopic creates topic name with n partitions.
func (e *testEnv) createTopic(name string, n int32) {
	e.t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic = name
	rt.NumPartitions = n
	rt.ReplicationFactor = 1
	if e.fake == nil {
		rt.ReplicationFactor = -1
	}
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10000
	resp := e.admin(req).(*kmsg.CreateTopicsResponse)
	require.Len(e.t, resp.Topics, 1)
	require.Zero(e.t, resp.Topics[0].ErrorCode, "create topic %s", name)
}

// addPartitions grows topic to total partitions.
func (e *testEnv) addPartitions(topic string, total int32) {
	e.t.Helper()
	req := kmsg.NewPtrCreatePartitionsRequest()
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic = topic
	rt.Count = total
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10000
	resp := e.admin(req).(*kmsg.CreatePartitionsResponse)
	require.Len(e.t, resp.Topics, 1)
	require.Zero(e.t, resp.Topics[0].ErrorCode, "create partitions of %s", topic)
}

// deleteTopic deletes topic.
func (e *testEnv) deleteTopic(topic string) {
	e.t.Helper()
	req := kmsg.NewPtrDeleteTopicsRequest()
	rt := kmsg.NewDeleteTopicsRequestTopic()
	rt.Topic = &topic
	req.Topics = append(req.Topics, rt)
	req.TopicNames = []string{topic}
	req.TimeoutMillis = 10000
	resp := e.admin(req).(*kmsg.DeleteTopicsResponse)
	require.Len(e.t, resp.Topics, 1)
	require.Zero(e.t, resp.Topics[0].ErrorCode, "delete topic %s", topic)
}

// producer starts a producer against the env and closes it at cleanup.
func (e *testEnv) producer(opts ...Option) *Producer {
	e.t.Helper()
	base := []Option{BootstrapServers(e.addrs...)}
	if f := os.Getenv("KAFKA_TEST_LOG_FILE"); f != "" {
		// Appended to, so that every producer of a run is in it.
		w, err := os.OpenFile(f, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		require.NoError(e.t, err)
		bw := &lockedWriter{w: bufio.NewWriterSize(w, 1<<20)}
		e.t.Cleanup(func() { bw.mu.Lock(); bw.w.Flush(); bw.mu.Unlock(); w.Close() })
		base = append(base, Logger(slog.New(slog.NewTextHandler(bw, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	} else if os.Getenv("KAFKA_TEST_LOG") != "" {
		base = append(base, Logger(slog.New(slog.NewTextHandler(testWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	p, err := NewProducer(append(base, opts...)...)
	require.NoError(e.t, err)
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	return p
}

// producerFor starts a producer with opts that already has topic's
// metadata, so a test's faults hit produce requests only.
func (e *testEnv) producerFor(topic string, opts ...Option) *Producer {
	e.t.Helper()
	p := e.producer(opts...)
	_, err := p.PartitionsFor(context.Background(), topic)
	require.NoError(e.t, err)
	return p
}

// consume reads n records of topic from the start with kgo, an independent
// consumer, failing the test if they do not come within the timeout.
func (e *testEnv) consume(topic string, n int) []*kgo.Record {
	e.t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(e.addrs...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond),
	)
	require.NoError(e.t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			e.t.Fatalf("consumed %d of %d records of %s: %v", len(out), n, topic, err)
		}
		for _, fe := range fs.Errors() {
			e.t.Fatalf("fetch %s-%d: %v", fe.Topic, fe.Partition, fe.Err)
		}
		out = append(out, fs.Records()...)
	}
	require.Len(e.t, out, n, "more records than produced")
	return out
}

// consumeExactly reads n records like consume, then keeps polling briefly
// to make sure no extra (duplicate) record follows.
func (e *testEnv) consumeExactly(topic string, n int) []*kgo.Record {
	e.t.Helper()
	return e.consumeExactlyWith(topic, n)
}

// consumeExactlyWith is consumeExactly with more consumer options (such as
// an isolation level).
func (e *testEnv) consumeExactlyWith(topic string, n int, opts ...kgo.Opt) []*kgo.Record {
	e.t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(e.addrs...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100 * time.Millisecond),
	}, opts...)...)
	require.NoError(e.t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []*kgo.Record
	var settle <-chan time.Time
	for {
		pctx := ctx
		var pcancel context.CancelFunc = func() {}
		if settle != nil {
			pctx, pcancel = context.WithTimeout(ctx, 300*time.Millisecond)
		}
		fs := cl.PollFetches(pctx)
		pcancel()
		for _, fe := range fs.Errors() {
			if errors.Is(fe.Err, context.DeadlineExceeded) {
				continue
			}
			e.t.Fatalf("fetch %s-%d: %v", fe.Topic, fe.Partition, fe.Err)
		}
		out = append(out, fs.Records()...)
		if ctx.Err() != nil {
			e.t.Fatalf("consumed %d of %d records of %s: %v; got %s", len(out), n, topic, ctx.Err(), describeRecords(out))
		}
		if len(out) >= n && settle == nil {
			settle = time.After(300 * time.Millisecond)
		}
		if settle != nil {
			select {
			case <-settle:
				require.Len(e.t, out, n, "records of %s: duplicates or extras", topic)
				return out
			default:
			}
		}
	}
}

// describeRecords summarises consumed records for a failure message: the
// partition, offset and value of each, runs of consecutive offsets merged.
func describeRecords(rs []*kgo.Record) string {
	var b strings.Builder
	for i := 0; i < len(rs); {
		j := i
		for j+1 < len(rs) && rs[j+1].Partition == rs[i].Partition && rs[j+1].Offset == rs[j].Offset+1 {
			j++
		}
		fmt.Fprintf(&b, "[p%d offsets %d..%d values %q..%q] ", rs[i].Partition, rs[i].Offset, rs[j].Offset, rs[i].Value, rs[j].Value)
		i = j + 1
	}
	return b.String()
}

// testWriter sends a producer's log to the test's log (KAFKA_TEST_LOG=1).
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// producerGoroutines counts the goroutines running or started by the
// library's own code (tests' goroutines, and the test closures kfake
// runs, are not counted) and returns their stacks.
func producerGoroutines() (int, string) {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var n int
	var out strings.Builder
	for _, g := range strings.Split(string(buf), "\n\n") {
		lines := strings.Split(g, "\n")
		ours := false
		for i := 1; i+1 < len(lines); i += 2 {
			fn := strings.TrimPrefix(lines[i], "created by ")
			file := strings.TrimSpace(lines[i+1])
			if strings.HasPrefix(fn, "github.com/kpgo/kafka.") && !strings.Contains(file, "_test.go:") {
				ours = true
			}
		}
		if ours {
			n++
			out.WriteString(g)
			out.WriteString("\n\n")
		}
	}
	return n, out.String()
}

// requireNoProducerGoroutines waits until none of the producer's
// goroutines is left: one past its WaitGroup's Done, which Close waits
// for, may still be on its way out.
func requireNoProducerGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, stacks := producerGoroutines()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of the producer left:\n%s", n, stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
