// Package kafkaprom exposes a kafka.Producer's metrics to Prometheus.
//
// A Collector reads the producer's metrics (kafka.Producer.MetricsSnapshot)
// on every scrape and reports them under the Java client's names, with '-'
// turned into '_': kafka_producer_record_send_rate, per topic
// kafka_producer_topic_record_send_total{topic="..."}, per broker
// kafka_producer_node_request_latency_avg{node_id="..."}. Metrics ending in
// _total are counters; the rest are gauges.
//
// Passed to kafka.WithHooks as well, the Collector also keeps native
// Prometheus histograms of record delivery latency per topic and of
// request latency per broker.
//
//	c := kafkaprom.NewCollector()
//	p, err := kafka.NewProducer(kafka.BootstrapServers(addr), kafka.WithHooks(c))
//	c.Track(p)
//	prometheus.MustRegister(c)
package kafkaprom

import (
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/kpgo/kafka"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector is a prometheus.Collector for one producer, and a hook for the
// histograms.
type Collector struct {
	ns       string
	labels   prometheus.Labels
	producer atomic.Pointer[kafka.Producer]

	delivery *prometheus.HistogramVec
	requests *prometheus.HistogramVec
}

var (
	_ prometheus.Collector      = (*Collector)(nil)
	_ kafka.HookRecordCompleted = (*Collector)(nil)
	_ kafka.HookBrokerResponse  = (*Collector)(nil)
)

// Option configures a Collector.
type Option func(*Collector)

// Namespace prefixes every metric name (default "kafka").
func Namespace(ns string) Option { return func(c *Collector) { c.ns = ns } }

// ConstLabels adds labels to every metric, for example to tell producers
// apart.
func ConstLabels(l prometheus.Labels) Option { return func(c *Collector) { c.labels = l } }

// NewCollector returns a Collector; Track gives it its producer.
func NewCollector(opts ...Option) *Collector {
	c := &Collector{ns: "kafka"}
	for _, o := range opts {
		o(c)
	}
	c.delivery = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace:   c.ns,
		Subsystem:   "producer",
		Name:        "record_delivery_seconds",
		Help:        "Time from Send to the record's acknowledgement or failure.",
		ConstLabels: c.labels,
		Buckets:     prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"topic", "outcome"})
	c.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace:   c.ns,
		Subsystem:   "producer",
		Name:        "request_latency_seconds",
		Help:        "Time from writing a request to a broker to reading its response.",
		ConstLabels: c.labels,
		Buckets:     prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"node_id"})
	return c
}

// Track makes the Collector report p's metrics.
func (c *Collector) Track(p *kafka.Producer) { c.producer.Store(p) }

// OnRecordCompleted implements kafka.HookRecordCompleted.
func (c *Collector) OnRecordCompleted(ev kafka.RecordCompleted) {
	outcome := "acked"
	if ev.Err != nil {
		outcome = "failed"
	}
	c.delivery.WithLabelValues(ev.Topic, outcome).Observe(ev.Latency.Seconds())
}

// OnBrokerResponse implements kafka.HookBrokerResponse.
func (c *Collector) OnBrokerResponse(ev kafka.BrokerResponse) {
	c.requests.WithLabelValues(strconv.Itoa(int(ev.Broker))).Observe(ev.Latency.Seconds())
}

// Describe sends nothing: the metrics depend on the topics and brokers
// seen, so the Collector is unchecked.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect reports the producer's metrics and the hook histograms.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.delivery.Collect(ch)
	c.requests.Collect(ch)
	p := c.producer.Load()
	if p == nil {
		return
	}
	s := p.MetricsSnapshot()
	for name, v := range s.Producer {
		c.emit(ch, "producer", name, v, nil, nil)
	}
	for topic, g := range s.Topics {
		for name, v := range g {
			c.emit(ch, "producer_topic", name, v, []string{"topic"}, []string{topic})
		}
	}
	for id, g := range s.Nodes {
		node := strconv.Itoa(int(id))
		for name, v := range g {
			c.emit(ch, "producer_node", name, v, []string{"node_id"}, []string{node})
		}
	}
}

var nameReplacer = strings.NewReplacer("-", "_", ".", "_")

func (c *Collector) emit(ch chan<- prometheus.Metric, subsystem, name string, v float64, labels, values []string) {
	fq := prometheus.BuildFQName(c.ns, subsystem, nameReplacer.Replace(name))
	typ := prometheus.GaugeValue
	if strings.HasSuffix(name, "-total") {
		typ = prometheus.CounterValue
	}
	desc := prometheus.NewDesc(fq, "Kafka producer metric "+name+" (Java client name).", labels, c.labels)
	ch <- prometheus.MustNewConstMetric(desc, typ, v, values...)
}
