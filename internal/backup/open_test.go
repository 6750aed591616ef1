package backup_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

// TestOpenObject opens every object a ship and a snapshot wrote, by its
// key alone, and refuses one moved to another key.
func TestOpenObject(t *testing.T) {
	e := newEnv(t, sqldbtest.Engines()[0], newLocal(t), backup.Options{})
	const text = "hand-thrown mug, glaze no. 4471"
	if _, err := e.st.CreateProduct(e.ctx, store.NewProduct{SKU: "MUG-9", Name: "Mug", Description: text,
		Price: 900, Currency: "EUR", Stock: 3}); err != nil {
		t.Fatal(err)
	}
	e.ship()
	e.snapshot()

	infos, err := e.obj.List(e.ctx, objstore.Backups, "")
	if err != nil {
		t.Fatal(err)
	}
	opened, holding := 0, 0
	var seg objstore.Info
	for _, info := range infos {
		sealed, _, err := e.obj.Get(e.ctx, objstore.Backups, info.Key)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(info.Key, "/keystore/") {
			continue // not sealed as a whole: its keys are wrapped one by one
		}
		if bytes.Contains(sealed, []byte(text)) {
			t.Fatalf("%s holds the product text in clear", info.Key)
		}
		plain, err := backup.OpenObject(e.ctx, e.ks, info.Key, sealed)
		if err != nil {
			t.Fatalf("OpenObject(%s): %v", info.Key, err)
		}
		opened++
		if bytes.Contains(plain, []byte(text)) {
			holding++
		}
		if strings.Contains(info.Key, "/seg/") {
			seg = info
		}
	}
	if opened < 3 || holding < 2 || seg.Key == "" {
		t.Fatalf("opened %d objects, %d with the text, segment %q; want a segment, a part and a manifest", opened, holding, seg.Key)
	}

	sealed, _, err := e.obj.Get(e.ctx, objstore.Backups, seg.Key)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{seg.Key + "x", "other" + seg.Key[strings.IndexByte(seg.Key, '/'):], "noslash"} {
		if _, err := backup.OpenObject(e.ctx, e.ks, key, sealed); !errors.Is(err, backup.ErrCorrupt) {
			t.Errorf("OpenObject under %q: %v, want ErrCorrupt", key, err)
		}
	}
}
