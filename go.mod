module github.com/lineaged/lineaged

go 1.26.8

require (
	github.com/elastic/go-libaudit/v2 v2.6.2
	github.com/mdlayher/netlink v1.11.2
	github.com/vishvananda/netns v0.0.5
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/sys v0.50.0
)

require (
	github.com/elastic/go-licenser v0.4.1 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/kballard/go-shellquote v0.0.0-20180428030007-95032a82bc51 // indirect
	github.com/mdlayher/socket v0.6.0 // indirect
	golang.org/x/net v0.53.0 // indirect
	golang.org/x/sync v0.20.0 // indirect
)
