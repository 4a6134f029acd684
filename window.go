package kafka

import "time"

// windowConfig is metrics_num_samples × metrics_sample_window_ms.
type windowConfig struct {
	samples int
	window  time.Duration
}

// sample is one time window of a sensor.
type sample struct {
	start time.Duration // since the producer's metrics epoch
	count int64
	sum   float64
	max   float64
}

// sensor records values into rolling samples the way the Java client's
// (and kafka-python's) Sensor does: a new sample starts when the current
// one is metrics_sample_window_ms old, the oldest is recycled once there
// are metrics_num_samples, and samples older than all of them together are
// ignored. One sensor serves every stat of its values (avg, max, rate,
// count rate) since their samples would be the same. It also keeps
// cumulative totals. It is not safe for concurrent use: the registry's
// mutex guards it.
type sensor struct {
	samples []sample
	cur     int
	total   float64
	count   int64
}

func (s *sensor) record(c *windowConfig, v float64, now time.Duration) {
	if len(s.samples) == 0 {
		s.samples = make([]sample, 1, c.samples)
		s.samples[0] = sample{start: now}
	}
	sm := &s.samples[s.cur]
	if now-sm.start >= c.window {
		s.cur = (s.cur + 1) % c.samples
		if s.cur >= len(s.samples) {
			s.samples = append(s.samples, sample{})
		}
		sm = &s.samples[s.cur]
		*sm = sample{start: now}
	}
	if sm.count == 0 || v > sm.max {
		sm.max = v
	}
	sm.sum += v
	sm.count++
	s.total += v
	s.count++
}

// purge forgets samples that ended more than samples × window ago, as
// Java's purgeObsoleteSamples does.
func (s *sensor) purge(c *windowConfig, now time.Duration) {
	expire := time.Duration(c.samples) * c.window
	for i := range s.samples {
		if now-s.samples[i].start >= expire {
			s.samples[i] = sample{start: now}
		}
	}
}

// window sums the live samples. Callers purge first.
func (s *sensor) window() (sum float64, count int64, maxV float64) {
	for i := range s.samples {
		sm := &s.samples[i]
		if sm.count == 0 {
			continue
		}
		if count == 0 || sm.max > maxV {
			maxV = sm.max
		}
		sum += sm.sum
		count += sm.count
	}
	return sum, count, maxV
}

// elapsed is the time the rate is taken over: from the oldest sample's
// start to now, but never less than samples−1 whole windows, so a sensor
// a second old does not report a burst as a huge rate (Java's
// Rate.windowSize), and at least a millisecond.
func (s *sensor) elapsed(c *windowConfig, now time.Duration) time.Duration {
	oldest := now
	for i := range s.samples {
		oldest = min(oldest, s.samples[i].start)
	}
	d := now - oldest
	if full := int(d / c.window); full < c.samples-1 {
		d += time.Duration(c.samples-1-full) * c.window
	}
	return max(d, time.Millisecond)
}

// stats is what a sensor reports at one instant.
type stats struct {
	avg, max        float64 // over the windows; 0 without values
	rate, countRate float64 // per second over the windows
	total           float64 // cumulative sum
	count           int64   // cumulative count
}

func (s *sensor) measure(c *windowConfig, now time.Duration) stats {
	s.purge(c, now)
	sum, n, mx := s.window()
	st := stats{max: mx, total: s.total, count: s.count}
	if n > 0 {
		st.avg = sum / float64(n)
	}
	secs := s.elapsed(c, now).Seconds()
	st.rate = sum / secs
	st.countRate = float64(n) / secs
	return st
}

// latencyWindow is a latency histogram per sample, rolled like a sensor's
// samples, so percentiles cover the same windows as the other metrics.
type latencyWindow struct {
	hists  []*latencyHistogram
	starts []time.Duration
	cur    int
}

// current returns the histogram to record into at now, rolling over to the
// next sample when the current one is a window old.
func (w *latencyWindow) current(c *windowConfig, now time.Duration) *latencyHistogram {
	if len(w.hists) == 0 {
		w.hists = append(w.hists, new(latencyHistogram))
		w.starts = append(w.starts, now)
	}
	if now-w.starts[w.cur] >= c.window {
		w.cur = (w.cur + 1) % c.samples
		if w.cur >= len(w.hists) {
			w.hists = append(w.hists, new(latencyHistogram))
			w.starts = append(w.starts, now)
		}
		w.hists[w.cur].reset()
		w.starts[w.cur] = now
	}
	return w.hists[w.cur]
}

// live returns the histograms not older than samples × window.
func (w *latencyWindow) live(c *windowConfig, now time.Duration) []*latencyHistogram {
	expire := time.Duration(c.samples) * c.window
	out := make([]*latencyHistogram, 0, len(w.hists))
	for i, h := range w.hists {
		if now-w.starts[i] >= expire {
			h.reset()
			w.starts[i] = now
		}
		out = append(out, h)
	}
	return out
}
