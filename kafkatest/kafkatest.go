// Package kafkatest starts an in-process Kafka-protocol cluster on loopback
// for tests and demos, as net/http/httptest does for HTTP servers. It wraps
// franz-go's kfake: real TCP, real ApiVersions, Metadata, Produce and
// InitProducerId, several brokers, and fault injection through Fake.
//
//	c, err := kafkatest.NewCluster(kafkatest.Brokers(3), kafkatest.SeedTopic("events", 6))
//	if err != nil { ... }
//	defer c.Close()
//	p, err := kafka.NewProducer(kafka.BootstrapServers(c.Addrs()...))
package kafkatest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Cluster is a running in-process cluster.
type Cluster struct {
	fake      *kfake.Cluster
	closeOnce sync.Once
	// closedAddrs are the addresses the brokers had when Close ran:
	// kfake answers ListenAddrs only while it runs.
	closedAddrs atomic.Pointer[[]string]
}

type config struct {
	brokers    int
	topics     map[string]int32
	order      []string
	autoCreate bool
	autoParts  int
	blackhole  bool
	extra      []kfake.Opt
}

// Option configures NewCluster.
type Option func(*config)

// Brokers sets how many brokers the cluster runs. Default 3.
func Brokers(n int) Option { return func(c *config) { c.brokers = n } }

// SeedTopic creates topic with the given number of partitions at start.
// Give it once per topic.
func SeedTopic(topic string, partitions int32) Option {
	return func(c *config) {
		if _, ok := c.topics[topic]; !ok {
			c.order = append(c.order, topic)
		}
		c.topics[topic] = partitions
	}
}

// AutoCreateTopics lets the cluster create a topic a client asks metadata
// for, with the given number of partitions, as a broker with
// auto.create.topics.enable does. Default off.
func AutoCreateTopics(partitions int) Option {
	return func(c *config) { c.autoCreate, c.autoParts = true, partitions }
}

// BlackholeProduce makes the cluster acknowledge produced records without
// storing them, to keep the broker out of throughput measurements.
func BlackholeProduce() Option { return func(c *config) { c.blackhole = true } }

// WithKfakeOptions passes options straight to kfake, for what this package
// does not wrap.
func WithKfakeOptions(opts ...kfake.Opt) Option {
	return func(c *config) { c.extra = append(c.extra, opts...) }
}

// NewCluster starts a cluster; Close stops it.
func NewCluster(opts ...Option) (*Cluster, error) {
	cfg := config{brokers: 3, topics: map[string]int32{}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.brokers < 1 {
		return nil, fmt.Errorf("kafkatest: Brokers must be at least 1, got %d", cfg.brokers)
	}
	for _, t := range cfg.order {
		if n := cfg.topics[t]; n < 1 {
			return nil, fmt.Errorf("kafkatest: SeedTopic %q needs at least 1 partition, got %d", t, n)
		}
	}
	if cfg.autoCreate && cfg.autoParts < 1 {
		return nil, fmt.Errorf("kafkatest: AutoCreateTopics needs at least 1 partition, got %d", cfg.autoParts)
	}
	kopts := []kfake.Opt{kfake.NumBrokers(cfg.brokers)}
	// Seed topics grouped by partition count, as kfake takes them.
	for _, t := range cfg.order {
		kopts = append(kopts, kfake.SeedTopics(cfg.topics[t], t))
	}
	if cfg.autoCreate {
		kopts = append(kopts, kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(cfg.autoParts))
	}
	if cfg.blackhole {
		kopts = append(kopts, kfake.BlackholeProduce())
	}
	kopts = append(kopts, cfg.extra...)
	fake, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, err
	}
	return &Cluster{fake: fake}, nil
}

// Addrs returns the brokers' host:port addresses; after Close, those they
// had when it ran.
func (c *Cluster) Addrs() []string {
	if a := c.closedAddrs.Load(); a != nil {
		return append([]string(nil), *a...)
	}
	return c.fake.ListenAddrs()
}

// BootstrapServers returns the addresses joined by commas, as a
// bootstrap.servers property takes them.
func (c *Cluster) BootstrapServers() string { return strings.Join(c.Addrs(), ",") }

// Fake returns the underlying kfake cluster, for fault injection
// (ControlKey, SleepControl, MoveTopicPartition, RemoveNode).
func (c *Cluster) Fake() *kfake.Cluster { return c.fake }

// Close stops every broker. Calling it again does nothing.
func (c *Cluster) Close() {
	c.closeOnce.Do(func() {
		addrs := c.fake.ListenAddrs()
		c.closedAddrs.Store(&addrs)
		c.fake.Close()
	})
}
