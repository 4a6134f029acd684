package kafkatest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kpgo/kafka"
	"github.com/kpgo/kafka/kafkatest"
)

func TestClusterServesProducer(t *testing.T) {
	c, err := kafkatest.NewCluster(kafkatest.Brokers(2), kafkatest.SeedTopic("events", 4))
	require.NoError(t, err)
	defer c.Close()
	require.Len(t, c.Addrs(), 2)

	p, err := kafka.NewProducer(kafka.BootstrapServers(c.BootstrapServers()))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	defer p.Close(ctx)
	parts, err := p.PartitionsFor(ctx, "events")
	require.NoError(t, err)
	require.Len(t, parts, 4)
	f, err := p.Send(ctx, kafka.Record{Topic: "events", Key: []byte("k"), Value: []byte("v")})
	require.NoError(t, err)
	md, err := f.Get(ctx)
	require.NoError(t, err)

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...), kgo.ConsumeTopics("events"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	fs := cl.PollFetches(ctx)
	require.NoError(t, fs.Err())
	recs := fs.Records()
	require.Len(t, recs, 1)
	require.Equal(t, "v", string(recs[0].Value))
	require.Equal(t, md.Partition, recs[0].Partition)
}

func TestAutoCreateTopics(t *testing.T) {
	c, err := kafkatest.NewCluster(kafkatest.Brokers(1), kafkatest.AutoCreateTopics(3))
	require.NoError(t, err)
	defer c.Close()
	p, err := kafka.NewProducer(kafka.BootstrapServers(c.Addrs()...))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	defer p.Close(ctx)
	parts, err := p.PartitionsFor(ctx, "created-on-demand")
	require.NoError(t, err)
	require.Len(t, parts, 3)
}

// Addrs after Close returns the addresses the brokers had: kfake answers
// only while it runs, and the call used to hang.
func TestAddrsAfterClose(t *testing.T) {
	c, err := kafkatest.NewCluster(kafkatest.Brokers(2))
	require.NoError(t, err)
	want := c.Addrs()
	c.Close()
	c.Close()
	done := make(chan []string)
	go func() {
		c.Addrs()
		done <- c.Addrs()
	}()
	select {
	case got := <-done:
		require.Equal(t, want, got)
		require.Equal(t, strings.Join(want, ","), c.BootstrapServers())
	case <-time.After(10 * time.Second):
		t.Fatal("Addrs after Close did not return")
	}
}

// Arguments no cluster can have are refused, not a panic inside kfake or
// a topic of kfake's default size.
func TestNewClusterRefusesBadArguments(t *testing.T) {
	for name, opts := range map[string][]kafkatest.Option{
		"no brokers":          {kafkatest.Brokers(0)},
		"negative brokers":    {kafkatest.Brokers(-1)},
		"topic of 0":          {kafkatest.SeedTopic("x", 0)},
		"auto-created topics": {kafkatest.AutoCreateTopics(0)},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := kafkatest.NewCluster(opts...)
			require.Error(t, err)
			require.Nil(t, c)
		})
	}
}
