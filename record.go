package kafka

import (
	"fmt"
	"time"

	"github.com/kpgo/kafka/protocol"
)

// Header is one record header: a string key and a byte value (nil for a
// null value).
type Header = protocol.RecordHeader

// Record is one record to send, kafka-python's send(topic, value, key,
// headers, partition, timestamp_ms). The zero value of each field means
// kafka-python's default.
type Record struct {
	// Topic is required.
	Topic string
	// Key places the record (murmur2 by default); nil is a null key.
	Key []byte
	// Value is the payload; nil is a null value (a tombstone on compacted
	// topics). A record needs a key, a value or both.
	Value []byte
	// Headers travel with the record.
	Headers []Header
	// Partition, when not nil, sends the record to that partition; nil lets
	// the partitioner choose, so partition 0 is asked for as new(int32(0)).
	Partition *int32
	// Timestamp is the record's create time; the zero time means now.
	// Times before 1970 are refused, as the Java client refuses negative
	// timestamps: Kafka counts milliseconds since the epoch, and -1
	// means no timestamp.
	Timestamp time.Time
}

// maxTopicLen is Kafka's limit on topic names (Topic.MAX_NAME_LENGTH).
const maxTopicLen = 249

// validateTopic applies Kafka's rule for topic names: 1 to 249 characters
// from [a-zA-Z0-9._-], and not "." or "..".
func validateTopic(topic string) error {
	if topic == "" {
		return fmt.Errorf("%w: topic is empty", ErrInvalidRecord)
	}
	if len(topic) > maxTopicLen {
		return fmt.Errorf("%w: topic name is %d characters, the limit is %d", ErrInvalidRecord, len(topic), maxTopicLen)
	}
	if topic == "." || topic == ".." {
		return fmt.Errorf("%w: topic cannot be %q", ErrInvalidRecord, topic)
	}
	for i := 0; i < len(topic); i++ {
		c := topic[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			continue
		}
		return fmt.Errorf("%w: topic %q has an illegal character %q (allowed: a-z A-Z 0-9 . _ -)", ErrInvalidRecord, topic, c)
	}
	return nil
}
