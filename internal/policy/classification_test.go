package policy

import (
	"testing"

	"github.com/securecart/securecart/internal/classify"
)

func TestClassification(t *testing.T) {
	if got := Classification(TypeCustomer); got != classify.PII.String() {
		t.Fatalf("a customer's classification is %q, want %q", got, classify.PII.String())
	}
	for _, typ := range []string{TypeOrder, TypeProduct, TypeCollection, TypeTransaction} {
		if got := Classification(typ); got != "" {
			t.Errorf("%s carries classification %q", typ, got)
		}
	}
}
