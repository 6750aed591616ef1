package keys

import (
	"sync"
	"testing"
)

func TestCacheBoundAndRecency(t *testing.T) {
	c := newCache[int, int](100)
	for i := range 100 {
		c.Add(i, i*10)
	}
	// Keep the first ten hot while many others come in.
	for i := 100; i < 1000; i++ {
		for h := range 10 {
			if v, ok := c.Get(h); !ok || v != h*10 {
				t.Fatalf("hot entry %d evicted after %d inserts", h, i-100)
			}
		}
		c.Add(i, i*10)
		if c.Len() > 100 {
			t.Fatalf("cache grew to %d", c.Len())
		}
	}
	if _, ok := c.Peek(500); ok {
		// Cold entries do get evicted; 500 is far older than the bound.
		if _, ok := c.Peek(999); !ok {
			t.Fatal("the newest entry is missing")
		}
	}
	c.Remove(999)
	if _, ok := c.Get(999); ok {
		t.Fatal("removed entry still there")
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := newCache[int, int](64)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10000 {
				k := (i * (g + 1)) % 200
				if v, ok := c.Get(k); ok && v != k {
					t.Errorf("key %d holds %d", k, v)
					return
				}
				c.Add(k, k)
			}
		}()
	}
	wg.Wait()
	if c.Len() > 64 {
		t.Fatalf("cache grew to %d", c.Len())
	}
}
