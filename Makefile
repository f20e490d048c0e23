# berth: build, test images, tests.
GO ?= go
BIN := bin
export CGO_ENABLED := 0

.PHONY: all build deps images test unit integration clean

all: build

deps:
	@scripts/install-deps.sh

CC ?= gcc
CFLAGS ?= -O2 -Wall -Wextra -Werror
# the monitor (one per container) is built on musl: a ninth of glibc's static text, so a
# ninth of the pages the kernel maps back in; musl-gcc finds the kernel's headers after its own
MUSL_CC ?= musl-gcc
MUSL_CFLAGS ?= $(CFLAGS) -idirafter /usr/include -idirafter /usr/include/$(shell $(CC) -dumpmachine)

build: deps
	$(GO) build -trimpath -ldflags "-s -w -X github.com/berth-project/berth/api/handlers/system.GitCommit=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" -o $(BIN)/ ./cmd/berthd ./cmd/berth ./cmd/berth-registry ./cmd/berth-compose
	$(MUSL_CC) $(MUSL_CFLAGS) -static -s -o $(BIN)/berth-monitor cmd/berth-monitor/*.c
	$(CC) $(CFLAGS) -static -s -o $(BIN)/berth-seccomp cmd/berth-seccomp/main.c -lseccomp
	$(CC) $(CFLAGS) -static -s -o $(BIN)/berth-init cmd/berth-init/init.c

images: build
	scripts/make-images.sh /var/cache/berth/images

unit:
	$(GO) test ./...

# The integration suite runs against both runtimes: the native one (default) and runc.
integration: build
	BERTH_BIN=$(CURDIR)/$(BIN) BERTH_IMAGES=/var/cache/berth/images $(GO) test -count=1 -timeout 30m ./test/integration/...
	BERTH_RUNTIME=runc BERTH_BIN=$(CURDIR)/$(BIN) BERTH_IMAGES=/var/cache/berth/images $(GO) test -count=1 -timeout 30m ./test/integration/...

test: build
	scripts/install-deps.sh --test
	scripts/make-images.sh /var/cache/berth/images
	$(GO) test -count=1 -timeout 40m ./...
	$(MAKE) --no-print-directory integration

clean:
	rm -rf $(BIN)
