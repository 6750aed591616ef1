package audit

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestQuery(t *testing.T) {
	dir := t.TempDir()
	k := newTestKey(t)
	l := openTestLog(t, dir, k, func(o *Options) { o.SegmentSize = 4096 })
	appendN(t, l, 0, 300, 1)
	rd := l.Reader()
	base := sampleRecord(0).Time

	all := func(f Filter, limit int) []Entry {
		t.Helper()
		var out []Entry
		cursor := ""
		for pages := 0; ; pages++ {
			p, err := rd.Query(t.Context(), f, cursor, limit)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p.Entries...)
			if p.Next == "" {
				return out
			}
			if pages > 1000 {
				t.Fatal("pagination does not end")
			}
			cursor = p.Next
		}
	}
	cases := []struct {
		name string
		f    Filter
		want func(i int, r *Record) bool
	}{
		{"all", Filter{}, func(int, *Record) bool { return true }},
		{"principal", Filter{PrincipalID: "prn_3"}, func(i int, _ *Record) bool { return i%7 == 3 }},
		{"resource", Filter{ResourceType: "Customer", ResourceID: "cus_41"}, func(i int, _ *Record) bool { return i == 41 }},
		{"action", Filter{Action: "readCustomer"}, func(i int, _ *Record) bool { return i%4 != 2 }},
		{"purpose", Filter{Purpose: "capture"}, func(i int, _ *Record) bool { return i%4 == 2 }},
		{"no such purpose", Filter{Purpose: "refund"}, func(int, *Record) bool { return false }},
		{"no such action", Filter{Action: "eraseCustomer"}, func(int, *Record) bool { return false }},
		{"denied", Filter{Outcome: OutcomeDenied}, func(i int, _ *Record) bool { return i%10 == 3 }},
		{"failure", Filter{Outcome: OutcomeFailure}, func(i int, _ *Record) bool { return i%10 == 3 }},
		{"success", Filter{Outcome: OutcomeSuccess}, func(i int, _ *Record) bool { return i%2 == 1 && i%10 != 3 }},
		{"time range", Filter{Since: base.Add(100 * time.Millisecond), Until: base.Add(150 * time.Millisecond)},
			func(i int, _ *Record) bool { return i >= 100 && i < 150 }},
	}
	for _, c := range cases {
		for _, limit := range []int{7, 1000} {
			got := all(c.f, limit)
			var want []uint64
			for i := range 300 {
				if c.want(i, sampleRecord(i)) {
					want = append(want, uint64(i))
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%s, pages of %d: %d records, want %d", c.name, limit, len(got), len(want))
			}
			for i := range got {
				if got[i].Seq != want[i] {
					t.Fatalf("%s: entry %d is record %d, want %d", c.name, i, got[i].Seq, want[i])
				}
			}
		}
	}
	for _, bad := range []string{"x", "c", "c01", "c-1", "12"} {
		if _, err := rd.Query(t.Context(), Filter{}, bad, 10); !errors.Is(err, ErrCursor) {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOCSF(t *testing.T) {
	r := sampleRecord(3) // a denied outcome
	b, err := MarshalOCSF(Entry{Seq: 3, Record: r})
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		ClassUID   int    `json:"class_uid"`
		TypeUID    int    `json:"type_uid"`
		ActivityID int    `json:"activity_id"`
		StatusID   int    `json:"status_id"`
		Time       int64  `json:"time"`
		StatusCode string `json:"status_code"`
		Actor      struct {
			User struct {
				UID string `json:"uid"`
			} `json:"user"`
		} `json:"actor"`
		API struct {
			Operation string `json:"operation"`
		} `json:"api"`
		Src struct {
			IP   string `json:"ip"`
			Port int    `json:"port"`
		} `json:"src_endpoint"`
		TLS struct {
			Version string `json:"version"`
		} `json:"tls"`
		Resources []struct{ Type, UID string } `json:"resources"`
		Metadata  struct {
			Version  string `json:"version"`
			Sequence uint64 `json:"sequence"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ClassUID != 6003 || ev.ActivityID != 2 || ev.TypeUID != 600302 || ev.StatusID != 2 ||
		ev.StatusCode != "403" || ev.Time != r.Time.UnixMilli() || ev.Actor.User.UID != "prn_3" ||
		ev.API.Operation != "readCustomer" || ev.Src.IP != "10.0.0.7" || ev.Src.Port != 51234 ||
		ev.TLS.Version != "1.3" || len(ev.Resources) != 1 || ev.Resources[0].UID != "cus_3" ||
		ev.Metadata.Version != OCSFVersion || ev.Metadata.Sequence != 3 {
		t.Fatalf("OCSF event %s", b)
	}
	b, err = MarshalOCSF(Entry{Seq: 2, Record: sampleRecord(2)}) // a detokenization
	if err != nil {
		t.Fatal(err)
	}
	var withPurpose struct {
		Unmapped struct {
			Purpose string `json:"purpose"`
		} `json:"unmapped"`
		Resources []struct{ Type, UID string } `json:"resources"`
	}
	if err := json.Unmarshal(b, &withPurpose); err != nil {
		t.Fatal(err)
	}
	if withPurpose.Unmapped.Purpose != "capture" || withPurpose.Resources[0].UID != "tok_2" {
		t.Fatalf("OCSF event of a detokenization %s", b)
	}
	for action, want := range map[string]int{"createOrder": 1, "listOrders": 2, "updateProduct": 3,
		"eraseCustomer": 4, "rotateKeys": 99, "detokenize": 2} {
		if got := activityOf(action); got != want {
			t.Errorf("%s: activity %d, want %d", action, got, want)
		}
	}
}
