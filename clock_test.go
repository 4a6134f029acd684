package kafka

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCoarseClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCoarseClock()
		defer c.close()
		// Asleep at first: the first read takes the real clock and wakes
		// the ticker.
		require.Equal(t, time.Now().UnixMilli(), c.nowMs())
		synctest.Wait()
		require.NotZero(t, c.ms.Load(), "ticking after a read")
		// While records flow it follows the clock to the millisecond.
		for range 50 {
			time.Sleep(700 * time.Microsecond)
			synctest.Wait()
			require.InDelta(t, time.Now().UnixMilli(), c.nowMs(), 1)
		}
		// Idle for more than 100 ms: it sleeps, and costs nothing.
		time.Sleep(150 * time.Millisecond)
		synctest.Wait()
		require.Zero(t, c.ms.Load())
		require.Equal(t, time.Now().UnixMilli(), c.nowMs())
	})
}

// Record timestamps come from the coarse clock: they are the send time to
// the millisecond.
func TestRecordTimestampIsSendTime(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	p := env.producer()
	before := time.Now().Add(-time.Millisecond)
	futs := sendNumbered(t, p, topic, 50)
	after := time.Now().Add(time.Millisecond)
	for _, f := range futs {
		md, err := f.Get(t.Context())
		require.NoError(t, err)
		require.False(t, md.Timestamp.Before(before.Truncate(time.Millisecond)), "%v before %v", md.Timestamp, before)
		require.False(t, md.Timestamp.After(after), "%v after %v", md.Timestamp, after)
	}
}
