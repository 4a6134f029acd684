package kafka

import (
	"errors"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kpgo/kafka/protocol"
)

// producerMetrics is the producer's metrics registry. Nothing in it is
// touched per record on the Send path: the sender goroutine records per
// batch and per request, connections per request and per connection, and
// the buffer pool only when Send has to wait. One mutex guards the sensors;
// it is taken a few times per request, never per record.
type producerMetrics struct {
	enabled bool
	win     windowConfig
	epoch   time.Time // sensors measure time from here (monotonic)
	codec   string
	log     *slog.Logger
	hooks   hookSet

	inFlight   atomic.Int64 // produce requests awaiting an answer
	metadataAt atomic.Int64 // nanos since epoch of the last metadata, 0 before
	bytesSent  atomic.Int64 // uncompressed batch bytes drained into requests

	mu sync.Mutex
	// producer-metrics sensors; the comment says which metrics each feeds.
	batchSize       sensor // batch-size-avg/max: bytes per batch written
	compression     sensor // compression-rate-avg: written/uncompressed per batch
	queueTime       sensor // record-queue-time-avg/max: ms from batch creation to drain
	perRequest      sensor // record-send-rate/total, records-per-request-avg
	bytes           sensor // byte-rate/total: batch bytes per request
	retries         sensor // record-retry-rate/total
	errors          sensor // record-error-rate/total
	recordSize      sensor // record-size-avg/max: the largest record of each batch
	throttle        sensor // produce-throttle-time-avg/max, ms
	bufferWait      sensor // bufferpool-wait-ratio: nanoseconds Send waited for room
	bufferExhausted sensor // buffer-exhausted-rate/total
	splits          sensor // batch-split-rate/total
	connCreates     sensor // connection-creation-rate/total
	connCloses      sensor // connection-close-rate/total
	out             sensor // request-rate/total, request-size-avg/max, outgoing-byte-rate/total
	in              sensor // response-rate/total, incoming-byte-rate/total
	latency         sensor // request-latency-avg/max, ms
	delivery        latencyWindow
	topics          map[string]*topicSensors
	nodes           map[int32]*nodeSensors

	delivered     int64 // records acknowledged
	batchesSent   int64
	batchesFailed int64
	connections   int64
}

// topicSensors feed producer-topic-metrics.<topic>.
type topicSensors struct {
	send, bytes, compression, retries, errors sensor
}

// nodeSensors feed producer-node-metrics.node-<id>.
type nodeSensors struct {
	out, in, latency sensor
}

// init readies the registry for the producer that owns cfg and acc.
func (m *producerMetrics) init(cfg *config, acc *accumulator) {
	m.enabled = !cfg.obs.metricsDisabled
	m.win = windowConfig{samples: cfg.obs.metricsSamples, window: cfg.obs.metricsWindow}
	m.epoch = time.Now()
	m.codec = cfg.compressionName
	m.log = cfg.logger
	m.hooks = newHookSet(cfg.obs.hooks)
	m.topics = make(map[string]*topicSensors)
	m.nodes = make(map[int32]*nodeSensors)
	cfg.obs.metrics = m
	if m.enabled {
		acc.pool.waited = m.bufferWaited
		if acc.records != nil {
			acc.records.waited = m.bufferWaited
		}
	}
}

func (m *producerMetrics) since(t time.Time) time.Duration { return t.Sub(m.epoch) }

func (m *producerMetrics) topic(name string) *topicSensors { return sensorsFor(m.topics, name) }

func (m *producerMetrics) node(id int32) *nodeSensors { return sensorsFor(m.nodes, id) }

// sensorsFor returns the sensors of k in m, adding them the first time.
func sensorsFor[K comparable, S any](m map[K]*S, k K) *S {
	s := m[k]
	if s == nil {
		s = new(S)
		m[k] = s
	}
	return s
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// batchStats is what a batch remembers of its records for metrics: the
// Send time of its last record, from the producer's millisecond clock
// (the first record's is the batch's creation), and its largest record.
// Appending costs two stores under the partition lock already held.
type batchStats struct {
	lastMs    int64
	maxRecord int
}

// appended notes a record of size bytes sent at sendMs (unix ms).
func (s *batchStats) appended(size int, sendMs int64) {
	s.lastMs = sendMs
	if size > s.maxRecord {
		s.maxRecord = size
	}
}

// recordBuffered runs on Send, per record: only hooks, no lock.
func (m *producerMetrics) recordBuffered(topic string, partition int32, size int) {
	if len(m.hooks.buffered) == 0 {
		return
	}
	ev := RecordBuffered{Topic: topic, Partition: partition, Bytes: size}
	for _, h := range m.hooks.buffered {
		h.OnRecordBuffered(ev)
	}
}

// bufferWaited records a Send that had to wait d for buffer room; err is
// its outcome. It runs only on that slow path.
func (m *producerMetrics) bufferWaited(d time.Duration, err error) {
	now := m.since(time.Now())
	m.mu.Lock()
	m.bufferWait.record(&m.win, float64(d), now)
	if errors.Is(err, ErrBufferFull) {
		m.bufferExhausted.record(&m.win, 1, now)
	}
	m.mu.Unlock()
}

// --- connections (connection goroutines) ---

func (m *producerMetrics) connOpened(c *conn) {
	if m == nil {
		return
	}
	m.log.Debug("kafka: connection opened", "broker", c.nodeID, "addr", c.addr)
	if m.enabled {
		now := m.since(time.Now())
		m.mu.Lock()
		m.connCreates.record(&m.win, 1, now)
		m.connections++
		m.mu.Unlock()
	}
	if len(m.hooks.opened) > 0 {
		ev := ConnectionOpened{Broker: c.nodeID, Addr: c.addr}
		for _, h := range m.hooks.opened {
			h.OnConnectionOpened(ev)
		}
	}
}

func (m *producerMetrics) connClosed(c *conn, err error) {
	if m == nil {
		return
	}
	m.log.Debug("kafka: connection closed", "broker", c.nodeID, "addr", c.addr, "reason", err)
	if m.enabled {
		now := m.since(time.Now())
		m.mu.Lock()
		m.connCloses.record(&m.win, 1, now)
		m.connections--
		m.mu.Unlock()
	}
	if len(m.hooks.closed) > 0 {
		ev := ConnectionClosed{Broker: c.nodeID, Addr: c.addr, Err: err}
		for _, h := range m.hooks.closed {
			h.OnConnectionClosed(ev)
		}
	}
}

// requestWritten records a request frame of n bytes written to c.
func (m *producerMetrics) requestWritten(c *conn, req *request, n int) {
	if m == nil {
		return
	}
	if m.enabled {
		now := m.since(time.Now())
		m.mu.Lock()
		m.out.record(&m.win, float64(n), now)
		m.node(c.nodeID).out.record(&m.win, float64(n), now)
		m.mu.Unlock()
	}
	if len(m.hooks.requests) > 0 {
		ev := BrokerRequest{Broker: c.nodeID, Addr: c.addr, APIKey: req.apiKey, Bytes: n}
		for _, h := range m.hooks.requests {
			h.OnBrokerRequest(ev)
		}
	}
}

// responseRead records a response frame of n bytes read from c for req.
func (m *producerMetrics) responseRead(c *conn, req *request, n int) {
	if m == nil {
		return
	}
	t := time.Now()
	// The writer sets a request's deadline to request_timeout_ms after it
	// takes the request to write, so this is when it did.
	lat := t.Sub(req.deadline.Add(-req.timeout))
	if m.enabled {
		now := m.since(t)
		m.mu.Lock()
		m.in.record(&m.win, float64(n), now)
		m.latency.record(&m.win, millis(lat), now)
		nd := m.node(c.nodeID)
		nd.in.record(&m.win, float64(n), now)
		nd.latency.record(&m.win, millis(lat), now)
		m.mu.Unlock()
	}
	if len(m.hooks.responses) > 0 {
		ev := BrokerResponse{Broker: c.nodeID, Addr: c.addr, APIKey: req.apiKey, Bytes: n, Latency: lat}
		for _, h := range m.hooks.responses {
			h.OnBrokerResponse(ev)
		}
	}
}

// --- sender goroutine ---

func (m *producerMetrics) metadataUpdated(t time.Time) {
	m.metadataAt.Store(int64(max(m.since(t), 1)))
}

// requestSent runs when the sender hands a ProduceRequest to a connection.
func (m *producerMetrics) requestSent(req *produceRequest) {
	m.inFlight.Add(1)
	if !m.enabled {
		return
	}
	var n int64
	for _, b := range req.batches {
		n += int64(b.builder.Size())
	}
	m.bytesSent.Add(n)
}

// responseReceived runs when a ProduceRequest is answered or failed, before
// its batches are completed or retried; resp is nil on failure and with
// acks=0. Batches that were sealed were encoded for the wire, so their
// sizes and compression are known here.
func (m *producerMetrics) responseReceived(req *produceRequest, resp *protocol.ProduceResponse, t time.Time) {
	m.inFlight.Add(-1)
	if !m.enabled && len(m.hooks.written) == 0 {
		return
	}
	// Hooks run before the lock is taken, as every other hook does: one
	// that reads the producer's metrics would otherwise wait for itself.
	if len(m.hooks.written) > 0 {
		for _, b := range req.batches {
			if b.sealedLen == 0 {
				continue
			}
			ev := BatchWritten{Broker: req.broker.id, Topic: b.part.topic.name, Partition: b.part.id,
				Records: int(b.numRecords()), UncompressedBytes: b.builder.Size(), CompressedBytes: b.sealedLen,
				Codec: m.codec, Attempt: b.attempts + 1}
			for _, h := range m.hooks.written {
				h.OnBatchWritten(ev)
			}
		}
	}
	if !m.enabled {
		return
	}
	now := m.since(t)
	var records, bytes int
	m.mu.Lock()
	for _, b := range req.batches {
		if b.sealedLen == 0 {
			continue
		}
		n, unc, comp := int(b.numRecords()), b.builder.Size(), b.sealedLen
		records += n
		bytes += comp
		ratio := 1.0
		if unc > 0 {
			ratio = float64(comp) / float64(unc)
		}
		m.batchSize.record(&m.win, float64(comp), now)
		m.compression.record(&m.win, ratio, now)
		m.queueTime.record(&m.win, millis(req.sentAt.Sub(b.created)), now)
		m.recordSize.record(&m.win, float64(b.stats.maxRecord), now)
		tp := m.topic(b.part.topic.name)
		tp.send.record(&m.win, float64(n), now)
		tp.bytes.record(&m.win, float64(comp), now)
		tp.compression.record(&m.win, ratio, now)
	}
	if records > 0 {
		m.perRequest.record(&m.win, float64(records), now)
		m.bytes.record(&m.win, float64(bytes), now)
	}
	if resp != nil {
		m.throttle.record(&m.win, float64(resp.ThrottleTimeMs), now)
	}
	m.mu.Unlock()
}

// batchDone runs once per batch when its outcome is final, before the
// batch is released.
func (m *producerMetrics) batchDone(b *batch, err error) {
	if !m.enabled && len(m.hooks.completed) == 0 {
		if err != nil {
			m.log.Warn("kafka: records failed", "topic", b.part.topic.name, "partition", b.part.id, "records", b.numRecords(), "err", err)
		}
		return
	}
	t := time.Now()
	n := int(b.numRecords())
	// Records are taken to have come evenly between the batch's first and
	// last Send; without stats (a half of a split batch), its creation.
	first, last := b.created, b.created
	if l := time.UnixMilli(b.stats.lastMs); b.stats.lastMs != 0 && l.After(first) {
		last = l
	}
	hi, lo := t.Sub(first), t.Sub(last)
	if err != nil {
		m.log.Warn("kafka: records failed", "topic", b.part.topic.name, "partition", b.part.id, "records", n, "err", err)
	}
	if m.enabled {
		now := m.since(t)
		m.mu.Lock()
		if err != nil {
			m.errors.record(&m.win, float64(n), now)
			m.topic(b.part.topic.name).errors.record(&m.win, float64(n), now)
			m.batchesFailed++
		} else {
			m.delivered += int64(n)
			m.batchesSent++
			m.delivery.current(&m.win, now).addSpread(lo, hi, n)
		}
		m.mu.Unlock()
	}
	if len(m.hooks.completed) > 0 {
		ev := RecordCompleted{Topic: b.part.topic.name, Partition: b.part.id, Err: err}
		for i := 0; i < n; i++ {
			ev.Latency = hi
			if n > 1 {
				ev.Latency = hi - (hi-lo)*time.Duration(i)/time.Duration(n-1)
			}
			for _, h := range m.hooks.completed {
				h.OnRecordCompleted(ev)
			}
		}
	}
}

func (m *producerMetrics) batchRetried(b *batch) {
	m.log.Debug("kafka: retrying batch", "topic", b.part.topic.name, "partition", b.part.id,
		"records", b.numRecords(), "attempt", b.attempts, "err", b.lastErr)
	if !m.enabled {
		return
	}
	n := float64(b.numRecords())
	now := m.since(time.Now())
	m.mu.Lock()
	m.retries.record(&m.win, n, now)
	m.topic(b.part.topic.name).retries.record(&m.win, n, now)
	m.mu.Unlock()
}

func (m *producerMetrics) batchSplit() {
	if !m.enabled {
		return
	}
	now := m.since(time.Now())
	m.mu.Lock()
	m.splits.record(&m.win, 1, now)
	m.mu.Unlock()
}

// --- snapshot ---

// LatencySummary summarises a latency distribution over the metrics
// windows. Percentiles come from a log-linear histogram and are exact to
// within 1.6%, or to within a batch's spread of Send times (see
// RecordCompleted.Latency).
type LatencySummary struct {
	Count               int64
	P50, P95, P99, P999 time.Duration
	Max                 time.Duration
}

// MetricsSnapshot is the producer's metrics at one instant. The typed
// fields are the figures Go code most often wants; Producer, Topics and
// Nodes hold every metric by its Java client and kafka-python name. Rates
// are per second, and they, averages, maxima and percentiles cover the
// last metrics_num_samples windows of metrics_sample_window_ms; "-total"
// metrics and the typed counters count from the producer's start.
// Latencies and queue and throttle times are in milliseconds in the maps.
type MetricsSnapshot struct {
	RecordsSent        int64 // records acknowledged (written, with acks=0)
	RecordsFailed      int64
	RecordsRetried     int64 // records sent again, once per retry
	BatchesSent        int64 // batches acknowledged
	BatchesFailed      int64
	BatchesSplit       int64 // batches split after MESSAGE_TOO_LARGE (KIP-126)
	BytesSent          int64 // uncompressed batch bytes drained into requests, retries included
	Requests           int64 // requests written, of every kind
	Responses          int64
	Connections        int64
	ConnectionsCreated int64
	ConnectionsClosed  int64
	RequestLatencyAvg  time.Duration
	RequestLatencyMax  time.Duration
	BufferTotalBytes   int64
	BufferAvailable    int64
	MetadataAge        time.Duration
	// DeliveryLatency is from Send to acknowledgement, of records
	// acknowledged in the windows.
	DeliveryLatency LatencySummary

	// Producer is the producer-metrics group.
	Producer map[string]float64
	// Topics is producer-topic-metrics by topic name.
	Topics map[string]map[string]float64
	// Nodes is producer-node-metrics by broker id; bootstrap connections
	// have negative ids, as in the Java client.
	Nodes map[int32]map[string]float64
}

var deliveryQuantiles = []float64{0.50, 0.95, 0.99, 0.999}

func (m *producerMetrics) snapshot(bufferTotal, bufferAvail int64) MetricsSnapshot {
	s := MetricsSnapshot{BufferTotalBytes: bufferTotal, BufferAvailable: bufferAvail}
	if !m.enabled {
		return s
	}
	t := time.Now()
	now := m.since(t)
	m.mu.Lock()
	defer m.mu.Unlock()
	w := &m.win
	batchSize := m.batchSize.measure(w, now)
	compression := m.compression.measure(w, now)
	queueTime := m.queueTime.measure(w, now)
	perRequest := m.perRequest.measure(w, now)
	bytes := m.bytes.measure(w, now)
	retries := m.retries.measure(w, now)
	errs := m.errors.measure(w, now)
	recordSize := m.recordSize.measure(w, now)
	throttle := m.throttle.measure(w, now)
	bufferWait := m.bufferWait.measure(w, now)
	exhausted := m.bufferExhausted.measure(w, now)
	splits := m.splits.measure(w, now)
	created := m.connCreates.measure(w, now)
	closed := m.connCloses.measure(w, now)
	out := m.out.measure(w, now)
	in := m.in.measure(w, now)
	latency := m.latency.measure(w, now)

	hists := m.delivery.live(w, now)
	q := quantiles(hists, deliveryQuantiles)
	var count int64
	var maxLat int64
	for _, h := range hists {
		count += int64(h.total)
		maxLat = max(maxLat, h.max)
	}
	s.DeliveryLatency = LatencySummary{Count: count, P50: q[0], P95: q[1], P99: q[2], P999: q[3],
		Max: time.Duration(maxLat) * time.Microsecond}

	var metadataAge float64
	if at := m.metadataAt.Load(); at > 0 {
		age := now - time.Duration(at)
		metadataAge = age.Seconds()
		s.MetadataAge = age
	}
	s.Producer = map[string]float64{
		"batch-size-avg":            batchSize.avg,
		"batch-size-max":            batchSize.max,
		"compression-rate-avg":      compression.avg,
		"record-queue-time-avg":     queueTime.avg,
		"record-queue-time-max":     queueTime.max,
		"request-latency-avg":       latency.avg,
		"request-latency-max":       latency.max,
		"record-send-rate":          perRequest.rate,
		"record-send-total":         perRequest.total,
		"records-per-request-avg":   perRequest.avg,
		"record-retry-rate":         retries.rate,
		"record-retry-total":        retries.total,
		"record-error-rate":         errs.rate,
		"record-error-total":        errs.total,
		"record-size-avg":           recordSize.avg,
		"record-size-max":           recordSize.max,
		"requests-in-flight":        float64(m.inFlight.Load()),
		"metadata-age":              metadataAge,
		"byte-rate":                 bytes.rate,
		"byte-total":                bytes.total,
		"produce-throttle-time-avg": throttle.avg,
		"produce-throttle-time-max": throttle.max,
		"buffer-total-bytes":        float64(bufferTotal),
		"buffer-available-bytes":    float64(bufferAvail),
		// Nanoseconds waited per second: the share of time Send waited.
		"bufferpool-wait-ratio":     bufferWait.rate / float64(time.Second),
		"buffer-exhausted-rate":     exhausted.rate,
		"buffer-exhausted-total":    exhausted.total,
		"batch-split-rate":          splits.rate,
		"batch-split-total":         splits.total,
		"connection-count":          float64(m.connections),
		"connection-creation-rate":  created.rate,
		"connection-creation-total": created.total,
		"connection-close-rate":     closed.rate,
		"connection-close-total":    closed.total,
		"outgoing-byte-rate":        out.rate,
		"outgoing-byte-total":       out.total,
		"incoming-byte-rate":        in.rate,
		"incoming-byte-total":       in.total,
		"request-rate":              out.countRate,
		"request-total":             float64(out.count),
		"response-rate":             in.countRate,
		"response-total":            float64(in.count),
		"request-size-avg":          out.avg,
		"request-size-max":          out.max,
		// Beyond the Java client: delivery latency, Send to acknowledgement.
		"record-delivered-total":        float64(m.delivered),
		"record-delivery-latency-p50":   millis(s.DeliveryLatency.P50),
		"record-delivery-latency-p95":   millis(s.DeliveryLatency.P95),
		"record-delivery-latency-p99":   millis(s.DeliveryLatency.P99),
		"record-delivery-latency-p99.9": millis(s.DeliveryLatency.P999),
		"record-delivery-latency-max":   millis(s.DeliveryLatency.Max),
	}
	s.Topics = make(map[string]map[string]float64, len(m.topics))
	for name, tp := range m.topics {
		send := tp.send.measure(w, now)
		b := tp.bytes.measure(w, now)
		c := tp.compression.measure(w, now)
		r := tp.retries.measure(w, now)
		e := tp.errors.measure(w, now)
		s.Topics[name] = map[string]float64{
			"record-send-rate":   send.rate,
			"record-send-total":  send.total,
			"byte-rate":          b.rate,
			"byte-total":         b.total,
			"compression-rate":   c.avg,
			"record-retry-rate":  r.rate,
			"record-retry-total": r.total,
			"record-error-rate":  e.rate,
			"record-error-total": e.total,
		}
	}
	s.Nodes = make(map[int32]map[string]float64, len(m.nodes))
	for id, nd := range m.nodes {
		o := nd.out.measure(w, now)
		i := nd.in.measure(w, now)
		l := nd.latency.measure(w, now)
		s.Nodes[id] = map[string]float64{
			"request-rate":        o.countRate,
			"request-total":       float64(o.count),
			"response-rate":       i.countRate,
			"response-total":      float64(i.count),
			"request-latency-avg": l.avg,
			"request-latency-max": l.max,
			"outgoing-byte-rate":  o.rate,
			"outgoing-byte-total": o.total,
			"incoming-byte-rate":  i.rate,
			"incoming-byte-total": i.total,
			"request-size-avg":    o.avg,
			"request-size-max":    o.max,
		}
	}

	s.RecordsSent = m.delivered
	s.RecordsFailed = int64(errs.total)
	s.RecordsRetried = int64(retries.total)
	s.BatchesSent = m.batchesSent
	s.BatchesFailed = m.batchesFailed
	s.BatchesSplit = int64(splits.total)
	s.BytesSent = m.bytesSent.Load()
	s.Requests = out.count
	s.Responses = in.count
	s.Connections = m.connections
	s.ConnectionsCreated = int64(created.total)
	s.ConnectionsClosed = int64(closed.total)
	s.RequestLatencyAvg = time.Duration(latency.avg * float64(time.Millisecond))
	s.RequestLatencyMax = time.Duration(latency.max * float64(time.Millisecond))
	return s
}

// Metric groups, as kafka-python names them: per-topic and per-node groups
// carry the topic or node in the group name.
const (
	ProducerMetricsGroup      = "producer-metrics"
	ProducerTopicMetricsGroup = "producer-topic-metrics" // + "." + topic
	ProducerNodeMetricsGroup  = "producer-node-metrics"  // + ".node-" + id
)

// kafkaPython renders the snapshot in kafka-python's metrics() shape:
// "producer-metrics", "producer-topic-metrics.<topic>" and
// "producer-node-metrics.node-<id>", each a map of metric name to value.
func (s MetricsSnapshot) kafkaPython() map[string]map[string]float64 {
	out := make(map[string]map[string]float64, 1+len(s.Topics)+len(s.Nodes))
	if s.Producer == nil {
		return out
	}
	out[ProducerMetricsGroup] = s.Producer
	for name, g := range s.Topics {
		out[ProducerTopicMetricsGroup+"."+name] = g
	}
	for id, g := range s.Nodes {
		out[ProducerNodeMetricsGroup+".node-"+strconv.Itoa(int(id))] = g
	}
	return out
}

// MetricNames lists the metric names of each group, sorted: those of
// producer-metrics, of each producer-topic-metrics.<topic> group and of
// each producer-node-metrics.node-<id> group. Adapters that must declare
// instruments up front use it.
func MetricNames() (producer, topic, node []string) {
	var m producerMetrics
	m.enabled = true
	m.win = windowConfig{samples: 1, window: time.Second}
	m.topics = map[string]*topicSensors{"": {}}
	m.nodes = map[int32]*nodeSensors{0: {}}
	s := m.snapshot(0, 0)
	return sortedKeys(s.Producer), sortedKeys(s.Topics[""]), sortedKeys(s.Nodes[0])
}

func sortedKeys(g map[string]float64) []string {
	out := make([]string, 0, len(g))
	for k := range g {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
