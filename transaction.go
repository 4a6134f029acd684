package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kpgo/kafka/protocol"
)

// Transactions (KIP-98), kafka-python's init_transactions,
// begin_transaction, send_offsets_to_transaction, commit_transaction and
// abort_transaction.
//
// The transaction coordinator is reached over connections of the
// transaction manager's own, so the calls below block their caller and
// never the sender. The sender adds each partition to the transaction
// (AddPartitionsToTxn) before it writes the partition's first batch of
// the transaction.

var (
	// ErrTransactionState fails a transactional call made in the wrong
	// order (BeginTransaction before InitTransactions, Send outside a
	// transaction, CommitTransaction with none open, ...), and calls on a
	// producer without transactional_id.
	ErrTransactionState = errors.New("kafka: invalid transaction state")
	// ErrTransactionAbortable is returned by CommitTransaction (and Send)
	// when a record of the transaction failed: the transaction can only
	// be aborted. The cause is wrapped with it.
	ErrTransactionAbortable = errors.New("kafka: the transaction failed and must be aborted")
	// ErrTransactionAborted fails the records still buffered when
	// AbortTransaction ran.
	ErrTransactionAborted = errors.New("kafka: transaction aborted")
)

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// OffsetAndMetadata is a consumer offset to commit with a transaction:
// the offset of the next record to consume, optional metadata, and the
// leader epoch of the last consumed record (-1 when unknown, KIP-320).
type OffsetAndMetadata struct {
	Offset      int64
	Metadata    string
	LeaderEpoch int32
}

const (
	txnUninitialized int32 = iota
	txnReady
	txnInTransaction
	txnCommitting
	txnAborting
	txnAbortable
	txnFatal
)

var txnStateNames = [...]string{"uninitialized", "ready", "in transaction", "committing", "aborting", "abortable error", "fatal error"}

type txnManager struct {
	id  string
	cfg *config
	p   *Producer

	opMu  sync.Mutex // one transactional call at a time
	state atomic.Int32
	// gen numbers transactions; a partition is added to a transaction
	// once per generation.
	gen atomic.Uint64
	// started is set once a partition or offsets joined the current
	// transaction, so the broker has something to end.
	started atomic.Bool
	// gate orders Sends with the end of a transaction: a Send holds it
	// shared from its state check until its record is buffered, and
	// CommitTransaction and AbortTransaction take it to change the
	// state. So a record is either in the transaction they end, whose
	// flush waits for it, or refused; none slips into the gap between.
	gate sync.RWMutex
	// startedAt is when started was set (Unix nanoseconds): the
	// coordinator times the transaction from its first partition.
	startedAt atomic.Int64
	// failure is the first error that doomed the current transaction.
	failure atomic.Pointer[error]
	// needBump is set when sequences broke: the epoch is bumped after
	// the abort (KIP-360).
	needBump atomic.Bool
	// adds counts AddPartitionsToTxn calls in progress: an abort waits
	// for them, lest one reach the coordinator after EndTxn and open a
	// transaction nobody ends.
	adds sync.WaitGroup

	pid   int64 // under opMu
	epoch int16

	// The manager's connections, all closed by close; after it, none is
	// opened and every call fails with ErrProducerClosed, so nothing of
	// the manager outlives Close.
	connMu sync.Mutex
	anyc   *conn              // any broker, for FindCoordinator
	coord  *conn              // the transaction coordinator
	groups map[*conn]struct{} // findCoordinator's, until coordinator keeps it or release closes it
	closed bool
	done   chan struct{} // closed by close
}

func newTxnManager(p *Producer) *txnManager {
	return &txnManager{id: p.cfg.transactionalID, cfg: &p.cfg, p: p, pid: -1, epoch: -1,
		groups: map[*conn]struct{}{}, done: make(chan struct{})}
}

func (tm *txnManager) stateErr(call string) error {
	return fmt.Errorf("%w: %s is not allowed while the producer is %s", ErrTransactionState, call, txnStateNames[tm.state.Load()])
}

// checkSend is Send's check: records go only inside a transaction.
func (tm *txnManager) checkSend() error {
	switch tm.state.Load() {
	case txnInTransaction:
		return nil
	case txnAbortable:
		if e := tm.failure.Load(); e != nil {
			return fmt.Errorf("%w: %w", ErrTransactionAbortable, *e)
		}
		return ErrTransactionAbortable
	case txnFatal:
		if e := tm.p.fatal.Load(); e != nil {
			return *e
		}
	}
	return fmt.Errorf("%w: Send needs an open transaction (BeginTransaction); the producer is %s", ErrTransactionState, txnStateNames[tm.state.Load()])
}

// enterSend checks, for a Send about to buffer its record, that a
// transaction is open, and keeps it open until exitSend. A Send from a
// callback does not wait for a commit or abort that is starting: the
// record it would wait behind may need this goroutine to complete.
func (tm *txnManager) enterSend() error {
	if !tm.gate.TryRLock() {
		if tm.p.inCallback() {
			return fmt.Errorf("%w: a commit or abort is starting", ErrTransactionState)
		}
		tm.gate.RLock()
	}
	if tm.state.Load() != txnInTransaction {
		tm.gate.RUnlock()
		if err := tm.checkSend(); err != nil {
			return err
		}
		return tm.stateErr("Send")
	}
	return nil
}

func (tm *txnManager) exitSend() { tm.gate.RUnlock() }

// fail dooms the current transaction with err, the first error wins.
func (tm *txnManager) fail(err error) {
	if errors.Is(err, ErrTransactionAborted) {
		return
	}
	tm.failure.CompareAndSwap(nil, &err)
	tm.state.CompareAndSwap(txnInTransaction, txnAbortable)
}

// fatal stops the producer for good (fenced, not authorized).
func (tm *txnManager) fatal(err error) error {
	tm.state.Store(txnFatal)
	tm.p.fatal.CompareAndSwap(nil, &err)
	tm.p.sender.events.push(fatalEvent{err: err})
	return err
}

// markStarted records that the current transaction has a partition or
// offsets, and when that first happened.
func (tm *txnManager) markStarted() {
	if tm.started.CompareAndSwap(false, true) {
		tm.startedAt.Store(time.Now().UnixNano())
	}
}

// fencedErr gives an epoch error the ProducerFenced code, as the Java
// client reports it for a transactional producer, and names the likelier
// of its two causes. The coordinator fences a producer whose transaction
// outlived transaction_timeout_ms as it fences one a newer producer with
// the same transactional id replaced: it aborts the transaction and bumps
// the epoch. Before transactions V2 (KIP-890) neither can be recovered
// from, for the coordinator no longer accepts the old epoch.
func (tm *txnManager) fencedErr(err error) error {
	if !errors.Is(err, protocol.ProducerFenced) && !errors.Is(err, protocol.InvalidProducerEpoch) {
		return err
	}
	why := "another producer with the same transactional_id started"
	if tm.started.Load() {
		if open := time.Since(time.Unix(0, tm.startedAt.Load())); open >= tm.cfg.transactionTimeout {
			why = fmt.Sprintf("the transaction was open for %v, longer than transaction_timeout_ms (%v): the coordinator aborted it, or %s",
				open.Round(time.Millisecond), tm.cfg.transactionTimeout, why)
		}
	}
	if errors.Is(err, protocol.ProducerFenced) {
		return fmt.Errorf("%w (%s)", err, why)
	}
	return fmt.Errorf("%w (%s): %w", protocol.ProducerFenced, why, err)
}

// isTxnFatal reports the errors after which a transactional producer
// cannot go on: it was fenced, or is not allowed to use its id.
func isTxnFatal(err error) bool {
	return errors.Is(err, protocol.ProducerFenced) || errors.Is(err, protocol.InvalidProducerEpoch) ||
		errors.Is(err, protocol.TransactionalIDAuthorizationFailed) || errors.Is(err, protocol.ClusterAuthorizationFailed) ||
		errors.Is(err, protocol.UnsupportedVersion)
}

// InitTransactions registers the producer's transactional_id with its
// coordinator, fencing any earlier producer with the same id and
// finishing its open transaction (kafka-python's init_transactions). It
// must be called once before the first BeginTransaction; it waits up to
// max_block_ms or ctx.
func (p *Producer) InitTransactions(ctx context.Context) error {
	tm, err := p.txnOrErr("InitTransactions")
	if err != nil {
		return err
	}
	tm.opMu.Lock()
	defer tm.opMu.Unlock()
	switch tm.state.Load() {
	case txnReady:
		return nil
	case txnUninitialized:
	default:
		return tm.stateErr("InitTransactions")
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.maxBlock)
	defer cancel()
	if err := tm.initProducerID(ctx, -1, -1); err != nil {
		return err
	}
	tm.state.Store(txnReady)
	return nil
}

// initProducerID asks the coordinator for the producer id and epoch of the
// transactional id, bumping pid/epoch when given (KIP-360, InitProducerId
// v3+), and hands them to the sender.
func (tm *txnManager) initProducerID(ctx context.Context, pid int64, epoch int16) error {
	var resp protocol.InitProducerIdResponse
	id := tm.id
	err := tm.callCoordinator(ctx, "InitProducerId", protocol.APIKeyInitProducerId, 5, func(v int16) []byte {
		req := protocol.InitProducerIdRequest{TransactionalId: &id, TransactionTimeoutMs: int32(tm.cfg.transactionTimeout / time.Millisecond), ProducerId: -1, ProducerEpoch: -1}
		if v >= 3 {
			req.ProducerId, req.ProducerEpoch = pid, epoch
		}
		return req.AppendTo(nil, v)
	}, decodeWithCode(&resp, &resp.ErrorCode))
	if err != nil {
		if isTxnFatal(err) {
			return tm.fatal(tm.fencedErr(err))
		}
		return err
	}
	tm.pid, tm.epoch = resp.ProducerId, resp.ProducerEpoch
	tm.cfg.logger.Info("kafka: transactional producer initialised", "transactional_id", tm.id, "producer_id", tm.pid, "epoch", tm.epoch)
	ack := make(chan struct{})
	tm.p.sender.events.push(txnProducerIDEvent{pid: tm.pid, epoch: tm.epoch, ack: ack})
	select {
	case <-ack:
		return nil
	case <-tm.p.sender.done:
		return ErrProducerClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// BeginTransaction opens a transaction (kafka-python's
// begin_transaction): records sent from now on are committed or aborted
// together.
func (p *Producer) BeginTransaction() error {
	tm, err := p.txnOrErr("BeginTransaction")
	if err != nil {
		return err
	}
	tm.opMu.Lock()
	defer tm.opMu.Unlock()
	if tm.state.Load() != txnReady {
		return tm.stateErr("BeginTransaction")
	}
	tm.gen.Add(1)
	tm.started.Store(false)
	tm.failure.Store(nil)
	tm.state.Store(txnInTransaction)
	return nil
}

// ConsumerGroupMetadata is the consumer whose offsets a transaction
// commits, as its group knows it: the Java client's ConsumerGroupMetadata.
// With it the group coordinator refuses offsets from a consumer that has
// left the group or lost its partitions since (KIP-447), so a zombie's
// transaction cannot commit them. A consumer client reports these after
// joining (franz-go's GroupMetadata, for example).
type ConsumerGroupMetadata struct {
	GroupID string
	// GenerationID is the group generation the consumer joined; -1, with
	// an empty MemberID, asks for no check.
	GenerationID int32
	MemberID     string
	// GroupInstanceID is the consumer's static membership id (KIP-345),
	// "" for none.
	GroupInstanceID string
}

// SendOffsetsToTransaction commits consumer offsets as part of the open
// transaction (kafka-python's send_offsets_to_transaction), for
// consume-transform-produce pipelines: the offsets count only if the
// transaction commits. The group coordinator checks only the group id;
// SendOffsetsToTransactionWithGroup also fences consumers that left it.
func (p *Producer) SendOffsetsToTransaction(ctx context.Context, offsets map[TopicPartition]OffsetAndMetadata, groupID string) error {
	return p.SendOffsetsToTransactionWithGroup(ctx, offsets, ConsumerGroupMetadata{GroupID: groupID, GenerationID: -1})
}

// SendOffsetsToTransactionWithGroup is SendOffsetsToTransaction with the
// consumer's group membership (KIP-447; Kafka 2.5 or later). If the
// consumer is no longer that member of that generation, it fails with an
// error matching kafka.IllegalGeneration, UnknownMemberID or
// FencedInstanceID, and ErrTransactionAbortable: the transaction must be
// aborted and the records consumed again by the group's current member.
func (p *Producer) SendOffsetsToTransactionWithGroup(ctx context.Context, offsets map[TopicPartition]OffsetAndMetadata, group ConsumerGroupMetadata) error {
	tm, err := p.txnOrErr("SendOffsetsToTransaction")
	if err != nil {
		return err
	}
	tm.opMu.Lock()
	defer tm.opMu.Unlock()
	if err := tm.checkSend(); err != nil {
		return err
	}
	groupID := group.GroupID
	if groupID == "" {
		return fmt.Errorf("%w: SendOffsetsToTransaction needs a consumer group id", ErrInvalidConfig)
	}
	checked := group.GenerationID >= 0 || group.MemberID != "" || group.GroupInstanceID != ""
	ctx, cancel := context.WithTimeout(ctx, p.cfg.maxBlock)
	defer cancel()
	var added protocol.AddOffsetsToTxnResponse
	err = tm.callCoordinator(ctx, "AddOffsetsToTxn", protocol.APIKeyAddOffsetsToTxn, 4, func(v int16) []byte {
		req := protocol.AddOffsetsToTxnRequest{TransactionalId: tm.id, ProducerId: tm.pid, ProducerEpoch: tm.epoch, GroupId: groupID}
		return req.AppendTo(nil, v)
	}, decodeWithCode(&added, &added.ErrorCode))
	if err != nil {
		return tm.opFailed(err)
	}
	tm.markStarted()

	// TxnOffsetCommit goes to the group's coordinator; partitions that
	// fail with a retriable error are sent again.
	left := make(map[TopicPartition]OffsetAndMetadata, len(offsets))
	for tp, om := range offsets {
		left[tp] = om
	}
	var unsupported error
	err = tm.retry(ctx, "TxnOffsetCommit", func(ctx context.Context) error {
		c, err := tm.findCoordinator(ctx, groupID, 0)
		if err != nil {
			return err
		}
		defer tm.release(c)
		if v, ok := c.version(protocol.APIKeyTxnOffsetCommit, 3); ok && v < 3 && checked {
			// Sending the offsets without the membership would drop
			// the fencing the caller asked for.
			unsupported = fmt.Errorf("%w: broker %s speaks TxnOffsetCommit v%d; the consumer group's membership needs v3 (Kafka 2.5)", protocol.UnsupportedVersion, c.addr, v)
			return unsupported
		}
		return tm.call(ctx, c, protocol.APIKeyTxnOffsetCommit, 3, func(v int16) []byte {
			req := protocol.TxnOffsetCommitRequest{TransactionalId: tm.id, GroupId: groupID, ProducerId: tm.pid, ProducerEpoch: tm.epoch,
				GenerationId: group.GenerationID, MemberId: group.MemberID}
			if group.GroupInstanceID != "" {
				req.GroupInstanceId = &group.GroupInstanceID
			}
			byTopic := map[string]int{}
			for tp, om := range left {
				i, ok := byTopic[tp.Topic]
				if !ok {
					i = len(req.Topics)
					byTopic[tp.Topic] = i
					req.Topics = append(req.Topics, protocol.TxnOffsetCommitRequestTopic{Name: tp.Topic})
				}
				md := om.Metadata
				req.Topics[i].Partitions = append(req.Topics[i].Partitions, protocol.TxnOffsetCommitRequestPartition{
					PartitionIndex: tp.Partition, CommittedOffset: om.Offset, CommittedLeaderEpoch: om.LeaderEpoch, CommittedMetadata: &md,
				})
			}
			return req.AppendTo(nil, v)
		}, func(body []byte, v int16) error {
			var resp protocol.TxnOffsetCommitResponse
			if err := resp.Decode(body, v); err != nil {
				return err
			}
			var first error
			for _, t := range resp.Topics {
				for _, pr := range t.Partitions {
					tp := TopicPartition{t.Name, pr.PartitionIndex}
					if e := protocol.ErrorForCode(pr.ErrorCode); e != nil {
						if first == nil || !protocol.IsRetriable(e) {
							first = fmt.Errorf("%s-%d: %w", tp.Topic, tp.Partition, e)
						}
						continue
					}
					delete(left, tp)
				}
			}
			return first
		})
	})
	if err != nil {
		if unsupported != nil && errors.Is(err, unsupported) {
			// No offsets were sent: the transaction goes on, and the
			// caller may send them without the membership.
			return err
		}
		return tm.opFailed(err)
	}
	return nil
}

// opFailed classifies the error of a call inside a transaction: fencing
// is fatal, anything else dooms the transaction.
func (tm *txnManager) opFailed(err error) error {
	if isTxnFatal(err) {
		return tm.fatal(tm.fencedErr(err))
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	tm.fail(err)
	return fmt.Errorf("%w: %w", ErrTransactionAbortable, err)
}

// CommitTransaction sends every buffered record of the transaction, waits
// for them, and commits the transaction (kafka-python's
// commit_transaction). If a record failed, it returns an error matching
// ErrTransactionAbortable and the transaction must be aborted. If ctx
// ends first, the transaction stays open and CommitTransaction may be
// called again.
func (p *Producer) CommitTransaction(ctx context.Context) error {
	tm, err := p.txnOrErr("CommitTransaction")
	if err != nil {
		return err
	}
	tm.opMu.Lock()
	defer tm.opMu.Unlock()
	// A commit whose context ended while EndTxn was out left the state
	// committing (below): only this retry may follow, as in Java.
	tm.gate.Lock()
	committing := tm.state.Load() == txnCommitting || tm.state.CompareAndSwap(txnInTransaction, txnCommitting)
	tm.gate.Unlock()
	if !committing {
		if err := tm.checkSend(); err != nil {
			return err
		}
		return tm.stateErr("CommitTransaction")
	}
	if err := p.Flush(ctx); err != nil {
		tm.state.CompareAndSwap(txnCommitting, txnInTransaction)
		return err
	}
	if e := tm.failure.Load(); e != nil {
		if !tm.state.CompareAndSwap(txnCommitting, txnAbortable) {
			// A fatal error (fencing) came while the records were
			// flushed: it stands, and no abort can follow.
			return tm.checkSend()
		}
		return fmt.Errorf("%w: %w", ErrTransactionAbortable, *e)
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.maxBlock)
	defer cancel()
	if err := tm.endTxn(ctx, true); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			// EndTxn may have reached the coordinator, which then
			// commits: records sent now would join no transaction.
			// The state stays committing until a retried commit.
			return err
		}
		if tm.state.Load() == txnCommitting {
			tm.state.Store(txnInTransaction)
		}
		return err
	}
	tm.state.Store(txnReady)
	return nil
}

// AbortTransaction drops the records still buffered (their futures fail
// with ErrTransactionAborted), waits for those already sent, and aborts
// the transaction so consumers reading committed data never see its
// records (kafka-python's abort_transaction).
func (p *Producer) AbortTransaction(ctx context.Context) error {
	tm, err := p.txnOrErr("AbortTransaction")
	if err != nil {
		return err
	}
	tm.opMu.Lock()
	defer tm.opMu.Unlock()
	tm.gate.Lock()
	st := tm.state.Load()
	if st == txnInTransaction || st == txnAbortable || st == txnAborting {
		tm.state.Store(txnAborting)
	}
	tm.gate.Unlock()
	switch st {
	case txnInTransaction, txnAbortable, txnAborting:
	case txnFatal:
		return tm.checkSend()
	default:
		return tm.stateErr("AbortTransaction")
	}
	ack := make(chan struct{})
	p.sender.events.push(txnAbortEvent{ack: ack})
	p.sender.wake()
	select {
	case <-ack:
	case <-p.sender.done:
		return ErrProducerClosed
	case <-ctx.Done():
		// The state stays aborting: AbortTransaction may be called
		// again, and the sender drops the records meanwhile.
		return ctx.Err()
	}
	added := make(chan struct{})
	go func() { tm.adds.Wait(); close(added) }()
	select {
	case <-added:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := p.Flush(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.maxBlock)
	defer cancel()
	if err := tm.endTxn(ctx, false); err != nil {
		return err
	}
	if tm.needBump.Load() {
		// A record failed after it was sent, so the broker's sequence
		// for its partition has a gap: a new epoch starts the sequences
		// again (KIP-360).
		if err := tm.initProducerID(ctx, tm.pid, tm.epoch); err != nil {
			return err
		}
		tm.needBump.Store(false)
	}
	tm.failure.Store(nil)
	tm.state.Store(txnReady)
	return nil
}

// abortOnClose aborts a transaction a graceful Close finds open, as the
// Java sender does at shutdown: left open, it would hold read_committed
// consumers of its partitions back until transaction_timeout_ms. Its
// records are all answered by then. A commit or abort under way is left
// to finish, and a failure is only logged, for Close goes on regardless.
func (tm *txnManager) abortOnClose(ctx context.Context) {
	if !tm.opMu.TryLock() {
		return
	}
	defer tm.opMu.Unlock()
	// An abort whose context ended left the state aborting: Close
	// finishes it. A commit in the same case is left alone, for the
	// coordinator may be committing it.
	tm.gate.Lock()
	st := tm.state.Load()
	open := st == txnInTransaction || st == txnAbortable || st == txnAborting
	if open {
		tm.state.Store(txnAborting)
	}
	tm.gate.Unlock()
	if !open {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, tm.cfg.maxBlock)
	defer cancel()
	if err := tm.endTxn(ctx, false); err != nil {
		tm.cfg.logger.Warn("kafka: the transaction left open at Close could not be aborted", "transactional_id", tm.id, "err", err)
		return
	}
	tm.cfg.logger.Info("kafka: aborted the transaction left open at Close", "transactional_id", tm.id)
	tm.state.Store(txnReady)
}

// endTxn ends the transaction at the coordinator, if it has begun there.
func (tm *txnManager) endTxn(ctx context.Context, commit bool) error {
	if !tm.started.Load() {
		return nil
	}
	// EndTxn v5 would start transaction version 2 (KIP-890), where
	// partitions join implicitly; this producer adds them itself.
	var ended protocol.EndTxnResponse
	err := tm.callCoordinator(ctx, "EndTxn", protocol.APIKeyEndTxn, 4, func(v int16) []byte {
		req := protocol.EndTxnRequest{TransactionalId: tm.id, ProducerId: tm.pid, ProducerEpoch: tm.epoch, Committed: commit}
		return req.AppendTo(nil, v)
	}, decodeWithCode(&ended, &ended.ErrorCode))
	if err != nil {
		if isTxnFatal(err) {
			return tm.fatal(tm.fencedErr(err))
		}
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !commit {
			return tm.fatal(fmt.Errorf("aborting the transaction: %w", err))
		}
		return err
	}
	tm.started.Store(false)
	return nil
}

// addPartitions adds partitions to the current transaction; the sender
// calls it (from a goroutine of its own) before their first batch.
func (tm *txnManager) addPartitions(ctx context.Context, parts []*partition) error {
	err := tm.callCoordinator(ctx, "AddPartitionsToTxn", protocol.APIKeyAddPartitionsToTxn, 3, func(v int16) []byte {
		req := protocol.AddPartitionsToTxnRequest{V3AndBelowTransactionalId: tm.id, V3AndBelowProducerId: tm.pid, V3AndBelowProducerEpoch: tm.epoch}
		byTopic := map[string]int{}
		for _, p := range parts {
			i, ok := byTopic[p.topic.name]
			if !ok {
				i = len(req.V3AndBelowTopics)
				byTopic[p.topic.name] = i
				req.V3AndBelowTopics = append(req.V3AndBelowTopics, protocol.AddPartitionsToTxnTopic{Name: p.topic.name})
			}
			req.V3AndBelowTopics[i].Partitions = append(req.V3AndBelowTopics[i].Partitions, p.id)
		}
		return req.AppendTo(nil, v)
	}, func(body []byte, v int16) error {
		var resp protocol.AddPartitionsToTxnResponse
		if err := resp.Decode(body, v); err != nil {
			return err
		}
		if err := protocol.ErrorForCode(resp.ErrorCode); err != nil {
			return err
		}
		var first error
		for _, t := range resp.ResultsByTopicV3AndBelow {
			for _, pr := range t.ResultsByPartition {
				e := protocol.ErrorForCode(pr.PartitionErrorCode)
				// OPERATION_NOT_ATTEMPTED marks partitions skipped
				// because another one failed.
				if e != nil && (first == nil || errors.Is(first, protocol.OperationNotAttempted)) {
					first = fmt.Errorf("%s-%d: %w", t.Name, pr.PartitionIndex, e)
				}
			}
		}
		return first
	})
	if err == nil {
		tm.markStarted()
	}
	return err
}

// retry runs op until it succeeds, fails for good, or ctx ends, backing
// off between attempts; coordinator errors make it look the coordinator
// up again.
func (tm *txnManager) retry(ctx context.Context, what string, op func(context.Context) error) error {
	var last error
	for attempt := 1; ; attempt++ {
		select {
		case <-tm.done:
			return ErrProducerClosed
		default:
		}
		err := op(ctx)
		if err == nil {
			return nil
		}
		last = err
		switch {
		case errors.Is(err, protocol.NotCoordinator), errors.Is(err, protocol.CoordinatorNotAvailable),
			errors.Is(err, ErrBrokerUnreachable):
			tm.dropCoordinator()
		case errors.Is(err, protocol.ConcurrentTransactions), errors.Is(err, protocol.CoordinatorLoadInProgress),
			protocol.IsRetriable(err):
		default:
			return err
		}
		tm.cfg.logger.Debug("kafka: transactional request will be retried", "request", what, "attempt", attempt, "err", err)
		d := backoff(tm.cfg.retryBackoff, tm.cfg.retryBackoffMax, attempt)
		if errors.Is(err, protocol.ConcurrentTransactions) {
			// The previous transaction is still being completed; it
			// takes milliseconds, so poll sooner (as the Java client
			// does).
			d = min(d, 20*time.Millisecond)
		}
		select {
		case <-time.After(d):
		case <-tm.done:
			return fmt.Errorf("%w (%s, last error: %w)", ErrProducerClosed, what, last)
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %w)", what, ctx.Err(), last)
		}
	}
}

// callCoordinator sends one request to the transaction coordinator, with
// retry's rules.
// decodeWithCode returns a decode function for callCoordinator that reads
// a response into resp and reports its top-level error code, *code.
func decodeWithCode(resp interface{ Decode([]byte, int16) error }, code *int16) func([]byte, int16) error {
	return func(body []byte, v int16) error {
		if err := resp.Decode(body, v); err != nil {
			return err
		}
		return protocol.ErrorForCode(*code)
	}
}

func (tm *txnManager) callCoordinator(ctx context.Context, what string, apiKey, maxVersion int16, encode func(v int16) []byte, decode func(body []byte, v int16) error) error {
	return tm.retry(ctx, what, func(ctx context.Context) error {
		c, err := tm.coordinator(ctx)
		if err != nil {
			return err
		}
		return tm.call(ctx, c, apiKey, maxVersion, encode, decode)
	})
}

// call sends one request on c and decodes its answer.
func (tm *txnManager) call(ctx context.Context, c *conn, apiKey, maxVersion int16, encode func(v int16) []byte, decode func(body []byte, v int16) error) error {
	v, ok := c.version(apiKey, maxVersion)
	if !ok {
		return fmt.Errorf("%w: broker %s does not support API %d", protocol.UnsupportedVersion, c.addr, apiKey)
	}
	ch := make(chan error, 1)
	c.send(&request{
		apiKey:  apiKey,
		version: v,
		timeout: tm.cfg.requestTimeout,
		encode:  func(dst []byte) ([]byte, error) { return append(dst, encode(v)...), nil },
		done: func(body []byte, err error) {
			if err == nil {
				err = decode(body, v)
			}
			ch <- err
		},
	})
	select {
	case err := <-ch:
		return err
	case <-tm.done:
		return ErrProducerClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// coordinator returns a connection to the transaction coordinator.
func (tm *txnManager) coordinator(ctx context.Context) (*conn, error) {
	tm.connMu.Lock()
	c := tm.coord
	tm.connMu.Unlock()
	if c != nil && !c.dead() {
		return c, nil
	}
	c, err := tm.findCoordinator(ctx, tm.id, 1)
	if err != nil {
		return nil, err
	}
	tm.connMu.Lock()
	if _, ok := tm.groups[c]; !ok {
		// close took it while we were here.
		tm.connMu.Unlock()
		return nil, ErrProducerClosed
	}
	delete(tm.groups, c)
	old := tm.coord
	tm.coord = c
	tm.connMu.Unlock()
	if old != nil {
		old.close()
	}
	return c, nil
}

func (tm *txnManager) dropCoordinator() {
	tm.connMu.Lock()
	c := tm.coord
	tm.coord = nil
	tm.connMu.Unlock()
	if c != nil {
		c.close()
	}
}

// findCoordinator asks any broker for the coordinator of key (keyType 0
// for a group, 1 for a transactional id) and connects to it.
func (tm *txnManager) findCoordinator(ctx context.Context, key string, keyType int8) (*conn, error) {
	anyc, err := tm.anyConn(ctx)
	if err != nil {
		return nil, err
	}
	var nodeID int32
	var host string
	var port int32
	err = tm.call(ctx, anyc, protocol.APIKeyFindCoordinator, 6, func(v int16) []byte {
		req := protocol.FindCoordinatorRequest{Key: key, KeyType: keyType}
		if v >= 4 {
			// v4 and later look up several keys at once (KIP-699).
			req.CoordinatorKeys = []string{key}
		}
		return req.AppendTo(nil, v)
	}, func(body []byte, v int16) error {
		var resp protocol.FindCoordinatorResponse
		if err := resp.Decode(body, v); err != nil {
			return err
		}
		if v >= 4 {
			if len(resp.Coordinators) != 1 {
				return fmt.Errorf("%w: FindCoordinator answered %d coordinators for one key", protocol.CoordinatorNotAvailable, len(resp.Coordinators))
			}
			co := resp.Coordinators[0]
			if err := protocol.ErrorForCode(co.ErrorCode); err != nil {
				return err
			}
			nodeID, host, port = co.NodeId, co.Host, co.Port
			return nil
		}
		if err := protocol.ErrorForCode(resp.ErrorCode); err != nil {
			return err
		}
		nodeID, host, port = resp.NodeId, resp.Host, resp.Port
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrBrokerUnreachable) {
			tm.dropAny()
		}
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, tm.cfg.connSetupTimeout)
	defer cancel()
	c, err := dialConn(dctx, tm.cfg, nodeID, net.JoinHostPort(host, strconv.Itoa(int(port))), tm.cfg.maxInFlight)
	if err != nil {
		return nil, err
	}
	tm.connMu.Lock()
	defer tm.connMu.Unlock()
	if tm.closed {
		c.close()
		return nil, ErrProducerClosed
	}
	// Kept among the group coordinators until coordinator takes it or
	// its caller lets it go (release).
	tm.groups[c] = struct{}{}
	return c, nil
}

// release closes a connection findCoordinator returned for one call.
func (tm *txnManager) release(c *conn) {
	tm.connMu.Lock()
	delete(tm.groups, c)
	tm.connMu.Unlock()
	c.close()
}

// anyConn returns a connection to some broker, trying the bootstrap
// servers in turn.
func (tm *txnManager) anyConn(ctx context.Context) (*conn, error) {
	tm.connMu.Lock()
	c := tm.anyc
	tm.connMu.Unlock()
	if c != nil && !c.dead() {
		return c, nil
	}
	var errs []error
	for _, addr := range tm.cfg.bootstrapServers {
		dctx, cancel := context.WithTimeout(ctx, tm.cfg.connSetupTimeout)
		c, err := dialConn(dctx, tm.cfg, -1, addr, tm.cfg.maxInFlight)
		cancel()
		if err == nil {
			tm.connMu.Lock()
			if tm.closed {
				tm.connMu.Unlock()
				c.close()
				return nil, ErrProducerClosed
			}
			old := tm.anyc
			tm.anyc = c
			tm.connMu.Unlock()
			if old != nil {
				old.close()
			}
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("%w: no bootstrap server answered: %w", ErrBrokerUnreachable, errors.Join(errs...))
}

func (tm *txnManager) dropAny() {
	tm.connMu.Lock()
	c := tm.anyc
	tm.anyc = nil
	tm.connMu.Unlock()
	if c != nil {
		c.close()
	}
}

// close closes the manager's connections and fails its calls in progress
// and to come with ErrProducerClosed.
func (tm *txnManager) close() {
	tm.connMu.Lock()
	if tm.closed {
		tm.connMu.Unlock()
		return
	}
	tm.closed = true
	close(tm.done)
	conns := []*conn{tm.anyc, tm.coord}
	for c := range tm.groups {
		conns = append(conns, c)
	}
	tm.anyc, tm.coord, tm.groups = nil, nil, nil
	tm.connMu.Unlock()
	for _, c := range conns {
		if c != nil {
			c.close()
		}
	}
}

// txnOrErr returns the transaction manager for call, or why call cannot
// run. No transactional call may run in a delivery callback: each takes
// opMu, which a commit holds while it waits for the callback's records.
func (p *Producer) txnOrErr(call string) (*txnManager, error) {
	if p.txn == nil {
		return nil, fmt.Errorf("%w: the producer has no transactional_id", ErrTransactionState)
	}
	if p.closed.Load() {
		return nil, ErrProducerClosed
	}
	if p.inCallback() {
		return nil, callbackErr(call)
	}
	return p.txn, nil
}

// Sender events of transactions.
type (
	txnProducerIDEvent struct {
		pid   int64
		epoch int16
		ack   chan struct{}
	}
	txnAbortEvent struct{ ack chan struct{} }
	txnAddedEvent struct {
		parts []*partition
		gen   uint64
		err   error
	}
	fatalEvent struct{ err error }
)

// onTxnProducerID installs the id and epoch InitProducerId gave the
// transaction manager; every partition's sequence starts again at 0.
func (s *sender) onTxnProducerID(ev txnProducerIDEvent) {
	s.producerID, s.epoch = ev.pid, ev.epoch
	s.acc.forEachTopic(func(t *topicState) {
		if ps := t.parts.Load(); ps != nil {
			for _, p := range *ps {
				p.nextSeq = 0
				p.seqConfirmed = false
				p.mu.Lock()
				for _, b := range p.batches {
					b.seqSet = false
				}
				p.mu.Unlock()
			}
		}
	})
	close(ev.ack)
}

// onTxnAbort fails the batches of the transaction that were never sent;
// batches already sent finish on their own (the broker has them, and the
// abort marker will hide them).
func (s *sender) onTxnAbort(ev txnAbortEvent) {
	s.acc.forEachTopic(func(t *topicState) {
		if ps := t.parts.Load(); ps != nil {
			for _, p := range *ps {
				for _, b := range p.takeBatches(func(b *batch) bool { return !b.sent }) {
					b.unqueue()
					s.failNoBump(b, ErrTransactionAborted)
				}
			}
		}
	})
	close(ev.ack)
}

// txnHold reports whether p must wait to be added to the current
// transaction, and collects it for AddPartitionsToTxn.
func (s *sender) txnHold(p *partition) bool {
	if st := s.txn.state.Load(); st != txnInTransaction && st != txnCommitting && st != txnAbortable {
		// No transaction to add it to: an abort drops the records.
		return true
	}
	gen := s.txn.gen.Load()
	if p.txnGen == gen {
		return false
	}
	if !s.txnAdding[p] {
		s.txnToAdd = append(s.txnToAdd, p)
	}
	return true
}

// startTxnAdds sends the partitions collected by txnHold to the
// coordinator, one AddPartitionsToTxn at a time.
func (s *sender) startTxnAdds() {
	if len(s.txnToAdd) == 0 || len(s.txnAdding) > 0 {
		s.txnToAdd = s.txnToAdd[:0]
		return
	}
	parts := append([]*partition(nil), s.txnToAdd...)
	s.txnToAdd = s.txnToAdd[:0]
	for _, p := range parts {
		s.txnAdding[p] = true
	}
	gen := s.txn.gen.Load()
	s.wg.Add(1)
	s.txn.adds.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.txn.adds.Done()
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.deliveryTimeout)
		defer cancel()
		err := s.txn.addPartitions(ctx, parts)
		s.events.push(txnAddedEvent{parts: parts, gen: gen, err: err})
	}()
}

func (s *sender) onTxnAdded(ev txnAddedEvent) {
	for _, p := range ev.parts {
		delete(s.txnAdding, p)
	}
	if ev.err == nil {
		for _, p := range ev.parts {
			p.txnGen = ev.gen
		}
		return
	}
	err := fmt.Errorf("adding partitions to the transaction: %w", ev.err)
	if isTxnFatal(ev.err) {
		s.setFatal(s.txn.fatal(s.txn.fencedErr(ev.err)))
		return
	}
	s.txn.fail(err)
	s.failParts(ev.parts, fmt.Errorf("%w: %w", ErrTransactionAbortable, err))
}
