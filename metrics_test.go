package kafka

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestSensorWindows(t *testing.T) {
	c := &windowConfig{samples: 2, window: 30 * time.Second}
	var s sensor
	sec := func(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }
	s.record(c, 10, sec(0))
	s.record(c, 30, sec(1))
	st := s.measure(c, sec(10))
	require.Equal(t, 20.0, st.avg)
	require.Equal(t, 30.0, st.max)
	// 10 s of the first window, plus one whole window as the Java client
	// assumes (samples-1 full windows at least).
	require.InDelta(t, 40.0/40, st.rate, 1e-9)
	require.InDelta(t, 2.0/40, st.countRate, 1e-9)

	// A second window starts at 30 s; both count until the first is
	// samples × window old.
	s.record(c, 5, sec(35))
	st = s.measure(c, sec(40))
	require.InDelta(t, 45.0/3, st.avg, 1e-9)
	require.Equal(t, 30.0, st.max)
	require.InDelta(t, 45.0/40, st.rate, 1e-9) // oldest started at 0: 40 s, 1 full window

	// The third window recycles the first.
	s.record(c, 7, sec(66))
	st = s.measure(c, sec(70))
	require.InDelta(t, 6.0, st.avg, 1e-9)
	require.Equal(t, 7.0, st.max)
	require.InDelta(t, 12.0/35, st.rate, 1e-9) // oldest started at 35 s
	require.Equal(t, 52.0, st.total)
	require.Equal(t, int64(4), st.count)

	// Long after, everything is purged but the totals.
	st = s.measure(c, sec(500))
	require.Zero(t, st.avg)
	require.Zero(t, st.max)
	require.Zero(t, st.rate)
	require.Equal(t, 52.0, st.total)

	// An empty sensor reports zero, not a division by zero.
	var empty sensor
	require.Equal(t, stats{}, empty.measure(c, sec(1)))
}

func TestHistogramBuckets(t *testing.T) {
	prevHi := int64(0)
	for i := 0; i < histBuckets; i++ {
		lo, hi := histBounds(i)
		require.Equal(t, prevHi, lo, "bucket %d starts where %d ends", i, i-1)
		require.Equal(t, i, histIndex(lo))
		require.Equal(t, i, histIndex(hi-1))
		if lo >= 2*histSub {
			require.LessOrEqual(t, float64(hi-lo)/float64(lo), 1.0/histSub, "bucket %d width", i)
		}
		prevHi = hi
	}
	require.Equal(t, histBuckets-1, histIndex(1<<40))
}

func TestHistogramQuantiles(t *testing.T) {
	var h latencyHistogram
	for v := 1; v <= 10000; v++ {
		h.add(time.Duration(v) * time.Microsecond)
	}
	q := quantiles([]*latencyHistogram{&h}, []float64{0.5, 0.99, 0.999, 1})
	for i, want := range []float64{5000, 9900, 9990, 10000} {
		require.InEpsilon(t, want, float64(q[i].Microseconds()), 1.0/histSub, "quantile %d", i)
	}
	require.Equal(t, 10*time.Millisecond, q[3])

	// addSpread gives the same distribution as adding each value.
	var a, b latencyHistogram
	a.addSpread(100*time.Microsecond, 100*time.Millisecond, 1000)
	for k := 0; k < 1000; k++ {
		v := 100 + (100000-100)*k/999
		b.add(time.Duration(v) * time.Microsecond)
	}
	require.Equal(t, b.total, a.total)
	require.Equal(t, b.max, a.max)
	require.Equal(t, b.counts, a.counts)
	a.addSpread(time.Second, time.Second, 3)
	require.Equal(t, uint64(1003), a.total)
}

// hookRecorder implements every hook and counts what it is told.
type hookRecorder struct {
	buffered, completed, completedErr, batches, batchRecords, retriedBatches atomic.Int64
	requests, responses, opened, closed                                      atomic.Int64
	maxLatency                                                               atomic.Int64
}

var (
	_ HookRecordBuffered   = (*hookRecorder)(nil)
	_ HookBatchWritten     = (*hookRecorder)(nil)
	_ HookBrokerRequest    = (*hookRecorder)(nil)
	_ HookBrokerResponse   = (*hookRecorder)(nil)
	_ HookRecordCompleted  = (*hookRecorder)(nil)
	_ HookConnectionOpened = (*hookRecorder)(nil)
	_ HookConnectionClosed = (*hookRecorder)(nil)
)

func (h *hookRecorder) OnRecordBuffered(RecordBuffered) { h.buffered.Add(1) }
func (h *hookRecorder) OnBatchWritten(b BatchWritten) {
	h.batches.Add(1)
	h.batchRecords.Add(int64(b.Records))
	if b.Attempt > 1 {
		h.retriedBatches.Add(1)
	}
}
func (h *hookRecorder) OnBrokerRequest(BrokerRequest)   { h.requests.Add(1) }
func (h *hookRecorder) OnBrokerResponse(BrokerResponse) { h.responses.Add(1) }
func (h *hookRecorder) OnRecordCompleted(r RecordCompleted) {
	h.completed.Add(1)
	if r.Err != nil {
		h.completedErr.Add(1)
	}
	for {
		cur := h.maxLatency.Load()
		if int64(r.Latency) <= cur || h.maxLatency.CompareAndSwap(cur, int64(r.Latency)) {
			break
		}
	}
}
func (h *hookRecorder) OnConnectionOpened(ConnectionOpened) { h.opened.Add(1) }
func (h *hookRecorder) OnConnectionClosed(ConnectionClosed) { h.closed.Add(1) }

// logCounter is a slog handler that counts records by level and message.
type logCounter struct {
	mu     sync.Mutex
	levels map[slog.Level]int
	msgs   map[string]int
}

func newLogCounter() *logCounter {
	return &logCounter{levels: map[slog.Level]int{}, msgs: map[string]int{}}
}
func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.levels[r.Level]++
	l.msgs[r.Message]++
	l.mu.Unlock()
	return nil
}
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCounter) WithGroup(string) slog.Handler      { return l }
func (l *logCounter) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.msgs[msg]
}

// TestMetricsKnownWorkload sends 10,000 records to one topic in exactly
// 100 batches of 100 (one of them refused once with a retriable error),
// then 1,000 to another in 10 batches, and checks the totals exactly and
// the averages for sense.
func TestMetricsKnownWorkload(t *testing.T) {
	env := newTestEnv(t)
	fake := env.needFake()
	topicA, topicB := env.topic(1), env.topic(1)
	rec := new(hookRecorder)
	logs := newLogCounter()
	p := env.producer(
		BatchNumMessages(100), BatchSize(1<<20), Linger(time.Hour),
		// One request in flight, so the refused batch is the only one
		// retried (with more, the broker would also refuse the batches
		// behind it as out of sequence).
		MaxInFlightRequestsPerConnection(1),
		RetryBackoff(time.Millisecond), RetryBackoffMax(time.Millisecond),
		WithHooks(rec), Logger(slog.New(logs)),
	)
	ctx := context.Background()
	for _, topic := range []string{topicA, topicB} {
		_, err := p.PartitionsFor(ctx, topic)
		require.NoError(t, err)
	}
	fault := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topicA, Err: kerr.NotEnoughReplicas, Count: 1})
	value := make([]byte, 100)
	start := time.Now()
	send := func(topic string, n int) {
		var failed atomic.Int64
		for i := 0; i < n; i++ {
			err := p.Produce(ctx, Record{Topic: topic, Value: value}, func(_ RecordMetadata, err error) {
				if err != nil {
					failed.Add(1)
				}
			})
			require.NoError(t, err)
		}
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		require.NoError(t, p.Flush(fctx))
		require.Zero(t, failed.Load())
	}
	// One topic after the other, so no request carries both.
	send(topicA, 10_000)
	send(topicB, 1_000)
	elapsed := time.Since(start)
	require.Equal(t, 1, fault.Hits())

	s := p.MetricsSnapshot()
	pm := s.Producer
	// Exact totals.
	require.Equal(t, int64(11_000), s.RecordsSent)
	require.Equal(t, 11_000.0, pm["record-delivered-total"])
	require.Equal(t, 11_100.0, pm["record-send-total"], "the refused batch was sent twice")
	require.Equal(t, 100.0, pm["record-retry-total"])
	require.Equal(t, int64(100), s.RecordsRetried)
	require.Zero(t, pm["record-error-total"])
	require.Equal(t, int64(110), s.BatchesSent)
	require.Zero(t, s.BatchesFailed)
	require.Zero(t, pm["batch-split-total"])
	require.Equal(t, 100.0, pm["records-per-request-avg"], "one 100-record batch per request")
	require.Equal(t, float64(recordSizeBound(nil, value, nil)), pm["record-size-max"])
	require.Equal(t, float64(recordSizeBound(nil, value, nil)), pm["record-size-avg"])
	require.Equal(t, 1.0, pm["compression-rate-avg"], "no compression")
	require.Zero(t, pm["requests-in-flight"])
	require.Zero(t, pm["buffer-exhausted-total"])
	require.Equal(t, float64(32<<20), pm["buffer-total-bytes"])
	require.Equal(t, pm["buffer-total-bytes"], pm["buffer-available-bytes"], "everything released")

	// Sizes: 100 records of 100-byte values and small headers.
	require.GreaterOrEqual(t, pm["batch-size-avg"], 100.0*(100+7)+61)
	require.LessOrEqual(t, pm["batch-size-avg"], pm["batch-size-max"])
	require.LessOrEqual(t, pm["batch-size-max"], 100.0*float64(recordSizeBound(nil, value, nil))+61)
	require.InDelta(t, pm["byte-total"]/111, pm["batch-size-avg"], 1e-6*pm["byte-total"])

	// Requests: at least the 111 produce requests; every one answered.
	// A metadata request may still be out when Flush returns.
	require.Eventually(t, func() bool {
		s = p.MetricsSnapshot()
		return s.Requests == s.Responses
	}, 5*time.Second, time.Millisecond)
	pm = s.Producer
	require.GreaterOrEqual(t, s.Requests, int64(111))
	require.Equal(t, float64(s.Requests), pm["request-total"])
	require.Greater(t, pm["outgoing-byte-total"], pm["byte-total"], "requests carry the batches and more")
	require.Positive(t, pm["incoming-byte-total"])
	require.Positive(t, pm["request-latency-avg"])
	require.LessOrEqual(t, pm["request-latency-avg"], pm["request-latency-max"])
	require.LessOrEqual(t, pm["request-latency-max"], float64(elapsed.Milliseconds()+1))
	require.GreaterOrEqual(t, pm["record-queue-time-max"], pm["record-queue-time-avg"])
	require.GreaterOrEqual(t, pm["request-size-max"], pm["request-size-avg"])
	require.Greater(t, pm["request-size-avg"], 0.0)

	// Rates: everything happened within the first window, so the rate is
	// the total over the time since the first value plus one whole window.
	window := defaultMetricsWindow.Seconds()
	require.LessOrEqual(t, pm["record-send-rate"], 11_100/window)
	require.GreaterOrEqual(t, pm["record-send-rate"], 11_100/(window+elapsed.Seconds()+1))
	require.InDelta(t, pm["record-retry-rate"]*111, pm["record-send-rate"], pm["record-send-rate"]*0.05)

	// Connections: the bootstrap one was closed once brokers were known.
	require.GreaterOrEqual(t, s.ConnectionsCreated, int64(2))
	require.Equal(t, s.ConnectionsCreated-s.ConnectionsClosed, s.Connections)
	require.Equal(t, float64(s.Connections), pm["connection-count"])
	require.Positive(t, pm["connection-creation-rate"])
	require.GreaterOrEqual(t, pm["metadata-age"], 0.0)
	require.Less(t, pm["metadata-age"], 60.0)

	// Delivery latency: every acknowledged record, in order.
	d := s.DeliveryLatency
	require.Equal(t, int64(11_000), d.Count)
	require.Positive(t, d.P50)
	require.LessOrEqual(t, d.P50, d.P95)
	require.LessOrEqual(t, d.P95, d.P99)
	require.LessOrEqual(t, d.P99, d.P999)
	require.LessOrEqual(t, d.P999, d.Max)
	require.LessOrEqual(t, d.Max, elapsed)
	require.InDelta(t, float64(d.Max)/1e6, pm["record-delivery-latency-max"], 1e-3)

	// Per topic.
	ta, tb := s.Topics[topicA], s.Topics[topicB]
	require.NotNil(t, ta)
	require.NotNil(t, tb)
	require.Equal(t, 10_100.0, ta["record-send-total"])
	require.Equal(t, 100.0, ta["record-retry-total"])
	require.Zero(t, ta["record-error-total"])
	require.Equal(t, 1_000.0, tb["record-send-total"])
	require.Zero(t, tb["record-retry-total"])
	require.Equal(t, 1.0, ta["compression-rate"])
	require.InDelta(t, pm["byte-total"], ta["byte-total"]+tb["byte-total"], 1e-9)
	for _, g := range []map[string]float64{ta, tb} {
		for _, k := range []string{"record-send-rate", "record-send-total", "byte-rate", "byte-total", "compression-rate",
			"record-retry-rate", "record-retry-total", "record-error-rate", "record-error-total"} {
			_, ok := g[k]
			require.True(t, ok, k)
		}
	}

	// Per node: the leaders got the produce requests.
	leaderA, leaderB := fake.LeaderFor(topicA, 0), fake.LeaderFor(topicB, 0)
	na := s.Nodes[leaderA]
	require.NotNil(t, na)
	minA := 101.0
	if leaderA == leaderB {
		minA = 111
	}
	require.GreaterOrEqual(t, na["request-total"], minA)
	require.Positive(t, na["request-latency-avg"])
	require.LessOrEqual(t, na["request-size-avg"], na["request-size-max"])
	var nodeRequests float64
	for _, g := range s.Nodes {
		nodeRequests += g["request-total"]
	}
	require.Equal(t, pm["request-total"], nodeRequests, "node groups add up to the producer's")

	// kafka-python's shape.
	groups := p.Metrics()
	// Rates move with the clock; totals and key sets do not.
	sameKeys := func(want, got map[string]float64, total string) {
		t.Helper()
		require.Len(t, got, len(want))
		for k := range want {
			_, ok := got[k]
			require.True(t, ok, k)
		}
		require.Equal(t, want[total], got[total])
	}
	sameKeys(pm, groups["producer-metrics"], "record-send-total")
	sameKeys(ta, groups["producer-topic-metrics."+topicA], "record-send-total")
	sameKeys(na, groups["producer-node-metrics.node-"+strconv.Itoa(int(leaderA))], "request-total")
	require.Len(t, groups, 1+len(s.Topics)+len(s.Nodes))
	for _, k := range []string{"batch-size-avg", "batch-size-max", "compression-rate-avg", "record-queue-time-avg",
		"record-queue-time-max", "request-latency-avg", "request-latency-max", "record-send-rate", "record-send-total",
		"records-per-request-avg", "record-retry-rate", "record-retry-total", "record-error-rate", "record-error-total",
		"record-size-avg", "record-size-max", "requests-in-flight", "metadata-age", "byte-rate",
		"produce-throttle-time-avg", "produce-throttle-time-max", "buffer-total-bytes", "buffer-available-bytes",
		"bufferpool-wait-ratio", "buffer-exhausted-rate", "buffer-exhausted-total", "batch-split-rate",
		"batch-split-total", "connection-count", "connection-creation-rate", "connection-close-rate",
		"outgoing-byte-rate", "incoming-byte-rate", "request-rate", "response-rate", "request-size-avg",
		"request-size-max"} {
		_, ok := pm[k]
		require.True(t, ok, k)
	}

	// Hooks saw the same workload.
	require.Equal(t, int64(11_000), rec.buffered.Load())
	require.Equal(t, int64(11_000), rec.completed.Load())
	require.Zero(t, rec.completedErr.Load())
	require.Equal(t, int64(111), rec.batches.Load())
	require.Equal(t, int64(11_100), rec.batchRecords.Load())
	require.Equal(t, int64(1), rec.retriedBatches.Load())
	require.Equal(t, s.Requests, rec.requests.Load())
	require.Equal(t, s.Responses, rec.responses.Load())
	require.Equal(t, s.ConnectionsCreated, rec.opened.Load())
	require.Equal(t, s.ConnectionsClosed, rec.closed.Load())
	require.LessOrEqual(t, time.Duration(rec.maxLatency.Load()), d.Max+time.Millisecond)

	// Logs: the retry at debug, nothing per record at info.
	require.Equal(t, 1, logs.count("kafka: retrying batch"))
	logs.mu.Lock()
	infos := logs.levels[slog.LevelInfo]
	logs.mu.Unlock()
	require.Less(t, infos, 20)
}

func TestMetricsWindowSettings(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	p := env.producer(MetricsNumSamples(1), MetricsSampleWindow(time.Millisecond), Linger(time.Millisecond))
	futs := sendNumbered(t, p, topic, 10)
	for _, f := range futs {
		_, err := f.Get(context.Background())
		require.NoError(t, err)
	}
	// With one sample of a millisecond, the window forgets the records
	// as soon as a millisecond has passed; totals stay.
	time.Sleep(5 * time.Millisecond)
	pm := p.Metrics()["producer-metrics"]
	require.Zero(t, pm["record-send-rate"])
	require.Zero(t, pm["records-per-request-avg"])
	require.Equal(t, 10.0, pm["record-send-total"])
	require.Zero(t, p.MetricsSnapshot().DeliveryLatency.Count)
}

func TestMetricsDisabled(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	rec := new(hookRecorder)
	p := env.producer(MetricsEnabled(false), WithHooks(rec, struct{}{}), Linger(time.Millisecond))
	futs := sendNumbered(t, p, topic, 10)
	for _, f := range futs {
		_, err := f.Get(context.Background())
		require.NoError(t, err)
	}
	require.Empty(t, p.Metrics())
	require.Zero(t, p.MetricsSnapshot().RecordsSent)
	require.Equal(t, int64(10), rec.completed.Load(), "hooks run without metrics")
}

func TestMetricsOptions(t *testing.T) {
	opts, err := OptionsFromMap(map[string]string{
		"metrics.num.samples": "3", "metrics_sample_window_ms": "1000", "metrics.enabled": "false",
	})
	require.NoError(t, err)
	c := defaultConfig()
	for _, o := range opts {
		o.apply(&c)
	}
	require.NoError(t, c.validate())
	require.Equal(t, 3, c.obs.metricsSamples)
	require.Equal(t, time.Second, c.obs.metricsWindow)
	require.True(t, c.obs.metricsDisabled)

	c = defaultConfig()
	require.NoError(t, c.validate())
	require.Equal(t, 2, c.obs.metricsSamples)
	require.Equal(t, 30*time.Second, c.obs.metricsWindow)

	_, err = NewProducer(MetricsNumSamples(0))
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.ErrorContains(t, err, "metrics_num_samples")
	_, err = NewProducer(MetricsSampleWindow(0))
	require.ErrorContains(t, err, "metrics_sample_window_ms")
}

func TestMetricNames(t *testing.T) {
	producer, topic, node := MetricNames()
	require.Len(t, producer, 50)
	require.Contains(t, producer, "record-send-rate")
	require.Contains(t, producer, "record-delivery-latency-p99.9")
	require.Equal(t, []string{"byte-rate", "byte-total", "compression-rate", "record-error-rate", "record-error-total",
		"record-retry-rate", "record-retry-total", "record-send-rate", "record-send-total"}, topic)
	require.Len(t, node, 12)
	require.Contains(t, node, "request-latency-avg")
}
