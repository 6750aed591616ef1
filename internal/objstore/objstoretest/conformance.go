package objstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/securecart/securecart/internal/objstore"
)

// Conformance runs the behaviour every Store must share against stores
// made by open, a fresh empty store per call.
func Conformance(t *testing.T, open func(t *testing.T) objstore.Store) {
	ctx := context.Background()

	t.Run("PutGetStat", func(t *testing.T) {
		s := open(t)
		for _, class := range []objstore.Class{objstore.Standard, objstore.StandardIA, objstore.GlacierIR} {
			key := "a/b/" + string(class)
			data := []byte("payload of " + string(class))
			if _, err := s.Put(ctx, objstore.Backups, key, data, class); err != nil {
				t.Fatalf("put %s: %v", class, err)
			}
			got, info, err := s.Get(ctx, objstore.Backups, key)
			if err != nil {
				t.Fatalf("get %s: %v", class, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("get %s: %q, want %q", class, got, data)
			}
			want := objstore.Checksum(data)
			if info.SHA256 != want || info.Size != int64(len(data)) {
				t.Fatalf("get %s: info %+v", class, info)
			}
			st, err := s.Stat(ctx, objstore.Backups, key)
			if err != nil {
				t.Fatal(err)
			}
			if st.Class != class || st.SHA256 != want || st.Size != int64(len(data)) {
				t.Fatalf("stat %s: %+v", class, st)
			}
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		s := open(t)
		put(t, s, objstore.Audit, "k", "one")
		put(t, s, objstore.Audit, "k", "two")
		if got := get(t, s, objstore.Audit, "k"); got != "two" {
			t.Fatalf("got %q after overwrite", got)
		}
	})

	t.Run("EmptyObject", func(t *testing.T) {
		s := open(t)
		put(t, s, objstore.Logs, "empty", "")
		if got := get(t, s, objstore.Logs, "empty"); got != "" {
			t.Fatalf("got %q", got)
		}
	})

	t.Run("Missing", func(t *testing.T) {
		s := open(t)
		if _, _, err := s.Get(ctx, objstore.Backups, "nope"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("get missing: %v", err)
		}
		if _, err := s.Stat(ctx, objstore.Backups, "nope"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("stat missing: %v", err)
		}
		if err := s.Delete(ctx, objstore.Backups, "nope"); err != nil {
			t.Fatalf("delete missing: %v", err)
		}
	})

	t.Run("ListByPrefix", func(t *testing.T) {
		s := open(t)
		keys := []string{"seg/0002", "seg/0001", "seg/0010", "snap/0001/part-0", "segx"}
		for _, k := range keys {
			put(t, s, objstore.Backups, k, "v-"+k)
		}
		put(t, s, objstore.Archive, "seg/other-bucket", "x")
		cases := []struct {
			prefix string
			want   []string
		}{
			{"seg/", []string{"seg/0001", "seg/0002", "seg/0010"}},
			{"seg", []string{"seg/0001", "seg/0002", "seg/0010", "segx"}},
			{"seg/000", []string{"seg/0001", "seg/0002"}},
			{"snap/", []string{"snap/0001/part-0"}},
			{"", []string{"seg/0001", "seg/0002", "seg/0010", "segx", "snap/0001/part-0"}},
			{"zzz", nil},
		}
		for _, c := range cases {
			list, err := s.List(ctx, objstore.Backups, c.prefix)
			if err != nil {
				t.Fatalf("list %q: %v", c.prefix, err)
			}
			var got []string
			for _, i := range list {
				got = append(got, i.Key)
				if i.Size != int64(len("v-"+i.Key)) {
					t.Errorf("list %q: %s size %d", c.prefix, i.Key, i.Size)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("list %q = %v, want %v", c.prefix, got, c.want)
			}
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		put(t, s, objstore.Backups, "d/1", "x")
		if err := s.Delete(ctx, objstore.Backups, "d/1"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Get(ctx, objstore.Backups, "d/1"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("get after delete: %v", err)
		}
		if list, _ := s.List(ctx, objstore.Backups, "d/"); len(list) != 0 {
			t.Fatalf("list after delete: %v", list)
		}
	})

	t.Run("InvalidNames", func(t *testing.T) {
		s := open(t)
		bad := []struct{ bucket, key string }{
			{"nobucket", "k"}, {objstore.Backups, ""}, {objstore.Backups, "../x"},
			{objstore.Backups, "a//b"}, {objstore.Backups, "/a"}, {objstore.Backups, "a/.hidden"},
			{objstore.Backups, "a b"}, {objstore.Backups, "a\\b"},
		}
		for _, b := range bad {
			if _, err := s.Put(ctx, b.bucket, b.key, []byte("x"), objstore.Standard); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("put %q/%q: %v, want ErrInvalidKey", b.bucket, b.key, err)
			}
		}
		if _, err := s.Put(ctx, objstore.Backups, "k", []byte("x"), "COLD"); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("put with class COLD: %v", err)
		}
	})
}

func put(t *testing.T, s objstore.Store, bucket, key, v string) {
	t.Helper()
	if _, err := s.Put(context.Background(), bucket, key, []byte(v), objstore.Standard); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

func get(t *testing.T, s objstore.Store, bucket, key string) string {
	t.Helper()
	b, _, err := s.Get(context.Background(), bucket, key)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	return string(b)
}
