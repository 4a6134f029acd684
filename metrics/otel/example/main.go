// Example otel sends records and prints the producer's metrics as an
// OpenTelemetry SDK reader collects them.
//
//	go run ./example      # from metrics/otel
//
// It uses the cluster named by KAFKA_BOOTSTRAP_SERVERS, or starts an
// in-process kafkatest cluster when that is unset.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/kpgo/kafka"
	"github.com/kpgo/kafka/kafkatest"
	kafkaotel "github.com/kpgo/kafka/metrics/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func main() {
	servers := []string(nil)
	if s := os.Getenv("KAFKA_BOOTSTRAP_SERVERS"); s != "" {
		servers = strings.Split(s, ",")
	} else {
		c, err := kafkatest.NewCluster(kafkatest.Brokers(3), kafkatest.SeedTopic("otel-demo", 3))
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		servers = c.Addrs()
	}
	enc := attribute.DefaultEncoder()
	// A real program would use an exporter (OTLP, Prometheus) instead.
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	meter, err := kafkaotel.New(provider)
	if err != nil {
		log.Fatal(err)
	}
	producer, err := kafka.NewProducer(kafka.BootstrapServers(servers...), kafka.Linger(5*time.Millisecond), kafka.WithHooks(meter))
	if err != nil {
		log.Fatal(err)
	}
	if err := meter.Track(producer); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 10_000; i++ {
		if err := producer.Produce(ctx, kafka.Record{Topic: "otel-demo", Value: fmt.Appendf(nil, "event-%d", i)}, nil); err != nil {
			log.Fatal(err)
		}
	}
	if err := producer.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[float64]:
				for _, dp := range d.DataPoints {
					fmt.Printf("%-50s %-22s %14.3f\n", m.Name, dp.Attributes.Encoded(enc), dp.Value)
				}
			case metricdata.Gauge[float64]:
				for _, dp := range d.DataPoints {
					fmt.Printf("%-50s %-22s %14.3f\n", m.Name, dp.Attributes.Encoded(enc), dp.Value)
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					fmt.Printf("%-50s %-22s count %d, mean %.6f s\n", m.Name, dp.Attributes.Encoded(enc), dp.Count, dp.Sum/float64(max(dp.Count, 1)))
				}
			}
		}
	}
	_ = meter.Close()
	if err := producer.Close(ctx); err != nil {
		log.Fatal(err)
	}
}
