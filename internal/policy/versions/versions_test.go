package versions

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/analyze"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

// extra grants the developer the findings, on top of the default set.
var extra = append(policy.DefaultPolicies(), []byte(`
@id("developer-findings")
permit (principal in SecureCart::Role::"developer", action == SecureCart::Action::"readFindings", resource);
`)...)

var devFindings = policy.Request{PrincipalID: "dev", PrincipalKind: policy.KindPerson,
	Roles: []string{policy.RoleDeveloper}, Action: policy.ReadFindings,
	ResourceType: policy.TypeCollection, ResourceID: "findings",
	Source: netip.MustParseAddr("10.0.0.1"), Time: time.Unix(1_800_000_000, 0)}

func open(t *testing.T, db sqldb.DB) *Store {
	t.Helper()
	s, err := Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func matrix(t *testing.T, s *Store) *analyze.Matrix {
	t.Helper()
	_, set := s.Live().Active()
	r, err := analyze.Analyze(set)
	if err != nil {
		t.Fatal(err)
	}
	return r.Matrix
}

func TestApplyAnalyzeRollBack(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, eng.Open(t))
			if n, _ := s.Live().Active(); n != 0 {
				t.Fatalf("fresh store: version %d active", n)
			}
			before := matrix(t, s)
			if s.Live().Decide(devFindings).Allow {
				t.Fatal("default set lets the developer read findings")
			}

			v, findings, err := s.Apply(ctx, extra, "sec-1", "developers triage findings")
			if err != nil {
				t.Fatal(err)
			}
			if v.Number != 1 || len(findings) != 0 || v.CreatedBy != "sec-1" {
				t.Fatalf("applied %+v, findings %v", v, findings)
			}
			if !s.Live().Decide(devFindings).Allow {
				t.Fatal("applied set not live")
			}
			d, err := analyze.Compare(mustLoad(t, policy.DefaultPolicies()), mustLoad(t, extra))
			if err != nil || len(d.Added) == 0 {
				t.Fatalf("compare: %v, %d added", err, len(d.Added))
			}

			rb, err := s.Rollback(ctx, 0, "sec-1")
			if err != nil {
				t.Fatal(err)
			}
			if rb.Number != 2 || rb.RollbackOf == nil || *rb.RollbackOf != 0 {
				t.Fatalf("rollback %+v", rb)
			}
			after := matrix(t, s)
			if len(after.Rows) != len(before.Rows) {
				t.Fatalf("%d rows after, %d before", len(after.Rows), len(before.Rows))
			}
			for i := range before.Rows {
				if before.Rows[i] != after.Rows[i] {
					t.Fatalf("row %d: %+v after, %+v before", i, after.Rows[i], before.Rows[i])
				}
			}

			list, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 3 || list[0].Number != 2 || *list[0].RollbackOf != 0 || list[1].Number != 1 ||
				list[2].Number != 0 {
				t.Fatalf("list %+v", list)
			}
			got, err := s.Get(ctx, 1)
			if err != nil || string(got.Source) != string(extra) || got.Note != "developers triage findings" ||
				got.RollbackOf != nil {
				t.Fatalf("get 1: %+v, %v", got, err)
			}
			if _, err := s.Get(ctx, 9); !errors.Is(err, ErrNotFound) {
				t.Fatalf("get 9: %v", err)
			}
		})
	}
}

func TestRefusedSetChangesNothing(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, eng.Open(t))
			if _, _, err := s.Apply(ctx, extra, "sec-1", ""); err != nil {
				t.Fatal(err)
			}
			bad := []struct {
				name string
				src  string
				want any
			}{
				{"does not parse", `@id("a") permit (principal, action, resource) when { context.mfa && };`, new(*InvalidError)},
				{"does not validate", `@id("a") permit (principal, action, resource) when { context.nope };`, new(*InvalidError)},
				{"locks out admins", `@id("a") permit (principal in SecureCart::Role::"dba", action == SecureCart::Action::"readCustomer", resource);`,
					new(*RefusedError)},
			}
			for _, b := range bad {
				_, _, err := s.Apply(ctx, []byte(b.src), "sec-1", "")
				if err == nil || !errors.As(err, b.want) {
					t.Errorf("%s: %v", b.name, err)
				}
			}
			list, err := s.List(ctx)
			if err != nil || len(list) != 2 {
				t.Fatalf("list after refusals: %d versions, %v", len(list), err)
			}
			if n, _ := s.Live().Active(); n != 1 || !s.Live().Decide(devFindings).Allow {
				t.Fatalf("live version %d after refusals", n)
			}
		})
	}
}

// TestOtherNodeFollows opens a second store on the same database, as a
// second node would, and checks that Refresh picks up the first's apply.
func TestOtherNodeFollows(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			h := eng.Open(t)
			a, b := open(t, h), open(t, h.Reopen(t))
			if _, _, err := a.Apply(ctx, extra, "sec-1", ""); err != nil {
				t.Fatal(err)
			}
			if b.Live().Decide(devFindings).Allow {
				t.Fatal("second node changed before refreshing")
			}
			ctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { b.Poll(ctx, 10*time.Millisecond, nil); close(done) }()
			deadline := time.Now().Add(5 * time.Second)
			for !b.Live().Decide(devFindings).Allow {
				if time.Now().After(deadline) {
					t.Fatal("second node never picked up the apply")
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			<-done
			if n, _ := b.Live().Active(); n != 1 {
				t.Fatalf("second node on version %d", n)
			}
		})
	}
}

func TestMigrations(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			h := eng.Open(t)
			open(t, h)
			open(t, h)
			if v, err := sqldb.AppliedVersion(ctx, h, Component); err != nil || v != len(Migrations) {
				t.Fatalf("version %d, %v", v, err)
			}
		})
	}
}

func TestZeroLiveDenies(t *testing.T) {
	var l Live
	if d := l.Decide(devFindings); d.Allow || len(d.Errors) == 0 {
		t.Fatalf("decision %+v", d)
	}
}

func mustLoad(t *testing.T, src []byte) *policy.Set {
	t.Helper()
	s, err := policy.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
