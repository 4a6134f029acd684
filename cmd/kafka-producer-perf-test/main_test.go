package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kpgo/kafka/kafkatest"
)

// summaryLine is Java's final line: "%d records sent, %f records/sec (%.2f
// MB/sec), %.2f ms avg latency, %.2f ms max latency, %d ms 50th, ...".
var summaryLine = regexp.MustCompile(`^(\d+) records sent, \d+\.\d{6} records/sec \(\d+\.\d{2} MB/sec\), \d+\.\d{2} ms avg latency, \d+\.\d{2} ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99\.9th\.$`)

func runTool(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func newCluster(t *testing.T, topic string) *kafkatest.Cluster {
	t.Helper()
	c, err := kafkatest.NewCluster(kafkatest.SeedTopic(topic, 3))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func TestSummaryLineAgainstCluster(t *testing.T) {
	c := newCluster(t, "perf")
	code, out, errOut := runTool(t, "--topic", "perf", "--num-records", "500", "--record-size", "100",
		"--throughput", "-1", "--producer-props", "bootstrap.servers="+c.BootstrapServers(), "acks=1", "linger_ms=1")
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	m := summaryLine.FindStringSubmatch(last)
	require.NotNil(t, m, "summary line %q", last)
	require.Equal(t, "500", m[1])
	require.NotContains(t, errOut, "in-process", "a cluster was given; none should be started")
}

// With a transactional id the records go in transactions committed every
// --transaction-duration-ms; all of them are read_committed-visible at the
// end.
func TestTransactionalRun(t *testing.T) {
	c := newCluster(t, "perf-txn")
	code, out, errOut := runTool(t, "--topic", "perf-txn", "--num-records", "3000", "--record-size", "10",
		"--throughput", "10000", "--bootstrap-server", c.BootstrapServers(), "--json", "--print-metrics",
		"--transactional-id", "perf-txn-id", "--transaction-duration-ms", "50")
	require.Equal(t, exitOK, code, errOut)
	var sum map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	require.EqualValues(t, 3000, sum["records"])
	require.EqualValues(t, 0, sum["failed"])
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...), kgo.ConsumeTopics("perf-txn"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := 0
	for n < 3000 {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "read %d committed records", n)
		n += len(fs.Records())
	}
	require.Equal(t, 3000, n)
}

// A transactional id given as a property under any spelling the producer
// takes makes the run transactional, and --transactional-id wins over it,
// as in Java's tool. Only the exact key used to count: under another the
// producer was transactional but no transaction was begun.
func TestTransactionalIDSpellings(t *testing.T) {
	c := newCluster(t, "perf-txn-spelling")
	fake := c.Fake()
	var mu sync.Mutex
	var ids []string
	fake.ControlKey(int16(kmsg.InitProducerID), func(r kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		if id := r.(*kmsg.InitProducerIDRequest).TransactionalID; id != nil {
			mu.Lock()
			ids = append(ids, *id)
			mu.Unlock()
		}
		return nil, nil, false
	})
	for _, args := range [][]string{
		{"--producer-props", "TRANSACTIONAL-ID=spelled"},
		{"--producer-props", "transactional_id=from-props", "--transactional-id", "from-flag"},
	} {
		args = append([]string{"--topic", "perf-txn-spelling", "--num-records", "100", "--record-size", "10",
			"--throughput", "-1", "--bootstrap-server", c.BootstrapServers(), "--json"}, args...)
		code, out, errOut := runTool(t, args...)
		require.Equal(t, exitOK, code, "args %q: %s", args, errOut)
		var sum map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &sum))
		require.EqualValues(t, 100, sum["records"])
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"spelled", "from-flag"}, ids)
}

func TestJSONSummaryAndMetrics(t *testing.T) {
	c := newCluster(t, "perf-json")
	code, out, errOut := runTool(t, "--topic=perf-json", "--num-records=300", "--record-size=10",
		"--bootstrap-server", c.BootstrapServers(), "--json", "--print-metrics")
	require.Equal(t, exitOK, code, errOut)
	var sum map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &sum), "stdout must be exactly one JSON object: %q", out)
	for _, f := range []string{"records", "failed", "bytes", "elapsed_ms", "records_per_sec", "mb_per_sec",
		"avg_latency_ms", "max_latency_ms", "p50_ms", "p95_ms", "p99_ms", "p999_ms", "metrics"} {
		require.Contains(t, sum, f)
	}
	require.EqualValues(t, 300, sum["records"])
	require.EqualValues(t, 0, sum["failed"])
	require.EqualValues(t, 3000, sum["bytes"])
	metrics := sum["metrics"].(map[string]any)["producer-metrics"].(map[string]any)
	require.EqualValues(t, 300, metrics["record-send-total"])
}

func TestPrintMetricsTable(t *testing.T) {
	c := newCluster(t, "perf-metrics")
	code, out, errOut := runTool(t, "--topic", "perf-metrics", "--num-records", "50", "--record-size", "10",
		"--bootstrap-server", c.BootstrapServers(), "--print-metrics")
	require.Equal(t, exitOK, code, errOut)
	require.Regexp(t, `(?m)^Metric Name\s+Value$`, out)
	require.Regexp(t, `(?m)^producer-metrics:record-send-total\s+: 50\.000$`, out)
}

func TestEmbeddedClusterWhenNoBootstrap(t *testing.T) {
	code, out, errOut := runTool(t, "--topic", "auto", "--num-records", "200", "--payload-monotonic")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, errOut, "in-process kafkatest cluster")
	require.Regexp(t, `(?m)^200 records sent, `, out)
}

func TestPayloadFileAndConfigFile(t *testing.T) {
	c := newCluster(t, "perf-file")
	dir := t.TempDir()
	payload := filepath.Join(dir, "payload.txt")
	require.NoError(t, os.WriteFile(payload, []byte("abc|defg|hi|"), 0o600))
	cfg := filepath.Join(dir, "producer.properties")
	require.NoError(t, os.WriteFile(cfg, []byte("# a comment\nbootstrap.servers="+c.BootstrapServers()+
		"\nacks=all\nkey.serializer=org.apache.kafka.common.serialization.ByteArraySerializer\n"), 0o600))
	code, out, errOut := runTool(t, "--topic", "perf-file", "--num-records", "100", "--payload-file", payload,
		"--payload-delimiter", "|", "--producer.config", cfg, "--json")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, errOut, "Number of messages read: 3")
	require.Contains(t, errOut, "ignoring key.serializer")
	var sum summary
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	require.EqualValues(t, 100, sum.Records)
	// Every value is one of the three pieces: 2 to 4 bytes each.
	require.GreaterOrEqual(t, sum.Bytes, int64(200))
	require.LessOrEqual(t, sum.Bytes, int64(400))
}

func TestThroughputLimit(t *testing.T) {
	c := newCluster(t, "perf-slow")
	// 60 records at 200 records/s take about 0.3 s; without the limit they
	// take a few milliseconds. The bound is loose on purpose.
	start := time.Now()
	code, out, errOut := runTool(t, "--topic", "perf-slow", "--num-records", "60", "--record-size", "10",
		"--throughput", "200", "--bootstrap-server", c.BootstrapServers(), "--json")
	elapsed := time.Since(start)
	require.Equal(t, exitOK, code, errOut)
	var sum summary
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	require.GreaterOrEqual(t, elapsed, 200*time.Millisecond)
	require.LessOrEqual(t, sum.RecordsPerSec, 300.0)
}

func TestThrottlerSchedule(t *testing.T) {
	// The throttler sleeps only once it is at least minThrottleSleep ahead.
	thr := &throttler{rate: 1000, start: time.Now()}
	begin := time.Now()
	for i := int64(1); i <= 100; i++ {
		thr.wait(context.Background(), i)
	}
	require.GreaterOrEqual(t, time.Since(begin), 100*time.Millisecond-minThrottleSleep)
	unlimited := &throttler{rate: -1, start: time.Now()}
	unlimited.wait(context.Background(), 1<<40) // returns at once
}

func TestStatsPercentiles(t *testing.T) {
	var out bytes.Buffer
	st := newStats(1000, &out, &out)
	now := st.start
	for i := 1; i <= 1000; i++ {
		st.record(time.Duration(i)*time.Millisecond, 10, now, nil)
	}
	sum := st.summary(now.Add(time.Second))
	require.EqualValues(t, 1000, sum.Records)
	require.EqualValues(t, 501, sum.P50Ms) // samples[500] of 1..1000
	require.EqualValues(t, 951, sum.P95Ms)
	require.EqualValues(t, 991, sum.P99Ms)
	require.EqualValues(t, 1000, sum.P999Ms)
	require.InDelta(t, 500.5, sum.AvgLatencyMs, 1e-9)
	require.InDelta(t, 1000.0, sum.RecordsPerSec, 1e-9)
	require.Empty(t, out.String(), "no window line within 5 s")

	// Above 500,000 records only every sampling-th latency is kept.
	big := newStats(2_000_000, &out, &out)
	require.EqualValues(t, 4, big.sampling)
}

func TestProgressLine(t *testing.T) {
	var out bytes.Buffer
	st := newStats(10, &out, &out)
	st.record(4*time.Millisecond, 1024*1024, st.start.Add(time.Second), nil)
	st.record(6*time.Millisecond, 1024*1024, st.start.Add(5*time.Second), nil)
	require.Equal(t, "2 records sent, 0.4 records/sec (0.40 MB/sec), 5.0 ms avg latency, 6.0 ms max latency.\n", out.String())
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--num-records", "10", "--record-size", "10"},                // no topic
		{"--topic", "t", "--record-size", "10"},                       // no count
		{"--topic", "t", "--num-records", "0", "--record-size", "10"}, // zero count
		{"--topic", "t", "--num-records", "10"},                       // no payload
		{"--topic", "t", "--num-records", "10", "--record-size", "1", "--payload-monotonic"},
		{"--topic", "t", "--num-records", "x", "--record-size", "10"},
		{"--topic", "t", "--num-records", "10", "--record-size", "10", "--throughput", "0"},
		{"--topic", "t", "--num-records", "10", "--record-size", "10", "--throughput", "NaN"},
		{"--topic", "t", "--num-records", "10", "--record-size", "10", "--throughput", "Inf"},
		{"--topic", "t", "--num-records", "10", "--record-size", "10", "--bogus"},
		{"--topic", "t", "--num-records", "10", "--record-size", "10", "--producer-props"},
		{"--topic", "t", "--num-records", "10", "--record-size", "10", "--producer-props", "novalue"},
		{"--topic", "t", "--num-records", "10", "--record-size", "10", "--producer-props", "no.such.prop=1"},
		{"--topic", "t", "--num-records", "10", "--record-size", "10", "--producer-props", "linger.ms=soon"},
		{"--topic", "t", "--num-records", "10", "--record-size", "10", "--transaction-duration-ms", "100"}, // not transactional
		{"--topic", "t", "--num-records", "10", "--record-size", "10", "--transactional-id", "x", "--transaction-duration-ms", "0"},
		{"--topic", "bad topic", "--num-records", "10", "--record-size", "10"},
		{"--topic", "t", "--num-records", "10", "--record-size"},
	} {
		code, out, errOut := runTool(t, args...)
		require.Equal(t, exitUsage, code, "args %q: stdout %q stderr %q", args, out, errOut)
		require.Contains(t, errOut, "usage: kafka-producer-perf-test", "args %q", args)
	}
	for _, args := range [][]string{{"--help"}, {}} {
		code, out, _ := runTool(t, args...)
		require.Equal(t, exitOK, code)
		require.Contains(t, out, "usage:")
	}
}

func TestProducerPropsTakeManyValues(t *testing.T) {
	o, err := parseArgs([]string{"--producer-props", "a=1", "b=2", "--topic", "t", "--num-records", "1",
		"--record-size", "1", "--producer-props=c=3"})
	require.NoError(t, err)
	require.Equal(t, []string{"a=1", "b=2", "c=3"}, o.props)
}
