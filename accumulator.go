package kafka

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kpgo/kafka/protocol"
)

// batch is one partition's batch of records: encoded once, at append, into
// its builder's buffer (principle 1 of DESIGN.md). The buffer is pooled;
// the result is not, so futures outlive the buffer.
type batch struct {
	part    *partition
	builder protocol.BatchBuilder
	buf     []byte // the pooled buffer builder appends into, for release
	res     *batchResult
	// cbs are the delivery callbacks given at append time (nil without
	// any); cbRoom is the part of memory taken for them.
	cbs     *batchCallbacks
	cbRoom  int64
	created time.Time // for linger and the delivery timeout
	memory  int64     // bytes taken from buffer_memory
	full    bool      // no more records fit
	// unflushed is the bytes appended but not yet counted in the
	// partition's queued (under the partition's lock); queuedBytes is
	// what this batch added to it.
	unflushed   int64
	queuedBytes int64
	stats       batchStats // for metrics: metrics.go

	// Owned by the sender once the batch is drained.
	sealed      []byte // the wire batch; nil until sealed, and once a compressed one is written
	sealedLen   int    // the wire batch's size, once sealed
	compressed  []byte // pooled buffer backing sealed when compressed
	seqSet      bool   // baseSeq, pid and epoch are assigned
	baseSeq     int32
	producerID  int64
	epoch       int16
	attempts    int
	retryAt     time.Time
	inFlight    bool
	lastErr     error
	appendDrain time.Time // when first drained, for queue-time metrics
	first       int32     // index in res of this batch's first record (non-zero after a split)
	sent        bool      // written to a broker at least once
	sentTo      int32     // the broker of the latest attempt
	// topicID is the topic's id as the latest attempt named it (produce
	// v13 and later), to match the answer even if metadata changed since.
	topicID   protocol.UUID
	ambiguous bool // an attempt may have been appended without our knowing
	// partOfAmbiguous marks a part of a split batch that may be in the
	// log whole: the broker would not take the part for a duplicate, so
	// an OUT_OF_ORDER_SEQUENCE_NUMBER answer proves nothing about it.
	partOfAmbiguous bool
	// splitUp marks a batch replaced by its halves (KIP-126), which now
	// hold its records.
	splitUp bool
}

func (b *batch) numRecords() int32 { return int32(b.builder.NumRecords()) }

// setBuffer makes b's builder append into buf, a pooled buffer. The pool
// takes buf back at release even if the builder outgrew it: an arena
// buffer must not be lost.
func (b *batch) setBuffer(buf []byte) {
	b.buf = buf
	b.builder.Reset(buf)
}

// takeBatches removes from p's queue the batches drop selects, keeping the
// others in order, and returns the removed ones; drop runs under p's lock.
func (p *partition) takeBatches(drop func(*batch) bool) []*batch {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*batch
	kept := p.batches[:0]
	for _, b := range p.batches {
		if drop(b) {
			out = append(out, b)
		} else {
			kept = append(kept, b)
		}
	}
	clear(p.batches[len(kept):])
	p.setBatches(kept)
	return out
}

// setBatches replaces p's queue; p.mu is held.
func (p *partition) setBatches(bs []*batch) {
	p.batches = bs
	p.nbatches.Store(int32(len(bs)))
}

// hasBatches reports whether p has batches queued; those in flight are
// in inFlight.
func (p *partition) hasBatches() bool { return p.nbatches.Load() > 0 }

// flushQueued adds the bytes appended since the last flush to the
// partition's queue size.
func (b *batch) flushQueued() {
	if b.unflushed != 0 {
		b.part.queued.Add(b.unflushed)
		b.queuedBytes += b.unflushed
		b.unflushed = 0
	}
}

// unqueue takes the batch's bytes out of its partition's queue size, as
// it leaves the queue; it takes no more records by then.
func (b *batch) unqueue() {
	b.part.queued.Add(-b.queuedBytes)
	b.queuedBytes, b.unflushed = 0, 0
}

// enqueue counts a batch that comes back to the queue.
func (b *batch) enqueue() {
	b.queuedBytes = int64(b.builder.Size())
	b.unflushed = 0
	b.part.queued.Add(b.queuedBytes)
}

// partition is the accumulator's queue for one topic partition, plus the
// sender's state for it.
type partition struct {
	topic *topicState
	id    int32

	// The pads keep what Sends write (mu and the queue) and what the
	// sender writes on cache lines of their own.
	_       [64]byte
	mu      sync.Mutex
	batches []*batch // oldest first; the last one may still take records
	// nbatches is len(batches), set with it under mu, so the sender's
	// walk of every partition can pass over empty ones without their
	// lock. A Send that adds a batch wakes the sender after storing it.
	nbatches atomic.Int32

	// queued is the bytes waiting in batches, read by the sticky chooser.
	queued atomic.Int64

	_ [64]byte
	// Owned by the sender goroutine.
	leader   int32 // -1 when unknown
	epoch    int32 // leader epoch
	nextSeq  int32
	inFlight int // batches of this partition in flight
	// seqConfirmed is set once the broker acknowledged a batch of this
	// partition under the current producer id and epoch. Until then a
	// broker with no state for the producer accepts any first sequence,
	// so a second batch in flight could be written before a failed first
	// one (KAFKA-15591): the first batch goes alone.
	seqConfirmed bool
	// ackedEnd is the sequence after the highest one the broker
	// acknowledged under the current producer id and epoch, once
	// seqConfirmed.
	ackedEnd int32
	// stickyBytes counts bytes appended since the sticky partitioner
	// last moved on from this partition (under mu).
	stickyBytes int64
	// txnGen is the transaction this partition was last added to.
	txnGen uint64
	// lastErr is the last error a batch of this partition was retried
	// for, so a batch that expires queued behind it says why.
	lastErr error
}

// topicState is everything the Send path needs to know about a topic,
// readable without locks.
type topicState struct {
	name string

	// meta is the latest metadata for the topic; nil until known.
	meta atomic.Pointer[topicMeta]
	// parts has one entry per partition in meta, in partition order.
	parts atomic.Pointer[[]*partition]
	// ready is closed when meta is first set or the topic first failed.
	ready     chan struct{}
	readyOnce sync.Once
	// fatal is set while the latest metadata answer refused the topic
	// with an error retrying does not cure (authorization failed, say),
	// and cleared when one describes it.
	fatal atomic.Pointer[error]
	// missing is the latest reason a metadata answer gave for not
	// describing the topic (it does not exist yet, say), for the error
	// of a Send that waited in vain.
	missing atomic.Pointer[error]
	// asked is set once a metadata request named the topic; only the
	// sender touches it. A topic never asked about skips the backoff
	// between requests (sender.maintain).
	asked bool

	// Uniform sticky state (KIP-794) for records without a key.
	// sticky is the partition keyless records go to, -1 to choose anew;
	// appendLocked clears it once batch_size bytes went to it.
	sticky atomic.Int32

	// lastSend is when a record was last sent to the topic or
	// PartitionsFor asked about it (unix ms; Send updates it at most once
	// a second), for metadata_max_idle_ms.
	lastSend atomic.Int64

	// Sends waiting for metadata the producer does not have yet: the
	// topic's first, a partition it just grew, or a new answer after a
	// refusal. wantParts is the partition count they wait for (1 but for
	// a grown partition), which keeps the sender asking, and 0 when none
	// waits. updated, when set, is closed at the topic's next answer.
	wantMu      sync.Mutex
	wantWaiters int
	wantParts   atomic.Int32
	updated     atomic.Pointer[chan struct{}]
}

// awaitChange returns a channel closed at the next metadata answer about t
// (its metadata, or a refusal).
func (t *topicState) awaitChange() <-chan struct{} {
	for {
		if ch := t.updated.Load(); ch != nil {
			return *ch
		}
		ch := make(chan struct{})
		if t.updated.CompareAndSwap(nil, &ch) {
			return ch
		}
	}
}

// changed wakes the Sends waiting in awaitChange.
func (t *topicState) changed() {
	if ch := t.updated.Swap(nil); ch != nil {
		close(*ch)
	}
}

// want registers a Send waiting for metadata with at least n partitions;
// the returned function unregisters it.
func (t *topicState) want(n int32) (done func()) {
	t.wantMu.Lock()
	t.wantWaiters++
	if n > t.wantParts.Load() {
		t.wantParts.Store(n)
	}
	t.wantMu.Unlock()
	return func() {
		t.wantMu.Lock()
		t.wantWaiters--
		if t.wantWaiters == 0 {
			t.wantParts.Store(0)
		}
		t.wantMu.Unlock()
	}
}

func newTopicState(name string) *topicState {
	t := &topicState{name: name, ready: make(chan struct{})}
	t.sticky.Store(-1)
	return t
}

func (t *topicState) markReady() { t.readyOnce.Do(func() { close(t.ready) }) }

// accumulator holds every partition's batches.
type accumulator struct {
	cfg  *config
	pool *bufferPool
	// lastTopic is the topic of the latest Send, looked up first.
	lastTopic atomic.Pointer[topicState]
	// cbsMu guards cbsFree, callback records kept for reuse.
	cbsMu   sync.Mutex
	cbsFree []*batchCallbacks
	// closed is set by Close before it fails what is queued; appends
	// check it under the partition's lock.
	closed atomic.Bool
	topics sync.Map // string -> *topicState
	// topicList holds the same topics for the sender's walks, which run
	// every loop: ranging over the sync.Map took a third of the CPU of a
	// producer writing to 2,000 topics. topicsMu orders its copies.
	topicsMu  sync.Mutex
	topicList atomic.Pointer[[]*topicState]
	wake      func() // tells the sender a batch may be ready

	// incomplete tracks results not yet completed, for Flush.
	incMu      sync.Mutex
	incomplete map[*batchResult]struct{}

	// records bounds buffered records (queue.buffering.max.messages); nil
	// when unbounded, so the default costs nothing per record.
	records *bufferPool
}

func newAccumulator(cfg *config, wake func()) *accumulator {
	bufSize := cfg.batchSize + protocol.RecordBatchHeaderSize
	a := &accumulator{
		cfg:        cfg,
		pool:       newBufferPool("buffer_memory", "bytes", cfg.bufferMemory, bufSize),
		wake:       wake,
		incomplete: make(map[*batchResult]struct{}),
	}
	if cfg.maxBufferedRecords > 0 {
		a.records = newBufferPool("queue_buffering_max_messages", "records", int64(cfg.maxBufferedRecords), 0)
	}
	return a
}

// topic returns the state of topic, creating it if it is new; created
// reports whether it was.
func (a *accumulator) topic(name string) (t *topicState, created bool) {
	if v, ok := a.topics.Load(name); ok {
		return v.(*topicState), false
	}
	v, loaded := a.topics.LoadOrStore(name, newTopicState(name))
	t = v.(*topicState)
	if !loaded {
		a.topicsMu.Lock()
		var list []*topicState
		if old := a.topicList.Load(); old != nil {
			list = append(make([]*topicState, 0, len(*old)+1), *old...)
		}
		list = append(list, t)
		a.topicList.Store(&list)
		a.topicsMu.Unlock()
	}
	return t, !loaded
}

// forgetTopic drops t, if it is still the state kept for its name, so
// that the next Send for that name starts afresh.
func (a *accumulator) forgetTopic(t *topicState) {
	if !a.topics.CompareAndDelete(t.name, t) {
		return
	}
	a.lastTopic.CompareAndSwap(t, nil)
	a.topicsMu.Lock()
	defer a.topicsMu.Unlock()
	old := a.topicList.Load()
	if old == nil {
		return
	}
	list := make([]*topicState, 0, len(*old))
	for _, x := range *old {
		if x != t {
			list = append(list, x)
		}
	}
	a.topicList.Store(&list)
}

// chooseSticky applies the uniform sticky rule (KIP-794) to a keyless
// record: stay on the current partition until about batch_size bytes went
// to it (appendLocked counts them and clears the choice), then move to a
// partition with the least queued, picking at random among equals.
func (a *accumulator) chooseSticky(t *topicState, parts []*partition, meta *topicMeta) int32 {
	// The metadata's count: parts may be longer (see Producer.send).
	count := min(len(meta.partitions), len(parts))
	cur := t.sticky.Load()
	if cur >= 0 && int(cur) < count {
		return cur
	}
	avail := meta.available
	var next int32
	if len(avail) == 0 {
		next = int32(rand.IntN(count))
	} else {
		best := int64(-1)
		n := 0
		for _, id := range avail {
			if int(id) >= count {
				continue
			}
			q := parts[id].queued.Load()
			switch {
			case best < 0 || q < best:
				best, next, n = q, id, 1
			case q == best:
				// Reservoir sampling keeps the choice uniform among equals.
				n++
				if rand.IntN(n) == 0 {
					next = id
				}
			}
		}
		if best < 0 {
			next = int32(rand.IntN(count))
		}
	}
	if t.sticky.CompareAndSwap(cur, next) {
		return next
	}
	// Another sender moved on first: follow it.
	return t.sticky.Load()
}

// appendRecord encodes one record into its partition's open batch and
// returns the batch's result and the record's index in it. It blocks up to
// deadline (and ctx) for room in the buffer.
func (a *accumulator) appendRecord(ctx context.Context, p *partition, ts int64, key, value []byte, headers []Header,
	size int, cb func(RecordMetadata, error), info recordInfo, deadline *blockDeadline) (*batchResult, int32, error) {
	if a.records != nil {
		if err := a.records.acquire(ctx, 1, deadline); err != nil {
			return nil, 0, err
		}
	}
	var reserved int64
	for {
		p.mu.Lock()
		if a.closed.Load() {
			p.mu.Unlock()
			a.unreserve(reserved)
			return nil, 0, ErrProducerClosed
		}
		if n := len(p.batches); n > 0 {
			b := p.batches[n-1]
			if !b.full && a.fits(b, size) && a.roomForCallback(b, cb) {
				res, idx := a.appendLocked(p, b, ts, key, value, headers, size, cb, info)
				b.stats.appended(size, deadline.sendMs)
				p.mu.Unlock()
				if reserved > 0 {
					a.pool.release(reserved)
				}
				return res, idx, nil
			}
			if !b.full {
				// The record does not fit: the batch is as full as it gets.
				b.full = true
				a.wake()
			}
		}
		need := int64(max(a.cfg.batchSize, size) + protocol.RecordBatchHeaderSize)
		var cbRoom int64
		if cb != nil {
			// The callbacks a batch keeps count against buffer_memory
			// too, so that the producer's memory stays within it
			// whichever form of send is used.
			cbRoom = min(a.cbReserve(size), a.cfg.bufferMemory-need)
			need += max(cbRoom, 0)
		}
		need = min(need, a.cfg.bufferMemory)
		if reserved >= need {
			b := a.newBatchLocked(p, need, size)
			b.cbRoom = max(cbRoom, 0)
			reserved -= need
			res, idx := a.appendLocked(p, b, ts, key, value, headers, size, cb, info)
			b.stats.appended(size, deadline.sendMs)
			p.mu.Unlock()
			if reserved > 0 {
				a.pool.release(reserved)
			}
			a.wake()
			return res, idx, nil
		}
		p.mu.Unlock()
		// Wait for room without holding the partition's lock, then look
		// again: another goroutine may have opened a batch meanwhile.
		if err := a.pool.acquire(ctx, need-reserved, deadline); err != nil {
			a.unreserve(reserved)
			return nil, 0, err
		}
		reserved = need
	}
}

// unreserve gives back what a failed append took: reserved bytes of
// buffer_memory and its place in queue_buffering_max_messages.
func (a *accumulator) unreserve(reserved int64) {
	if reserved > 0 {
		a.pool.release(reserved)
	}
	if a.records != nil {
		a.records.release(1)
	}
}

// fits reports whether a record of size bytes can join b.
func (a *accumulator) fits(b *batch, size int) bool {
	if b.builder.NumRecords() == 0 {
		return true
	}
	if a.cfg.batchMaxRecords > 0 && b.builder.NumRecords() >= a.cfg.batchMaxRecords {
		return false
	}
	return b.builder.Size()+size <= max(a.cfg.batchSize, 1)
}

func (a *accumulator) newBatchLocked(p *partition, memory int64, size int) *batch {
	b := &batch{
		part:    p,
		res:     newBatchResult(p.topic.name, p.id),
		created: time.Now(),
		memory:  memory,
	}
	b.setBuffer(a.pool.getBuf(max(a.cfg.batchSize, size) + protocol.RecordBatchHeaderSize))
	p.setBatches(append(p.batches, b))
	a.incMu.Lock()
	a.incomplete[b.res] = struct{}{}
	a.incMu.Unlock()
	return b
}

func (a *accumulator) appendLocked(p *partition, b *batch, ts int64, key, value []byte, headers []Header,
	size int, cb func(RecordMetadata, error), info recordInfo) (*batchResult, int32) {
	idx := int32(b.builder.NumRecords())
	b.builder.Append(ts, key, value, headers)
	// The queue size feeds the sticky partitioner, which needs no
	// per-record precision: counting it every few KiB keeps a locked
	// instruction, which must wait for the record's copy to drain, off
	// most records.
	b.unflushed += int64(size)
	if b.unflushed >= 4<<10 {
		b.flushQueued()
	}
	// KIP-794: the sticky partition changes after batch_size bytes.
	// Counting here, under the lock already held, spares every keyless
	// Send an atomic add on a counter all senders share.
	p.stickyBytes += int64(size)
	if p.stickyBytes >= int64(max(a.cfg.batchSize, 1)) {
		p.stickyBytes = 0
		p.topic.sticky.CompareAndSwap(p.id, -1)
	}
	if cb != nil {
		a.addCallback(b, idx, cb, &info)
	}
	if b.builder.Size() >= a.cfg.batchSize || (a.cfg.batchMaxRecords > 0 && b.builder.NumRecords() >= a.cfg.batchMaxRecords) {
		b.full = true
		b.flushQueued()
		a.wake()
	}
	return b.res, idx
}

// forEachTopic calls fn for every topic the producer has seen.
func (a *accumulator) forEachTopic(fn func(t *topicState)) {
	if list := a.topicList.Load(); list != nil {
		for _, t := range *list {
			fn(t)
		}
	}
}

// incompleteResults returns the results of every batch not yet completed.
func (a *accumulator) incompleteResults() []*batchResult {
	a.incMu.Lock()
	defer a.incMu.Unlock()
	out := make([]*batchResult, 0, len(a.incomplete))
	for r := range a.incomplete {
		out = append(out, r)
	}
	return out
}

// finish completes b, runs its callbacks and returns its memory and
// buffer. Only the sender calls it, once per batch.
func (a *accumulator) finish(b *batch, baseOffset, logAppendTime, logStartOffset int64, err error) {
	r := b.res
	r.mu.Lock()
	split := r.pending > 0
	if split {
		r.segs = append(r.segs, segment{first: b.first, baseOffset: baseOffset, logAppendTime: logAppendTime, logStartOffset: logStartOffset, err: err})
		r.pending--
	}
	left := r.pending
	r.mu.Unlock()
	if split {
		if left > 0 {
			// Other parts of the split batch are still on their way.
			a.release(b)
			return
		}
		// Every part is done; the batch's own fields summarise the first
		// failure, for code that looks only at them.
		for _, sg := range r.segs {
			if sg.err != nil && err == nil {
				err = sg.err
			}
		}
		r.complete(baseOffset, logAppendTime, logStartOffset, err, nil, r.splitCbs)
	} else {
		r.complete(baseOffset, logAppendTime, logStartOffset, err, b, nil)
	}
	a.release(b)
	// Forgotten only once released: Flush waits for what it finds here,
	// so that when it returns the memory of what it waited for is free.
	a.incMu.Lock()
	delete(a.incomplete, b.res)
	a.incMu.Unlock()
	// done closes last: after the callbacks, as the Java client completes
	// its future after them, so Flush returns only when every callback of
	// the records it waited for has run; and after the release, so that
	// the batch's memory is free by then. Get and IsDone look at settled,
	// so a callback may still call Get on its own future.
	close(r.done)
}

// release returns b's buffers and memory.
func (a *accumulator) release(b *batch) {
	if a.records != nil && !b.splitUp {
		a.records.release(int64(b.numRecords()))
	}
	if b.buf != nil {
		a.pool.putBuf(b.buf)
	}
	b.buf = nil
	b.builder.Reset(nil)
	if b.cbs != nil {
		a.putCallbacks(b.cbs)
	}
	if b.compressed != nil {
		// Nothing reads it any more: an answer comes only after the
		// request's bytes arrived, and a failure is taken only once the
		// writer has stopped (conn.go), so it can serve the next batch.
		buf := b.compressed[:0]
		compressPool.Put(&buf)
	}
	b.sealed, b.compressed, b.cbs = nil, nil, nil
	if b.memory > 0 {
		a.pool.release(b.memory)
		b.memory = 0
	}
}
