# packaging/package.mk: release packages. Included by the Makefile
# (at its end, so that this target does not become the default goal):
#
#   include packaging/package.mk
#
#   make package                                  static binary, .deb and .rpm for amd64 and arm64 in dist/
#   make package PKG_ARCH=amd64 PKG_VERSION=1.2.3 one architecture, an explicit version
#
# The version defaults to git describe --tags --always --dirty, made
# package-legal (see tools/mkpkg). packaging/README.md describes the packages.

GO          ?= go
PKG_OUT     ?= dist
PKG_ARCH    ?= amd64,arm64
PKG_VERSION ?=

.PHONY: package
package:
	$(GO) run ./tools/mkpkg -out $(PKG_OUT) -arch $(PKG_ARCH) $(if $(PKG_VERSION),-version $(PKG_VERSION))
