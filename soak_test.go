package kafka

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestSoakUnderFaults sends 200k keyed records from several goroutines to
// three brokers while every kind of fault the producer must survive is
// injected throughout, then reads the log back and checks the promises:
// every acknowledged record is in the log at the offset its future gave,
// nothing is written twice, each key's records are in send order, and
// every future was answered.
func TestSoakUnderFaults(t *testing.T) {
	const (
		goroutines = 4
		perG       = 50_000
		keysPerG   = 64
		partitions = 12
	)
	env := newTestEnv(t)
	fake := env.needFake()
	topic := env.topic(partitions)
	p := env.producer(Linger(2*time.Millisecond), RetryBackoff(5*time.Millisecond), RetryBackoffMax(50*time.Millisecond),
		RequestTimeout(2*time.Second), BatchSize(32<<10),
		// Compressed batches give their buffer back once encoded and
		// are compressed again for a retry: the soak covers that too.
		CompressionType("lz4"))
	_, err := p.PartitionsFor(context.Background(), topic)
	require.NoError(t, err)

	type result struct {
		partition int32
		offset    int64
		err       error
	}
	results := make([]result, goroutines*perG)
	var answered sync.WaitGroup
	answered.Add(goroutines * perG)

	stop := make(chan struct{})
	var injected sync.WaitGroup
	var faultCounts [8]atomic.Int64
	injected.Add(1)
	go func() {
		defer injected.Done()
		codes := []*kerr.Error{kerr.NotLeaderForPartition, kerr.LeaderNotAvailable, kerr.RequestTimedOut,
			kerr.NotEnoughReplicasAfterAppend, kerr.NotEnoughReplicas, kerr.MessageTooLarge}
		tick := time.NewTicker(15 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			kind := rand.IntN(5)
			faultCounts[kind].Add(1)
			switch kind {
			case 0, 1: // a broker error on some produce requests
				fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic,
					Partitions: []int32{rand.Int32N(partitions)}, Err: codes[rand.IntN(len(codes))], Count: 1 + rand.IntN(2)})
			case 2: // a leader moves
				part := rand.Int32N(partitions)
				_ = fake.MoveTopicPartition(topic, part, (fake.LeaderFor(topic, part)+1)%3)
			case 3: // an election everywhere
				fake.ShufflePartitionLeaders()
			case 4: // a connection dies with a request in it
				fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
					return nil, errors.New("dropped by soak test"), true
				})
			}
		}
	}()

	start := time.Now()
	var senders sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for i := 0; i < perG; i++ {
				if i%1000 == 999 {
					// Paced, so that the run spans about a second of
					// faults however fast the producer is.
					time.Sleep(20 * time.Millisecond)
				}
				id := g*perG + i
				rec := Record{
					Topic: topic,
					Key:   fmt.Appendf(nil, "g%d-k%d", g, i%keysPerG),
					Value: fmt.Appendf(nil, "%d", id),
				}
				err := p.Produce(context.Background(), rec, func(md RecordMetadata, err error) {
					results[id] = result{md.Partition, md.Offset, err}
					answered.Done()
				})
				if err != nil {
					results[id] = result{err: err}
					answered.Done()
				}
			}
		}()
	}
	senders.Wait()
	done := make(chan struct{})
	go func() { answered.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("futures were left unanswered")
	}
	close(stop)
	injected.Wait()
	// Every batch gave its memory back, whatever happened to it.
	require.Eventually(t, func() bool { return p.acc.pool.available() == p.cfg.bufferMemory }, 5*time.Second, time.Millisecond)
	elapsed := time.Since(start)

	// Read the whole log back with an independent consumer.
	var ok, failed, uncertain, refused int
	failures := map[string]int{}
	want := map[int32]map[int64]int{}
	for id, r := range results {
		if r.err != nil {
			failed++
			switch {
			case errors.Is(r.err, ErrDeliveryUncertain):
				// Also when refused as too large after an attempt
				// that may have been written: counted once.
				uncertain++
			case errors.Is(r.err, ErrRecordTooLarge):
				// An injected MESSAGE_TOO_LARGE on a batch of one
				// record: nothing is left to split, so it fails.
				refused++
			}
			failures[r.err.Error()]++
			continue
		}
		ok++
		if want[r.partition] == nil {
			want[r.partition] = map[int64]int{}
		}
		want[r.partition][r.offset] = id
	}
	ends := endOffsets(t, env, topic, partitions)
	var total int64
	for _, e := range ends {
		total += e
	}
	got := env.consumeExactly(topic, int(total))
	// Where each record is in the log, and which record each place holds,
	// so that a failure can say what the log and the future disagree on.
	type place struct {
		part int32
		off  int64
	}
	placesOf := map[int][]place{}
	idAt := map[place]int{}
	for _, rec := range got {
		var id int
		_, err := fmt.Sscan(string(rec.Value), &id)
		require.NoError(t, err)
		placesOf[id] = append(placesOf[id], place{rec.Partition, rec.Offset})
		idAt[place{rec.Partition, rec.Offset}] = id
	}
	explain := func(id int) string {
		r := results[id]
		said := place{r.partition, r.offset}
		holder, ok := idAt[said]
		return fmt.Sprintf("record %d (err %v): its future said %d-%d, which holds record %d (present %v); the log has it at %v",
			id, r.err, said.part, said.off, holder, ok, placesOf[id])
	}
	seen := make(map[int]bool, len(got))
	var dups, stray int
	for _, rec := range got {
		var id int
		_, err := fmt.Sscan(string(rec.Value), &id)
		require.NoError(t, err)
		if seen[id] {
			dups++
			t.Logf("written twice: %s", explain(id))
		}
		seen[id] = true
		if wantID, ok := want[rec.Partition][rec.Offset]; ok {
			require.Equal(t, wantID, id, "record at %d-%d is not the one its future named: %s; %s", rec.Partition, rec.Offset, explain(wantID), explain(id))
			delete(want[rec.Partition], rec.Offset)
		} else {
			stray++ // written, but its future failed (uncertain)
			require.Error(t, results[id].err, "record %d is in the log at %d-%d, not where its future said: %s", id, rec.Partition, rec.Offset, explain(id))
		}
	}
	var lost int
	for _, offs := range want {
		lost += len(offs)
	}
	// Per key, acknowledged offsets follow send order.
	type pos struct {
		part int32
		off  int64
		id   int
	}
	last := map[string]pos{}
	var reordered int
	for id, r := range results {
		if r.err != nil {
			continue
		}
		g, k := id/perG, (id%perG)%keysPerG
		key := fmt.Sprintf("g%d-k%d", g, k)
		if l, ok := last[key]; ok && (l.part != r.partition || l.off >= r.offset) {
			reordered++
			if reordered <= 5 {
				t.Logf("key %s: record %d at %d-%d after record %d at %d-%d", key, id, r.partition, r.offset, l.id, l.part, l.off)
			}
		}
		last[key] = pos{r.partition, r.offset, id}
	}
	m := p.MetricsSnapshot()
	t.Logf("soak: %d records in %v: %d acknowledged, %d failed (%d uncertain), %d in the log with failed futures; lost %d, duplicates %d, reordered %d; retried %d, batches split %d; faults: broker errors %d, leader moves %d, elections %d, dropped connections %d",
		len(results), elapsed.Round(time.Millisecond), ok, failed, uncertain, stray, lost, dups, reordered,
		m.RecordsRetried, m.BatchesSplit, faultCounts[0].Load()+faultCounts[1].Load(), faultCounts[2].Load(), faultCounts[3].Load(), faultCounts[4].Load())
	for msg, n := range failures {
		t.Logf("failure x%d: %s", n, msg)
	}
	require.Zero(t, lost, "acknowledged records missing from the log")
	require.Zero(t, dups, "records written twice")
	require.Zero(t, reordered, "keys out of send order")
	require.Equal(t, len(results), ok+failed)
	require.Zero(t, failed-uncertain-refused, "only records whose delivery is uncertain, or refused alone as too large, may fail")
}

// endOffsets asks the cluster for each partition's high watermark.
func endOffsets(t *testing.T, env *testEnv, topic string, partitions int32) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.addrs...))
	require.NoError(t, err)
	defer cl.Close()
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for i := int32(0); i < partitions; i++ {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = i
		rp.Timestamp = -1 // latest
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out := map[int32]int64{}
	for attempt := 0; ; attempt++ {
		resp, err := req.RequestWith(ctx, cl)
		require.NoError(t, err)
		retry := false
		for _, tr := range resp.Topics {
			for _, pr := range tr.Partitions {
				if pr.ErrorCode != 0 {
					retry = true
					continue
				}
				out[pr.Partition] = pr.Offset
			}
		}
		if !retry {
			return out
		}
		require.Less(t, attempt, 20, "list offsets kept failing")
		time.Sleep(100 * time.Millisecond)
	}
}
