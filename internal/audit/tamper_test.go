package audit

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

var tamperTrials = flag.Int("audit.tamper", 100, "random tamperings of each kind")

// segModel is a segment file taken apart: its header and raw frames.
type segModel struct {
	path   string
	first  uint64
	head   []byte
	frames [][]byte
}

func loadSegments(t *testing.T, dir string) []*segModel {
	t.Helper()
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []*segModel
	for _, s := range segs {
		b, err := os.ReadFile(s.path)
		if err != nil {
			t.Fatal(err)
		}
		hl := 17 + int(b[16])*hashSize + 4
		m := &segModel{path: s.path, first: s.first, head: b[:hl]}
		for off := hl; off < len(b); {
			n := frameHead + int(binary.BigEndian.Uint32(b[off:])) + frameTail
			m.frames = append(m.frames, b[off:off+n])
			off += n
		}
		out = append(out, m)
	}
	return out
}

func (m *segModel) bytes() []byte {
	return slices.Concat(append([][]byte{m.head}, m.frames...)...)
}

func saveSegments(t *testing.T, segs []*segModel) {
	t.Helper()
	for _, m := range segs {
		if err := os.WriteFile(m.path, m.bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// copyDir copies the flat directory src to a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// frameAt returns the segment and frame index of record seq.
func frameAt(segs []*segModel, seq uint64) (int, int) {
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i].first <= seq {
			return i, int(seq - segs[i].first)
		}
	}
	panic("no segment")
}

// tamper is one kind of tampering: it changes the copy of the log in dir
// and returns where Verify must report the first problem: a record
// position, or a checkpoint number (for the checkpoint kinds).
type tamper struct {
	name string
	do   func(t *testing.T, dir string, size uint64) (seq uint64, checkpoint uint64)
}

var tampers = []tamper{
	{"byte edit", func(t *testing.T, dir string, size uint64) (uint64, uint64) {
		segs := loadSegments(t, dir)
		s := segs[randN(len(segs))]
		b := s.bytes()
		off := randN(len(b))
		b[off] ^= byte(1 + randN(255))
		if err := os.WriteFile(s.path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		pos, seq := len(s.head), s.first
		if off < pos {
			return s.first, 0
		}
		for _, f := range s.frames {
			if off < pos+len(f) {
				return seq, 0
			}
			pos += len(f)
			seq++
		}
		panic("offset past the segment")
	}},
	{"deletion", func(t *testing.T, dir string, size uint64) (uint64, uint64) {
		segs := loadSegments(t, dir)
		k := uint64(randN(int(size)))
		i, j := frameAt(segs, k)
		segs[i].frames = slices.Delete(segs[i].frames, j, j+1)
		saveSegments(t, segs)
		return k, 0
	}},
	{"insertion", func(t *testing.T, dir string, size uint64) (uint64, uint64) {
		segs := loadSegments(t, dir)
		k := uint64(randN(int(size) + 1)) // before record k; k == size appends
		src := k
		for src == k {
			src = uint64(randN(int(size)))
		}
		si, sj := frameAt(segs, src)
		f := slices.Clone(segs[si].frames[sj])
		i, j := frameAt(segs, min(k, size-1))
		if k == size {
			j++
		}
		segs[i].frames = slices.Insert(segs[i].frames, j, f)
		saveSegments(t, segs)
		return k, 0
	}},
	{"reordering", func(t *testing.T, dir string, size uint64) (uint64, uint64) {
		segs := loadSegments(t, dir)
		a, b := uint64(randN(int(size))), uint64(randN(int(size)))
		for a == b {
			b = uint64(randN(int(size)))
		}
		ai, aj := frameAt(segs, a)
		bi, bj := frameAt(segs, b)
		segs[ai].frames[aj], segs[bi].frames[bj] = segs[bi].frames[bj], segs[ai].frames[aj]
		saveSegments(t, segs)
		return min(a, b), 0
	}},
	{"truncation", func(t *testing.T, dir string, size uint64) (uint64, uint64) {
		segs := loadSegments(t, dir)
		total := 0
		for _, s := range segs {
			total += len(s.bytes())
		}
		cut := randN(total) // bytes kept
		for i, s := range segs {
			b := s.bytes()
			if cut >= len(b) {
				cut -= len(b)
				continue
			}
			if err := os.WriteFile(s.path, b[:cut], 0o600); err != nil {
				t.Fatal(err)
			}
			for _, later := range segs[i+1:] {
				os.Remove(later.path)
			}
			pos, seq := len(s.head), s.first
			for _, f := range s.frames {
				if cut < pos+len(f) {
					break
				}
				pos += len(f)
				seq++
			}
			return seq, 0
		}
		panic("cut past the log")
	}},
	{"forged checkpoint", func(t *testing.T, dir string, size uint64) (uint64, uint64) {
		notes := readNotes(t, dir)
		n := randN(len(notes))
		text, sigs, _ := cutNote(notes[n])
		c, err := ParseCheckpoint(text)
		if err != nil {
			t.Fatal(err)
		}
		switch randN(3) {
		case 0: // another size under the old signature
			c.Size++
			notes[n] = []byte(c.Text() + "\n" + sigs)
		case 1: // another root under the old signature
			c.Root[randN(len(c.Root))] ^= 0x10
			notes[n] = []byte(c.Text() + "\n" + sigs)
		default: // signed by a key of the same name that is not the log's
			c.Root[0] ^= 1
			forged, err := signCheckpoint(c, newTestKey(t).signer)
			if err != nil {
				t.Fatal(err)
			}
			notes[n] = forged
		}
		writeNotes(t, dir, notes)
		return 0, uint64(n + 1)
	}},
	{"deleted checkpoint", func(t *testing.T, dir string, size uint64) (uint64, uint64) {
		notes := readNotes(t, dir)
		n := randN(len(notes))
		writeNotes(t, dir, slices.Delete(notes, n, n+1))
		return 0, uint64(n + 1)
	}},
}

func readNotes(t *testing.T, dir string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, CheckpointsFile))
	if err != nil {
		t.Fatal(err)
	}
	notes, torn := splitNotes(b)
	if torn != len(b) {
		t.Fatal("torn checkpoints file")
	}
	return notes
}

func writeNotes(t *testing.T, dir string, notes [][]byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, CheckpointsFile), bytes.Join(notes, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTamperingDetected makes random changes of every kind to copies of
// one log and requires Verify to report each at the right position.
func TestTamperingDetected(t *testing.T) {
	base := t.TempDir()
	k := newTestKey(t)
	const size = 400
	var at []int
	for i := 40; i < size; i += 40 {
		at = append(at, i)
	}
	buildLog(t, base, k, size, at...)
	mustVerify(t, base, k, nil)

	for _, tm := range tampers {
		t.Run(tm.name, func(t *testing.T) {
			detected, placed := 0, 0
			for trial := range *tamperTrials {
				dir := copyDir(t, base)
				seq, cpn := tm.do(t, dir, size)
				rep, err := Verify(dir, []note.Verifier{k.verifier}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK() {
					t.Errorf("trial %d: not detected", trial)
					continue
				}
				detected++
				p := rep.Problems[0]
				if (cpn != 0 && p.Checkpoint == cpn) || (cpn == 0 && p.Seq == seq) {
					placed++
				} else {
					t.Errorf("trial %d: want record %d checkpoint %d, first problem %v", trial, seq, cpn, p)
				}
				os.RemoveAll(dir)
			}
			t.Logf("%s: %d/%d detected, %d at the right position", tm.name, detected, *tamperTrials, placed)
		})
	}
}

// TestRewrittenRecordDetected rewrites a record with a valid frame (a
// tamperer who knows the format): the signed roots catch it, and the
// report bounds it to the records one checkpoint added.
func TestRewrittenRecordDetected(t *testing.T) {
	base := t.TempDir()
	k := newTestKey(t)
	buildLog(t, base, k, 200, 50, 100, 150)
	for trial := range 20 {
		dir := copyDir(t, base)
		segs := loadSegments(t, dir)
		seq := uint64(randN(200))
		i, j := frameAt(segs, seq)
		f := segs[i].frames[j]
		r, err := Decode(f[frameHead : len(f)-frameTail])
		if err != nil {
			t.Fatal(err)
		}
		r.Resource.ID = fmt.Sprintf("cus_forged_%d", trial)
		rec, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		segs[i].frames[j] = appendFrame(nil, seq, rec)
		saveSegments(t, segs)
		rep, err := Verify(dir, []note.Verifier{k.verifier}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() {
			t.Fatalf("rewritten record %d not detected", seq)
		}
		p := rep.Problems[0]
		if p.Kind != RootMismatch || seq < p.Seq || seq >= p.End || p.End-p.Seq > 50 {
			t.Fatalf("record %d rewritten: first problem %v", seq, p)
		}
	}
}

// TestTrustedCheckpoint: a checkpoint kept elsewhere catches a log cut
// back together with its checkpoints.
func TestTrustedCheckpoint(t *testing.T) {
	dir := t.TempDir()
	k := newTestKey(t)
	buildLog(t, dir, k, 100, 50)
	notes := readNotes(t, dir)
	trusted := notes[1]
	mustVerify(t, dir, k, trusted)

	// Cut the records after 50 and the checkpoint that covered them.
	segs := loadSegments(t, dir)
	i, j := frameAt(segs, 50)
	segs[i].frames = segs[i].frames[:j]
	for _, s := range segs[i+1:] {
		os.Remove(s.path)
	}
	saveSegments(t, segs[:i+1])
	writeNotes(t, dir, notes[:1])
	mustVerify(t, dir, k, nil) // consistent on its own
	rep, err := Verify(dir, []note.Verifier{k.verifier}, trusted)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Problems[0].Kind != MissingCheckpoint || rep.Problems[0].Checkpoint != 2 {
		t.Fatalf("problems %v", rep.Problems)
	}
	var trunc bool
	for _, p := range rep.Problems {
		trunc = trunc || (p.Kind == Truncated && p.Seq == 50)
	}
	if !trunc {
		t.Fatalf("truncation at 50 not reported: %v", rep.Problems)
	}
}
