package audit

import (
	"context"
	"errors"
	"testing"
)

// memLog keeps records in memory and fails appends while down is set.
type memLog struct {
	recs []Record
	down bool
}

func (m *memLog) Append(_ context.Context, r *Record) (uint64, error) {
	if m.down {
		return 0, ErrUnavailable
	}
	if _, err := r.Encode(); err != nil {
		return 0, err
	}
	m.recs = append(m.recs, *r)
	return uint64(len(m.recs) - 1), nil
}

func TestDo(t *testing.T) {
	act := Action{Name: ActionRotateKey, Resource: Resource{Type: "KeyDomain", ID: "customer-pii"},
		Principal: Operator, Source: Source{Address: "local", UserAgent: "securecart keys rotate"}}
	boom := errors.New("the card 4111 1111 1111 1111 failed")
	for _, c := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"done", nil, StatusDone, ""},
		{"failed", boom, StatusFailed, "failed"},
		{"canceled", context.Canceled, StatusCanceled, "canceled"},
	} {
		m := &memLog{}
		ran := false
		err := Do(t.Context(), m, act, func(context.Context) error {
			if len(m.recs) != 1 || m.recs[0].Phase != PhaseRequest {
				t.Fatalf("%s: the action runs with %d records", c.name, len(m.recs))
			}
			ran = true
			return c.err
		})
		if !ran || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Fatalf("%s: ran %v, err %v", c.name, ran, err)
		}
		if len(m.recs) != 2 {
			t.Fatalf("%s: %d records", c.name, len(m.recs))
		}
		req, out := m.recs[0], m.recs[1]
		if req.Action != act.Name || req.Resource != act.Resource || req.Principal.ID != Operator.ID ||
			req.Source.UserAgent != act.Source.UserAgent || req.RequestID == "" {
			t.Errorf("%s: request record %+v", c.name, req)
		}
		if out.Phase != PhaseOutcome || out.RequestSeq != 0 || out.RequestID != req.RequestID ||
			out.Outcome != (Outcome{Status: c.status, ErrorCode: c.code}) {
			t.Errorf("%s: outcome record %+v", c.name, out)
		}
	}

	// No durable request record, no action.
	m := &memLog{down: true}
	err := Do(t.Context(), m, act, func(context.Context) error {
		t.Fatal("the action ran without its record")
		return nil
	})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Do with the log down: %v", err)
	}
}

// TestDoOnLog records through a real log and reads the records back.
func TestDoOnLog(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, newTestKey(t), nil)
	act := Action{Name: ActionSweepErased, Resource: Resource{Type: "Collection", ID: "customers"},
		Principal: System, Source: Source{Address: "local", UserAgent: "securecart serve"}}
	if err := Do(t.Context(), l, act, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var got []*Record
	for e, err := range NewReader(dir).Scan(t.Context(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Record)
	}
	if len(got) != 2 || got[0].Action != ActionSweepErased || got[1].Outcome.Status != StatusDone ||
		got[0].Principal.Kind != "system" {
		t.Fatalf("records %+v", got)
	}
}
