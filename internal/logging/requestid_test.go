package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestRequestIDContext(t *testing.T) {
	ctx := context.Background()
	if got := RequestID(ctx); got != "" {
		t.Errorf("RequestID(background) = %q, want empty", got)
	}
	ctx = WithRequestID(ctx, "req-1")
	if got := RequestID(ctx); got != "req-1" {
		t.Errorf("RequestID = %q, want req-1", got)
	}
}

func TestRequestIDHandler(t *testing.T) {
	withID := WithRequestID(context.Background(), "req-1")
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want map[string]any // top-level keys of the line that matter
	}{
		{"added", func(l *slog.Logger) { l.InfoContext(withID, "x") },
			map[string]any{KeyRequestID: "req-1"}},
		{"absent", func(l *slog.Logger) { l.InfoContext(context.Background(), "x") },
			map[string]any{KeyRequestID: nil}},
		{"no context", func(l *slog.Logger) { l.Info("x") },
			map[string]any{KeyRequestID: nil}},
		{"caller's own kept", func(l *slog.Logger) { l.InfoContext(withID, "x", KeyRequestID, "mine") },
			map[string]any{KeyRequestID: "mine"}},
		{"with attrs", func(l *slog.Logger) { l.With(KeySubsystem, "api").InfoContext(withID, "x") },
			map[string]any{KeyRequestID: "req-1", KeySubsystem: "api"}},
		{"in group", func(l *slog.Logger) { l.WithGroup("g").InfoContext(withID, "x") },
			map[string]any{KeyRequestID: nil, "g": map[string]any{KeyRequestID: "req-1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(slog.New(NewRequestIDHandler(slog.NewJSONHandler(&buf, nil))))

			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("decode %s: %v", buf.Bytes(), err)
			}
			for k, want := range tt.want {
				g, _ := json.Marshal(got[k])
				w, _ := json.Marshal(want)
				if string(g) != string(w) {
					t.Errorf("%s = %s, want %s", k, g, w)
				}
			}
		})
	}
}

func TestRequestIDNotDuplicated(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewRequestIDHandler(slog.NewJSONHandler(&buf, nil)))
	log.InfoContext(WithRequestID(context.Background(), "a"), "x", KeyRequestID, "a")
	if n := bytes.Count(buf.Bytes(), []byte(KeyRequestID)); n != 1 {
		t.Errorf("request_id appears %d times: %s", n, buf.Bytes())
	}
}
