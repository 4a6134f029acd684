package kafka

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kpgo/kafka/protocol"
)

// RecordMetadata is where a record landed: kafka-python's RecordMetadata.
type RecordMetadata struct {
	Topic     string
	Partition int32
	// Offset is the record's offset, or -1 with acks=0, when the broker
	// does not answer.
	Offset int64
	// Timestamp is the broker's append time when the topic uses
	// LogAppendTime, else the record's create time.
	Timestamp time.Time
	// SerializedKeySize, SerializedValueSize and SerializedHeaderSize are
	// the bytes of each part as sent, or -1 when the part is absent.
	SerializedKeySize    int32
	SerializedValueSize  int32
	SerializedHeaderSize int32
	// LogStartOffset is the partition's first offset as the broker
	// reported it, or -1 when unknown.
	LogStartOffset int64
}

// batchResult is the outcome every record of one batch shares: principle 2
// of DESIGN.md, a future is its batch's result plus an index. It is not
// pooled, so futures stay valid after their batch's buffer is reused.
type batchResult struct {
	topic     string
	partition int32
	done      chan struct{}
	settled   atomic.Bool // the outcome below is set

	// Set once before settled; read only after.
	baseOffset     int64
	logAppendTime  int64 // -1 unless the topic uses LogAppendTime
	logStartOffset int64
	err            error

	mu        sync.Mutex
	completed bool
	late      []recordCallback // added by Future.AddCallback before completion

	// A batch split after MESSAGE_TOO_LARGE (KIP-126) completes in
	// parts; segs holds each part's outcome by the index of its first
	// record, and the result completes when pending reaches zero. Both
	// stay nil for the common, unsplit batch.
	pending  int
	segs     []segment
	splitCbs []recordCallback
}

// segment is the outcome of one part of a split batch.
type segment struct {
	first          int32
	baseOffset     int64
	logAppendTime  int64
	logStartOffset int64
	err            error
}

// outcome returns what the broker said about the record at index: the
// offset of index 0 in its part (so that base+index is its offset), the
// log append time and its error.
func (r *batchResult) outcome(index int32) (base, logAppendTime int64, err error) {
	if r.segs == nil {
		return r.baseOffset, r.logAppendTime, recordErr(r.err, index)
	}
	seg := &r.segs[0]
	for i := range r.segs {
		if r.segs[i].first <= index && r.segs[i].first >= seg.first {
			seg = &r.segs[i]
		}
	}
	base = -1
	if seg.baseOffset >= 0 {
		base = seg.baseOffset - int64(seg.first)
	}
	return base, seg.logAppendTime, recordErr(seg.err, index-seg.first)
}

// recordErrors is a batch's error when the broker named the records that
// made it refuse the batch (KIP-467's record_errors), as Java's Sender
// reports them: those records fail with their own message, the others
// with ErrRejectedWithBatch, so a caller can tell which ones to send
// again. It stays inside the producer: outcome gives each record its own.
type recordErrors struct {
	err     error           // the batch's, with the broker's summary
	byIndex map[int32]error // by index in the batch as sent
	rest    error
}

func newRecordErrors(code, err error, named []protocol.BatchIndexAndErrorMessage) *recordErrors {
	re := &recordErrors{err: err, byIndex: make(map[int32]error, len(named)),
		rest: fmt.Errorf("%w (the broker: %v)", ErrRejectedWithBatch, err)}
	for _, n := range named {
		msg := err.Error()
		if n.BatchIndexErrorMessage != nil && *n.BatchIndexErrorMessage != "" {
			msg = *n.BatchIndexErrorMessage
		}
		re.byIndex[n.BatchIndex] = fmt.Errorf("%w: record %d of its batch: %s", code, n.BatchIndex, msg)
	}
	return re
}

func (e *recordErrors) Error() string { return e.err.Error() }
func (e *recordErrors) Unwrap() error { return e.err }

// recordErr returns the error of the record at index (in the batch as
// sent) when its batch failed with err.
func recordErr(err error, index int32) error {
	re, ok := err.(*recordErrors)
	if !ok {
		return err
	}
	if e, ok := re.byIndex[index]; ok {
		return e
	}
	return re.rest
}

func newBatchResult(topic string, partition int32) *batchResult {
	return &batchResult{topic: topic, partition: partition, done: make(chan struct{})}
}

// recordInfo is what a future knows of its own record.
type recordInfo struct {
	timestamp  int64 // create time, ms
	index      int32
	keySize    int32
	valueSize  int32
	headerSize int32
}

func (r *batchResult) metadata(info recordInfo) RecordMetadata {
	md := RecordMetadata{
		Topic:                r.topic,
		Partition:            r.partition,
		Offset:               -1,
		Timestamp:            time.UnixMilli(info.timestamp),
		SerializedKeySize:    info.keySize,
		SerializedValueSize:  info.valueSize,
		SerializedHeaderSize: info.headerSize,
		LogStartOffset:       r.logStartOffset,
	}
	base, logAppendTime, _ := r.outcome(info.index)
	if base >= 0 {
		md.Offset = base + int64(info.index)
	}
	if logAppendTime >= 0 {
		md.Timestamp = time.UnixMilli(logAppendTime)
	}
	return md
}

// recordCallback is one delivery callback: from Produce (fn) or from
// Future.AddCallback / AddErrback (ok, fail).
type recordCallback struct {
	info recordInfo
	fn   func(RecordMetadata, error)
	ok   func(RecordMetadata)
	fail func(error)
}

func (c *recordCallback) run(r *batchResult) {
	if _, _, err := r.outcome(c.info.index); err != nil {
		switch {
		case c.fn != nil:
			c.fn(RecordMetadata{Topic: r.topic, Partition: r.partition, Offset: -1}, err)
		case c.fail != nil:
			c.fail(err)
		}
		return
	}
	md := r.metadata(c.info)
	switch {
	case c.fn != nil:
		c.fn(md, nil)
	case c.ok != nil:
		c.ok(md)
	}
}

// complete sets the outcome and runs the callbacks registered so far:
// first those given at append time (b's, or early for a split batch), then
// those added through futures. It runs on the producer's sender goroutine;
// the caller closes done after it.
func (r *batchResult) complete(baseOffset, logAppendTime, logStartOffset int64, err error, b *batch, early []recordCallback) {
	r.baseOffset, r.logAppendTime, r.logStartOffset, r.err = baseOffset, logAppendTime, logStartOffset, err
	r.mu.Lock()
	r.completed = true
	late := r.late
	r.late = nil
	r.mu.Unlock()
	r.settled.Store(true)
	if b != nil {
		b.runCallbacks(r)
	}
	for i := range early {
		early[i].run(r)
	}
	for i := range late {
		late[i].run(r)
	}
}

// Future is the pending result of one Send, kafka-python's
// FutureRecordMetadata. It is a small value: copy it freely. The zero
// Future is not valid.
type Future struct {
	res  *batchResult
	info recordInfo
}

// Done returns a channel that is closed when the record is acknowledged or
// has failed and the callbacks registered by then have run.
func (f Future) Done() <-chan struct{} { return f.res.done }

// IsDone reports whether the record's outcome is known.
func (f Future) IsDone() bool { return f.res.settled.Load() }

// Get waits for the outcome and returns where the record landed, or why it
// failed. An outcome already known is returned even if ctx is done; if ctx
// ends first, Get returns ctx's error and the send goes on.
func (f Future) Get(ctx context.Context) (RecordMetadata, error) {
	if !f.res.settled.Load() {
		select {
		case <-f.res.done:
		case <-ctx.Done():
			if !f.res.settled.Load() {
				return RecordMetadata{}, ctx.Err()
			}
		}
	}
	if _, _, err := f.res.outcome(f.info.index); err != nil {
		return RecordMetadata{Topic: f.res.topic, Partition: f.res.partition, Offset: -1}, err
	}
	return f.res.metadata(f.info), nil
}

// AddCallback registers fn to run with the record's metadata when it is
// acknowledged; it never runs if the record fails. If the record is
// already done, fn runs at once on the calling goroutine; otherwise it
// runs on the producer's sender goroutine, so it must be quick and must
// not block (hand slow work to another goroutine).
func (f Future) AddCallback(fn func(RecordMetadata)) {
	f.add(recordCallback{info: f.info, ok: fn})
}

// AddErrback registers fn to run with the error if the record fails; it
// never runs on success. It runs where AddCallback's functions run, under
// the same rules.
func (f Future) AddErrback(fn func(error)) {
	f.add(recordCallback{info: f.info, fail: fn})
}

func (f Future) add(cb recordCallback) {
	r := f.res
	r.mu.Lock()
	if !r.completed {
		r.late = append(r.late, cb)
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	cb.run(r)
}
