package server

// RouteTable lists every operation of the route table as method and path
// template, for the tests outside the package.
func RouteTable() [][2]string {
	var out [][2]string
	for _, r := range (&API{}).table() {
		out = append(out, [2]string{r.method, r.path})
	}
	return out
}
