// Metrics sends records, prints the producer's metrics as kafka-python's
// metrics() groups with the delivery latency percentiles, and serves them
// on /metrics in Prometheus' text format.
//
//	go run ./examples/metrics                 # prints, scrapes itself once, exits
//	go run ./examples/metrics -serve 5m       # and keeps serving localhost:9464
//
// It writes the exposition format by hand to keep this module free of
// Prometheus; the adapter module github.com/kpgo/kafka/metrics/prometheus
// is the full collector (with histograms), and metrics/otel the
// OpenTelemetry one.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/kpgo/kafka"
	"github.com/kpgo/kafka/examples/internal/embedded"
)

func main() {
	addr := flag.String("addr", "localhost:9464", "where to serve /metrics")
	records := flag.Int("records", 50_000, "records to send")
	serve := flag.Duration("serve", 0, "how long to keep serving /metrics after the run (0: scrape once and exit)")
	flag.Parse()

	servers, stop := embedded.Bootstrap("metrics-demo")
	defer stop()
	producer, err := kafka.NewProducer(
		kafka.BootstrapServers(servers...),
		kafka.Linger(5*time.Millisecond),
		kafka.CompressionType("lz4"),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	defer producer.Close(ctx)

	start := time.Now()
	for i := 0; i < *records; i++ {
		value := fmt.Appendf(nil, `{"n":%d}`, i)
		if err := producer.Produce(ctx, kafka.Record{Topic: "metrics-demo", Value: value}, nil); err != nil {
			log.Fatal(err)
		}
	}
	if err := producer.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sent %d records in %v\n\n", *records, time.Since(start).Round(time.Millisecond))

	// producer.metrics(): groups of name -> value, as kafka-python gives them.
	groups := producer.Metrics()
	for _, g := range sortedKeys(groups) {
		fmt.Println(g)
		for _, name := range sortedKeys(groups[g]) {
			fmt.Printf("  %-40s %g\n", name, groups[g][name])
		}
	}
	d := producer.MetricsSnapshot().DeliveryLatency
	fmt.Printf("\ndelivery latency: p50 %v  p95 %v  p99 %v  p99.9 %v  max %v\n", d.P50, d.P95, d.P99, d.P999, d.Max)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		writeExposition(w, producer.Metrics())
	})}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	defer srv.Shutdown(ctx)
	url := "http://" + ln.Addr().String() + "/metrics"
	fmt.Printf("\nserving Prometheus metrics at %s; the first lines:\n", url)
	resp, err := http.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for n := 0; n < 8 && sc.Scan(); n++ {
		fmt.Println("  " + sc.Text())
	}
	resp.Body.Close()
	if *serve > 0 {
		fmt.Printf("serving for %v\n", *serve)
		time.Sleep(*serve)
	}
}

// writeExposition writes the metrics() groups in Prometheus' text format:
// kafka_producer_<name> for producer-metrics, and the per-topic and
// per-broker groups with a topic or node_id label.
func writeExposition(w io.Writer, groups map[string]map[string]float64) {
	type sample struct{ labels, value string }
	series := map[string][]sample{}
	for group, metrics := range groups {
		prefix, labels := "kafka_producer_", ""
		switch {
		case strings.HasPrefix(group, "producer-topic-metrics."):
			prefix = "kafka_producer_topic_"
			labels = fmt.Sprintf(`{topic=%q}`, strings.TrimPrefix(group, "producer-topic-metrics."))
		case strings.HasPrefix(group, "producer-node-metrics."):
			prefix = "kafka_producer_node_"
			labels = fmt.Sprintf(`{node_id=%q}`, strings.TrimPrefix(group, "producer-node-metrics.node-"))
		}
		for name, v := range metrics {
			metric := prefix + strings.NewReplacer("-", "_", ".", "_").Replace(name)
			series[metric] = append(series[metric], sample{labels, fmt.Sprint(v)})
		}
	}
	for _, metric := range sortedKeys(series) {
		fmt.Fprintf(w, "# TYPE %s gauge\n", metric)
		for _, s := range series[metric] {
			fmt.Fprintf(w, "%s%s %s\n", metric, s.labels, s.value)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
