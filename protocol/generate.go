package protocol

// The message types are generated from Apache Kafka's JSON schemas, kept in
// the shared checkout beside this repository, so that every version rule
// comes from the schemas and none is typed by hand.
//go:generate go run ./gen -schemas ../../shared/kafka-protocol -out messages_gen.go
