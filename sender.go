package kafka

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kpgo/kafka/compress"
	"github.com/kpgo/kafka/protocol"
)

// eventQueue hands results from connection goroutines to the sender. Its
// push never blocks, so a connection goroutine can never deadlock against
// a sender that is waiting on that connection.
type eventQueue struct {
	mu     sync.Mutex
	items  []any
	signal chan struct{}
}

func (q *eventQueue) push(ev any) {
	q.mu.Lock()
	q.items = append(q.items, ev)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *eventQueue) take(buf []any) []any {
	q.mu.Lock()
	buf = append(buf[:0], q.items...)
	clear(q.items)
	q.items = q.items[:0]
	q.mu.Unlock()
	return buf
}

// brokerState is the sender's view of one broker.
type brokerState struct {
	id         int32
	addr       string
	conn       *conn
	connecting bool
	failures   int
	retryAt    time.Time
	inFlight   int // produce requests in flight
	// throttledUntil is when the broker's last quota throttle ends:
	// no produce request goes to it before then (KIP-219).
	throttledUntil time.Time
}

// Events the sender handles.
type (
	connEvent struct {
		b    *brokerState
		conn *conn
		err  error
	}
	produceEvent struct {
		req  *produceRequest
		resp *protocol.ProduceResponse
		err  error
	}
	metadataEvent struct {
		b       *brokerState
		res     metadataResult
		err     error
		partial bool // only topics Sends wait for were asked about

		throttleMs int32
	}
	producerIDEvent struct {
		resp *protocol.InitProducerIdResponse
		err  error
	}
)

// produceRequest is one ProduceRequest in flight: its batches, in the
// order they were drained.
type produceRequest struct {
	broker  *brokerState
	conn    *conn
	batches []*batch
	version int16
	sentAt  time.Time

	// mu orders the writer's freeing of compressed buffers after the
	// write (see write) against the sender's taking the batches back
	// once the request is answered, which sets answered.
	mu       sync.Mutex
	answered bool
}

// sender is the producer's one background goroutine (DESIGN.md): it picks
// ready batches per leader, writes ProduceRequests, and completes, retries
// or fails batches from the answers. All of its fields are its own; other
// goroutines talk to it through events and wake.
type sender struct {
	gid     atomic.Uint64 // run's goroutine, which runs delivery callbacks (callbackg.go)
	cfg     *config
	acc     *accumulator
	metrics *producerMetrics
	log     func(msg string, args ...any)

	events eventQueue
	wakeCh chan struct{}
	quit   chan struct{} // closed to abort: fail what is left and stop
	done   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // connect goroutines

	flushing atomic.Int32
	closing  atomic.Bool
	onFatal  func(error) // tells the producer to refuse sends

	bootstrap []*brokerState
	brokers   map[int32]*brokerState
	nextBoot  int

	metaInFlight bool
	metaAt       time.Time // last successful metadata
	metaRetryAt  time.Time
	metaFailures int
	metaRetries  int  // answers in a row that left something to ask again
	metaWanted   bool // a refresh is wanted as soon as allowed
	// metaNew is set when Sends wait for topics without metadata and
	// nothing else wants a refresh: a request for those topics alone
	// does (KIP-526's partial update), so the first record to each of a
	// thousand topics does not list all the others.
	metaNew     bool
	metaWaiting *brokerState
	// pidWaiting is the broker an InitProducerId is out to; the idle
	// sweep spares its connection, as it does metaWaiting's.
	pidWaiting *brokerState

	// Idempotence state (KIP-98).
	producerID    int64
	epoch         int16
	pidInFlight   bool
	pidRetryAt    time.Time
	pidFailures   int
	bootConnected atomic.Bool
	// lastMetaErr is why the latest connection or metadata request
	// failed, nil once metadata came back; see Producer.waitMeta.
	lastMetaErr atomic.Pointer[error]
	// An epoch bump (KIP-360) is wanted after a sequence gap or lost
	// producer state; it waits until nothing is in flight and batches of
	// unknown fate are resolved (at most request_timeout_ms), then moves
	// to the next epoch of the current id (startBump). bumping is set
	// while a new id is asked for instead, the epoch being exhausted.
	bumpWanted bool
	bumpSince  time.Time // when the wanted bump began to wait
	bumping    bool
	// fatal is set when the producer cannot go on (fenced, not
	// authorized to be idempotent); every batch then fails with it.
	fatal error

	// Transactions (transaction.go); txn is nil without transactional_id.
	txn       *txnManager
	txnID     *string
	txnToAdd  []*partition
	txnAdding map[*partition]bool

	byBroker map[int32][]*partition // sendReady's scratch, reused

	evbuf []any
}

func newSender(cfg *config, acc *accumulator, m *producerMetrics) *sender {
	ctx, cancel := context.WithCancel(context.Background())
	s := &sender{
		cfg:        cfg,
		acc:        acc,
		metrics:    m,
		events:     eventQueue{signal: make(chan struct{}, 1)},
		wakeCh:     make(chan struct{}, 1),
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
		ctx:        ctx,
		cancel:     cancel,
		brokers:    make(map[int32]*brokerState),
		byBroker:   make(map[int32][]*partition),
		producerID: -1,
		epoch:      -1,
		metaWanted: true,
	}
	s.log = func(msg string, args ...any) { cfg.logger.Debug("kafka: "+msg, args...) }
	for i, addr := range cfg.bootstrapServers {
		s.bootstrap = append(s.bootstrap, &brokerState{id: int32(-1 - i), addr: addr})
	}
	return s
}

// wake tells the sender to look for ready batches; it never blocks.
func (s *sender) wake() {
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
}

func (s *sender) run() {
	defer close(s.done)
	s.gid.Store(goid())
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.handleEvents()
		select {
		case <-s.quit:
			s.shutdown()
			return
		default:
		}
		now := time.Now()
		next := now.Add(time.Second)
		next = earliest(next, s.maintain(now))
		next = earliest(next, s.sendReady(now))
		d := time.Until(next)
		if d < 0 {
			d = 0
		}
		timer.Reset(d)
		select {
		case <-s.wakeCh:
		case <-s.events.signal:
		case <-timer.C:
		case <-s.quit:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

func earliest(a, b time.Time) time.Time {
	if !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

func (s *sender) handleEvents() {
	s.evbuf = s.events.take(s.evbuf)
	for i, ev := range s.evbuf {
		switch ev := ev.(type) {
		case connEvent:
			s.onConn(ev)
		case produceEvent:
			s.onProduce(ev)
		case metadataEvent:
			s.onMetadata(ev)
		case producerIDEvent:
			s.onProducerID(ev)
		case txnProducerIDEvent:
			s.onTxnProducerID(ev)
		case txnAbortEvent:
			s.onTxnAbort(ev)
		case txnAddedEvent:
			s.onTxnAdded(ev)
		case fatalEvent:
			s.setFatal(ev.err)
		}
		s.evbuf[i] = nil
	}
}

// backoff is the exponential backoff with jitter of KIP-580: base doubling
// per attempt up to max, then ±20% jitter.
func backoff(base, maxBackoff time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	if d <= 0 {
		return 0
	}
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// --- connections ---

// usable returns b's connection if it is live, dropping a dead one.
func (s *sender) usable(b *brokerState) *conn {
	if b.conn != nil && b.conn.dead() {
		s.log("broker connection lost", "broker", b.id, "addr", b.addr, "err", b.conn.failure())
		s.closeConn(b.conn)
		b.conn = nil
		// reconnect_backoff_ms holds after a lost connection too, as
		// after a failed dial: a broker that accepts and then drops
		// connections was otherwise dialled in a tight loop.
		b.retryAt = time.Now().Add(backoff(s.cfg.reconnectBackoff, s.cfg.reconnectBackoffMax, b.failures+1))
		if b.id >= 0 {
			s.metaWanted = true // as for a failed connect (onConn)
		}
	}
	return b.conn
}

// connect starts connecting to b unless it is already, or backing off.
func (s *sender) connect(b *brokerState, now time.Time) time.Time {
	if b.conn != nil || b.connecting {
		return time.Time{}
	}
	if now.Before(b.retryAt) {
		return b.retryAt
	}
	b.connecting = true
	// KIP-601: the bound on setting the connection up doubles with each
	// failed attempt, so an address that drops packets costs little the
	// first time and a slow broker is given longer later.
	setup := backoff(s.cfg.connSetupTimeout, s.cfg.connSetupTimeoutMax, b.failures+1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.ctx, setup)
		defer cancel()
		c, err := dialConn(ctx, s.cfg, b.id, b.addr, s.cfg.maxInFlight)
		s.events.push(connEvent{b: b, conn: c, err: err})
	}()
	return time.Time{}
}

func (s *sender) onConn(ev connEvent) {
	b := ev.b
	b.connecting = false
	if ev.err != nil {
		b.failures++
		b.retryAt = time.Now().Add(backoff(s.cfg.reconnectBackoff, s.cfg.reconnectBackoffMax, b.failures))
		s.cfg.logger.Warn("kafka: cannot connect to broker", "broker", b.id, "addr", b.addr, "err", ev.err)
		s.lastMetaErr.Store(&ev.err)
		if b.id >= 0 {
			// The broker may have left the cluster, its partitions led
			// elsewhere now: without a refresh, their batches would wait
			// for metadata_max_age_ms. The Java client also asks on
			// every disconnect.
			s.metaWanted = true
		}
		s.onAuthFailure(b, ev.err) // conn_security.go: TLS and SASL failures fail fast
		if s.metaWaiting == b {
			s.metaWaiting = nil
		}
		return
	}
	if s.stopping() || s.brokerGone(b) {
		s.closeConn(ev.conn)
		return
	}
	b.failures = 0
	b.conn = ev.conn
	if b.id < 0 {
		s.bootConnected.Store(true)
	}
	s.cfg.logger.Debug("kafka: connected to broker", "broker", b.id, "addr", b.addr)
}

// brokerGone reports whether b is no longer one of the brokers we track.
func (s *sender) brokerGone(b *brokerState) bool {
	if b.id < 0 {
		return false
	}
	return s.brokers[b.id] != b
}

// closeConn closes c without blocking the sender; shutdown waits for it.
func (s *sender) closeConn(c *conn) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c.close()
	}()
}

func (s *sender) stopping() bool {
	select {
	case <-s.quit:
		return true
	default:
		return false
	}
}

// anyConn returns a live connection for metadata and InitProducerId,
// preferring the least loaded broker; if none is live it starts
// connecting to the next candidate and returns nil.
func (s *sender) anyConn(now time.Time) (*brokerState, *conn) {
	// A throttled broker has muted the connection (KIP-219): a request
	// would wait there. As in the Java client's leastLoadedNode, another
	// broker is used, or connected to, and a throttled one only as a
	// last resort.
	var best, throttled *brokerState
	for _, b := range s.brokers {
		if c := s.usable(b); c == nil {
			continue
		}
		if now.Before(b.throttledUntil) {
			if throttled == nil || b.throttledUntil.Before(throttled.throttledUntil) {
				throttled = b
			}
			continue
		}
		if best == nil || b.inFlight < best.inFlight {
			best = b
		}
	}
	if best != nil {
		return best, best.conn
	}
	for _, b := range s.bootstrap {
		if c := s.usable(b); c != nil && !now.Before(b.throttledUntil) {
			return b, c
		}
	}
	// Connect to the next candidate: known brokers first, then the
	// bootstrap list, so a cluster whose bootstrap hosts changed still works.
	var cands []*brokerState
	ids := make([]int, 0, len(s.brokers))
	for id := range s.brokers {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	for _, id := range ids {
		cands = append(cands, s.brokers[int32(id)])
	}
	// A bootstrap connection is closed again once metadata names the
	// brokers, so it is no way around a throttled broker: it would be
	// dialled anew for every request.
	if throttled == nil {
		cands = append(cands, s.bootstrap...)
	}
	for _, b := range cands {
		if b.connecting {
			return nil, nil
		}
	}
	for range cands {
		b := cands[s.nextBoot%len(cands)]
		s.nextBoot++
		if b.conn != nil || now.Before(b.retryAt) {
			continue
		}
		s.connect(b, now)
		return nil, nil
	}
	if throttled != nil {
		return throttled, throttled.conn
	}
	return nil, nil
}

// --- metadata and producer id ---

// maintain refreshes metadata and the producer id when needed, expires
// idle connections, and returns when it next wants to run.
func (s *sender) maintain(now time.Time) time.Time {
	var next time.Time
	// fresh is set for a topic a Send waits for that was never answered
	// about: the backoff between metadata requests is for asking again,
	// and one grown by another topic must not hold it up (the Java
	// client backs off only after failed requests).
	fresh := false
	// Topics a Send waits for, or partitions without a leader that hold
	// records, want a refresh.
	if !s.metaWanted {
		grow := false
		s.acc.forEachTopic(func(t *topicState) {
			m := t.meta.Load()
			if t.fatal.Load() != nil {
				// Only a Send asking again (recheckTopic) refreshes a
				// topic that failed; otherwise the periodic refresh does.
				if t.wantParts.Load() > 0 {
					grow = true
				}
				return
			}
			if m == nil {
				// Only while a Send waits for it: a topic that does not
				// exist would otherwise be asked about every
				// retry_backoff_ms for the producer's life, long after
				// the Send gave up.
				if t.wantParts.Load() > 0 {
					s.metaNew = true
					fresh = fresh || !t.asked
				}
			} else if len(m.available) < len(m.partitions) && leaderlessWithRecords(t) {
				s.metaWanted = true
			} else if w := t.wantParts.Load(); int(w) > len(m.partitions) {
				grow = true
			}
		})
		// A Send waits for a partition the topic does not have yet, or
		// for a failed topic to be asked about again: ask every
		// retry_backoff_ms, as the Java client's waitOnMetadata does.
		if grow && !s.metaWanted {
			if at := s.metaAt.Add(s.cfg.retryBackoff); now.Before(at) {
				next = at
			} else {
				s.metaWanted = true
			}
		}
	}
	if s.cfg.metadataMaxAge > 0 && !s.metaAt.IsZero() {
		if due := s.metaAt.Add(s.cfg.metadataMaxAge); !now.Before(due) {
			s.metaWanted = true
		} else {
			// The loop runs at least once a second; an age below that
			// needs a wake-up of its own.
			next = earliest(orFar(next), due)
		}
	}
	if !s.metaWanted && !s.metaNew && s.metaFailures == 0 {
		// Nothing is left to ask again (the Sends that waited gave
		// up): the next question starts without a backoff.
		s.metaRetries, s.metaRetryAt = 0, time.Time{}
	}
	if (s.metaWanted || s.metaNew) && !s.metaInFlight {
		if now.Before(s.metaRetryAt) && !(fresh && s.metaFailures == 0) {
			next = s.metaRetryAt
		} else if b, c := s.anyConn(now); c != nil {
			s.sendMetadata(b, c, !s.metaWanted)
		} else {
			next = now.Add(s.cfg.reconnectBackoff)
		}
	}
	// A transactional producer gets its id from InitTransactions.
	if s.cfg.idempotence && s.txn == nil && s.producerID < 0 && !s.pidInFlight && len(s.brokers) > 0 {
		if now.Before(s.pidRetryAt) {
			next = earliest(orFar(next), s.pidRetryAt)
		} else if b, c := s.anyConn(now); c != nil {
			s.sendInitProducerID(b, c)
		} else {
			next = earliest(orFar(next), now.Add(s.cfg.reconnectBackoff))
		}
	}
	// Close connections idle longer than connections_max_idle_ms.
	if s.cfg.connectionsMaxIdle > 0 {
		closeIdle := func(b *brokerState) {
			if b.conn != nil && b.inFlight == 0 && b != s.metaWaiting && b != s.pidWaiting && now.Sub(b.conn.lastUsed.get()) > s.cfg.connectionsMaxIdle {
				s.log("closing idle connection", "broker", b.id)
				s.closeConn(b.conn)
				b.conn = nil
			}
		}
		for _, b := range s.brokers {
			closeIdle(b)
		}
		for _, b := range s.bootstrap {
			closeIdle(b)
		}
	}
	return next
}

func orFar(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now().Add(time.Hour)
	}
	return t
}

func (s *sender) allBrokers() []*brokerState {
	out := make([]*brokerState, 0, len(s.brokers)+len(s.bootstrap))
	for _, b := range s.brokers {
		out = append(out, b)
	}
	return append(out, s.bootstrap...)
}

// produceInFlight counts produce requests in flight on every connection.
func (s *sender) produceInFlight() int {
	n := 0
	for _, b := range s.brokers {
		n += b.inFlight
	}
	for _, b := range s.bootstrap {
		n += b.inFlight
	}
	return n
}

// sendMetadata asks b for metadata: of every topic in use, or with
// partial, of those without metadata that Sends wait for.
func (s *sender) sendMetadata(b *brokerState, c *conn, partial bool) {
	version, ok := c.version(protocol.APIKeyMetadata, 13)
	if !ok {
		s.metaRetryAt = time.Now().Add(s.cfg.retryBackoffMax)
		s.cfg.logger.Error("kafka: broker does not support a Metadata version we know", "broker", b.id)
		return
	}
	req := protocol.MetadataRequest{AllowAutoTopicCreation: s.cfg.allowAutoCreate}
	req.Topics = []protocol.MetadataRequestTopic{}
	// Topics that failed are asked about too: the cause (authorization,
	// say) may be gone. Idle ones are not (metadata_max_idle_ms).
	idleBefore := time.Now().Add(-s.cfg.metadataMaxIdle).UnixMilli()
	s.acc.forEachTopic(func(t *topicState) {
		if partial && (t.meta.Load() != nil || t.wantParts.Load() == 0) || s.idle(t, idleBefore) {
			return
		}
		name := t.name
		req.Topics = append(req.Topics, protocol.MetadataRequestTopic{Name: &name})
		t.asked = true
	})
	s.metaNew = false
	if partial && len(req.Topics) == 0 {
		// The Sends gave up meanwhile; an empty list would ask for none.
		return
	}
	s.metaInFlight = true
	s.metaWanted = false
	s.metaWaiting = b
	c.send(&request{
		apiKey:  protocol.APIKeyMetadata,
		version: version,
		timeout: s.cfg.requestTimeout,
		encode: func(dst []byte) ([]byte, error) {
			return req.AppendTo(dst, version), nil
		},
		done: func(body []byte, err error) {
			if err != nil {
				s.events.push(metadataEvent{b: b, err: err, partial: partial})
				return
			}
			var resp protocol.MetadataResponse
			if err := resp.Decode(body, version); err != nil {
				s.events.push(metadataEvent{b: b, err: fmt.Errorf("decoding Metadata v%d: %w", version, err), partial: partial})
				return
			}
			ev := metadataEvent{b: b, res: decodeMetadata(&resp), partial: partial}
			if version >= 6 { // KIP-219
				ev.throttleMs = resp.ThrottleTimeMs
			}
			s.events.push(ev)
		},
	})
}

func (s *sender) onMetadata(ev metadataEvent) {
	s.metaInFlight = false
	s.metaWaiting = nil
	now := time.Now()
	s.throttleBroker(ev.b, ev.throttleMs, now)
	if ev.err != nil {
		s.metaFailures++
		if ev.partial {
			s.metaNew = true
		} else {
			s.metaWanted = true
		}
		s.metaRetryAt = now.Add(backoff(s.cfg.retryBackoff, s.cfg.retryBackoffMax, s.metaFailures))
		s.cfg.logger.Warn("kafka: metadata request failed", "broker", ev.b.id, "err", ev.err)
		s.lastMetaErr.Store(&ev.err)
		return
	}
	s.lastMetaErr.Store(nil)
	s.metaFailures = 0
	if !ev.partial {
		// A partial answer leaves the other topics' metadata as old as
		// it was: metadata_max_age_ms still counts from the last full one.
		s.metaAt = now
		s.metrics.metadataUpdated(now)
	}
	// Track the brokers the cluster has now.
	for id, addr := range ev.res.brokers {
		b := s.brokers[id]
		if b != nil && b.addr != addr {
			s.log("broker moved", "broker", id, "from", b.addr, "to", addr)
			if b.conn != nil {
				s.closeConn(b.conn)
			}
			b = nil
		}
		if b == nil {
			s.log("broker joined the cluster", "broker", id, "addr", addr)
			s.brokers[id] = &brokerState{id: id, addr: addr}
		}
	}
	for id, b := range s.brokers {
		if _, ok := ev.res.brokers[id]; !ok && b.inFlight == 0 {
			s.log("broker left the cluster", "broker", id)
			if b.conn != nil {
				s.closeConn(b.conn)
			}
			delete(s.brokers, id)
		}
	}
	// Bootstrap connections have done their job once real brokers are known.
	if len(s.brokers) > 0 {
		for _, b := range s.bootstrap {
			if b.conn != nil {
				s.closeConn(b.conn)
				b.conn = nil
			}
		}
	}
	// retrySoon asks for all topics again soon, retryNew for the topics
	// without metadata that Sends wait for.
	retrySoon, retryNew := false, false
	for name, u := range ev.res.topics {
		v, ok := s.acc.topics.Load(name)
		if !ok {
			continue
		}
		t := v.(*topicState)
		if u.err != nil {
			if protocol.IsRetriable(u.err) {
				// Unknown topics may be being created; keep asking while
				// a Send waits, until max_block_ms ends its wait.
				t.missing.Store(&u.err)
				if t.wantParts.Load() > 0 {
					if t.meta.Load() == nil {
						retryNew = true
					} else {
						retrySoon = true
					}
				}
				continue
			}
			err := fmt.Errorf("topic %q: %w", name, u.err)
			t.fatal.Store(&err)
			// changed before ready: a Send that follows the one this
			// answer releases waits for an answer of its own.
			t.changed()
			t.markReady()
			s.failTopic(t, err)
			continue
		}
		s.applyTopicMeta(t, u.meta)
		if len(u.meta.available) < len(u.meta.partitions) && leaderlessWithRecords(t) {
			retrySoon = true
		}
	}
	// A topic a Send waits for that the answer left out, as no broker
	// should, is asked about again after the backoff too, not at once.
	if !retryNew {
		s.acc.forEachTopic(func(t *topicState) {
			if t.asked && t.meta.Load() == nil && t.fatal.Load() == nil && t.wantParts.Load() > 0 {
				if _, answered := ev.res.topics[t.name]; !answered {
					retryNew = true
				}
			}
		})
	}
	if retrySoon || retryNew {
		// Backing off as for failures (KIP-580): a partition may stay
		// without a leader for as long as its broker is down.
		s.metaRetries++
		s.metaWanted = s.metaWanted || retrySoon
		s.metaNew = s.metaNew || retryNew
		s.metaRetryAt = now.Add(backoff(s.cfg.retryBackoff, s.cfg.retryBackoffMax, s.metaRetries))
	} else {
		s.metaRetries = 0
	}
}

// idle reports whether t had no record sent to it since before (unix ms),
// none waits for it and none of its partitions holds records, so that
// metadata requests can leave it out (KIP-526). Its metadata is kept.
func (s *sender) idle(t *topicState, before int64) bool {
	if t.lastSend.Load() >= before || t.wantParts.Load() > 0 {
		return false
	}
	if t.meta.Load() == nil {
		// Asked about for a Send that gave up; PartitionsFor uses
		// waitMeta too, so wantParts covers every waiter.
		return true
	}
	if ps := t.parts.Load(); ps != nil {
		for _, p := range *ps {
			if p.inFlight > 0 || p.hasBatches() {
				return false
			}
		}
	}
	return true
}

// leaderlessWithRecords reports whether a partition of t without a leader
// holds records. Only those need a refresh soon: the partitioner keeps
// keyless records off partitions without a leader, and one that is
// offline for hours must not have the producer ask every
// retry_backoff_ms meanwhile. The periodic refresh finds it back.
func leaderlessWithRecords(t *topicState) bool {
	ps := t.parts.Load()
	if ps == nil {
		return false
	}
	for _, p := range *ps {
		if p.leader < 0 && p.hasBatches() {
			return true
		}
	}
	return false
}

// applyTopicMeta installs a topic's metadata: partition objects for new
// partitions and the leaders the sender routes by.
func (s *sender) applyTopicMeta(t *topicState, m *topicMeta) {
	var parts []*partition
	if old := t.parts.Load(); old != nil {
		parts = *old
	}
	// A topic deleted and created again has a new id (KIP-516), and its
	// leader epochs start again: what we knew of the old one is void.
	recreated := false
	if old := t.meta.Load(); old != nil {
		var none protocol.UUID
		recreated = old.id != none && m.id != none && m.id != old.id
		if !recreated && len(m.partitions) < len(old.partitions) {
			// A broker whose view lags (partitions were just added)
			// answers with fewer: keep what we know of the others, so
			// keys do not move between partitions and back.
			m = padTopicMeta(m, old)
		}
	}
	if len(m.partitions) > len(parts) {
		s.cfg.logger.Info("kafka: topic partitions", "topic", t.name, "partitions", len(m.partitions), "was", len(parts))
		grown := make([]*partition, len(m.partitions))
		copy(grown, parts)
		for i := len(parts); i < len(grown); i++ {
			grown[i] = &partition{topic: t, id: int32(i), leader: -1, epoch: -1}
		}
		parts = grown
	}
	for i, pm := range m.partitions {
		p := parts[i]
		// A leader hint newer than this metadata wins (KIP-951), unless
		// it was of the topic's former self.
		if !recreated && pm.epoch >= 0 && p.epoch > pm.epoch && p.leader >= 0 {
			continue
		}
		if pm.leader >= 0 && pm.leader != p.leader && p.leader >= 0 {
			s.log("leader moved", "topic", t.name, "partition", p.id, "leader", pm.leader, "epoch", pm.epoch)
			s.skipBackoff(p)
		}
		p.leader, p.epoch = pm.leader, pm.epoch
	}
	// A topic created again with fewer partitions (a new topic id,
	// KIP-516) keeps its longer array, as a Send may hold it
	// (Producer.send); sendReady fails what is queued for the partitions
	// beyond the metadata's count.
	t.parts.Store(&parts)
	t.meta.Store(m)
	// Cleared after meta is stored: a Send that then finds no error
	// either may go past ready, which an earlier failure closed, and
	// must find meta.
	t.fatal.Store(nil)
	t.changed()
	t.markReady()
}

// failGone fails the queued batches of p, a partition its topic no longer
// has, now rather than at the delivery timeout. Those in flight are
// refused by the broker and come back here.
func (s *sender) failGone(p *partition, count int) {
	if !p.hasBatches() {
		return
	}
	err := fmt.Errorf("%w: topic %q now has %d partitions (deleted and created again?)", protocol.UnknownTopicOrPartition, p.topic.name, count)
	for _, b := range p.takeBatches(func(b *batch) bool { return !b.inFlight }) {
		b.unqueue()
		s.fail(b, err)
	}
}

// padTopicMeta returns m with the partitions old has beyond m's.
func padTopicMeta(m, old *topicMeta) *topicMeta {
	pm := *m
	pm.partitions = append(slices.Clip(m.partitions), old.partitions[len(m.partitions):]...)
	pm.available = slices.Clip(m.available)
	for i := len(m.partitions); i < len(pm.partitions); i++ {
		if pm.partitions[i].leader >= 0 {
			pm.available = append(pm.available, int32(i))
		}
	}
	return &pm
}

// failTopic fails every queued batch of t with err.
func (s *sender) failTopic(t *topicState, err error) {
	if ps := t.parts.Load(); ps != nil {
		s.failParts(*ps, err)
	}
}

func (s *sender) sendInitProducerID(b *brokerState, c *conn) {
	version, ok := c.version(protocol.APIKeyInitProducerId, 5)
	if !ok {
		s.cfg.logger.Error("kafka: broker does not support InitProducerId; idempotence needs it", "broker", b.id)
		s.pidRetryAt = time.Now().Add(s.cfg.retryBackoffMax)
		return
	}
	// Without a transactional id the broker hands out a new id; epoch
	// bumps happen here, not there (startBump).
	req := protocol.InitProducerIdRequest{
		TransactionalId:      nil,
		TransactionTimeoutMs: int32(60000),
		ProducerId:           -1,
		ProducerEpoch:        -1,
	}
	s.pidInFlight = true
	s.pidWaiting = b
	c.send(&request{
		apiKey:  protocol.APIKeyInitProducerId,
		version: version,
		timeout: s.cfg.requestTimeout,
		encode: func(dst []byte) ([]byte, error) {
			return req.AppendTo(dst, version), nil
		},
		done: func(body []byte, err error) {
			if err != nil {
				s.events.push(producerIDEvent{err: err})
				return
			}
			resp := new(protocol.InitProducerIdResponse)
			if err := resp.Decode(body, version); err != nil {
				s.events.push(producerIDEvent{err: err})
				return
			}
			s.events.push(producerIDEvent{resp: resp})
		},
	})
}

func (s *sender) onProducerID(ev producerIDEvent) {
	s.pidInFlight = false
	s.pidWaiting = nil
	err := ev.err
	if err == nil {
		err = protocol.ErrorForCode(ev.resp.ErrorCode)
	}
	if err != nil {
		s.pidFailures++
		s.pidRetryAt = time.Now().Add(backoff(s.cfg.retryBackoff, s.cfg.retryBackoffMax, s.pidFailures))
		s.cfg.logger.Warn("kafka: InitProducerId failed", "err", err)
		switch {
		case isFatal(err):
			s.setFatal(fmt.Errorf("InitProducerId: %w", err))
		case !IsRetriable(err):
			// Without a producer id nothing can be sent idempotently:
			// fail what waits rather than let it wait for the delivery
			// timeout.
			s.failAllQueued(fmt.Errorf("InitProducerId: %w", err))
		}
		return
	}
	s.pidFailures = 0
	s.producerID, s.epoch = ev.resp.ProducerId, ev.resp.ProducerEpoch
	s.cfg.logger.Info("kafka: got producer id", "producer_id", s.producerID, "epoch", s.epoch)
	if s.bumping {
		s.finishBump()
	}
}

// isFatal reports errors after which the producer cannot go on: it was
// fenced or is not allowed to write idempotently.
func isFatal(err error) bool {
	return errors.Is(err, protocol.ProducerFenced) || errors.Is(err, protocol.ClusterAuthorizationFailed) ||
		errors.Is(err, protocol.TransactionalIDAuthorizationFailed) || errors.Is(err, protocol.UnsupportedVersion)
}

// setFatal stops the producer for good: queued batches fail now, Send
// fails from now on.
func (s *sender) setFatal(err error) {
	if s.fatal != nil {
		return
	}
	s.cfg.logger.Error("kafka: producer failed", "err", err)
	s.fatal = err
	if s.onFatal != nil {
		s.onFatal(err)
	}
	s.failAllQueued(err)
}

// --- epoch bumps (KIP-360) ---

// requestBump asks for a new epoch: the broker's view of this producer's
// sequences no longer matches ours.
func (s *sender) requestBump(reason error) {
	if s.txn != nil {
		// A transactional producer bumps its epoch through its
		// coordinator, after the transaction is aborted.
		s.txn.needBump.Store(true)
		s.txn.fail(reason)
		return
	}
	if !s.cfg.idempotence || s.bumpWanted || s.bumping || s.stopping() {
		return
	}
	s.cfg.logger.Warn("kafka: bumping producer epoch", "producer_id", s.producerID, "epoch", s.epoch, "reason", reason)
	s.bumpWanted = true
}

// anyAmbiguousQueued reports whether a queued batch may already be in the
// log under the current epoch.
func (s *sender) anyAmbiguousQueued() bool {
	found := false
	s.acc.forEachTopic(func(t *topicState) {
		if ps := t.parts.Load(); ps != nil && !found {
			for _, p := range *ps {
				p.mu.Lock()
				found = hasAmbiguousLocked(p)
				p.mu.Unlock()
				if found {
					return
				}
			}
		}
	})
	return found
}

func hasAmbiguousLocked(p *partition) bool {
	for _, b := range p.batches {
		if b.seqSet && b.ambiguous {
			return true
		}
	}
	return false
}

// maxUnackedPerPartition is how many batches a broker remembers per
// producer and partition to recognise duplicates (Kafka's producer state
// keeps the last five batches' metadata, KAFKA-5494).
const maxUnackedPerPartition = 5

// notWritten records what an OUT_OF_ORDER_SEQUENCE_NUMBER answer proves:
// the broker would have called b a duplicate had any attempt of it been
// written (it remembers the last five batches, and we never have more
// than five unacknowledged), so b is not in the log, and neither is any
// later batch of its partition under the same epoch, as sequences are
// written contiguously. If a later batch was acknowledged, the answer
// proves the opposite: the broker takes sequences only in order, so b was
// written and has left the broker's memory; b then stays of unknown fate.
func (s *sender) notWritten(b *batch) {
	p := b.part
	if b.partOfAmbiguous {
		// The batch it was split from may be in the log whole, with
		// sequences this part does not match.
		b.ambiguous = true
		return
	}
	if p.seqConfirmed && b.seqSet && b.producerID == s.producerID && b.epoch == s.epoch &&
		seqBefore(seqAdd(b.baseSeq, b.numRecords()), p.ackedEnd) {
		s.log("batch written before a later acknowledged one, but the broker no longer knows it",
			"topic", p.topic.name, "partition", p.id, "base_sequence", b.baseSeq, "acknowledged_to", p.ackedEnd)
		b.ambiguous = true
		return
	}
	b.ambiguous = false
	p.mu.Lock()
	for _, q := range p.batches {
		if q.seqSet && q.epoch == b.epoch && q.producerID == b.producerID && !seqBefore(q.baseSeq, b.baseSeq) {
			q.ambiguous, q.partOfAmbiguous = false, false
		}
	}
	p.mu.Unlock()
}

// startBump moves to the next epoch. An idempotent producer bumps its
// epoch itself, as the Java client does (KIP-360): the broker takes the
// next epoch of a producer id it knows, with sequences from zero, and
// refuses the old epoch from then on, so a batch of the old epoch that
// reaches it late cannot land behind newer records. An InitProducerId
// without a transactional id would hand out a new producer id instead,
// whose records the broker orders apart from the old id's. Only an
// exhausted epoch takes a new id; sends stop until it comes.
func (s *sender) startBump() {
	s.bumpWanted = false
	s.bumpSince = time.Time{}
	if s.producerID >= 0 && s.epoch >= 0 && s.epoch < math.MaxInt16 {
		s.epoch++
		s.cfg.logger.Info("kafka: bumped producer epoch", "producer_id", s.producerID, "epoch", s.epoch)
		s.finishBump()
		return
	}
	s.bumping = true
	s.producerID, s.epoch = -1, -1
	s.pidRetryAt = time.Time{}
}

// finishBump restarts every partition's sequences at zero under the new
// epoch. Queued batches get new sequences when next drained, in queue
// order, so order is kept. A batch that may already be in the log under
// the old epoch cannot be sent again without risking a duplicate the
// broker could not recognise, so it fails instead, saying so.
func (s *sender) finishBump() {
	s.bumping = false
	s.acc.forEachTopic(func(t *topicState) {
		ps := t.parts.Load()
		if ps == nil {
			return
		}
		for _, p := range *ps {
			p.nextSeq = 0
			p.seqConfirmed = false
			doomed := p.takeBatches(func(b *batch) bool {
				if b.seqSet && b.ambiguous {
					return true
				}
				b.seqSet = false
				return false
			})
			for _, b := range doomed {
				b.unqueue()
				err := fmt.Errorf("%w: %s-%d: an earlier attempt may have been written (%w) and the producer epoch had to be bumped, so resending could duplicate it",
					ErrDeliveryUncertain, p.topic.name, p.id, b.lastErr)
				s.failNoBump(b, err)
			}
		}
	})
}

// --- produce ---

// sendReady drains ready batches into ProduceRequests, one batch per
// partition per request, and returns when the next batch will be ready.
func (s *sender) sendReady(now time.Time) time.Time {
	if s.fatal != nil {
		s.failAllQueued(s.fatal)
		return time.Time{}
	}
	// Before a bump, batches whose earlier attempt may be in the log are
	// resent under the old epoch, where the broker can still tell a
	// duplicate by its sequence; answers to requests in flight count
	// under the old epoch too. Only then does the epoch change.
	// That wait is bounded by request_timeout_ms: a partition that cannot
	// answer must not hold up the others, so past it the bump goes ahead
	// and the batches still unresolved fail as uncertain.
	resolving, started := false, false
	wanted := s.bumpWanted
	if s.bumpWanted && !s.bumping {
		if s.bumpSince.IsZero() {
			s.bumpSince = now
		}
		if s.produceInFlight() == 0 && (!s.anyAmbiguousQueued() || now.Sub(s.bumpSince) >= s.cfg.requestTimeout) {
			s.startBump()
			started = true
		} else {
			resolving = true
		}
	}
	if s.cfg.idempotence && s.producerID < 0 {
		s.expireQueued(now)
		if started {
			// maintain, which asks for the new epoch, ran before this:
			// run again now rather than at the next event, which may be
			// a second away while records wait.
			return now
		}
		return time.Time{}
	}
	flushing := s.flushing.Load() > 0 || s.closing.Load()
	var next time.Time
	// The per-broker lists are kept between calls: sendReady runs for
	// every few batches, and building them anew was most of the
	// sender's garbage.
	byBroker := s.byBroker
	for id, parts := range byBroker {
		clear(parts)
		byBroker[id] = parts[:0]
	}
	s.acc.forEachTopic(func(t *topicState) {
		ps := t.parts.Load()
		if ps == nil {
			return
		}
		// Partitions beyond the metadata's count are gone: the topic was
		// created again with fewer (applyTopicMeta).
		m := t.meta.Load()
		if m == nil {
			return
		}
		count := len(m.partitions)
		for _, p := range *ps {
			if int(p.id) >= count {
				s.failGone(p, count)
				continue
			}
			if p.nbatches.Load() == 0 {
				continue
			}
			p.mu.Lock()
			if len(p.batches) == 0 {
				p.mu.Unlock()
				continue
			}
			s.expireLocked(p, now)
			if len(p.batches) == 0 {
				p.mu.Unlock()
				continue
			}
			b := p.batches[0]
			ready := b.full || len(p.batches) > 1 || flushing || now.Sub(b.created) >= s.cfg.linger
			if !ready {
				next = earliest(orFar(next), b.created.Add(s.cfg.linger))
			}
			if ready && b.retryAt.After(now) {
				ready = false
				next = earliest(orFar(next), b.retryAt)
			}
			// A retried batch goes out alone, once nothing of its partition
			// is in flight, so sequence numbers reach the broker in order.
			if ready && p.inFlight > 0 && (b.seqSet || s.cfg.idempotence && !p.seqConfirmed) {
				ready = false
			}
			// The broker recognises a duplicate only among a producer's
			// last five batches of a partition, and notWritten relies on
			// no more than five being unacknowledged. Five requests per
			// connection do not ensure that once a leader moves: the old
			// leader's requests are still out when the new one's start.
			if ready && s.cfg.idempotence && p.inFlight >= maxUnackedPerPartition {
				ready = false
			}
			// While a bump waits, only partitions with a batch of unknown
			// fate send, and only what already has its sequence.
			if ready && resolving && !(b.seqSet && hasAmbiguousLocked(p)) {
				ready = false
			}
			if ready && s.txn != nil && s.txnHold(p) {
				ready = false
			}
			p.mu.Unlock()
			if ready && p.leader >= 0 {
				byBroker[p.leader] = append(byBroker[p.leader], p)
			} else if ready {
				s.metaWanted = true
			}
		}
	})
	if s.txn != nil {
		s.startTxnAdds()
	}
	switch {
	case s.bumpWanted && !wanted:
		// A batch failed in this pass (expireLocked) and asked for a
		// new epoch: start on it at once.
		next = now
	case resolving && now.Before(s.bumpSince.Add(s.cfg.requestTimeout)):
		// The wait for batches of unknown fate is bounded. Past the
		// bound only requests in flight hold the bump up, and their
		// answers wake the loop.
		next = earliest(orFar(next), s.bumpSince.Add(s.cfg.requestTimeout))
	}
	for id, parts := range byBroker {
		if len(parts) == 0 {
			continue
		}
		b := s.brokers[id]
		if b == nil {
			s.metaWanted = true
			continue
		}
		c := s.usable(b)
		if c == nil {
			if t := s.connect(b, now); !t.IsZero() {
				next = earliest(orFar(next), t)
			}
			continue
		}
		if now.Before(b.throttledUntil) {
			// Its batches keep filling meanwhile, as in the Java client.
			next = earliest(orFar(next), b.throttledUntil)
			continue
		}
		// Start at a random partition so none is starved by the size cap.
		if len(parts) > 1 {
			k := rand.IntN(len(parts))
			parts = append(parts[k:], parts[:k]...)
		}
		for len(parts) > 0 && b.inFlight < s.cfg.maxInFlight {
			var req *produceRequest
			req, parts = s.drain(b, c, parts, now)
			if req == nil {
				break
			}
			s.write(req)
		}
	}
	return next
}

// drain takes at most one batch from each partition, up to
// max_request_size, and returns the request and the partitions left over.
func (s *sender) drain(b *brokerState, c *conn, parts []*partition, now time.Time) (*produceRequest, []*partition) {
	version, ok := c.version(protocol.APIKeyProduce, 13)
	if !ok {
		s.failParts(led(parts, b.id), fmt.Errorf("%w: broker %d supports no Produce version from 3 to 13 (RecordBatch v2 needs Kafka 0.11 or later)", protocol.UnsupportedVersion, b.id))
		return nil, nil
	}
	if s.cfg.codec == compress.Zstd && version < 7 {
		// Brokers accept zstd batches only in Produce v7 and later (KIP-110).
		s.failParts(led(parts, b.id), fmt.Errorf("%w: broker %d speaks Produce v%d; zstd needs v7 (Kafka 2.1) or later", protocol.UnsupportedCompressionType, b.id, version))
		return nil, nil
	}
	req := &produceRequest{broker: b, conn: c, version: version, sentAt: now}
	size := 0
	var rest []*partition
	for i, p := range parts {
		if p.leader != b.id {
			continue
		}
		if version >= 13 {
			// Produce v13 names topics by ID (KIP-516); without one from
			// metadata we must speak v12.
			if m := p.topic.meta.Load(); m == nil || m.id.IsZero() {
				version = 12
				req.version = 12
			}
		}
		p.mu.Lock()
		if len(p.batches) == 0 {
			p.mu.Unlock()
			continue
		}
		bt := p.batches[0]
		bsize := bt.builder.Size()
		if len(req.batches) > 0 && size+bsize > s.cfg.maxRequestSize {
			p.mu.Unlock()
			rest = append(rest, parts[i:]...)
			break
		}
		p.batches[0] = nil
		if len(p.batches) == 1 {
			p.setBatches(nil)
		} else {
			p.setBatches(p.batches[1:])
		}
		// A drained batch takes no more records, even if it comes back
		// for a retry: its bytes are sealed once and its sequence range
		// is fixed.
		bt.full = true
		p.mu.Unlock()
		bt.unqueue()
		size += bsize
		s.assignSequence(p, bt)
		bt.inFlight = true
		p.inFlight++
		req.batches = append(req.batches, bt)
	}
	if len(req.batches) == 0 {
		return nil, nil
	}
	return req, rest
}

// assignSequence gives a batch its producer id, epoch and base sequence
// the first time it is drained; retries keep them (KIP-98). Sequence
// numbers wrap at 2^31 as the broker expects.
func (s *sender) assignSequence(p *partition, b *batch) {
	if !s.cfg.idempotence {
		return
	}
	if b.seqSet && b.producerID == s.producerID && b.epoch == s.epoch {
		return
	}
	b.seqSet = true
	b.producerID, b.epoch = s.producerID, s.epoch
	b.baseSeq = p.nextSeq
	p.nextSeq = seqAdd(p.nextSeq, b.numRecords())
	if b.sealed != nil {
		protocol.SetProducerState(b.sealed, b.producerID, b.epoch, b.baseSeq)
	}
}

// compressPool recycles buffers for compressed batches.
var compressPool sync.Pool

// seal turns a drained batch into its wire form, once; it runs on the
// connection's writer goroutine so compression of different brokers'
// batches runs in parallel.
func (s *sender) seal(b *batch) error {
	if b.sealed != nil {
		return nil
	}
	params := protocol.BatchParams{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, PartitionLeaderEpoch: -1, Transactional: s.txn != nil}
	if b.seqSet {
		params.ProducerID, params.ProducerEpoch, params.BaseSequence = b.producerID, b.epoch, b.baseSeq
	}
	var comp compress.Compressor
	var dst []byte
	if s.cfg.codec != compress.None {
		comp = s.cfg.compressor
		if bp, ok := compressPool.Get().(*[]byte); ok {
			dst = (*bp)[:0]
		}
		// Room for the batch even if it does not compress, so the
		// codec never grows the buffer.
		if need := b.builder.Size() + 64; cap(dst) < need {
			dst = make([]byte, 0, need)
		}
	}
	sealed, err := b.builder.Seal(params, comp, dst)
	if err != nil {
		return err
	}
	b.sealed, b.sealedLen = sealed, len(sealed)
	if comp != nil {
		b.compressed = sealed
	}
	return nil
}

func (s *sender) write(req *produceRequest) {
	req.broker.inFlight++
	for _, b := range req.batches {
		b.sent = true
		b.sentTo = req.broker.id
		// Taken here, on the sender goroutine, for the request and for
		// matching its answer alike.
		b.topicID = protocol.UUID{}
		if m := b.part.topic.meta.Load(); m != nil {
			b.topicID = m.id
		}
	}
	acks := int16(s.cfg.acks)
	timeout := int32(s.cfg.requestTimeout / time.Millisecond)
	version := req.version
	s.metrics.requestSent(req)
	r := &request{
		apiKey:     protocol.APIKeyProduce,
		version:    version,
		timeout:    s.cfg.requestTimeout,
		noResponse: acks == 0,
		encode: func(dst []byte) ([]byte, error) {
			if err := s.sealAll(req.batches); err != nil {
				return dst, err
			}
			m := buildProduceRequest(acks, timeout, s.txnID, req.batches)
			return m.AppendTo(dst, version), nil
		},
		encodeVec: func(dst []byte, splices []protocol.Splice) ([]byte, []protocol.Splice, error) {
			if err := s.sealAll(req.batches); err != nil {
				return dst, splices, err
			}
			m := buildProduceRequest(acks, timeout, s.txnID, req.batches)
			dst, splices = m.AppendToVec(dst, version, splices)
			return dst, splices, nil
		},
		written: func() {
			// Once written, a compressed batch's buffer goes back to the
			// pool rather than when the batch is acknowledged, and a
			// retry compresses it again: these buffers were most of the
			// memory outside buffer_memory (issue 7). The answer may
			// have come first; then the batches are no longer ours.
			req.mu.Lock()
			defer req.mu.Unlock()
			if req.answered {
				return
			}
			for _, b := range req.batches {
				if b.compressed != nil {
					buf := b.compressed[:0]
					compressPool.Put(&buf)
					b.sealed, b.compressed = nil, nil
				}
			}
		},
		done: func(body []byte, err error) {
			if err != nil || body == nil {
				s.events.push(produceEvent{req: req, err: err})
				return
			}
			resp := new(protocol.ProduceResponse)
			if err := resp.Decode(body, version); err != nil {
				s.events.push(produceEvent{req: req, err: fmt.Errorf("%w: decoding Produce v%d response: %w", ErrBrokerUnreachable, version, err)})
				return
			}
			s.events.push(produceEvent{req: req, resp: resp})
		},
	}
	req.conn.send(r)
}

// sealAll seals the batches of a request, on the connection's writer.
func (s *sender) sealAll(batches []*batch) error {
	for _, b := range batches {
		if err := s.seal(b); err != nil {
			return err
		}
	}
	return nil
}

// buildProduceRequest builds a ProduceRequest from drained, sealed batches,
// grouping partitions by topic as the schema requires.
func buildProduceRequest(acks int16, timeoutMs int32, txnID *string, batches []*batch) protocol.ProduceRequest {
	req := protocol.ProduceRequest{Acks: acks, TimeoutMs: timeoutMs, TransactionalId: txnID}
	var index map[string]int // past manyTopics topics, not scanned per batch
	for _, b := range batches {
		t := b.part.topic
		k := -1
		switch n := len(req.TopicData); {
		case n > 0 && req.TopicData[n-1].Name == t.name:
			// Drained partitions come topic by topic.
			k = n - 1
		case index != nil:
			if i, ok := index[t.name]; ok {
				k = i
			}
		default:
			for i := range req.TopicData {
				if req.TopicData[i].Name == t.name {
					k = i
					break
				}
			}
		}
		if k < 0 {
			req.TopicData = append(req.TopicData, protocol.TopicProduceData{Name: t.name, TopicId: b.topicID})
			k = len(req.TopicData) - 1
			if index != nil {
				index[t.name] = k
			} else if len(req.TopicData) > manyTopics {
				index = make(map[string]int, 2*len(req.TopicData))
				for i := range req.TopicData {
					index[req.TopicData[i].Name] = i
				}
			}
		}
		td := &req.TopicData[k]
		td.PartitionData = append(td.PartitionData, protocol.PartitionProduceData{Index: b.part.id, Records: b.sealed})
	}
	return req
}

func (s *sender) onProduce(ev produceEvent) {
	req := ev.req
	req.mu.Lock()
	req.answered = true
	req.mu.Unlock()
	req.broker.inFlight--
	now := time.Now()
	s.metrics.responseReceived(req, ev.resp, now)
	if ev.err != nil {
		// The request's fate is unknown or it never arrived: retry every
		// batch (idempotence makes a duplicate harmless).
		s.cfg.logger.Warn("kafka: produce request failed", "broker", req.broker.id, "err", ev.err)
		s.metaWanted = true
		for _, b := range req.batches {
			b.ambiguous = true
			s.retryOrFail(b, ev.err, now)
		}
		return
	}
	s.throttle(req, ev.resp, now)
	if ev.resp == nil {
		// acks=0: no answer comes; the write is all we know.
		for _, b := range req.batches {
			s.succeed(b, -1, -1, -1)
		}
		return
	}
	answers := newAnswerIndex(ev.resp, req.version)
	for _, b := range req.batches {
		pr := answers.find(b)
		if pr == nil {
			s.retryOrFail(b, fmt.Errorf("%w: broker %d did not answer for %s-%d", ErrBrokerUnreachable, req.broker.id, b.part.topic.name, b.part.id), now)
			continue
		}
		s.onPartitionResponse(b, pr, ev.resp, now)
	}
}

// throttle holds produce requests to a broker back for the throttle time
// its answer asks for. Since Produce v6 a broker over a client quota
// answers at once and expects the client to wait (KIP-219); it mutes the
// connection meanwhile, so requests sent anyway would only queue there,
// their request timeout running. Older versions were delayed by the
// broker itself, and their throttle time is already served.
func (s *sender) throttle(req *produceRequest, resp *protocol.ProduceResponse, now time.Time) {
	if resp != nil && req.version >= 6 {
		s.throttleBroker(req.broker, resp.ThrottleTimeMs, now)
	}
}

// throttleBroker records a throttle time a broker answered with; the
// versions from which the client must wait it out differ per API.
func (s *sender) throttleBroker(b *brokerState, ms int32, now time.Time) {
	if ms <= 0 {
		return
	}
	until := now.Add(time.Duration(ms) * time.Millisecond)
	if until.After(b.throttledUntil) {
		b.throttledUntil = until
	}
	s.log("broker throttles requests", "broker", b.id, "throttle_ms", ms)
}

// answerIndex finds each batch's answer in a produce response. A request
// to many topics is answered by many: scanning them for every batch was
// quadratic, so past a few topics they are mapped once.
type answerIndex struct {
	resp    *protocol.ProduceResponse
	version int16
	byName  map[string]int
	byID    map[protocol.UUID]int
}

// manyTopics is where a request or its answer stops being scanned and is
// mapped.
const manyTopics = 8

func newAnswerIndex(resp *protocol.ProduceResponse, version int16) answerIndex {
	ix := answerIndex{resp: resp, version: version}
	if len(resp.Responses) <= manyTopics {
		return ix
	}
	if version >= 13 {
		ix.byID = make(map[protocol.UUID]int, len(resp.Responses))
	} else {
		ix.byName = make(map[string]int, len(resp.Responses))
	}
	for i := range resp.Responses {
		if ix.byID != nil {
			ix.byID[resp.Responses[i].TopicId] = i
		} else {
			ix.byName[resp.Responses[i].Name] = i
		}
	}
	return ix
}

// find returns b's partition's answer, or nil if the response has none.
// Produce v13 names topics by id, the id this attempt was sent with.
func (ix answerIndex) find(b *batch) *protocol.PartitionProduceResponse {
	match := func(tr *protocol.TopicProduceResponse) *protocol.PartitionProduceResponse {
		for j := range tr.PartitionResponses {
			if tr.PartitionResponses[j].Index == b.part.id {
				return &tr.PartitionResponses[j]
			}
		}
		return nil
	}
	switch {
	case ix.byID != nil:
		if i, ok := ix.byID[b.topicID]; ok {
			return match(&ix.resp.Responses[i])
		}
		return nil
	case ix.byName != nil:
		if i, ok := ix.byName[b.part.topic.name]; ok {
			return match(&ix.resp.Responses[i])
		}
		return nil
	}
	for i := range ix.resp.Responses {
		tr := &ix.resp.Responses[i]
		if ix.version >= 13 && tr.TopicId == b.topicID || ix.version < 13 && tr.Name == b.part.topic.name {
			if pr := match(tr); pr != nil {
				return pr
			}
		}
	}
	return nil
}

func (s *sender) onPartitionResponse(b *batch, pr *protocol.PartitionProduceResponse, resp *protocol.ProduceResponse, now time.Time) {
	p := b.part
	err := protocol.ErrorForCode(pr.ErrorCode)
	if err != nil {
		s.log("batch refused", "topic", p.topic.name, "partition", p.id, "broker", p.leader, "records", b.numRecords(),
			"base_sequence", b.baseSeq, "epoch", b.epoch, "attempt", b.attempts+1, "err", err)
	}
	switch {
	case err == nil:
		s.succeed(b, pr.BaseOffset, pr.LogAppendTimeMs, pr.LogStartOffset)
		return
	case errors.Is(err, protocol.DuplicateSequenceNumber):
		// The broker already has this batch from an earlier attempt
		// (KIP-98): it is written, so it counts as success.
		s.succeed(b, pr.BaseOffset, pr.LogAppendTimeMs, pr.LogStartOffset)
		return
	}
	code := err
	if pr.ErrorMessage != nil && *pr.ErrorMessage != "" {
		err = fmt.Errorf("%w: %s", err, *pr.ErrorMessage)
	}
	if len(pr.RecordErrors) > 0 {
		// INVALID_RECORD and INVALID_TIMESTAMP name the records at fault
		// (KIP-467); they are not retriable, so these reach the futures.
		err = newRecordErrors(code, err, pr.RecordErrors)
	}
	switch {
	case errors.Is(err, protocol.NotLeaderOrFollower), errors.Is(err, protocol.LeaderNotAvailable),
		errors.Is(err, protocol.FencedLeaderEpoch), errors.Is(err, protocol.UnknownTopicOrPartition),
		// A log directory failed, so leadership moves (the Java client's
		// InvalidMetadataException family, as are the next two).
		errors.Is(err, protocol.KafkaStorageError),
		// The topic was deleted and maybe created again under a new id
		// (KIP-516): only metadata gives the new one.
		errors.Is(err, protocol.UnknownTopicID), errors.Is(err, protocol.InconsistentTopicID):
		// Re-route at once with the leader the broker named (KIP-951),
		// and refresh metadata in any case.
		// The leader is new if the answer names it, or if metadata
		// already moved the partition while this attempt was in flight.
		moved := s.applyLeaderHint(p, pr, resp) || p.leader >= 0 && p.leader != b.sentTo
		s.metaWanted = true
		s.metaRetryAt = time.Time{}
		s.retryOrFail(b, err, now)
		if moved {
			// The new leader is known: there is nothing to wait for
			// (KIP-951 skips the backoff in this case).
			s.skipBackoff(p)
		}
	case errors.Is(err, protocol.OutOfOrderSequenceNumber) && (s.hasEarlierRetry(p, b) || s.hasEarlierUnacked(p, b)):
		// An earlier batch of this partition failed or is still on its
		// way (at a leader that lost the partition, say), so the broker
		// saw a gap: this batch goes again after it, in order.
		s.notWritten(b)
		s.retryOrFail(b, err, now)
	case s.txn != nil && (errors.Is(err, protocol.InvalidProducerEpoch) || errors.Is(err, protocol.ProducerFenced)):
		// A newer producer with our transactional id took over.
		s.finishInFlight(b)
		ferr := s.txn.fatal(s.txn.fencedErr(err))
		s.setFatal(ferr)
		s.failNoBump(b, ferr)
	case s.txn != nil && (errors.Is(err, protocol.OutOfOrderSequenceNumber) || errors.Is(err, protocol.UnknownProducerID)):
		// The transaction cannot commit with a gap; it is aborted and
		// the epoch bumped through the coordinator (KIP-360).
		s.finishInFlight(b)
		s.txn.needBump.Store(true)
		s.failNoBump(b, err)
	case s.cfg.idempotence && (errors.Is(err, protocol.OutOfOrderSequenceNumber) ||
		errors.Is(err, protocol.UnknownProducerID) || errors.Is(err, protocol.InvalidProducerEpoch)):
		// The broker lost or disagrees with our sequence state (KIP-360):
		// it did not write this batch, so bump the epoch and send it
		// again with fresh sequences.
		if errors.Is(err, protocol.OutOfOrderSequenceNumber) {
			s.notWritten(b)
		}
		s.requestBump(err)
		s.retryOrFail(b, err, now)
	case errors.Is(err, protocol.MessageTooLarge) || errors.Is(err, protocol.RecordListTooLarge):
		// Split even when an earlier attempt may be in the log: a broker
		// checks a batch's size before it looks for duplicates, and
		// sending it whole again only meets the same answer until the
		// delivery timeout. Its halves keep its sequences and its
		// unknown fate (partOfAmbiguous).
		s.finishInFlight(b)
		if b.numRecords() > 1 {
			s.split(b, err, now)
			return
		}
		s.fail(b, fmt.Errorf("%w: a record of %d bytes (batch of %d bytes) was refused by broker %d: %w",
			ErrRecordTooLarge, b.builder.Size()-protocol.RecordBatchHeaderSize, b.sealedLen, p.leader, err))
	case isFatal(err):
		s.finishInFlight(b)
		s.setFatal(err)
		s.fail(b, err)
	case errors.Is(err, protocol.RequestTimedOut) || errors.Is(err, protocol.NotEnoughReplicasAfterAppend):
		// The broker wrote the batch but could not say it was
		// replicated in time: a retry is a duplicate only the
		// sequence number can catch.
		b.ambiguous = true
		s.retryOrFail(b, err, now)
	case protocol.IsRetriable(err):
		s.retryOrFail(b, err, now)
	default:
		s.finishInFlight(b)
		s.fail(b, err)
	}
}

// split divides a batch the broker found too large into two halves that
// are retried in its place, in order, with the same sequence range
// (KIP-126): the broker refused the whole batch, so no sequence of it is
// in the log.
func (s *sender) split(b *batch, cause error, now time.Time) {
	recs, err := protocol.DecodeRecords(b.builder.Records(), b.numRecords())
	if err != nil {
		s.fail(b, fmt.Errorf("splitting a batch refused as too large (%w): %w", cause, err))
		return
	}
	s.metrics.batchSplit()
	s.log("splitting batch", "topic", b.part.topic.name, "partition", b.part.id, "records", len(recs))
	mid := len(recs) / 2
	baseTS := b.builder.BaseTimestamp()
	halves := [2]*batch{}
	for h, part := range [2][]protocol.Record{recs[:mid], recs[mid:]} {
		size := 0
		for i := range part {
			size += protocol.RecordSize(part[i].TimestampDelta, int32(i), part[i].Key, part[i].Value, part[i].Headers)
		}
		nb := &batch{
			part:       b.part,
			res:        b.res,
			created:    b.created,
			attempts:   b.attempts,
			lastErr:    cause,
			first:      b.first + int32(h*mid),
			seqSet:     b.seqSet,
			producerID: b.producerID,
			epoch:      b.epoch,
			baseSeq:    seqAdd(b.baseSeq, int32(h*mid)),
			ambiguous:  b.ambiguous,
			sent:       b.sent,

			partOfAmbiguous: b.ambiguous || b.partOfAmbiguous,
			full:            true,
		}
		nb.setBuffer(s.acc.pool.getBuf(size + protocol.RecordBatchHeaderSize))
		for i := range part {
			nb.builder.Append(baseTS+part[i].TimestampDelta, part[i].Key, part[i].Value, part[i].Headers)
		}
		halves[h] = nb
	}
	// The halves copied the records; the original's buffer can go, while
	// its memory reservation passes to the first half.
	r := b.res
	r.mu.Lock()
	if r.pending == 0 {
		r.pending = 1
	}
	r.splitCbs = append(r.splitCbs, b.callbacks()...)
	r.pending++ // b is replaced by two parts
	r.mu.Unlock()
	halves[0].memory, b.memory = b.memory, 0
	// Its places in queue_buffering_max_messages go with its records to
	// the halves, which give them back.
	b.splitUp = true
	s.acc.release(b)
	s.requeue(halves[1])
	s.requeue(halves[0])
}

// hasEarlierRetry reports whether a batch of p with a lower sequence than
// b is queued for retry.
func (s *sender) hasEarlierRetry(p *partition, b *batch) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, q := range p.batches {
		if q.seqSet && seqBefore(q.baseSeq, b.baseSeq) {
			return true
		}
	}
	return false
}

// hasEarlierUnacked reports whether b is not the next batch the broker
// expects: a batch of a lower sequence is not acknowledged yet, wherever
// it is. The Java client retries such a batch without an epoch bump
// (TransactionManager.canRetry), for the earlier one may still land.
func (s *sender) hasEarlierUnacked(p *partition, b *batch) bool {
	if !b.seqSet || b.producerID != s.producerID || b.epoch != s.epoch {
		return false
	}
	next := int32(0)
	if p.seqConfirmed {
		next = p.ackedEnd
	}
	return b.baseSeq != next
}

// seqAdd advances a sequence number by n, wrapping at 2^31.
func seqAdd(seq, n int32) int32 {
	return int32((int64(seq) + int64(n)) & 0x7fffffff)
}

// seqBefore compares sequence numbers that wrap at 2^31.
func seqBefore(a, b int32) bool {
	d := (int64(b) - int64(a)) & 0x7fffffff
	return d != 0 && d < 1<<30
}

// applyLeaderHint moves p to the leader the Produce response named, if
// its epoch is newer than what we have (KIP-951), learning the leader's
// address from NodeEndpoints when it is new to us.
func (s *sender) applyLeaderHint(p *partition, pr *protocol.PartitionProduceResponse, resp *protocol.ProduceResponse) bool {
	hint := pr.CurrentLeader
	if hint.LeaderId < 0 || hint.LeaderEpoch < 0 || hint.LeaderEpoch <= p.epoch {
		return false
	}
	if _, ok := s.brokers[hint.LeaderId]; !ok {
		for _, n := range resp.NodeEndpoints {
			if n.NodeId == hint.LeaderId {
				s.brokers[n.NodeId] = &brokerState{id: n.NodeId, addr: joinHostPort(n.Host, n.Port)}
			}
		}
		if _, ok := s.brokers[hint.LeaderId]; !ok {
			return false
		}
	}
	s.log("leader moved", "topic", p.topic.name, "partition", p.id, "leader", hint.LeaderId, "epoch", hint.LeaderEpoch)
	p.leader, p.epoch = hint.LeaderId, hint.LeaderEpoch
	return true
}

// skipBackoff lets the batches of p that wait out a retry backoff go at
// once: they waited for a leader, and now one is known.
func (s *sender) skipBackoff(p *partition) {
	p.mu.Lock()
	for _, b := range p.batches {
		b.retryAt = time.Time{}
	}
	p.mu.Unlock()
}

func (s *sender) finishInFlight(b *batch) {
	if b.inFlight {
		b.inFlight = false
		b.part.inFlight--
	}
}

func (s *sender) succeed(b *batch, baseOffset, logAppendTime, logStartOffset int64) {
	s.finishInFlight(b)
	p := b.part
	p.lastErr = nil
	if b.seqSet && b.producerID == s.producerID && b.epoch == s.epoch {
		if end := seqAdd(b.baseSeq, b.numRecords()); !p.seqConfirmed || seqBefore(p.ackedEnd, end) {
			p.ackedEnd = end
		}
		p.seqConfirmed = true
	}
	s.metrics.batchDone(b, nil)
	s.acc.finish(b, baseOffset, logAppendTime, logStartOffset, nil)
}

func (s *sender) fail(b *batch, err error) {
	if b.seqSet && b.sent && b.producerID == s.producerID && b.epoch == s.epoch {
		// Its sequences leave a gap the broker will not accept (or, if
		// the batch was written after all, a range a later batch must
		// not reuse: franz-go#1484): later batches need a new epoch.
		s.requestBump(err)
	}
	s.failNoBump(b, err)
}

func (s *sender) failNoBump(b *batch, err error) {
	if b.ambiguous && !errors.Is(err, ErrDeliveryUncertain) {
		// Whatever ends it now, an earlier attempt of this batch may be
		// in the log: sending its records again could write them twice.
		err = fmt.Errorf("%w (%w: an earlier attempt may have been written)", err, ErrDeliveryUncertain)
	}
	if s.txn != nil {
		s.txn.fail(err)
	}
	s.finishInFlight(b)
	s.metrics.batchDone(b, err)
	s.acc.finish(b, -1, -1, -1, err)
}

// retryOrFail puts b back at the front of its partition's queue, in
// sequence order, after a backoff — or fails it when retries or the
// delivery timeout are used up.
func (s *sender) retryOrFail(b *batch, err error, now time.Time) {
	s.finishInFlight(b)
	if s.stopping() {
		s.fail(b, fmt.Errorf("%w: %w", ErrProducerClosed, err))
		return
	}
	b.attempts++
	b.lastErr = err
	b.part.lastErr = err
	if b.attempts > s.cfg.retries {
		s.fail(b, fmt.Errorf("after %d retries: %w", s.cfg.retries, err))
		return
	}
	if now.Sub(b.created) >= s.cfg.deliveryTimeout {
		s.fail(b, s.timeoutError(b, now))
		return
	}
	s.metrics.batchRetried(b)
	b.retryAt = now.Add(backoff(s.cfg.retryBackoff, s.cfg.retryBackoffMax, b.attempts))
	s.requeue(b)
}

// requeue puts b back among its partition's queued batches, before every
// batch that has no sequence yet or a later one, so retries keep order.
func (s *sender) requeue(b *batch) {
	p := b.part
	p.mu.Lock()
	i := 0
	for i < len(p.batches) && p.batches[i].seqSet && (!b.seqSet || seqBefore(p.batches[i].baseSeq, b.baseSeq)) {
		i++
	}
	p.setBatches(append(p.batches, nil))
	copy(p.batches[i+1:], p.batches[i:])
	p.batches[i] = b
	p.mu.Unlock()
	b.enqueue()
}

func (s *sender) timeoutError(b *batch, now time.Time) error {
	err := fmt.Errorf("%w: %d records for %s-%d waited %v, longer than delivery_timeout_ms (%v)",
		ErrDeliveryTimeout, b.numRecords(), b.part.topic.name, b.part.id, now.Sub(b.created).Round(time.Millisecond), s.cfg.deliveryTimeout)
	last := b.lastErr
	if last == nil {
		// Never sent: it waited behind batches of its partition that
		// kept failing, and their error is the reason it waited.
		last = b.part.lastErr
	}
	if last != nil {
		err = fmt.Errorf("%w; last error: %w", err, last)
	}
	return err
}

// expireLocked fails queued batches of p older than delivery_timeout_ms,
// as the Java client's RecordAccumulator.expiredBatches does. That includes
// a batch that already has sequence numbers, waiting for a retry: without
// an answer to its partition (a leader that cannot be reached, an epoch
// bump that cannot finish) nothing else would end its wait. fail asks for
// a new epoch, so the gap its sequences leave does not stop later batches
// (KIP-360), and timeoutError says if an earlier attempt may be in the log.
func (s *sender) expireLocked(p *partition, now time.Time) {
	for len(p.batches) > 0 {
		b := p.batches[0]
		if now.Sub(b.created) < s.cfg.deliveryTimeout {
			return
		}
		p.batches[0] = nil
		p.setBatches(p.batches[1:])
		b.unqueue()
		// fail needs no partition lock; it runs callbacks, so do it outside.
		p.mu.Unlock()
		s.fail(b, s.timeoutError(b, now))
		p.mu.Lock()
	}
}

// expireQueued expires queued batches while nothing can be sent.
func (s *sender) expireQueued(now time.Time) {
	s.acc.forEachTopic(func(t *topicState) {
		if ps := t.parts.Load(); ps != nil {
			for _, p := range *ps {
				p.mu.Lock()
				s.expireLocked(p, now)
				p.mu.Unlock()
			}
		}
	})
}

// led returns the partitions of parts whose leader is broker id.
func led(parts []*partition, id int32) []*partition {
	var out []*partition
	for _, p := range parts {
		if p.leader == id {
			out = append(out, p)
		}
	}
	return out
}

func (s *sender) failParts(parts []*partition, err error) {
	for _, p := range parts {
		for _, b := range p.takeBatches(func(*batch) bool { return true }) {
			b.unqueue()
			s.fail(b, err)
		}
	}
}

func (s *sender) failAllQueued(err error) {
	s.acc.forEachTopic(func(t *topicState) {
		if ps := t.parts.Load(); ps != nil {
			s.failParts(*ps, err)
		}
	})
}

// shutdown runs when Close gives up waiting: close every connection (so
// their in-flight requests fail), fail those and everything queued with
// ErrProducerClosed, and wait for the connect goroutines.
func (s *sender) shutdown() {
	s.cancel()
	for _, b := range s.allBrokers() {
		if b.conn != nil {
			b.conn.close()
			b.conn = nil
		}
	}
	s.wg.Wait()
	// Every connection has ended, so every request's done has run and its
	// event is queued: this fails the batches that were in flight.
	s.handleEvents()
	// Connect goroutines that finished after the first pass closed their
	// connections through closeConn; wait for those too.
	s.wg.Wait()
	s.failAllQueued(ErrProducerClosed)
}

func (s *sender) anyInFlight() bool { return s.produceInFlight() > 0 }

func joinHostPort(host string, port int32) string {
	return fmt.Sprintf("%s:%d", host, port)
}
