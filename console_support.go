package kafka

// Helpers for command-line tools (cmd/kafka-console-producer) that must
// check their input before a producer sees it.

// MaxRequestSizeOf returns the max_request_size that opts configure, or
// the default when none sets it. A tool reading records from a stream
// uses it to bound what it buffers: a record larger than this can never
// be sent.
func MaxRequestSizeOf(opts ...Option) int {
	c := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c.maxRequestSize
}

// ValidateTopic returns the error Send would return for a record to
// topic when its name breaks Kafka's naming rules, or nil, so a tool can
// refuse a bad name once instead of failing every record.
func ValidateTopic(topic string) error { return validateTopic(topic) }
