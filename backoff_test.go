package kafka

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// KIP-580: the backoff doubles from retry_backoff_ms per attempt up to
// retry_backoff_max_ms, with ±20% jitter.
func TestBackoffIsExponentialWithJitter(t *testing.T) {
	base, maxB := 100*time.Millisecond, time.Second
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 30: time.Second} {
		var lo, hi time.Duration = time.Hour, 0
		for range 2000 {
			d := backoff(base, maxB, attempt)
			lo, hi = min(lo, d), max(hi, d)
		}
		require.GreaterOrEqual(t, lo, want*8/10, "attempt %d", attempt)
		require.LessOrEqual(t, hi, want*12/10, "attempt %d", attempt)
		require.Greater(t, hi-lo, want/10, "attempt %d: jittered", attempt)
	}
}

// virtualCluster starts a kfake cluster on a VirtualNetwork inside a
// synctest bubble, so time in the test is the bubble's fake clock.
func virtualCluster(t *testing.T) (*kfake.Cluster, *VirtualNet) {
	t.Helper()
	vn := new(VirtualNet)
	c, err := kfake.NewCluster(kfake.Ports(9092, 9093, 9094), kfake.ListenFn(vn.Listen), kfake.SeedTopics(1, "t"))
	require.NoError(t, err)
	return c, vn
}

// VirtualNet is kfake's in-memory network.
type VirtualNet = kfake.VirtualNetwork

// The retry schedule and the delivery timeout, on synctest's fake clock:
// no test sleeps, and the figures are exact rather than "about".
func TestRetryTimingOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, vn := virtualCluster(t)
		defer c.Close()
		p, err := NewProducer(BootstrapServers(c.ListenAddrs()...), Dialer(vn.DialContext),
			RetryBackoff(100*time.Millisecond), RetryBackoffMax(time.Second), DeliveryTimeout(10*time.Second), RequestTimeout(5*time.Second))
		require.NoError(t, err)
		defer p.Close(context.Background())
		ctx := context.Background()
		_, err = p.PartitionsFor(ctx, "t")
		require.NoError(t, err)

		// Three retriable errors: the retries wait about 100, 200 and
		// 400 ms (±20%).
		h := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "t", Err: kerr.NotEnoughReplicas, Count: 3})
		start := time.Now()
		f, err := p.Send(ctx, Record{Topic: "t", Value: []byte("v")})
		require.NoError(t, err)
		_, err = f.Get(ctx)
		require.NoError(t, err)
		took := time.Since(start)
		require.Equal(t, 3, h.Hits())
		require.GreaterOrEqual(t, took, 560*time.Millisecond)
		require.Less(t, took, 900*time.Millisecond)

		// A partition that never accepts: the record fails at its
		// delivery timeout, counted from Send, not after one more full
		// backoff.
		c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "t", Err: kerr.NotEnoughReplicas, Count: -1})
		start = time.Now()
		f, err = p.Send(ctx, Record{Topic: "t", Value: []byte("v")})
		require.NoError(t, err)
		_, err = f.Get(ctx)
		require.ErrorIs(t, err, ErrDeliveryTimeout)
		require.ErrorIs(t, err, NotEnoughReplicas)
		took = time.Since(start)
		require.GreaterOrEqual(t, took, 10*time.Second)
		require.Less(t, took, 11200*time.Millisecond)
	})
}
