package kafka

import (
	"math"
	"time"
	"unsafe"
)

// batchCallbacks holds the delivery callbacks Produce was given for one
// batch's records. Most Sends of a batch share one callback, so it keeps
// runs of records that share one, plus a small pointer-free shape per
// record for its RecordMetadata. Kept as one callback struct per record,
// with its pointers and their write barriers, they cost the callback form
// about a tenth of its CPU (issue 7).
type batchCallbacks struct {
	runs   []cbRun
	shapes []recordShape // one per record with a callback, in order
}

// cbRun is a run of consecutive records of one batch, [from, from+n),
// given the same callback.
type cbRun struct {
	fn   func(RecordMetadata, error)
	from int32
	n    int32
}

// recordShape is what a callback reports of its record beyond the batch's
// outcome.
type recordShape struct {
	timestamp  int64 // create time, ms
	keySize    int32
	valueSize  int32
	headerSize int32
}

// What runs and shapes take of buffer_memory.
const (
	cbRunSize   = int64(unsafe.Sizeof(cbRun{}))
	cbShapeSize = int64(unsafe.Sizeof(recordShape{}))
)

// sameFunc reports whether f and g are the same function value. Func
// values are not comparable in Go, but each is a pointer to its closure,
// so equal pointers are the same callback; different ones at worst start
// a new run.
func sameFunc(f, g func(RecordMetadata, error)) bool {
	return *(*unsafe.Pointer)(unsafe.Pointer(&f)) == *(*unsafe.Pointer)(unsafe.Pointer(&g))
}

// cbReserve is the buffer_memory a new batch takes for the callbacks of
// records of about size bytes: a shape for each record batch_size holds
// (size is an upper bound; records are usually smaller) and a few runs.
func (a *accumulator) cbReserve(size int) int64 {
	return int64(a.cfg.batchSize*3/(max(size, 1)*2))*cbShapeSize + 4*cbRunSize
}

// roomForCallback reports whether b's callbacks have room for one more,
// taking more of buffer_memory, without waiting, if not. Without room the
// batch is as full as it gets and the record goes to a new batch, which
// brings its own room.
func (a *accumulator) roomForCallback(b *batch, cb func(RecordMetadata, error)) bool {
	if cb == nil {
		return true
	}
	var used int64
	if c := b.cbs; c != nil {
		used = int64(len(c.runs))*cbRunSize + int64(len(c.shapes))*cbShapeSize
	}
	// A record adds a shape and at most one run.
	if used+cbRunSize+cbShapeSize <= b.cbRoom {
		return true
	}
	more := max(b.cbRoom, 8*(cbRunSize+cbShapeSize))
	if !a.pool.tryAcquire(more) {
		return false
	}
	b.cbRoom += more
	b.memory += more
	return true
}

// addCallback notes that record idx of b has callback cb; roomForCallback
// has said it fits.
func (a *accumulator) addCallback(b *batch, idx int32, cb func(RecordMetadata, error), info *recordInfo) {
	c := b.cbs
	if c == nil {
		c = a.getCallbacks(b.cbRoom)
		b.cbs = c
	}
	if k := len(c.runs) - 1; k >= 0 && c.runs[k].from+c.runs[k].n == idx && sameFunc(c.runs[k].fn, cb) {
		c.runs[k].n++
	} else {
		c.runs = append(c.runs, cbRun{fn: cb, from: idx, n: 1})
	}
	c.shapes = append(c.shapes, recordShape{
		timestamp: info.timestamp,
		keySize:   info.keySize, valueSize: info.valueSize, headerSize: info.headerSize,
	})
}

// eachCallback calls fn for every record of b given a callback at append
// time, with what RecordMetadata reports of the record.
func (b *batch) eachCallback(fn func(cb func(RecordMetadata, error), info recordInfo)) {
	c := b.cbs
	if c == nil {
		return
	}
	k := 0
	for _, run := range c.runs {
		for i := range run.n {
			sh := &c.shapes[k]
			k++
			fn(run.fn, recordInfo{
				timestamp: sh.timestamp, index: run.from + i,
				keySize: sh.keySize, valueSize: sh.valueSize, headerSize: sh.headerSize,
			})
		}
	}
}

// runCallbacks runs b's append-time callbacks with r's outcome; r is b's
// own result, not split. It is batchResult.metadata for a run of records,
// with what is the same for all of them worked out once.
func (b *batch) runCallbacks(r *batchResult) {
	c := b.cbs
	if c == nil {
		return
	}
	md := RecordMetadata{Topic: r.topic, Partition: r.partition, Offset: -1}
	if r.err != nil {
		for _, run := range c.runs {
			for i := range run.n {
				run.fn(md, recordErr(r.err, run.from+i))
			}
		}
		return
	}
	md.LogStartOffset = r.logStartOffset
	if r.logAppendTime >= 0 {
		md.Timestamp = time.UnixMilli(r.logAppendTime)
	}
	lastTS := int64(math.MinInt64)
	k := 0
	for _, run := range c.runs {
		for i := range run.n {
			sh := &c.shapes[k]
			k++
			if r.baseOffset >= 0 {
				md.Offset = r.baseOffset + int64(run.from+i)
			}
			// Records of a batch mostly share a millisecond.
			if ts := sh.timestamp; r.logAppendTime < 0 && ts != lastTS {
				md.Timestamp, lastTS = time.UnixMilli(ts), ts
			}
			md.SerializedKeySize, md.SerializedValueSize, md.SerializedHeaderSize = sh.keySize, sh.valueSize, sh.headerSize
			run.fn(md, nil)
		}
	}
}

// callbacks returns b's append-time callbacks one per record, for a batch
// about to be split, whose records are then encoded anew.
func (b *batch) callbacks() []recordCallback {
	var out []recordCallback
	b.eachCallback(func(cb func(RecordMetadata, error), info recordInfo) {
		out = append(out, recordCallback{info: info, fn: cb})
	})
	return out
}

// getCallbacks returns empty callback storage for a batch, reused when
// some is free: allocated anew for every batch, it was most of the
// callback form's garbage, and garbage is what makes the heap outgrow
// buffer_memory.
func (a *accumulator) getCallbacks(room int64) *batchCallbacks {
	a.cbsMu.Lock()
	if k := len(a.cbsFree); k > 0 {
		c := a.cbsFree[k-1]
		a.cbsFree[k-1] = nil
		a.cbsFree = a.cbsFree[:k-1]
		a.cbsMu.Unlock()
		return c
	}
	a.cbsMu.Unlock()
	return &batchCallbacks{runs: make([]cbRun, 0, 4), shapes: make([]recordShape, 0, max((room-4*cbRunSize)/cbShapeSize, 8))}
}

// putCallbacks keeps a batch's callback storage for the next batch; no
// more is kept than batches fit in buffer_memory.
func (a *accumulator) putCallbacks(c *batchCallbacks) {
	clear(c.runs)
	c.runs, c.shapes = c.runs[:0], c.shapes[:0]
	a.cbsMu.Lock()
	if int64(len(a.cbsFree)+1)*int64(max(a.cfg.batchSize, 1)) <= a.cfg.bufferMemory {
		a.cbsFree = append(a.cbsFree, c)
	}
	a.cbsMu.Unlock()
}
