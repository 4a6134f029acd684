package kafkaotel

import (
	"context"
	"testing"
	"time"

	"github.com/kpgo/kafka"
	"github.com/kpgo/kafka/kafkatest"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func TestMeter(t *testing.T) {
	cluster, err := kafkatest.NewCluster(kafkatest.Brokers(1), kafkatest.SeedTopic("events", 2))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	m, err := New(provider)
	if err != nil {
		t.Fatal(err)
	}
	p, err := kafka.NewProducer(kafka.BootstrapServers(cluster.Addrs()...), kafka.Linger(time.Millisecond), kafka.WithHooks(m))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Track(p); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	defer p.Close(ctx)
	for i := 0; i < 100; i++ {
		if _, err := p.Send(ctx, kafka.Record{Topic: "events", Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			got[md.Name] = md.Data
		}
	}
	sum, ok := got["kafka.producer.record-send-total"].(metricdata.Sum[float64])
	if !ok || !sum.IsMonotonic || len(sum.DataPoints) != 1 || sum.DataPoints[0].Value != 100 {
		t.Errorf("record-send-total = %#v, want a monotonic sum of 100", got["kafka.producer.record-send-total"])
	}
	if _, ok := got["kafka.producer.record-send-rate"].(metricdata.Gauge[float64]); !ok {
		t.Errorf("record-send-rate = %#v, want a gauge", got["kafka.producer.record-send-rate"])
	}
	topic, ok := got["kafka.producer.topic.record-send-total"].(metricdata.Sum[float64])
	if !ok || len(topic.DataPoints) != 1 || topic.DataPoints[0].Value != 100 {
		t.Fatalf("topic record-send-total = %#v", got["kafka.producer.topic.record-send-total"])
	}
	if v, _ := topic.DataPoints[0].Attributes.Value(attribute.Key("topic")); v.AsString() != "events" {
		t.Errorf("topic attribute = %v", v)
	}
	if node, ok := got["kafka.producer.node.request-latency-avg"].(metricdata.Gauge[float64]); !ok || len(node.DataPoints) == 0 {
		t.Errorf("no per-node metrics: %#v", got["kafka.producer.node.request-latency-avg"])
	}
	h, ok := got["kafka.producer.record.delivery.duration"].(metricdata.Histogram[float64])
	if !ok || len(h.DataPoints) != 1 || h.DataPoints[0].Count != 100 {
		t.Errorf("delivery histogram = %#v, want 100 records", got["kafka.producer.record.delivery.duration"])
	}
	if _, ok := got["kafka.producer.request.duration"].(metricdata.Histogram[float64]); !ok {
		t.Error("no request duration histogram")
	}
}
