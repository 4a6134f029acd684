package kafkaprom

import (
	"context"
	"testing"
	"time"

	"github.com/kpgo/kafka"
	"github.com/kpgo/kafka/kafkatest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

func TestCollector(t *testing.T) {
	cluster, err := kafkatest.NewCluster(kafkatest.Brokers(1), kafkatest.SeedTopic("events", 2))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	c := NewCollector(ConstLabels(prometheus.Labels{"client": "test"}))
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Fatalf("an idle collector reported %d metrics", n)
	}
	p, err := kafka.NewProducer(kafka.BootstrapServers(cluster.Addrs()...), kafka.Linger(time.Millisecond), kafka.WithHooks(c))
	if err != nil {
		t.Fatal(err)
	}
	c.Track(p)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 100; i++ {
		if _, err := p.Send(ctx, kafka.Record{Topic: "events", Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range families {
		byName[f.GetName()] = f
	}
	value := func(name string) float64 {
		t.Helper()
		f := byName[name]
		if f == nil {
			t.Fatalf("no metric %s", name)
		}
		m := f.GetMetric()[0]
		if f.GetType() == dto.MetricType_COUNTER {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	if got := value("kafka_producer_record_send_total"); got != 100 {
		t.Errorf("record_send_total = %v, want 100", got)
	}
	if byName["kafka_producer_record_send_total"].GetType() != dto.MetricType_COUNTER {
		t.Error("record_send_total is not a counter")
	}
	if byName["kafka_producer_record_send_rate"].GetType() != dto.MetricType_GAUGE {
		t.Error("record_send_rate is not a gauge")
	}
	if got := value("kafka_producer_topic_record_send_total"); got != 100 {
		t.Errorf("topic record_send_total = %v, want 100", got)
	}
	if l := byName["kafka_producer_topic_record_send_total"].GetMetric()[0].GetLabel(); len(l) != 2 {
		t.Errorf("topic metric labels = %v, want client and topic", l)
	}
	if byName["kafka_producer_node_request_latency_avg"] == nil {
		t.Error("no per-node metrics")
	}
	h := byName["kafka_producer_record_delivery_seconds"]
	if h == nil || h.GetMetric()[0].GetHistogram().GetSampleCount() != 100 {
		t.Errorf("delivery histogram = %v, want 100 samples", h)
	}
	if n := testutil.CollectAndCount(c, "kafka_producer_record_send_total"); n != 1 {
		t.Errorf("CollectAndCount(record_send_total) = %d", n)
	}
}
