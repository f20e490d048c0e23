package cli

import (
	"encoding/base64"
	"encoding/json"

	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/moby/moby/api/types/registry"
)

// IndexServer is the key Docker Hub's credentials are stored under.
const IndexServer = "https://index.docker.io/v1/"

// ConfigFile is the docker CLI's own ~/.docker/config.json (DOCKER_CONFIG
// honoured), so `docker login` and `berth login` share credentials,
// credsStore and credHelpers included.
func (c *Cli) ConfigFile() *configfile.ConfigFile {
	return config.LoadDefaultConfigFile(c.Err())
}

// ServerOf is the credentials key of an image reference's registry.
func ServerOf(ref string) string {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return IndexServer
	}
	if d := reference.Domain(n); d != "docker.io" {
		return d
	}
	return IndexServer
}

// RegistryAuth is the X-Registry-Auth value for ref's registry: the
// stored credentials, or none.
func (c *Cli) RegistryAuth(ref string) string {
	a, err := c.ConfigFile().GetAuthConfig(ServerOf(ref))
	if err != nil {
		return ""
	}
	return EncodeAuth(registry.AuthConfig{Username: a.Username, Password: a.Password, Auth: a.Auth,
		ServerAddress: a.ServerAddress, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken})
}

// EncodeAuth encodes credentials as the X-Registry-Auth header carries them.
func EncodeAuth(a registry.AuthConfig) string {
	b, _ := json.Marshal(a)
	return base64.URLEncoding.EncodeToString(b)
}
