package policygen

import (
	"bytes"
	"testing"

	"github.com/securecart/securecart/internal/policy"
)

func TestDeterministic(t *testing.T) {
	if a, b := New(3).Text(200), New(3).Text(200); !bytes.Equal(a, b) {
		t.Error("the same seed gave two policy sets")
	}
	if a, b := New(3).Text(200), New(4).Text(200); bytes.Equal(a, b) {
		t.Error("two seeds gave the same policy set")
	}
}

// TestShares checks the mix of scopes the package promises, and that the
// engine accepts every generated policy.
func TestShares(t *testing.T) {
	ps := New(1).Policies(1000)
	var scoped, actionOnly, unscoped int
	for _, p := range ps {
		switch {
		case p.Principal.Op != All && p.Action != "":
			scoped++
		case p.Action != "":
			actionOnly++
		case p.Condition != "":
			unscoped++
		default:
			t.Errorf("%s: no scope and no condition", p.ID)
		}
	}
	near := func(got, want int) bool { return got > want-60 && got < want+60 }
	if !near(scoped, 700) || !near(actionOnly, 200) || !near(unscoped, 100) {
		t.Errorf("scoped %d, action only %d, unscoped %d of 1000", scoped, actionOnly, unscoped)
	}
	if _, err := policy.New(Cedar(ps)); err != nil {
		t.Fatal(err)
	}
}

func TestRequestsValid(t *testing.T) {
	e, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range New(5).Requests(500) {
		if d := e.Decide(r); len(d.Errors) > 0 {
			t.Fatalf("request %+v refused: %v", r, d.Errors)
		}
	}
}
