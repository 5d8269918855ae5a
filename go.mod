module github.com/lineaged/lineaged

go 1.26.8

require (
	github.com/elastic/go-libaudit/v2 v2.6.2
	golang.org/x/sys v0.50.0
)
