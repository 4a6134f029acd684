package kafka

import "time"

// Hook is anything that implements one or more of the Hook* interfaces
// below. WithHooks checks each hook against every interface once, when the
// producer starts, so an event nobody listens to costs a length check.
//
// Hooks run on the producer's own goroutines: quickly, without blocking,
// and safely for concurrent use (events of different kinds come from
// different goroutines). An adapter asserts what it implements at compile
// time:
//
//	var _ kafka.HookBatchWritten = (*Collector)(nil)
type Hook any

// HookRecordBuffered is told of every record Send buffers. It runs on the
// caller's goroutine, inside Send, so it must be cheap.
type HookRecordBuffered interface {
	OnRecordBuffered(RecordBuffered)
}

// RecordBuffered describes a record Send has added to a batch.
type RecordBuffered struct {
	Topic     string
	Partition int32
	// Bytes is the record's size bound in its batch, before compression.
	Bytes int
}

// HookBatchWritten is told of every batch written to a broker, once per
// attempt, when the broker's answer (or, with acks=0, the write) is known.
// It runs on the sender goroutine.
type HookBatchWritten interface {
	OnBatchWritten(BatchWritten)
}

// BatchWritten describes one batch written in a ProduceRequest.
type BatchWritten struct {
	Broker            int32
	Topic             string
	Partition         int32
	Records           int
	UncompressedBytes int    // the batch before compression, header included
	CompressedBytes   int    // the batch as written
	Codec             string // "none", "gzip", "snappy", "lz4" or "zstd"
	Attempt           int    // 1 for the first write, 2 for the first retry, ...
}

// HookBrokerRequest is told of every request written to a broker. It runs
// on the connection's writer goroutine.
type HookBrokerRequest interface {
	OnBrokerRequest(BrokerRequest)
}

// BrokerRequest describes a request written to a broker.
type BrokerRequest struct {
	Broker int32 // negative for bootstrap connections, as in the Java client's node ids
	Addr   string
	APIKey int16
	Bytes  int // the request frame, size prefix included
}

// HookBrokerResponse is told of every response read from a broker. It runs
// on the connection's reader goroutine.
type HookBrokerResponse interface {
	OnBrokerResponse(BrokerResponse)
}

// BrokerResponse describes a response read from a broker.
type BrokerResponse struct {
	Broker  int32
	Addr    string
	APIKey  int16
	Bytes   int           // the response frame, size prefix included
	Latency time.Duration // from queueing the request for write to reading its answer
}

// HookRecordCompleted is told of every record's outcome. It runs on the
// sender goroutine, once per record, so it is the costliest hook; prefer
// HookBatchWritten when per-batch figures will do.
type HookRecordCompleted interface {
	OnRecordCompleted(RecordCompleted)
}

// RecordCompleted describes a record's final outcome.
type RecordCompleted struct {
	Topic     string
	Partition int32
	// Latency is from Send to the outcome. A batch keeps the start of its
	// first and its last record's Send; records between them are taken to
	// have come evenly spaced, so Latency is exact for those two and
	// interpolated for the rest.
	Latency time.Duration
	Err     error // nil when the record was acknowledged
}

// HookConnectionOpened is told of every broker connection that is ready to
// use (after API version negotiation). It runs on a connect goroutine.
type HookConnectionOpened interface {
	OnConnectionOpened(ConnectionOpened)
}

// ConnectionOpened describes a new broker connection.
type ConnectionOpened struct {
	Broker int32
	Addr   string
}

// HookConnectionClosed is told of every broker connection that ends.
type HookConnectionClosed interface {
	OnConnectionClosed(ConnectionClosed)
}

// ConnectionClosed describes a broker connection that ended.
type ConnectionClosed struct {
	Broker int32
	Addr   string
	Err    error // why: a network error, or the producer closing it
}

// WithHooks registers hooks for producer events. Each hook may implement
// any of the Hook* interfaces; one that implements none is ignored.
func WithHooks(hooks ...Hook) Option {
	return optionFunc(func(c *config) { c.obs.hooks = append(c.obs.hooks, hooks...) })
}

// hookSet holds the registered hooks sorted by event, built once.
type hookSet struct {
	buffered  []HookRecordBuffered
	written   []HookBatchWritten
	requests  []HookBrokerRequest
	responses []HookBrokerResponse
	completed []HookRecordCompleted
	opened    []HookConnectionOpened
	closed    []HookConnectionClosed
}

func newHookSet(hooks []Hook) hookSet {
	var s hookSet
	for _, h := range hooks {
		if x, ok := h.(HookRecordBuffered); ok {
			s.buffered = append(s.buffered, x)
		}
		if x, ok := h.(HookBatchWritten); ok {
			s.written = append(s.written, x)
		}
		if x, ok := h.(HookBrokerRequest); ok {
			s.requests = append(s.requests, x)
		}
		if x, ok := h.(HookBrokerResponse); ok {
			s.responses = append(s.responses, x)
		}
		if x, ok := h.(HookRecordCompleted); ok {
			s.completed = append(s.completed, x)
		}
		if x, ok := h.(HookConnectionOpened); ok {
			s.opened = append(s.opened, x)
		}
		if x, ok := h.(HookConnectionClosed); ok {
			s.closed = append(s.closed, x)
		}
	}
	return s
}
