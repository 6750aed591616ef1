package classify

import "testing"

func TestEveryPIIAndPCIFieldIsSealed(t *testing.T) {
	for _, f := range Fields() {
		if f.Class.MustSeal() && f.Protection&Sealed == 0 {
			t.Errorf("%s is %s but not sealed", f.Name(), f.Class)
		}
		if f.Protection&Sealed != 0 && f.KeyDomain == "" {
			t.Errorf("%s is sealed but names no key domain", f.Name())
		}
		if f.Description == "" {
			t.Errorf("%s has no description", f.Name())
		}
	}
}

func TestLookup(t *testing.T) {
	f, ok := Lookup("customers", "email")
	if !ok || f.Class != PII || f.Protection&BlindIndexed == 0 {
		t.Fatalf("customers.email = %+v, %v", f, ok)
	}
	if _, ok := Lookup("customers", "nope"); ok {
		t.Fatal("undeclared field found")
	}
}

func TestNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f.Name()] {
			t.Errorf("%s declared twice", f.Name())
		}
		seen[f.Name()] = true
	}
}

func TestStrings(t *testing.T) {
	if got := (Sealed | Masked).String(); got != "sealed, masked" {
		t.Errorf("protection string = %q", got)
	}
	if Protection(0).String() != "none" || PCI.String() != "pci" {
		t.Error("unexpected names")
	}
}
