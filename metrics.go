package kafka

import (
	"sync/atomic"
	"time"
)

// producerMetrics are counters the sender updates per batch and request;
// nothing here is touched per record on the Send path.
type producerMetrics struct {
	recordsSent    atomic.Int64
	recordsFailed  atomic.Int64
	recordsRetried atomic.Int64
	batchesSent    atomic.Int64
	batchesFailed  atomic.Int64
	batchesSplit   atomic.Int64
	bytesSent      atomic.Int64
	requests       atomic.Int64
	responses      atomic.Int64
	connections    atomic.Int64
	connCreated    atomic.Int64
	connClosed     atomic.Int64
	metadataAt     atomic.Int64 // unix nanos of the last metadata
	requestLatency atomic.Int64 // nanos, summed over responses
	requestMaxLat  atomic.Int64
}

func (m *producerMetrics) connectionOpened() {
	m.connections.Add(1)
	m.connCreated.Add(1)
}

func (m *producerMetrics) connectionClosed() {
	m.connections.Add(-1)
	m.connClosed.Add(1)
}

func (m *producerMetrics) metadataUpdated(t time.Time) { m.metadataAt.Store(t.UnixNano()) }

func (m *producerMetrics) requestSent(req *produceRequest) {
	m.requests.Add(1)
	for _, b := range req.batches {
		m.bytesSent.Add(int64(b.builder.Size()))
	}
}

func (m *producerMetrics) responseReceived(req *produceRequest, now time.Time) {
	m.responses.Add(1)
	lat := int64(now.Sub(req.sentAt))
	m.requestLatency.Add(lat)
	for {
		cur := m.requestMaxLat.Load()
		if lat <= cur || m.requestMaxLat.CompareAndSwap(cur, lat) {
			break
		}
	}
}

func (m *producerMetrics) batchDone(b *batch, err error) {
	n := int64(b.numRecords())
	if err != nil {
		m.recordsFailed.Add(n)
		m.batchesFailed.Add(1)
		return
	}
	m.recordsSent.Add(n)
	m.batchesSent.Add(1)
}

func (m *producerMetrics) batchRetried(b *batch) { m.recordsRetried.Add(int64(b.numRecords())) }

func (m *producerMetrics) batchSplit() { m.batchesSplit.Add(1) }

// MetricsSnapshot is a typed view of the producer's counters.
type MetricsSnapshot struct {
	RecordsSent        int64
	RecordsFailed      int64
	RecordsRetried     int64
	BatchesSent        int64
	BatchesFailed      int64
	BatchesSplit       int64 // batches split after MESSAGE_TOO_LARGE (KIP-126)
	BytesSent          int64 // uncompressed batch bytes written
	Requests           int64
	Responses          int64
	Connections        int64
	ConnectionsCreated int64
	ConnectionsClosed  int64
	RequestLatencyAvg  time.Duration
	RequestLatencyMax  time.Duration
	BufferTotalBytes   int64
	BufferAvailable    int64
	MetadataAge        time.Duration
}

func (m *producerMetrics) snapshot() MetricsSnapshot {
	s := MetricsSnapshot{
		RecordsSent:        m.recordsSent.Load(),
		RecordsFailed:      m.recordsFailed.Load(),
		RecordsRetried:     m.recordsRetried.Load(),
		BatchesSent:        m.batchesSent.Load(),
		BatchesFailed:      m.batchesFailed.Load(),
		BatchesSplit:       m.batchesSplit.Load(),
		BytesSent:          m.bytesSent.Load(),
		Requests:           m.requests.Load(),
		Responses:          m.responses.Load(),
		Connections:        m.connections.Load(),
		ConnectionsCreated: m.connCreated.Load(),
		ConnectionsClosed:  m.connClosed.Load(),
		RequestLatencyMax:  time.Duration(m.requestMaxLat.Load()),
	}
	if s.Responses > 0 {
		s.RequestLatencyAvg = time.Duration(m.requestLatency.Load() / s.Responses)
	}
	if at := m.metadataAt.Load(); at > 0 {
		s.MetadataAge = time.Since(time.Unix(0, at))
	}
	return s
}

// kafkaPython renders the snapshot in kafka-python's metrics() shape:
// groups of metric name to value.
func (s MetricsSnapshot) kafkaPython() map[string]map[string]float64 {
	avgRecordsPerRequest := 0.0
	if s.Requests > 0 {
		avgRecordsPerRequest = float64(s.RecordsSent) / float64(s.Requests)
	}
	avgBatch := 0.0
	if s.BatchesSent > 0 {
		avgBatch = float64(s.BytesSent) / float64(s.BatchesSent)
	}
	return map[string]map[string]float64{
		"producer-metrics": {
			"record-send-total":         float64(s.RecordsSent),
			"record-error-total":        float64(s.RecordsFailed),
			"record-retry-total":        float64(s.RecordsRetried),
			"batch-split-total":         float64(s.BatchesSplit),
			"batch-size-avg":            avgBatch,
			"records-per-request-avg":   avgRecordsPerRequest,
			"request-total":             float64(s.Requests),
			"response-total":            float64(s.Responses),
			"request-latency-avg":       float64(s.RequestLatencyAvg) / float64(time.Millisecond),
			"request-latency-max":       float64(s.RequestLatencyMax) / float64(time.Millisecond),
			"connection-count":          float64(s.Connections),
			"connection-creation-total": float64(s.ConnectionsCreated),
			"connection-close-total":    float64(s.ConnectionsClosed),
			"buffer-total-bytes":        float64(s.BufferTotalBytes),
			"buffer-available-bytes":    float64(s.BufferAvailable),
			"metadata-age":              s.MetadataAge.Seconds(),
			"outgoing-byte-total":       float64(s.BytesSent),
		},
	}
}
