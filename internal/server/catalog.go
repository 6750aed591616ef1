package server

import (
	"net/http"

	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/store"
)

type createProductIn struct {
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Price       int64  `json:"price"`
	Currency    string `json:"currency"`
	Stock       int64  `json:"stock"`
}

type updateProductIn struct {
	Version     int64   `json:"version"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Price       *int64  `json:"price"`
	Stock       *int64  `json:"stock"`
}

func productRes(id string) resource { return resource{typ: policy.TypeProduct, id: id} }

func (a *API) createProduct(c *call) {
	var in createProductIn
	body, p, ok := decodeBody(c.r, &in)
	if !ok {
		c.problem(p)
		return
	}
	if !a.allowed(c, policy.CreateProduct, productRes("")) {
		c.problem(ProblemForbidden)
		return
	}
	a.createOnce(c, body, func() (string, any, error) {
		p, err := a.d.Store.CreateProduct(c.ctx, store.NewProduct(in))
		if err != nil {
			return "", nil, err
		}
		return p.ID, productView(p), nil
	}, func(id string) (any, error) {
		p, err := a.d.Store.GetProduct(c.ctx, id)
		if err != nil {
			return nil, err
		}
		return productView(p), nil
	})
}

func (a *API) getProduct(c *call) {
	id := c.r.PathValue("id")
	if !a.allowed(c, policy.ReadProduct, productRes(id)) {
		c.problem(ProblemForbidden)
		return
	}
	p, err := a.d.Store.GetProduct(c.ctx, id)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	c.json(http.StatusOK, productView(p))
}

func (a *API) updateProduct(c *call) {
	id := c.r.PathValue("id")
	var in updateProductIn
	if p, ok := DecodeJSON(c.r, &in); !ok {
		c.problem(p)
		return
	}
	if !a.allowed(c, policy.UpdateProduct, productRes(id)) {
		c.problem(ProblemForbidden)
		return
	}
	p, err := a.d.Store.UpdateProduct(c.ctx, id, in.Version, store.ProductPatch{Name: in.Name,
		Description: in.Description, Price: in.Price, Stock: in.Stock})
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	c.json(http.StatusOK, productView(p))
}

func (a *API) deleteProduct(c *call) {
	id := c.r.PathValue("id")
	if !a.allowed(c, policy.DeleteProduct, productRes(id)) {
		c.problem(ProblemForbidden)
		return
	}
	if err := a.d.Store.DeleteProduct(c.ctx, id); err != nil {
		a.storeProblem(c, err)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

func (a *API) listProducts(c *call) {
	if !a.allowed(c, policy.ListProducts, productRes("")) {
		c.problem(ProblemForbidden)
		return
	}
	cursor, limit, ok := pageArgs(c)
	if !ok {
		return
	}
	page, err := a.d.Store.ListProducts(c.ctx, cursor, limit)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	out := Page[ProductView]{Items: []ProductView{}, Next: page.Next}
	for _, p := range page.Items {
		out.Items = append(out.Items, productView(p))
	}
	c.json(http.StatusOK, out)
}

type orderLineIn struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

type createOrderIn struct {
	CustomerID   string        `json:"customer_id"`
	Lines        []orderLineIn `json:"lines"`
	Currency     string        `json:"currency"`
	PaymentToken string        `json:"payment_token"`
	Notes        string        `json:"notes"`
}

type orderStatusIn struct {
	Version int64  `json:"version"`
	Status  string `json:"status"`
}

func orderRes(o *store.Order) resource {
	return resource{typ: policy.TypeOrder, id: o.ID, owner: o.CustomerID}
}

func (a *API) createOrder(c *call) {
	var in createOrderIn
	body, p, ok := decodeBody(c.r, &in)
	if !ok {
		c.problem(p)
		return
	}
	res := resource{typ: policy.TypeOrder, owner: in.CustomerID}
	if !a.allowed(c, policy.CreateOrder, res) {
		c.problem(ProblemForbidden)
		return
	}
	n := store.NewOrder{CustomerID: in.CustomerID, Currency: in.Currency,
		PaymentToken: in.PaymentToken, Notes: in.Notes}
	for _, l := range in.Lines {
		n.Lines = append(n.Lines, store.NewOrderLine(l))
	}
	a.createOnce(c, body, func() (string, any, error) {
		o, err := a.d.Store.CreateOrder(c.ctx, n)
		if err != nil {
			return "", nil, err
		}
		return o.ID, orderView(o, a.clearNotes(c, customerRes(o.CustomerID))), nil
	}, func(id string) (any, error) {
		o, err := a.d.Store.GetOrder(c.ctx, id)
		if err != nil {
			return nil, err
		}
		return orderView(o, a.clearNotes(c, customerRes(o.CustomerID))), nil
	})
}

// order loads an order and authorizes action on it; callers that may not
// see it get 404, so order ids cannot be probed.
func (a *API) order(c *call, action string) (*store.Order, bool) {
	o, err := a.d.Store.GetOrder(c.ctx, c.r.PathValue("id"))
	if err != nil {
		a.storeProblem(c, err)
		return nil, false
	}
	if !a.allowed(c, action, orderRes(o)) {
		c.problem(ProblemNotFound)
		return nil, false
	}
	return o, true
}

func (a *API) getOrder(c *call) {
	if o, ok := a.order(c, policy.ReadOrder); ok {
		c.json(http.StatusOK, orderView(o, a.clearNotes(c, customerRes(o.CustomerID))))
	}
}

func (a *API) updateOrderStatus(c *call) {
	var in orderStatusIn
	if p, ok := DecodeJSON(c.r, &in); !ok {
		c.problem(p)
		return
	}
	o, ok := a.order(c, policy.UpdateOrderStatus)
	if !ok {
		return
	}
	o, err := a.d.Store.UpdateOrderStatus(c.ctx, o.ID, in.Version, in.Status)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	c.json(http.StatusOK, orderView(o, a.clearNotes(c, customerRes(o.CustomerID))))
}

func (a *API) listCustomerOrders(c *call) {
	id := c.r.PathValue("id")
	if !a.allowed(c, policy.ListOrders, resource{typ: policy.TypeOrder, owner: id}) {
		if c.principal.Kind == policy.KindCustomer {
			c.problem(ProblemNotFound)
		} else {
			c.problem(ProblemForbidden)
		}
		return
	}
	cursor, limit, ok := pageArgs(c)
	if !ok {
		return
	}
	page, err := a.d.Store.ListOrdersByCustomer(c.ctx, id, cursor, limit)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	clear := a.clearNotes(c, customerRes(id))
	out := Page[OrderView]{Items: []OrderView{}, Next: page.Next}
	for _, o := range page.Items {
		out.Items = append(out.Items, orderView(o, clear))
	}
	c.json(http.StatusOK, out)
}
