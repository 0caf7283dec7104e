// Command vaultbin is the real HashiCorp Vault server, built from the pinned
// Go module so tests run against Vault itself, not a fake. It lives in its
// own module so credscan's go.mod stays small; internal/testenv builds it
// once into a cache directory keyed by version (see TESTING.md).
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}
