package kafka

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kpgo/kafka/protocol"
)

// Producer sends records to Kafka: kafka-python's KafkaProducer. It is safe
// for use from many goroutines at once. Records are batched per partition
// and sent by one background goroutine; Send returns a Future at once.
type Producer struct {
	cfg     config
	acc     *accumulator
	sender  *sender
	metrics producerMetrics

	closed    atomic.Bool
	fatal     atomic.Pointer[error] // set when the producer cannot go on
	closedCh  chan struct{}
	closeOnce sync.Once
	closeErr  error
	closeDone chan struct{} // closed when the first Close has finished
	closingG  atomic.Uint64 // the goroutine running Close's shutdown
	txn       *txnManager   // nil without transactional_id
	clock     *coarseClock
}

// NewProducer validates the options and starts a producer. It does not
// wait for the cluster: the first Send of a topic fetches its metadata.
// An invalid option fails with an error wrapping ErrInvalidConfig that
// names the option and the rule.
func NewProducer(opts ...Option) (*Producer, error) {
	p := &Producer{cfg: defaultConfig(), closedCh: make(chan struct{}), closeDone: make(chan struct{})}
	for _, o := range opts {
		if o != nil {
			o.apply(&p.cfg)
		}
	}
	if err := p.cfg.validate(); err != nil {
		return nil, err
	}
	var s *sender
	p.acc = newAccumulator(&p.cfg, func() { s.wake() })
	p.metrics.init(&p.cfg, p.acc)
	s = newSender(&p.cfg, p.acc, &p.metrics)
	s.onFatal = func(err error) { p.fatal.Store(&err) }
	p.sender = s
	p.acc.pool.noWait = p.inCallback
	if p.acc.records != nil {
		p.acc.records.noWait = p.inCallback
	}
	p.clock = newCoarseClock()
	if p.cfg.transactionalID != "" {
		p.txn = newTxnManager(p)
		s.txn = p.txn
		id := p.cfg.transactionalID
		s.txnID = &id
		s.txnAdding = make(map[*partition]bool)
	}
	go s.run()
	return p, nil
}

// Send buffers rec for sending and returns its Future. Errors found before
// the record is buffered are returned here and the Future is not valid:
// ErrProducerClosed, ErrInvalidRecord, ErrRecordTooLarge, ErrUnknownPartition,
// ErrMetadataTimeout (no metadata within max_block_ms), ErrBufferFull (no
// room within max_block_ms or before ctx ended), or a topic's fatal Kafka
// error such as TopicAuthorizationFailed. Everything after that is the
// Future's to report.
//
// The record's byte slices are copied before Send returns; the caller may
// reuse them.
func (p *Producer) Send(ctx context.Context, rec Record) (Future, error) {
	var f Future
	if err := p.send(ctx, &rec, nil, &f); err != nil {
		return Future{}, err
	}
	return f, nil
}

// Produce is the callback form of Send, for confluent-kafka-style delivery
// reports: callback runs once with the record's metadata or its error,
// on the producer's sender goroutine, so it must be quick and must not
// block. Produce allocates nothing per record beyond what the caller
// passes. Errors found before buffering are returned, and then callback
// is not called. A nil callback sends the record with no report.
func (p *Producer) Produce(ctx context.Context, rec Record, callback func(RecordMetadata, error)) error {
	return p.send(ctx, &rec, callback, nil)
}

// send buffers rec with delivery callback cb, if any, and fills in fut, if
// given.
func (p *Producer) send(ctx context.Context, rec *Record, cb func(RecordMetadata, error), fut *Future) error {
	if p.closed.Load() {
		return ErrProducerClosed
	}
	if errp := p.fatal.Load(); errp != nil {
		return *errp
	}
	if p.txn != nil {
		if err := p.txn.checkSend(); err != nil {
			return err
		}
	}
	if rec.Key == nil && rec.Value == nil {
		return fmt.Errorf("%w: key and value are both nil; a record needs at least one", ErrInvalidRecord)
	}
	if !rec.Timestamp.IsZero() && rec.Timestamp.UnixMilli() < 0 {
		return fmt.Errorf("%w: timestamp %v is before 1970", ErrInvalidRecord, rec.Timestamp)
	}
	t, err := p.topic(rec.Topic)
	if err != nil {
		return err
	}
	size := recordSizeBound(rec.Key, rec.Value, rec.Headers)
	if total := size + protocol.RecordBatchHeaderSize; total > p.cfg.maxRequestSize || int64(total) > p.cfg.bufferMemory {
		return fmt.Errorf("%w: the record is %d bytes serialized, larger than max_request_size (%d) or buffer_memory (%d)",
			ErrRecordTooLarge, total, p.cfg.maxRequestSize, p.cfg.bufferMemory)
	}
	deadline := blockDeadline{max: p.cfg.maxBlock}
	meta := t.meta.Load()
	if meta == nil {
		if meta, err = p.awaitMeta(ctx, t, &deadline); err != nil {
			return err
		}
	}
	parts := *t.parts.Load()
	// The metadata's count, not the array's: a topic deleted and created
	// again with fewer partitions keeps its longer array, which a Send
	// may be using. The array is never shorter.
	n := len(meta.partitions)
	var pid int32
	if rec.Partition != nil {
		pid = *rec.Partition
		if pid < 0 {
			return fmt.Errorf("%w: the record asked for partition %d of topic %q", ErrUnknownPartition, pid, t.name)
		}
		if int(pid) >= n {
			if parts, n, err = p.waitPartition(ctx, t, pid, &deadline); err != nil {
				return err
			}
		}
	} else {
		pid = p.cfg.partitioner.Partition(t.name, rec.Key, n, meta.available)
		if pid == AnyPartition {
			pid = p.acc.chooseSticky(t, parts, meta)
		}
		if pid < 0 || int(pid) >= n {
			return fmt.Errorf("%w: the partitioner chose partition %d of topic %q, which has %d", ErrUnknownPartition, pid, t.name, n)
		}
	}
	deadline.sendMs = p.clock.nowMs()
	if deadline.sendMs-t.lastSend.Load() >= 1000 {
		t.lastSend.Store(deadline.sendMs)
	}
	ts := deadline.sendMs
	if !rec.Timestamp.IsZero() {
		ts = rec.Timestamp.UnixMilli()
	}
	info := recordInfo{timestamp: ts, keySize: -1, valueSize: -1, headerSize: -1}
	if rec.Key != nil {
		info.keySize = int32(len(rec.Key))
	}
	if rec.Value != nil {
		info.valueSize = int32(len(rec.Value))
	}
	if len(rec.Headers) > 0 {
		n := 0
		for _, h := range rec.Headers {
			n += len(h.Key) + len(h.Value)
		}
		info.headerSize = int32(n)
	}
	if p.txn != nil {
		if err := p.txn.enterSend(); err != nil {
			return err
		}
	}
	res, idx, err := p.acc.appendRecord(ctx, parts[pid], ts, rec.Key, rec.Value, rec.Headers, size, cb, info, &deadline)
	if p.txn != nil {
		p.txn.exitSend()
	}
	if err != nil {
		return err
	}
	p.metrics.recordBuffered(t.name, pid, size)
	if fut != nil {
		info.index = idx
		*fut = Future{res: res, info: info}
	}
	return nil
}

// topic returns the state of a topic, checking its name the first time.
func (p *Producer) topic(name string) (*topicState, error) {
	// Most producers write to one topic at a time: comparing its name
	// is cheaper than hashing it into the map.
	if t := p.acc.lastTopic.Load(); t != nil && t.name == name {
		return t, nil
	}
	if v, ok := p.acc.topics.Load(name); ok {
		t := v.(*topicState)
		// Only a topic with metadata is cached: one without may still
		// be forgotten (conn_security.go), and a cached copy would
		// outlive that.
		if t.meta.Load() != nil {
			p.acc.lastTopic.Store(t)
		}
		return t, nil
	}
	if err := validateTopic(name); err != nil {
		return nil, err
	}
	t, created := p.acc.topic(name)
	if created {
		p.sender.wake()
	}
	return t, nil
}

// waitMeta waits until the topic's metadata is known, up to deadline, ctx
// or Close.
func (p *Producer) waitMeta(ctx context.Context, t *topicState, deadline *blockDeadline) (*topicMeta, error) {
	if m := t.meta.Load(); m != nil {
		return m, nil
	}
	return p.awaitMeta(ctx, t, deadline)
}

// awaitMeta is waitMeta's wait. Send checks for metadata itself and calls
// this only without, so the path every record takes has no defers: with
// this many returns the compiler cannot open-code them, and their
// bookkeeping cost about 5% of W1's CPU per record.
func (p *Producer) awaitMeta(ctx context.Context, t *topicState, deadline *blockDeadline) (*topicMeta, error) {
	if errp := t.fatal.Load(); errp != nil {
		return p.recheckTopic(ctx, t, *errp, deadline)
	}
	// The sender asks about a topic without metadata only while a Send
	// waits for it.
	if p.inCallback() {
		// Only the sender's goroutine, running this callback, could
		// bring the metadata.
		return nil, fmt.Errorf("%w: topic %q: %w", ErrMetadataTimeout, t.name, callbackErr("a Send to a topic without metadata"))
	}
	done := t.want(1)
	defer done()
	p.sender.wake()
	timer := time.NewTimer(time.Until(deadline.get()))
	defer timer.Stop()
	select {
	case <-t.ready:
	case <-timer.C:
		return nil, p.noMetadata(t, fmt.Sprintf("after %v (max_block_ms)", p.cfg.maxBlock), nil)
	case <-ctx.Done():
		return nil, p.noMetadata(t, "when the context ended", ctx.Err())
	case <-p.closedCh:
		return nil, ErrProducerClosed
	}
	if errp := t.fatal.Load(); errp != nil {
		return nil, *errp
	}
	return t.meta.Load(), nil
}

// noMetadata is the error of a Send that waited for t's metadata in vain:
// ErrMetadataTimeout, and cause if not nil, with the reason. Without one
// the wait reads the same for a typo in bootstrap_servers as for a topic
// that does not exist; the broker's word on the topic, if any came, is
// the better reason.
func (p *Producer) noMetadata(t *topicState, when string, cause error) error {
	err := fmt.Errorf("%w: topic %q not present in metadata %s", ErrMetadataTimeout, t.name, when)
	if cause != nil {
		err = fmt.Errorf("%w: %w", err, cause)
	}
	if errp := t.missing.Load(); errp != nil {
		return fmt.Errorf("%w: %w", err, *errp)
	}
	if errp := p.sender.lastMetaErr.Load(); errp != nil {
		return fmt.Errorf("%w; no metadata: %w", err, *errp)
	}
	return err
}

// recheckTopic asks the brokers again about a topic whose metadata came
// back with an error that retrying does not cure (TOPIC_AUTHORIZATION_FAILED,
// say) and waits for their answer: access may have been granted since, and
// a long-lived producer must not refuse the topic for good. The Java
// client's waitOnMetadata also asks again on every send; the sender keeps
// such refreshes to one per retry_backoff_ms.
func (p *Producer) recheckTopic(ctx context.Context, t *topicState, failed error, deadline *blockDeadline) (*topicMeta, error) {
	done := t.want(1)
	defer done()
	changed := t.awaitChange()
	p.sender.wake()
	if m := t.meta.Load(); m != nil {
		return m, nil
	}
	timer := time.NewTimer(time.Until(deadline.get()))
	defer timer.Stop()
	select {
	case <-changed:
	case <-timer.C:
		if errp := t.missing.Load(); errp != nil {
			failed = *errp
		}
		return nil, fmt.Errorf("%w: topic %q not present in metadata after %v (max_block_ms): %w", ErrMetadataTimeout, t.name, p.cfg.maxBlock, failed)
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: topic %q: %w (last answer: %w)", ErrMetadataTimeout, t.name, ctx.Err(), failed)
	case <-p.closedCh:
		return nil, ErrProducerClosed
	}
	if m := t.meta.Load(); m != nil {
		return m, nil
	}
	if errp := t.fatal.Load(); errp != nil {
		return nil, *errp
	}
	return nil, failed
}

// waitPartition waits within max_block_ms for t's metadata to list
// partition pid: partitions added to a topic reach the producer only with
// a metadata refresh, so the sender asks for one. The Java client waits
// the same way; kafka-python fails at once.
func (p *Producer) waitPartition(ctx context.Context, t *topicState, pid int32, deadline *blockDeadline) ([]*partition, int, error) {
	done := t.want(pid + 1)
	defer done()
	p.sender.wake()
	timer := time.NewTimer(time.Until(deadline.get()))
	defer timer.Stop()
	for {
		// Taken before the check, so an update between the two is not
		// missed; meta before parts, which is stored first.
		changed := t.awaitChange()
		n := len(t.meta.Load().partitions)
		if int(pid) < n {
			return *t.parts.Load(), n, nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil, 0, fmt.Errorf("%w: %w: partition %d of topic %q is not in metadata after %v (max_block_ms); the topic has %d partitions",
				ErrMetadataTimeout, ErrUnknownPartition, pid, t.name, p.cfg.maxBlock, n)
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("%w: %w: partition %d of topic %q: %w", ErrMetadataTimeout, ErrUnknownPartition, pid, t.name, ctx.Err())
		case <-p.closedCh:
			return nil, 0, ErrProducerClosed
		}
		if errp := t.fatal.Load(); errp != nil {
			return nil, 0, *errp
		}
	}
}

// recordSizeBound is the most bytes a record can take in a batch: the
// record's fields plus the widest varints for its length, timestamp delta
// and offset delta, so a batch never outgrows its buffer.
func recordSizeBound(key, value []byte, headers []Header) int {
	n := 5 + 1 + 10 + 5 // length, attributes, timestamp delta, offset delta
	n += bytesFieldSize(key) + bytesFieldSize(value)
	n += protocol.VarintLen(int32(len(headers)))
	for _, h := range headers {
		n += protocol.VarintLen(int32(len(h.Key))) + len(h.Key) + bytesFieldSize(h.Value)
	}
	return n
}

func bytesFieldSize(b []byte) int {
	if b == nil {
		return 1
	}
	return protocol.VarintLen(int32(len(b))) + len(b)
}

// Flush sends every buffered record at once, ignoring linger, and waits
// until each record buffered before the call is acknowledged or has failed,
// or ctx ends.
func (p *Producer) Flush(ctx context.Context) error {
	if p.inCallback() {
		return callbackErr("Flush")
	}
	p.sender.flushing.Add(1)
	defer p.sender.flushing.Add(-1)
	p.sender.wake()
	return waitResults(ctx, p.acc.incompleteResults())
}

func waitResults(ctx context.Context, results []*batchResult) error {
	for _, r := range results {
		select {
		case <-r.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Close stops the producer: new sends fail with ErrProducerClosed, and
// buffered records are sent, waiting until ctx ends. Records not delivered
// by then fail with ErrProducerClosed. A transaction still open is aborted,
// as the Java client does, so that consumers reading committed data need
// not wait for transaction_timeout_ms. Close returns once every future is
// resolved and every goroutine of the producer has ended; it returns ctx's
// error if it had to give up on records. Calling Close again returns the
// first call's result; a call made while the first still runs waits for
// it, but no longer than its own ctx.
//
// Close from a delivery callback cannot wait, as the Java client's close
// from a callback does not: the records left fail with ErrProducerClosed
// once the callback returns, and Close returns an error wrapping
// ErrCalledFromCallback at once.
func (p *Producer) Close(ctx context.Context) error {
	inCallback := p.inCallback()
	first := false
	p.closeOnce.Do(func() { first = true })
	if !first {
		if inCallback {
			// The shutdown under way waits for this goroutine.
			return nil
		}
		// Another Close runs the shutdown; this one waits for it within
		// its own context. An ended shutdown wins over an ended ctx.
		select {
		case <-p.closeDone:
			return p.closeErr
		default:
		}
		select {
		case <-p.closeDone:
			return p.closeErr
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.closed.Store(true)
	close(p.closedCh)
	// Sends waiting for room fail now rather than adding records
	// behind the final flush.
	p.acc.pool.close()
	if p.acc.records != nil {
		p.acc.records.close()
	}
	s := p.sender
	s.closing.Store(true)
	s.wake()
	if inCallback {
		// This is the sender's goroutine: it stops once the callback
		// returns, and the rest of the shutdown waits for that.
		p.closeErr = callbackErr("Close")
		close(s.quit)
		go p.shutdown()
		return p.closeErr
	}
	p.closeErr = waitResults(ctx, p.acc.incompleteResults())
	if p.closeErr == nil && p.txn != nil {
		p.txn.abortOnClose(ctx)
	}
	close(s.quit)
	p.shutdown()
	return p.closeErr
}

// shutdown ends Close once the sender has been told to stop.
func (p *Producer) shutdown() {
	// Closed after closeErr is set: later calls read it once it is.
	defer close(p.closeDone)
	// The callbacks of records failed below run here, until it returns.
	p.closingG.Store(goid())
	defer p.closingG.Store(0)
	s := p.sender
	<-s.done
	// A Send still in progress appends under its partition's lock
	// and looks at acc.closed there: it either appended before
	// failAllQueued took that lock, and its batch fails here, or it
	// fails with ErrProducerClosed itself.
	p.acc.closed.Store(true)
	s.failAllQueued(ErrProducerClosed)
	if p.txn != nil {
		p.txn.close()
	}
	p.clock.close()
	// Nothing holds a batch buffer any more.
	p.acc.pool.unmap()
	p.cfg.logger.Debug("kafka: producer closed")
}

// PartitionsFor returns the partition ids of topic, fetching its metadata
// if needed (kafka-python's partitions_for). It waits up to max_block_ms
// or ctx.
func (p *Producer) PartitionsFor(ctx context.Context, topic string) ([]int32, error) {
	if p.closed.Load() {
		return nil, ErrProducerClosed
	}
	t, err := p.topic(topic)
	if err != nil {
		return nil, err
	}
	// In use, as the Java client's partitionsFor counts it, for
	// metadata_max_idle_ms.
	t.lastSend.Store(time.Now().UnixMilli())
	m, err := p.waitMeta(ctx, t, &blockDeadline{max: p.cfg.maxBlock})
	if err != nil {
		return nil, err
	}
	out := make([]int32, len(m.partitions))
	for i := range out {
		out[i] = int32(i)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// BootstrapConnected reports whether the producer has reached one of its
// bootstrap servers (kafka-python's bootstrap_connected).
func (p *Producer) BootstrapConnected() bool { return p.sender.bootConnected.Load() }

// Metrics returns the producer's metrics in kafka-python's shape: groups
// ("producer-metrics") of metric name to value. MetricsSnapshot gives the
// same figures typed.
func (p *Producer) Metrics() map[string]map[string]float64 {
	return p.MetricsSnapshot().kafkaPython()
}

// MetricsSnapshot returns the producer's counters as a typed value.
func (p *Producer) MetricsSnapshot() MetricsSnapshot {
	return p.metrics.snapshot(p.cfg.bufferMemory, p.acc.pool.available())
}
