// Package kafkaotel reports a kafka.Producer's metrics through an
// OpenTelemetry meter.
//
// Every metric of kafka.MetricNames becomes an observable instrument read
// from the producer's MetricsSnapshot at each collection:
// kafka.producer.record-send-rate, kafka.producer.topic.byte-total (with a
// topic attribute), kafka.producer.node.request-latency-avg (with node.id).
// Metrics ending in -total are observable counters; the rest are gauges.
//
// Passed to kafka.WithHooks as well, the Meter records two histograms:
// kafka.producer.record.delivery.duration (Send to outcome, per topic and
// outcome) and kafka.producer.request.duration (per broker).
//
//	m, err := kafkaotel.New(otel.GetMeterProvider())
//	p, err := kafka.NewProducer(kafka.BootstrapServers(addr), kafka.WithHooks(m))
//	err = m.Track(p)
package kafkaotel

import (
	"context"
	"strings"

	"github.com/kpgo/kafka"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Meter holds the instruments for one producer.
type Meter struct {
	meter    metric.Meter
	delivery metric.Float64Histogram
	requests metric.Float64Histogram
	reg      metric.Registration
}

var (
	_ kafka.HookRecordCompleted = (*Meter)(nil)
	_ kafka.HookBrokerResponse  = (*Meter)(nil)
)

// New creates the Meter's histograms on provider's meter
// "github.com/kpgo/kafka".
func New(provider metric.MeterProvider) (*Meter, error) {
	m := &Meter{meter: provider.Meter("github.com/kpgo/kafka")}
	var err error
	m.delivery, err = m.meter.Float64Histogram("kafka.producer.record.delivery.duration",
		metric.WithUnit("s"), metric.WithDescription("Time from Send to the record's acknowledgement or failure."))
	if err != nil {
		return nil, err
	}
	m.requests, err = m.meter.Float64Histogram("kafka.producer.request.duration",
		metric.WithUnit("s"), metric.WithDescription("Time from writing a request to a broker to reading its response."))
	if err != nil {
		return nil, err
	}
	return m, nil
}

// OnRecordCompleted implements kafka.HookRecordCompleted.
func (m *Meter) OnRecordCompleted(ev kafka.RecordCompleted) {
	outcome := "acked"
	if ev.Err != nil {
		outcome = "failed"
	}
	m.delivery.Record(context.Background(), ev.Latency.Seconds(),
		metric.WithAttributes(attribute.String("topic", ev.Topic), attribute.String("outcome", outcome)))
}

// OnBrokerResponse implements kafka.HookBrokerResponse.
func (m *Meter) OnBrokerResponse(ev kafka.BrokerResponse) {
	m.requests.Record(context.Background(), ev.Latency.Seconds(),
		metric.WithAttributes(attribute.Int("node.id", int(ev.Broker))))
}

type observable struct {
	name    string
	counter metric.Float64ObservableCounter
	gauge   metric.Float64ObservableGauge
}

func (o observable) observe(obs metric.Observer, v float64, opts ...metric.ObserveOption) {
	if o.counter != nil {
		obs.ObserveFloat64(o.counter, v, opts...)
	} else {
		obs.ObserveFloat64(o.gauge, v, opts...)
	}
}

// Track registers observable instruments for p's metrics. Call it once;
// Close unregisters them.
func (m *Meter) Track(p *kafka.Producer) error {
	producerNames, topicNames, nodeNames := kafka.MetricNames()
	var all []metric.Observable
	build := func(prefix string, names []string) ([]observable, error) {
		out := make([]observable, 0, len(names))
		for _, n := range names {
			o := observable{name: n}
			desc := metric.WithDescription("Kafka producer metric " + n + " (Java client name).")
			var err error
			if strings.HasSuffix(n, "-total") {
				o.counter, err = m.meter.Float64ObservableCounter(prefix+n, desc)
				all = append(all, o.counter)
			} else {
				o.gauge, err = m.meter.Float64ObservableGauge(prefix+n, desc)
				all = append(all, o.gauge)
			}
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
		return out, nil
	}
	prod, err := build("kafka.producer.", producerNames)
	if err != nil {
		return err
	}
	topic, err := build("kafka.producer.topic.", topicNames)
	if err != nil {
		return err
	}
	node, err := build("kafka.producer.node.", nodeNames)
	if err != nil {
		return err
	}
	m.reg, err = m.meter.RegisterCallback(func(_ context.Context, obs metric.Observer) error {
		s := p.MetricsSnapshot()
		if s.Producer == nil {
			return nil // metrics disabled
		}
		for _, o := range prod {
			o.observe(obs, s.Producer[o.name])
		}
		for name, g := range s.Topics {
			attrs := metric.WithAttributes(attribute.String("topic", name))
			for _, o := range topic {
				o.observe(obs, g[o.name], attrs)
			}
		}
		for id, g := range s.Nodes {
			attrs := metric.WithAttributes(attribute.Int("node.id", int(id)))
			for _, o := range node {
				o.observe(obs, g[o.name], attrs)
			}
		}
		return nil
	}, all...)
	return err
}

// Close stops reporting the producer's metrics.
func (m *Meter) Close() error {
	if m.reg == nil {
		return nil
	}
	return m.reg.Unregister()
}
