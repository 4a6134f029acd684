package kafka

import "time"

// obsConfig holds the observability options; config embeds it.
type obsConfig struct {
	metricsDisabled bool
	metricsSamples  int // 0 until set
	samplesSet      bool
	metricsWindow   time.Duration // 0 until set
	windowSet       bool
	hooks           []Hook

	// metrics is the producer's registry, for its connections; set by
	// NewProducer, nil in a config that no producer owns.
	metrics *producerMetrics
}

// Defaults of the Java client and kafka-python.
const (
	defaultMetricsSamples = 2
	defaultMetricsWindow  = 30 * time.Second
)

// MetricsEnabled turns metrics on or off (metrics_enabled). Off, the
// producer records nothing and Metrics returns no groups; hooks still run.
// Default true.
func MetricsEnabled(enabled bool) Option {
	return optionFunc(func(c *config) { c.obs.metricsDisabled = !enabled })
}

// MetricsNumSamples is how many sample windows rates, averages, maxima
// and percentiles are computed over (metrics_num_samples,
// metrics.num.samples). Default 2.
func MetricsNumSamples(n int) Option {
	return optionFunc(func(c *config) { c.obs.metricsSamples, c.obs.samplesSet = n, true })
}

// MetricsSampleWindow is the length of one sample window
// (metrics_sample_window_ms, metrics.sample.window.ms). Default 30 s, so
// by default metrics cover the last 30 to 60 seconds.
func MetricsSampleWindow(d time.Duration) Option {
	return optionFunc(func(c *config) { c.obs.metricsWindow, c.obs.windowSet = d, true })
}

// validate fills in defaults and checks the metrics options.
func (o *obsConfig) validate() error {
	if !o.samplesSet {
		o.metricsSamples = defaultMetricsSamples
	} else if o.metricsSamples < 1 {
		return configError("metrics_num_samples", "must be >= 1, got %d", o.metricsSamples)
	}
	if !o.windowSet {
		o.metricsWindow = defaultMetricsWindow
	} else if o.metricsWindow < time.Millisecond {
		return configError("metrics_sample_window_ms", "must be >= 1 ms, got %v", o.metricsWindow)
	}
	return nil
}
