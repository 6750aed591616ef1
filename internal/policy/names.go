package policy

// Action ids. They are part of the API: stored policies name them, so an id
// is never renamed once shipped.
const (
	CreateCustomer     = "createCustomer"
	ReadCustomer       = "readCustomer"
	UpdateCustomer     = "updateCustomer"
	ListCustomers      = "listCustomers"
	LookupCustomer     = "lookupCustomer"
	ExportCustomer     = "exportCustomer"
	EraseCustomer      = "eraseCustomer"
	ReadPII            = "readPII"
	IssueCustomerToken = "issueCustomerToken"

	CreateProduct = "createProduct"
	ReadProduct   = "readProduct"
	UpdateProduct = "updateProduct"
	DeleteProduct = "deleteProduct"
	ListProducts  = "listProducts"

	CreateOrder       = "createOrder"
	ReadOrder         = "readOrder"
	ListOrders        = "listOrders"
	UpdateOrderStatus = "updateOrderStatus"
	ReadTransaction   = "readTransaction"

	Tokenize         = "tokenize"
	Detokenize       = "detokenize"
	DeleteCardToken  = "deleteCardToken"
	ReadLogs         = "readLogs"
	ReadMetrics      = "readMetrics"
	ReadAudit        = "readAudit"
	ReadFindings     = "readFindings"
	ReadPolicies     = "readPolicies"
	ManagePolicies   = "managePolicies"
	RunAnalyzer      = "runAnalyzer"
	ReadKeyMetadata  = "readKeyMetadata"
	ManageKeys       = "manageKeys"
	ManagePrincipals = "managePrincipals"
	ManageBackups    = "manageBackups"
)

// Resource types, without the SecureCart namespace.
const (
	TypeCustomer    = "Customer"
	TypeOrder       = "Order"
	TypeProduct     = "Product"
	TypeTransaction = "Transaction"
	TypeCollection  = "Collection"
)

// Principal kinds.
const (
	KindPerson   = "person"
	KindService  = "service"
	KindCustomer = "customer"
)

// Roles the default policies know.
const (
	RoleDeveloper       = "developer"
	RoleSecurity        = "security"
	RoleDBA             = "dba"
	RoleAppService      = "app-service"
	RolePaymentProvider = "payment-provider"
	RoleAdmin           = "admin"
)

// Named networks the default policies test in Request.Networks.
const (
	NetworkApplication = "application"
	NetworkPayment     = "payment"
)
