package protocol

import (
	"errors"
	"strconv"
)

// Error is a Kafka protocol error code as a Go error: the number a broker
// puts in a response, its name as the protocol guide spells it (for example
// "NOT_LEADER_OR_FOLLOWER"), a one-line description, and whether a client may
// retry the request that produced it. Retriable follows the Java client: it
// is true exactly when Kafka's exception for the code extends
// RetriableException.
//
// Error() formats as "NAME (code): description", for example
// "REQUEST_TIMED_OUT (7): the request timed out".
//
// Every known code (except 0, NONE) has a package-level *Error variable, such
// as NotLeaderOrFollower; ErrorForCode returns those values. Errors compare by
// Code, so errors.Is(err, NotLeaderOrFollower) holds for a wrapped value, for
// a copy, and for any *Error with Code 6.
type Error struct {
	Code        int16
	Name        string
	Description string
	Retriable   bool
}

// Error returns "NAME (code): description".
func (e *Error) Error() string {
	if e == nil {
		return "<nil>"
	}
	return e.Name + " (" + strconv.Itoa(int(e.Code)) + "): " + e.Description
}

// Is reports whether target is an *Error with the same Code, so a copy or a
// wrapped value still matches the package-level value.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && e != nil && t != nil && t.Code == e.Code
}

// unknownCodeName is the Name ErrorForCode gives to codes this package does
// not know.
const unknownCodeName = "UNKNOWN_ERROR_CODE"

// ErrorForCode returns the error for a Kafka error code: nil for 0 (NONE),
// the package-level *Error for a known code, and for any other code a new
// *Error with that Code, Name "UNKNOWN_ERROR_CODE" and Retriable false, so
// callers can still see the number a newer broker sent.
func ErrorForCode(code int16) error {
	if code == 0 {
		return nil
	}
	if i := int(code) + 1; i >= 0 && i < len(errorsByCode) && errorsByCode[i] != nil {
		return errorsByCode[i]
	}
	return &Error{
		Code:        code,
		Name:        unknownCodeName,
		Description: "the broker returned an error code this client does not know",
	}
}

// IsRetriable reports whether err is, or wraps, an *Error whose Retriable is
// true. It is false for nil and for errors that are not Kafka error codes.
func IsRetriable(err error) bool {
	var ke *Error
	return errors.As(err, &ke) && ke != nil && ke.Retriable
}

// Kafka error codes -1 and 1 through 136, named after the protocol guide's
// names in CamelCase (with "ID" for "_ID"). Each carries its own description
// and retriability.
var (
	UnknownServerError                     = &Error{-1, "UNKNOWN_SERVER_ERROR", "the server hit an unexpected error while handling the request", false}
	OffsetOutOfRange                       = &Error{1, "OFFSET_OUT_OF_RANGE", "the requested offset is outside the range of offsets the server holds", false}
	CorruptMessage                         = &Error{2, "CORRUPT_MESSAGE", "the message failed its CRC check, has an invalid size, has a null key on a compacted topic, or is otherwise corrupt", true}
	UnknownTopicOrPartition                = &Error{3, "UNKNOWN_TOPIC_OR_PARTITION", "this server does not host the topic-partition", true}
	InvalidFetchSize                       = &Error{4, "INVALID_FETCH_SIZE", "the requested fetch size is not valid", false}
	LeaderNotAvailable                     = &Error{5, "LEADER_NOT_AVAILABLE", "the topic-partition has no leader right now because a leader election is in progress", true}
	NotLeaderOrFollower                    = &Error{6, "NOT_LEADER_OR_FOLLOWER", "the broker is not the partition's leader (for leader-only requests) or not one of its replicas (for replica requests)", true}
	RequestTimedOut                        = &Error{7, "REQUEST_TIMED_OUT", "the request timed out", true}
	BrokerNotAvailable                     = &Error{8, "BROKER_NOT_AVAILABLE", "the broker is not available", false}
	ReplicaNotAvailable                    = &Error{9, "REPLICA_NOT_AVAILABLE", "the replica is not available for the topic-partition; leader or follower requests get NOT_LEADER_OR_FOLLOWER instead", true}
	MessageTooLarge                        = &Error{10, "MESSAGE_TOO_LARGE", "the request contained a message larger than the server's maximum message size", false}
	StaleControllerEpoch                   = &Error{11, "STALE_CONTROLLER_EPOCH", "the controller has moved to another broker", false}
	OffsetMetadataTooLarge                 = &Error{12, "OFFSET_METADATA_TOO_LARGE", "the offset commit's metadata string is too large", false}
	NetworkException                       = &Error{13, "NETWORK_EXCEPTION", "the server closed the connection before sending a response", true}
	CoordinatorLoadInProgress              = &Error{14, "COORDINATOR_LOAD_IN_PROGRESS", "the coordinator is still loading its state and cannot serve requests yet", true}
	CoordinatorNotAvailable                = &Error{15, "COORDINATOR_NOT_AVAILABLE", "the coordinator is not available", true}
	NotCoordinator                         = &Error{16, "NOT_COORDINATOR", "this broker is not the coordinator for the group or transaction", true}
	InvalidTopicException                  = &Error{17, "INVALID_TOPIC_EXCEPTION", "the request tried to act on a topic that is not valid", false}
	RecordListTooLarge                     = &Error{18, "RECORD_LIST_TOO_LARGE", "the request contained a record batch larger than the server's log segment size", false}
	NotEnoughReplicas                      = &Error{19, "NOT_ENOUGH_REPLICAS", "the records were rejected because fewer replicas are in sync than required", true}
	NotEnoughReplicasAfterAppend           = &Error{20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "the records were written to the log, but fewer replicas are in sync than required", true}
	InvalidRequiredAcks                    = &Error{21, "INVALID_REQUIRED_ACKS", "the produce request asked for a value of acks the broker does not accept", false}
	IllegalGeneration                      = &Error{22, "ILLEGAL_GENERATION", "the group generation id is not valid", false}
	InconsistentGroupProtocol              = &Error{23, "INCONSISTENT_GROUP_PROTOCOL", "the member's protocols do not match the group's, or its protocol type or list is empty", false}
	InvalidGroupID                         = &Error{24, "INVALID_GROUP_ID", "the group id is not valid", false}
	UnknownMemberID                        = &Error{25, "UNKNOWN_MEMBER_ID", "the coordinator does not know this member", false}
	InvalidSessionTimeout                  = &Error{26, "INVALID_SESSION_TIMEOUT", "the session timeout is outside the broker's group.min/max.session.timeout.ms range", false}
	RebalanceInProgress                    = &Error{27, "REBALANCE_IN_PROGRESS", "the group is rebalancing, so the member must rejoin", false}
	InvalidCommitOffsetSize                = &Error{28, "INVALID_COMMIT_OFFSET_SIZE", "the size of the offset commit data is not valid", false}
	TopicAuthorizationFailed               = &Error{29, "TOPIC_AUTHORIZATION_FAILED", "the client is not authorized to access the topic", false}
	GroupAuthorizationFailed               = &Error{30, "GROUP_AUTHORIZATION_FAILED", "the client is not authorized to access the group", false}
	ClusterAuthorizationFailed             = &Error{31, "CLUSTER_AUTHORIZATION_FAILED", "the client is not authorized for this cluster operation", false}
	InvalidTimestamp                       = &Error{32, "INVALID_TIMESTAMP", "the message timestamp is outside the accepted range", false}
	UnsupportedSaslMechanism               = &Error{33, "UNSUPPORTED_SASL_MECHANISM", "the broker does not support the requested SASL mechanism", false}
	IllegalSaslState                       = &Error{34, "ILLEGAL_SASL_STATE", "the request is not valid in the current SASL state", false}
	UnsupportedVersion                     = &Error{35, "UNSUPPORTED_VERSION", "the broker does not support this version of the API", false}
	TopicAlreadyExists                     = &Error{36, "TOPIC_ALREADY_EXISTS", "a topic with this name already exists", false}
	InvalidPartitions                      = &Error{37, "INVALID_PARTITIONS", "the number of partitions is below 1", false}
	InvalidReplicationFactor               = &Error{38, "INVALID_REPLICATION_FACTOR", "the replication factor is below 1 or above the number of available brokers", false}
	InvalidReplicaAssignment               = &Error{39, "INVALID_REPLICA_ASSIGNMENT", "the replica assignment is not valid", false}
	InvalidConfig                          = &Error{40, "INVALID_CONFIG", "the configuration is not valid", false}
	NotController                          = &Error{41, "NOT_CONTROLLER", "this broker is not the cluster's controller", true}
	InvalidRequest                         = &Error{42, "INVALID_REQUEST", "the request is malformed or was sent to an incompatible broker; the broker log has details", false}
	UnsupportedForMessageFormat            = &Error{43, "UNSUPPORTED_FOR_MESSAGE_FORMAT", "the broker's message format version does not support the request", false}
	PolicyViolation                        = &Error{44, "POLICY_VIOLATION", "the request parameters break a policy configured on the broker", false}
	OutOfOrderSequenceNumber               = &Error{45, "OUT_OF_ORDER_SEQUENCE_NUMBER", "the broker received a producer sequence number out of order", false}
	DuplicateSequenceNumber                = &Error{46, "DUPLICATE_SEQUENCE_NUMBER", "the broker received a producer sequence number it has already seen", false}
	InvalidProducerEpoch                   = &Error{47, "INVALID_PRODUCER_EPOCH", "the producer used an epoch older than the current one", false}
	InvalidTxnState                        = &Error{48, "INVALID_TXN_STATE", "the producer tried a transactional operation that is not valid in the transaction's state", false}
	InvalidProducerIDMapping               = &Error{49, "INVALID_PRODUCER_ID_MAPPING", "the producer id is not the one currently assigned to the transactional id", false}
	InvalidTransactionTimeout              = &Error{50, "INVALID_TRANSACTION_TIMEOUT", "the transaction timeout exceeds the broker's transaction.max.timeout.ms", false}
	ConcurrentTransactions                 = &Error{51, "CONCURRENT_TRANSACTIONS", "another operation on the same transaction is still in progress", true}
	TransactionCoordinatorFenced           = &Error{52, "TRANSACTION_COORDINATOR_FENCED", "the transaction coordinator sending WriteTxnMarkers is no longer the producer's coordinator", false}
	TransactionalIDAuthorizationFailed     = &Error{53, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", "the client is not authorized to use the transactional id", false}
	SecurityDisabled                       = &Error{54, "SECURITY_DISABLED", "security features are disabled on the broker", false}
	OperationNotAttempted                  = &Error{55, "OPERATION_NOT_ATTEMPTED", "the broker skipped this operation, typically because another one in the same batch failed", false}
	KafkaStorageError                      = &Error{56, "KAFKA_STORAGE_ERROR", "a disk error occurred while accessing the log", true}
	LogDirNotFound                         = &Error{57, "LOG_DIR_NOT_FOUND", "the requested log directory is not in the broker's configuration", false}
	SaslAuthenticationFailed               = &Error{58, "SASL_AUTHENTICATION_FAILED", "SASL authentication failed", false}
	UnknownProducerID                      = &Error{59, "UNKNOWN_PRODUCER_ID", "the broker has no state for this producer id, for example because its records were all removed by retention", false}
	ReassignmentInProgress                 = &Error{60, "REASSIGNMENT_IN_PROGRESS", "a partition reassignment is in progress", false}
	DelegationTokenAuthDisabled            = &Error{61, "DELEGATION_TOKEN_AUTH_DISABLED", "delegation tokens are not enabled", false}
	DelegationTokenNotFound                = &Error{62, "DELEGATION_TOKEN_NOT_FOUND", "the server has no such delegation token", false}
	DelegationTokenOwnerMismatch           = &Error{63, "DELEGATION_TOKEN_OWNER_MISMATCH", "the principal is not a valid owner or renewer of the token", false}
	DelegationTokenRequestNotAllowed       = &Error{64, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", "delegation token requests are not allowed on PLAINTEXT, 1-way SSL or token-authenticated connections", false}
	DelegationTokenAuthorizationFailed     = &Error{65, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", "the client is not authorized for this delegation token operation", false}
	DelegationTokenExpired                 = &Error{66, "DELEGATION_TOKEN_EXPIRED", "the delegation token has expired", false}
	InvalidPrincipalType                   = &Error{67, "INVALID_PRINCIPAL_TYPE", "the principal type is not supported", false}
	NonEmptyGroup                          = &Error{68, "NON_EMPTY_GROUP", "the group still has members", false}
	GroupIDNotFound                        = &Error{69, "GROUP_ID_NOT_FOUND", "no group with this id exists", false}
	FetchSessionIDNotFound                 = &Error{70, "FETCH_SESSION_ID_NOT_FOUND", "the fetch session id was not found", true}
	InvalidFetchSessionEpoch               = &Error{71, "INVALID_FETCH_SESSION_EPOCH", "the fetch session epoch is not valid", true}
	ListenerNotFound                       = &Error{72, "LISTENER_NOT_FOUND", "the leader has no listener matching the one the metadata request came in on", true}
	TopicDeletionDisabled                  = &Error{73, "TOPIC_DELETION_DISABLED", "topic deletion is disabled on the broker", false}
	FencedLeaderEpoch                      = &Error{74, "FENCED_LEADER_EPOCH", "the request's leader epoch is older than the broker's", true}
	UnknownLeaderEpoch                     = &Error{75, "UNKNOWN_LEADER_EPOCH", "the request's leader epoch is newer than the broker's", true}
	UnsupportedCompressionType             = &Error{76, "UNSUPPORTED_COMPRESSION_TYPE", "the client cannot handle the partition's compression type", false}
	StaleBrokerEpoch                       = &Error{77, "STALE_BROKER_EPOCH", "the broker epoch has changed", false}
	OffsetNotAvailable                     = &Error{78, "OFFSET_NOT_AVAILABLE", "the new leader's high watermark has not caught up yet, so offsets could go backwards", true}
	MemberIDRequired                       = &Error{79, "MEMBER_ID_REQUIRED", "the member must obtain a valid member id before joining the group", false}
	PreferredLeaderNotAvailable            = &Error{80, "PREFERRED_LEADER_NOT_AVAILABLE", "the preferred leader is not available", true}
	GroupMaxSizeReached                    = &Error{81, "GROUP_MAX_SIZE_REACHED", "the group already has its maximum number of members", false}
	FencedInstanceID                       = &Error{82, "FENCED_INSTANCE_ID", "another member with the same group.instance.id but a different member.id fenced this static member", false}
	EligibleLeadersNotAvailable            = &Error{83, "ELIGIBLE_LEADERS_NOT_AVAILABLE", "no eligible leader is available for the partition", true}
	ElectionNotNeeded                      = &Error{84, "ELECTION_NOT_NEEDED", "the partition does not need a leader election", true}
	NoReassignmentInProgress               = &Error{85, "NO_REASSIGNMENT_IN_PROGRESS", "there is no partition reassignment in progress", false}
	GroupSubscribedToTopic                 = &Error{86, "GROUP_SUBSCRIBED_TO_TOPIC", "offsets of a topic cannot be deleted while the group is subscribed to it", false}
	InvalidRecord                          = &Error{87, "INVALID_RECORD", "the broker rejected the record because it failed validation", false}
	UnstableOffsetCommit                   = &Error{88, "UNSTABLE_OFFSET_COMMIT", "pending transactional offsets must be resolved first", true}
	ThrottlingQuotaExceeded                = &Error{89, "THROTTLING_QUOTA_EXCEEDED", "the throttling quota was exceeded", true}
	ProducerFenced                         = &Error{90, "PRODUCER_FENCED", "a newer producer with the same transactional id has fenced this one", false}
	ResourceNotFound                       = &Error{91, "RESOURCE_NOT_FOUND", "the request names a resource that does not exist", false}
	DuplicateResource                      = &Error{92, "DUPLICATE_RESOURCE", "the request names the same resource twice", false}
	UnacceptableCredential                 = &Error{93, "UNACCEPTABLE_CREDENTIAL", "the requested credential does not meet the acceptance criteria", false}
	InconsistentVoterSet                   = &Error{94, "INCONSISTENT_VOTER_SET", "the sender or receiver of a voter-only request is not an expected voter", false}
	InvalidUpdateVersion                   = &Error{95, "INVALID_UPDATE_VERSION", "the update version is not valid", false}
	FeatureUpdateFailed                    = &Error{96, "FEATURE_UPDATE_FAILED", "an unexpected server error prevented updating the finalized features", false}
	PrincipalDeserializationFailure        = &Error{97, "PRINCIPAL_DESERIALIZATION_FAILURE", "the forwarded request's principal could not be deserialized, pointing to a broker security setup problem", false}
	SnapshotNotFound                       = &Error{98, "SNAPSHOT_NOT_FOUND", "the requested snapshot does not exist", false}
	PositionOutOfRange                     = &Error{99, "POSITION_OUT_OF_RANGE", "the requested position is negative or past the end of the snapshot", false}
	UnknownTopicID                         = &Error{100, "UNKNOWN_TOPIC_ID", "this server does not host a topic with this topic ID", true}
	DuplicateBrokerRegistration            = &Error{101, "DUPLICATE_BROKER_REGISTRATION", "the broker ID is already in use", false}
	BrokerIDNotRegistered                  = &Error{102, "BROKER_ID_NOT_REGISTERED", "the broker ID is not registered", false}
	InconsistentTopicID                    = &Error{103, "INCONSISTENT_TOPIC_ID", "the request's topic ID does not match the log's topic ID", true}
	InconsistentClusterID                  = &Error{104, "INCONSISTENT_CLUSTER_ID", "the request's cluster ID does not match the server's", false}
	TransactionalIDNotFound                = &Error{105, "TRANSACTIONAL_ID_NOT_FOUND", "the transactional id does not exist", false}
	FetchSessionTopicIDError               = &Error{106, "FETCH_SESSION_TOPIC_ID_ERROR", "the fetch session used topic IDs inconsistently", true}
	IneligibleReplica                      = &Error{107, "INELIGIBLE_REPLICA", "the proposed ISR contains a replica that is not eligible", false}
	NewLeaderElected                       = &Error{108, "NEW_LEADER_ELECTED", "the AlterPartition request updated the partition, but its leader has since changed", false}
	OffsetMovedToTieredStorage             = &Error{109, "OFFSET_MOVED_TO_TIERED_STORAGE", "the requested offset now lives in tiered storage", false}
	FencedMemberEpoch                      = &Error{110, "FENCED_MEMBER_EPOCH", "the group coordinator fenced the member epoch; the member must drop its partitions and rejoin", false}
	UnreleasedInstanceID                   = &Error{111, "UNRELEASED_INSTANCE_ID", "another group member still holds this instance ID and must leave first", false}
	UnsupportedAssignor                    = &Error{112, "UNSUPPORTED_ASSIGNOR", "the group does not support the assignor or its version range", false}
	StaleMemberEpoch                       = &Error{113, "STALE_MEMBER_EPOCH", "the member epoch is stale; retry after a ConsumerGroupHeartbeat returns the current epoch", false}
	MismatchedEndpointType                 = &Error{114, "MISMATCHED_ENDPOINT_TYPE", "the request went to the wrong type of endpoint", false}
	UnsupportedEndpointType                = &Error{115, "UNSUPPORTED_ENDPOINT_TYPE", "this endpoint type is not supported yet", false}
	UnknownControllerID                    = &Error{116, "UNKNOWN_CONTROLLER_ID", "the controller ID is not known", false}
	UnknownSubscriptionID                  = &Error{117, "UNKNOWN_SUBSCRIPTION_ID", "the telemetry push used an unknown or outdated subscription ID", false}
	TelemetryTooLarge                      = &Error{118, "TELEMETRY_TOO_LARGE", "the telemetry push is larger than the broker accepts", false}
	InvalidRegistration                    = &Error{119, "INVALID_REGISTRATION", "the controller found the broker registration not valid", false}
	TransactionAbortable                   = &Error{120, "TRANSACTION_ABORTABLE", "the transaction hit a server error; abort it to keep using the transactional id", false}
	InvalidRecordState                     = &Error{121, "INVALID_RECORD_STATE", "the record's state does not allow completing the delivery acknowledgement", false}
	ShareSessionNotFound                   = &Error{122, "SHARE_SESSION_NOT_FOUND", "the share session was not found", true}
	InvalidShareSessionEpoch               = &Error{123, "INVALID_SHARE_SESSION_EPOCH", "the share session epoch is not valid", true}
	FencedStateEpoch                       = &Error{124, "FENCED_STATE_EPOCH", "the share coordinator rejected the request because the share-group state epoch did not match", false}
	InvalidVoterKey                        = &Error{125, "INVALID_VOTER_KEY", "the voter key does not match the receiving replica's key", false}
	DuplicateVoter                         = &Error{126, "DUPLICATE_VOTER", "the voter is already in the voter set", false}
	VoterNotFound                          = &Error{127, "VOTER_NOT_FOUND", "the voter is not in the voter set", false}
	InvalidRegularExpression               = &Error{128, "INVALID_REGULAR_EXPRESSION", "the regular expression is not valid", false}
	RebootstrapRequired                    = &Error{129, "REBOOTSTRAP_REQUIRED", "the client's metadata is stale and it should rebootstrap to get fresh metadata", false}
	StreamsInvalidTopology                 = &Error{130, "STREAMS_INVALID_TOPOLOGY", "the supplied streams topology is not valid", false}
	StreamsInvalidTopologyEpoch            = &Error{131, "STREAMS_INVALID_TOPOLOGY_EPOCH", "the supplied streams topology epoch is not valid", false}
	StreamsTopologyFenced                  = &Error{132, "STREAMS_TOPOLOGY_FENCED", "the supplied streams topology epoch is out of date", false}
	ShareSessionLimitReached               = &Error{133, "SHARE_SESSION_LIMIT_REACHED", "no new share session can be opened because the limit has been reached", true}
	GroupDeletionFailed                    = &Error{134, "GROUP_DELETION_FAILED", "the group could not be deleted; the per-group error message says why", false}
	StreamsTopologyDescriptionUpdateFailed = &Error{135, "STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED", "the broker could not process the streams topology description update; the error message says why", false}
	ControllerIDNotRegistered              = &Error{136, "CONTROLLER_ID_NOT_REGISTERED", "the controller ID is not registered", false}
)

// maxErrorCode is the highest code that has a package-level variable.
const maxErrorCode = 136

// allErrors lists every package-level *Error in code order.
var allErrors = []*Error{
	UnknownServerError, OffsetOutOfRange, CorruptMessage, UnknownTopicOrPartition,
	InvalidFetchSize, LeaderNotAvailable, NotLeaderOrFollower, RequestTimedOut,
	BrokerNotAvailable, ReplicaNotAvailable, MessageTooLarge, StaleControllerEpoch,
	OffsetMetadataTooLarge, NetworkException, CoordinatorLoadInProgress,
	CoordinatorNotAvailable, NotCoordinator, InvalidTopicException, RecordListTooLarge,
	NotEnoughReplicas, NotEnoughReplicasAfterAppend, InvalidRequiredAcks,
	IllegalGeneration, InconsistentGroupProtocol, InvalidGroupID, UnknownMemberID,
	InvalidSessionTimeout, RebalanceInProgress, InvalidCommitOffsetSize,
	TopicAuthorizationFailed, GroupAuthorizationFailed, ClusterAuthorizationFailed,
	InvalidTimestamp, UnsupportedSaslMechanism, IllegalSaslState, UnsupportedVersion,
	TopicAlreadyExists, InvalidPartitions, InvalidReplicationFactor,
	InvalidReplicaAssignment, InvalidConfig, NotController, InvalidRequest,
	UnsupportedForMessageFormat, PolicyViolation, OutOfOrderSequenceNumber,
	DuplicateSequenceNumber, InvalidProducerEpoch, InvalidTxnState,
	InvalidProducerIDMapping, InvalidTransactionTimeout, ConcurrentTransactions,
	TransactionCoordinatorFenced, TransactionalIDAuthorizationFailed, SecurityDisabled,
	OperationNotAttempted, KafkaStorageError, LogDirNotFound, SaslAuthenticationFailed,
	UnknownProducerID, ReassignmentInProgress, DelegationTokenAuthDisabled,
	DelegationTokenNotFound, DelegationTokenOwnerMismatch,
	DelegationTokenRequestNotAllowed, DelegationTokenAuthorizationFailed,
	DelegationTokenExpired, InvalidPrincipalType, NonEmptyGroup, GroupIDNotFound,
	FetchSessionIDNotFound, InvalidFetchSessionEpoch, ListenerNotFound,
	TopicDeletionDisabled, FencedLeaderEpoch, UnknownLeaderEpoch,
	UnsupportedCompressionType, StaleBrokerEpoch, OffsetNotAvailable, MemberIDRequired,
	PreferredLeaderNotAvailable, GroupMaxSizeReached, FencedInstanceID,
	EligibleLeadersNotAvailable, ElectionNotNeeded, NoReassignmentInProgress,
	GroupSubscribedToTopic, InvalidRecord, UnstableOffsetCommit,
	ThrottlingQuotaExceeded, ProducerFenced, ResourceNotFound, DuplicateResource,
	UnacceptableCredential, InconsistentVoterSet, InvalidUpdateVersion,
	FeatureUpdateFailed, PrincipalDeserializationFailure, SnapshotNotFound,
	PositionOutOfRange, UnknownTopicID, DuplicateBrokerRegistration,
	BrokerIDNotRegistered, InconsistentTopicID, InconsistentClusterID,
	TransactionalIDNotFound, FetchSessionTopicIDError, IneligibleReplica,
	NewLeaderElected, OffsetMovedToTieredStorage, FencedMemberEpoch,
	UnreleasedInstanceID, UnsupportedAssignor, StaleMemberEpoch,
	MismatchedEndpointType, UnsupportedEndpointType, UnknownControllerID,
	UnknownSubscriptionID, TelemetryTooLarge, InvalidRegistration,
	TransactionAbortable, InvalidRecordState, ShareSessionNotFound,
	InvalidShareSessionEpoch, FencedStateEpoch, InvalidVoterKey, DuplicateVoter,
	VoterNotFound, InvalidRegularExpression, RebootstrapRequired,
	StreamsInvalidTopology, StreamsInvalidTopologyEpoch, StreamsTopologyFenced,
	ShareSessionLimitReached, GroupDeletionFailed,
	StreamsTopologyDescriptionUpdateFailed, ControllerIDNotRegistered,
}

// errorsByCode[code+1] is the *Error for code; index 1 (code 0, NONE) is nil.
var errorsByCode = func() []*Error {
	t := make([]*Error, maxErrorCode+2)
	for _, e := range allErrors {
		i := int(e.Code) + 1
		if e.Code == 0 || i < 0 || i >= len(t) || t[i] != nil {
			panic("protocol: bad or duplicate error code " + e.Error())
		}
		t[i] = e
	}
	return t
}()
