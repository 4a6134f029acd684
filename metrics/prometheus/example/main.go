// Example metrics sends records, prints the producer's metrics as
// kafka-python's metrics() groups, and serves them to Prometheus.
//
//	go run ./example                  # from metrics/prometheus
//	curl -s localhost:9464/metrics | grep kafka_producer
//
// It uses the cluster named by KAFKA_BOOTSTRAP_SERVERS, or starts an
// in-process kafkatest cluster when that is unset. It lives in the
// Prometheus adapter's module so the kafka module itself does not depend
// on Prometheus.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/kpgo/kafka"
	"github.com/kpgo/kafka/kafkatest"
	kafkaprom "github.com/kpgo/kafka/metrics/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	addr := flag.String("addr", "localhost:9464", "where to serve /metrics")
	records := flag.Int("records", 50_000, "records to send")
	serve := flag.Duration("serve", 0, "how long to serve /metrics after the run (0: until interrupted)")
	flag.Parse()

	servers := bootstrap()
	collector := kafkaprom.NewCollector()
	producer, err := kafka.NewProducer(
		kafka.BootstrapServers(servers...),
		kafka.Linger(5*time.Millisecond),
		kafka.CompressionType("lz4"),
		kafka.WithHooks(collector), // adds the latency histograms
	)
	if err != nil {
		log.Fatal(err)
	}
	collector.Track(producer)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector)

	ctx := context.Background()
	start := time.Now()
	for i := 0; i < *records; i++ {
		value := fmt.Appendf(nil, `{"n":%d,"at":%q}`, i, time.Now().Format(time.RFC3339Nano))
		if err := producer.Produce(ctx, kafka.Record{Topic: "metrics-demo", Value: value}, nil); err != nil {
			log.Fatal(err)
		}
	}
	if err := producer.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sent %d records in %v\n\n", *records, time.Since(start).Round(time.Millisecond))
	printTable(producer.Metrics())
	d := producer.MetricsSnapshot().DeliveryLatency
	fmt.Printf("\ndelivery latency: p50 %v  p95 %v  p99 %v  p99.9 %v  max %v\n", d.P50, d.P95, d.P99, d.P999, d.Max)

	srv := &http.Server{Addr: *addr, Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	fmt.Printf("\nserving Prometheus metrics at http://%s/metrics", *addr)
	stop, cancel := signal.NotifyContext(ctx, os.Interrupt)
	defer cancel()
	if *serve > 0 {
		fmt.Printf(" for %v\n", *serve)
		var c context.CancelFunc
		stop, c = context.WithTimeout(stop, *serve)
		defer c()
	} else {
		fmt.Println(" (Ctrl-C to stop)")
	}
	<-stop.Done()
	_ = srv.Shutdown(context.Background())
	if err := producer.Close(ctx); err != nil {
		log.Fatal(err)
	}
}

// bootstrap returns KAFKA_BOOTSTRAP_SERVERS, or starts a cluster in process.
func bootstrap() []string {
	if s := os.Getenv("KAFKA_BOOTSTRAP_SERVERS"); s != "" {
		return strings.Split(s, ",")
	}
	c, err := kafkatest.NewCluster(kafkatest.Brokers(3), kafkatest.SeedTopic("metrics-demo", 6))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("KAFKA_BOOTSTRAP_SERVERS is unset: started an in-process cluster at %s\n", c.BootstrapServers())
	return c.Addrs()
}

// printTable prints metrics() groups sorted, one metric a line.
func printTable(groups map[string]map[string]float64) {
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		fmt.Println(g)
		keys := make([]string, 0, len(groups[g]))
		for k := range groups[g] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Printf("  %-32s %14.3f\n", k, groups[g][k])
		}
	}
}
