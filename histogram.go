package kafka

import (
	"math"
	"math/bits"
	"time"
)

// latencyHistogram counts durations in log-linear buckets, as HDR
// histograms do: values below 2^histSubBits microseconds get a bucket each,
// and every power of two above is split into 2^histSubBits equal buckets,
// so a bucket is at most 1/64 (1.6%) of its value wide. Memory is fixed
// (histBuckets counters) whatever is recorded. Values are microseconds, up
// to 2^36 µs (19 hours); longer ones count in the last bucket.
type latencyHistogram struct {
	counts [histBuckets]uint64
	total  uint64
	max    int64 // µs
}

const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histMaxBits = 36
	histBuckets = (histMaxBits-histSubBits)*histSub + histSub
)

// histIndex returns the bucket of v microseconds.
func histIndex(v int64) int {
	if v < 0 {
		v = 0
	}
	if v >= 1<<histMaxBits {
		return histBuckets - 1
	}
	if v < 2*histSub {
		return int(v)
	}
	m := bits.Len64(uint64(v)) // v is in [2^(m-1), 2^m)
	shift := m - 1 - histSubBits
	return (m-histSubBits)*histSub + int(v>>shift) - histSub
}

// histBounds returns the lowest value of bucket i and the lowest value of
// the next one.
func histBounds(i int) (lo, hi int64) {
	if i < 2*histSub {
		return int64(i), int64(i) + 1
	}
	g, sub := i/histSub, i%histSub
	shift := g - 1
	lo = int64(histSub+sub) << shift
	return lo, lo + 1<<shift
}

// add counts one value.
func (h *latencyHistogram) add(d time.Duration) {
	v := d.Microseconds()
	h.counts[histIndex(v)]++
	h.total++
	h.max = max(h.max, v)
}

// addSpread counts n values spread evenly from lo to hi (both included),
// in time proportional to the buckets between them rather than to n: the
// n values lo + (hi-lo)·k/(n-1) are assigned to buckets arithmetically.
func (h *latencyHistogram) addSpread(lo, hi time.Duration, n int) {
	if n <= 0 {
		return
	}
	a, b := lo.Microseconds(), hi.Microseconds()
	if a > b {
		a, b = b, a
	}
	if n == 1 || a == b {
		h.counts[histIndex(b)] += uint64(n)
		h.total += uint64(n)
		h.max = max(h.max, b)
		return
	}
	// below(x) is how many of the n values are < x.
	span := float64(b - a)
	below := func(x int64) int {
		if x <= a {
			return 0
		}
		if x > b {
			return n
		}
		k := int(math.Ceil(float64(x-a) * float64(n-1) / span))
		return min(k, n)
	}
	first, last := histIndex(a), histIndex(b)
	done := 0
	for i := first; i <= last; i++ {
		_, next := histBounds(i)
		upto := below(next)
		if i == last || i == histBuckets-1 {
			upto = n
		}
		if upto > done {
			h.counts[i] += uint64(upto - done)
			done = upto
		}
	}
	h.total += uint64(n)
	h.max = max(h.max, b)
}

func (h *latencyHistogram) reset() {
	if h.total == 0 {
		return
	}
	clear(h.counts[:])
	h.total, h.max = 0, 0
}

// quantiles returns, for each q in qs (0..1), the value below which that
// share of the values of hs fall: the upper edge of its bucket, capped at
// the largest value seen. It merges the histograms without copying them.
func quantiles(hs []*latencyHistogram, qs []float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	var total uint64
	var maxV int64
	for _, h := range hs {
		total += h.total
		maxV = max(maxV, h.max)
	}
	if total == 0 {
		return out
	}
	var seen uint64
	qi := 0
	for i := 0; i < histBuckets && qi < len(qs); i++ {
		for _, h := range hs {
			seen += h.counts[i]
		}
		for qi < len(qs) && float64(seen) >= qs[qi]*float64(total) && seen > 0 {
			_, hi := histBounds(i)
			out[qi] = time.Duration(min(hi-1, maxV)) * time.Microsecond
			qi++
		}
	}
	for ; qi < len(qs); qi++ {
		out[qi] = time.Duration(maxV) * time.Microsecond
	}
	return out
}
