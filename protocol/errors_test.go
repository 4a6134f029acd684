package protocol

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
)

func TestErrorForCodeRoundTrip(t *testing.T) {
	require.Len(t, allErrors, maxErrorCode+1, "codes -1 and 1..max")
	for _, want := range allErrors {
		got := ErrorForCode(want.Code)
		require.Same(t, want, got, "code %d", want.Code)
	}
	for code := int16(-1); code <= maxErrorCode; code++ {
		if code == 0 {
			continue
		}
		var ke *Error
		require.ErrorAs(t, ErrorForCode(code), &ke)
		require.Equal(t, code, ke.Code)
		require.NotEqual(t, unknownCodeName, ke.Name, "code %d", code)
	}
}

func TestErrorForCodeNone(t *testing.T) {
	err := ErrorForCode(0)
	require.True(t, err == nil, "code 0 must be an untyped nil error, got %#v", err)
	require.False(t, IsRetriable(err))
}

func TestErrorCodesContiguousNamesUnique(t *testing.T) {
	// Kafka's codes run -1, 0 (NONE, no variable), 1, 2, ... with no gaps.
	want := int16(-1)
	names := map[string]int16{}
	for _, e := range allErrors {
		require.Equal(t, want, e.Code, "allErrors out of order or has a gap at %s", e.Name)
		if want == -1 {
			want = 1
		} else {
			want++
		}
		prev, dup := names[e.Name]
		require.False(t, dup, "name %s used by codes %d and %d", e.Name, prev, e.Code)
		names[e.Name] = e.Code
		for _, r := range e.Name {
			require.True(t, r == '_' || (r >= 'A' && r <= 'Z'), "name %q", e.Name)
		}
		require.NotEmpty(t, e.Description, e.Name)
		require.NotContains(t, e.Description, "\n", e.Name)
		require.False(t, strings.HasSuffix(e.Description, "."), "%s: description should not end with a period", e.Name)
		require.NotEqual(t, unknownCodeName, e.Name)
	}
	require.Equal(t, int16(maxErrorCode), allErrors[len(allErrors)-1].Code)
	require.Len(t, errorsByCode, maxErrorCode+2)
	require.Nil(t, errorsByCode[1], "code 0 has no entry")
}

// camelName turns a protocol name into the Go variable name this package
// uses: NOT_LEADER_OR_FOLLOWER -> NotLeaderOrFollower, UNKNOWN_TOPIC_ID ->
// UnknownTopicID.
func camelName(name string) string {
	var b strings.Builder
	for _, w := range strings.Split(name, "_") {
		if w == "ID" {
			b.WriteString(w)
			continue
		}
		b.WriteString(w[:1] + strings.ToLower(w[1:]))
	}
	return b.String()
}

// TestErrorVariableNames parses errors.go and checks that every exported
// *Error variable is named after its protocol name and listed in allErrors.
func TestErrorVariableNames(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	require.NoError(t, err)
	byName := map[string]*Error{}
	for _, e := range allErrors {
		byName[e.Name] = e
	}
	seen := 0
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if !id.IsExported() || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.UnaryExpr)
				if !ok {
					continue
				}
				cl, ok := lit.X.(*ast.CompositeLit)
				if !ok || len(cl.Elts) != 4 {
					continue
				}
				nameLit, ok := cl.Elts[1].(*ast.BasicLit)
				require.True(t, ok, id.Name)
				name, err := strconv.Unquote(nameLit.Value)
				require.NoError(t, err)
				require.Equal(t, camelName(name), id.Name, "variable for %s", name)
				require.Contains(t, byName, name, "%s missing from allErrors", id.Name)
				seen++
			}
		}
	}
	require.Equal(t, len(allErrors), seen, "every error variable must be in allErrors exactly once")
}

func TestErrorString(t *testing.T) {
	require.Equal(t, "REQUEST_TIMED_OUT (7): the request timed out", RequestTimedOut.Error())
	require.Equal(t, "UNKNOWN_SERVER_ERROR (-1): "+UnknownServerError.Description, UnknownServerError.Error())
	require.Equal(t, "<nil>", (*Error)(nil).Error())
}

func TestErrorsIs(t *testing.T) {
	wrapped := fmt.Errorf("produce to t-0: %w", NotLeaderOrFollower)
	require.ErrorIs(t, wrapped, NotLeaderOrFollower)
	require.NotErrorIs(t, wrapped, LeaderNotAvailable)

	cp := &Error{Code: 6}
	require.ErrorIs(t, cp, NotLeaderOrFollower)
	require.ErrorIs(t, NotLeaderOrFollower, cp)
	require.ErrorIs(t, wrapped, cp)
	require.ErrorIs(t, fmt.Errorf("x: %w", cp), NotLeaderOrFollower)

	valueCopy := *NotLeaderOrFollower
	require.ErrorIs(t, &valueCopy, NotLeaderOrFollower)

	require.NotErrorIs(t, NotLeaderOrFollower, &Error{Code: 7})
	require.NotErrorIs(t, NotLeaderOrFollower, errors.New("NOT_LEADER_OR_FOLLOWER"))
	require.NotErrorIs(t, NotLeaderOrFollower, (*Error)(nil))
	require.False(t, (*Error)(nil).Is(NotLeaderOrFollower))

	// Each package-level value matches only itself.
	for _, a := range allErrors {
		for _, b := range allErrors {
			require.Equal(t, a == b, errors.Is(a, b), "%s vs %s", a.Name, b.Name)
		}
	}
}

func TestErrorsAs(t *testing.T) {
	err := fmt.Errorf("send: %w", fmt.Errorf("batch: %w", ErrorForCode(19)))
	var ke *Error
	require.ErrorAs(t, err, &ke)
	require.Equal(t, int16(19), ke.Code)
	require.Equal(t, "NOT_ENOUGH_REPLICAS", ke.Name)
	require.Same(t, NotEnoughReplicas, ke)

	require.False(t, errors.As(errors.New("plain"), &ke))
}

func TestIsRetriable(t *testing.T) {
	// From the Java client: these exceptions extend RetriableException.
	retriable := []*Error{
		CorruptMessage, UnknownTopicOrPartition, LeaderNotAvailable, NotLeaderOrFollower,
		RequestTimedOut, ReplicaNotAvailable, NetworkException, CoordinatorLoadInProgress,
		CoordinatorNotAvailable, NotCoordinator, NotEnoughReplicas,
		NotEnoughReplicasAfterAppend, NotController, ConcurrentTransactions,
		KafkaStorageError, FetchSessionIDNotFound, InvalidFetchSessionEpoch,
		ListenerNotFound, FencedLeaderEpoch, UnknownLeaderEpoch, OffsetNotAvailable,
		PreferredLeaderNotAvailable, EligibleLeadersNotAvailable, ElectionNotNeeded,
		UnstableOffsetCommit, ThrottlingQuotaExceeded, UnknownTopicID,
		InconsistentTopicID, FetchSessionTopicIDError, ShareSessionNotFound,
		InvalidShareSessionEpoch, ShareSessionLimitReached,
	}
	isRetriable := map[int16]bool{}
	for _, e := range retriable {
		require.True(t, IsRetriable(e), e.Name)
		require.True(t, IsRetriable(fmt.Errorf("wrapped: %w", e)), e.Name)
		isRetriable[e.Code] = true
	}
	// Every other code is not retriable.
	for _, e := range allErrors {
		require.Equal(t, isRetriable[e.Code], e.Retriable, e.Name)
		require.Equal(t, isRetriable[e.Code], IsRetriable(e), e.Name)
	}
	for _, e := range []*Error{
		UnknownServerError, BrokerNotAvailable, MessageTooLarge, InvalidRequiredAcks,
		TopicAuthorizationFailed, OutOfOrderSequenceNumber, InvalidProducerEpoch,
		UnknownProducerID, ProducerFenced, TransactionAbortable, InvalidRecord,
		RebalanceInProgress, RebootstrapRequired,
	} {
		require.False(t, IsRetriable(e), e.Name)
	}
	require.False(t, IsRetriable(nil))
	require.False(t, IsRetriable(errors.New("timeout")))
	require.False(t, IsRetriable((*Error)(nil)))
	require.True(t, IsRetriable(&Error{Code: 7, Retriable: true}))
}

func TestErrorForUnknownCode(t *testing.T) {
	for _, code := range []int16{-32768, -2, maxErrorCode + 1, 1000, 32767} {
		err := ErrorForCode(code)
		require.Error(t, err)
		var ke *Error
		require.ErrorAs(t, err, &ke)
		require.Equal(t, code, ke.Code)
		require.Equal(t, unknownCodeName, ke.Name)
		require.NotEmpty(t, ke.Description)
		require.False(t, ke.Retriable)
		require.False(t, IsRetriable(err))
		require.Contains(t, err.Error(), "("+strconv.Itoa(int(code))+")")
		require.NotErrorIs(t, err, UnknownServerError)
		require.ErrorIs(t, err, &Error{Code: code})
		// A fresh value each time, so callers cannot corrupt a shared one.
		require.NotSame(t, ke, ErrorForCode(code))
	}
}

// TestErrorsMatchKerr cross-checks names and retriability with franz-go's kerr.
// Where kerr differs from Kafka's Java client (the tiebreaker), the entry is
// listed here with the reason.
func TestErrorsMatchKerr(t *testing.T) {
	type diff struct {
		kerrName      string // "" when the names agree
		kerrRetriable bool
		why           string
	}
	exceptions := map[int16]diff{
		// Kafka 2.6 (KAFKA-10223) renamed NOT_LEADER_FOR_PARTITION to
		// NOT_LEADER_OR_FOLLOWER; kerr keeps the old name.
		6: {kerrName: "NOT_LEADER_FOR_PARTITION", kerrRetriable: true, why: "renamed in Kafka 2.6"},
		// BrokerNotAvailableException extends ApiException, not
		// RetriableException; kerr marks it retriable.
		8: {kerrRetriable: true, why: "Java: not retriable"},
		// ConcurrentTransactionsException extends RetriableException; kerr
		// marks it not retriable.
		51: {kerrRetriable: false, why: "Java: retriable"},
		// ShareSessionNotFoundException and InvalidShareSessionEpochException
		// extend RetriableException; kerr marks them not retriable.
		122: {kerrRetriable: false, why: "Java: retriable"},
		123: {kerrRetriable: false, why: "Java: retriable"},
	}

	require.Nil(t, kerr.ErrorForCode(0))
	for _, e := range allErrors {
		var ke *kerr.Error
		require.ErrorAs(t, kerr.ErrorForCode(e.Code), &ke, "code %d", e.Code)
		require.Equal(t, e.Code, ke.Code)
		d, isException := exceptions[e.Code]
		if !isException {
			require.Equal(t, ke.Message, e.Name, "code %d name", e.Code)
			require.Equal(t, ke.Retriable, e.Retriable, "code %d (%s) retriable", e.Code, e.Name)
			continue
		}
		wantName := e.Name
		if d.kerrName != "" {
			wantName = d.kerrName
		}
		require.Equal(t, wantName, ke.Message, "code %d: kerr name changed; revisit the exception (%s)", e.Code, d.why)
		require.Equal(t, d.kerrRetriable, ke.Retriable, "code %d: kerr retriable changed; revisit the exception (%s)", e.Code, d.why)
		require.True(t, d.kerrName != "" || d.kerrRetriable != e.Retriable,
			"code %d is listed as an exception but kerr agrees with us", e.Code)
	}
	// kerr falls back to UNKNOWN_SERVER_ERROR for codes it does not know; if
	// it knows a code past ours, Kafka has added a code this package lacks.
	require.Same(t, kerr.UnknownServerError, kerr.ErrorForCode(maxErrorCode+1),
		"kerr knows code %d; add it here", maxErrorCode+1)
}
