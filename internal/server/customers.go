package server

import (
	"net/http"
	"strconv"

	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/store"
)

type addressIn struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	Region     string `json:"region"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

func (a addressIn) address() store.Address { return store.Address(a) }

type createCustomerIn struct {
	Name    string    `json:"name"`
	Email   string    `json:"email"`
	Phone   string    `json:"phone"`
	Address addressIn `json:"address"`
}

type updateCustomerIn struct {
	Version int64      `json:"version"`
	Name    *string    `json:"name"`
	Email   *string    `json:"email"`
	Phone   *string    `json:"phone"`
	Address *addressIn `json:"address"`
}

type lookupIn struct {
	Email string `json:"email"`
}

func customerRes(id string) resource {
	return resource{typ: policy.TypeCustomer, id: id, owner: id}
}

func (a *API) createCustomer(c *call) {
	var in createCustomerIn
	body, p, ok := decodeBody(c.r, &in)
	if !ok {
		c.problem(p)
		return
	}
	if !a.allowed(c, policy.CreateCustomer, resource{typ: policy.TypeCustomer}) {
		c.problem(ProblemForbidden)
		return
	}
	a.createOnce(c, body, func() (string, any, error) {
		cust, err := a.d.Store.CreateCustomer(c.ctx, store.NewCustomer{Name: in.Name, Email: in.Email,
			Phone: in.Phone, Address: in.Address.address()})
		if err != nil {
			return "", nil, err
		}
		return cust.ID, customerView(cust, a.clearPII(c, customerRes(cust.ID))), nil
	}, func(id string) (any, error) {
		cust, err := a.d.Store.GetCustomer(c.ctx, id)
		if err != nil {
			return nil, err
		}
		return customerView(cust, a.clearPII(c, customerRes(id))), nil
	})
}

// readable authorizes action on a customer. A caller that may not read
// another customer's data learns nothing about whether it exists: the
// answer is 404 for customers (their own rows aside) and 403 otherwise.
func (a *API) readable(c *call, action, id string) bool {
	if a.allowed(c, action, customerRes(id)) {
		return true
	}
	if c.principal.Kind == policy.KindCustomer {
		c.problem(ProblemNotFound)
	} else {
		c.problem(ProblemForbidden)
	}
	return false
}

func (a *API) getCustomer(c *call) {
	id := c.r.PathValue("id")
	if !a.readable(c, policy.ReadCustomer, id) {
		return
	}
	cust, err := a.d.Store.GetCustomer(c.ctx, id)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	c.json(http.StatusOK, customerView(cust, a.clearPII(c, customerRes(id))))
}

func (a *API) updateCustomer(c *call) {
	id := c.r.PathValue("id")
	var in updateCustomerIn
	if p, ok := DecodeJSON(c.r, &in); !ok {
		c.problem(p)
		return
	}
	if !a.readable(c, policy.UpdateCustomer, id) {
		return
	}
	patch := store.CustomerPatch{Name: in.Name, Email: in.Email, Phone: in.Phone}
	if in.Address != nil {
		addr := in.Address.address()
		patch.Address = &addr
	}
	cust, err := a.d.Store.UpdateCustomer(c.ctx, id, in.Version, patch)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	c.json(http.StatusOK, customerView(cust, a.clearPII(c, customerRes(id))))
}

func (a *API) listCustomers(c *call) {
	if !a.allowed(c, policy.ListCustomers, resource{typ: policy.TypeCustomer}) {
		c.problem(ProblemForbidden)
		return
	}
	cursor, limit, ok := pageArgs(c)
	if !ok {
		return
	}
	page, err := a.d.Store.ListCustomers(c.ctx, cursor, limit)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	out := Page[CustomerView]{Items: []CustomerView{}, Next: page.Next}
	for _, cust := range page.Items {
		out.Items = append(out.Items, customerView(cust, a.clearPII(c, customerRes(cust.ID))))
	}
	c.json(http.StatusOK, out)
}

// lookupCustomer finds a customer by email. The email travels in the body,
// never in a URL that proxies and access logs would keep.
func (a *API) lookupCustomer(c *call) {
	var in lookupIn
	if p, ok := DecodeJSON(c.r, &in); !ok {
		c.problem(p)
		return
	}
	if !a.allowed(c, policy.LookupCustomer, resource{typ: policy.TypeCustomer}) {
		c.problem(ProblemForbidden)
		return
	}
	cust, err := a.d.Store.FindCustomerByEmail(c.ctx, in.Email)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	c.json(http.StatusOK, customerView(cust, a.clearPII(c, customerRes(cust.ID))))
}

// exportView is a customer's data as one document (GDPR access).
type exportView struct {
	Customer CustomerView `json:"customer"`
	Orders   []OrderView  `json:"orders"`
}

func (a *API) exportCustomer(c *call) {
	id := c.r.PathValue("id")
	if !a.readable(c, policy.ExportCustomer, id) {
		return
	}
	cust, err := a.d.Store.GetCustomer(c.ctx, id)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	clear := a.clearPII(c, customerRes(id))
	if clear {
		c.inClear(noteFields...)
	}
	out := exportView{Customer: customerView(cust, clear), Orders: []OrderView{}}
	for cursor := ""; ; {
		page, err := a.d.Store.ListOrdersByCustomer(c.ctx, id, cursor, store.MaxPageSize)
		if err != nil {
			a.storeProblem(c, err)
			return
		}
		for _, o := range page.Items {
			out.Orders = append(out.Orders, orderView(o, clear))
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	c.json(http.StatusOK, out)
}

// eraseCustomer crypto-shreds the customer: its data key is destroyed, so
// its PII and order notes open nowhere, backups included.
func (a *API) eraseCustomer(c *call) {
	id := c.r.PathValue("id")
	if !a.readable(c, policy.EraseCustomer, id) {
		return
	}
	if err := a.d.Store.ShredCustomer(c.ctx, id); err != nil {
		a.storeProblem(c, err)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// pageArgs reads ?cursor= and ?limit=.
func pageArgs(c *call) (string, int, bool) {
	q := c.r.URL.Query()
	cursor := q.Get("cursor")
	if len(cursor) > 64 {
		c.problem(ProblemInvalid.With("cursor too long", "cursor"))
		return "", 0, false
	}
	limit := 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > store.MaxPageSize {
			c.problem(ProblemInvalid.With("between 1 and 1000", "limit"))
			return "", 0, false
		}
		limit = n
	}
	return cursor, limit, true
}
