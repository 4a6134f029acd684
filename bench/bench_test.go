package bench

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/kpgo/kafka/kafkatest"
)

// cluster is one in-process cluster for every test and benchmark of the
// package; it discards produced records so the broker's storage stays out
// of the figures (its CPU does not: it runs in this process).
var (
	clusterOnce sync.Once
	cluster     *kafkatest.Cluster
	clusterErr  error
)

func addrs(tb testing.TB) []string {
	tb.Helper()
	clusterOnce.Do(func() {
		cluster, clusterErr = kafkatest.NewCluster(kafkatest.Brokers(Brokers),
			kafkatest.SeedTopic(Topic, Partitions), kafkatest.BlackholeProduce())
	})
	if clusterErr != nil {
		tb.Fatal(clusterErr)
	}
	return cluster.Addrs()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		cluster.Close()
	}
	os.Exit(code)
}

// TestWorkloadsTiny runs every workload through every client with a few
// thousand records, to prove each is configured and delivers.
func TestWorkloadsTiny(t *testing.T) {
	bootstrap := addrs(t)
	for _, w := range Workloads {
		for _, kind := range AllClients {
			t.Run(w.Name+"/"+kind, func(t *testing.T) {
				if err := Built(kind); err != nil {
					t.Skip(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				c, err := NewClient(ctx, kind, w, bootstrap)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				res, err := Measure(ctx, c, kind, w, 2000)
				if err != nil {
					t.Fatal(err)
				}
				if res.Records != 2000 || res.Elapsed <= 0 || res.Mallocs == 0 {
					t.Fatalf("implausible result %+v", res)
				}
				wantBytes := int64(2000 * w.ValueSize)
				if w.Keyed {
					wantBytes += 2000 * 16
				}
				if res.Bytes != wantBytes {
					t.Fatalf("bytes = %d, want %d", res.Bytes, wantBytes)
				}
			})
		}
	}
}

func TestWorkloadOptions(t *testing.T) {
	for _, w := range Workloads {
		if _, err := newOurs(w, []string{"127.0.0.1:1"}); err != nil {
			t.Fatalf("%s: our options: %v", w.Name, err)
		}
	}
	if _, ok := Lookup("w3"); !ok {
		t.Fatal("Lookup is not case-insensitive")
	}
	if _, ok := Lookup("W9"); ok {
		t.Fatal("Lookup found a workload that does not exist")
	}
	if got := Median([]float64{3, 1, 2}); got != 2 {
		t.Fatalf("Median odd = %v", got)
	}
	if got := Median([]float64{4, 1, 2, 3}); got != 2.5 {
		t.Fatalf("Median even = %v", got)
	}
}

// BenchmarkProduce runs each workload through each client in this
// process; one op is one record, acknowledged. Compare clients with
//
//	go test -run XXX -bench . -benchmem -count 6 > out.txt
//	benchstat -col /client out.txt
//
// allocs/op includes the in-process broker's share; cmd/compare measures
// each client alone in its own process.
func BenchmarkProduce(b *testing.B) {
	bootstrap := addrs(b)
	for _, w := range Workloads {
		for _, kind := range Clients {
			b.Run(w.Name+"/client="+kind, func(b *testing.B) {
				ctx := context.Background()
				c, err := NewClient(ctx, kind, w, bootstrap)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				b.SetBytes(int64(w.ValueSize))
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				if err := c.Produce(ctx, int64(b.N)); err != nil {
					b.Fatal(err)
				}
				elapsed := time.Since(start)
				b.StopTimer()
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
			})
		}
	}
}
