package kafka

import (
	"sync/atomic"
	"time"
)

// coarseClock gives Send the record timestamp in whole milliseconds
// without reading the system clock for every record: on virtual machines
// a clock read costs tens of nanoseconds, a fifth of a record's cost. A
// goroutine refreshes it every millisecond while records flow and sleeps
// after 100 ms without any, so an idle producer costs nothing. Kafka
// timestamps have millisecond resolution, as does the Java client's
// System.currentTimeMillis.
type coarseClock struct {
	ms     atomic.Int64 // unix milliseconds; 0 while the ticker sleeps
	active atomic.Bool  // a Send read the clock since the last tick
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

func newCoarseClock() *coarseClock {
	c := &coarseClock{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// nowMs returns the current time in unix milliseconds.
func (c *coarseClock) nowMs() int64 {
	if ms := c.ms.Load(); ms != 0 {
		// Load before Store keeps the cache line shared between the
		// goroutines that send.
		if !c.active.Load() {
			c.active.Store(true)
		}
		return ms
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return time.Now().UnixMilli()
}

func (c *coarseClock) run() {
	defer close(c.done)
	// Asleep until the first Send reads the clock.
	select {
	case <-c.stop:
		return
	case <-c.wake:
	}
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	idle := 0
	for {
		c.ms.Store(time.Now().UnixMilli())
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if c.active.Swap(false) {
			idle = 0
			continue
		}
		if idle++; idle < 100 {
			continue
		}
		// No record for 100 ms: sleep until a Send reads the clock.
		c.ms.Store(0)
		t.Stop()
		select {
		case <-c.stop:
			return
		case <-c.wake:
		}
		idle = 0
		t.Reset(time.Millisecond)
	}
}

func (c *coarseClock) close() {
	close(c.stop)
	<-c.done
}

// blockDeadline is max_block_ms from the moment a Send first has to wait
// (for metadata or buffer room); reading the clock only then keeps it off
// the path of a Send that does not wait.
type blockDeadline struct {
	t   time.Time
	max time.Duration
	// sendMs is when Send began, from the producer's clock (for the
	// delivery latency metric).
	sendMs int64
}

func (d *blockDeadline) get() time.Time {
	if d.t.IsZero() {
		d.t = time.Now().Add(d.max)
	}
	return d.t
}
