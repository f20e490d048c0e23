// Package compose runs multi-container applications from compose files, as
// Docker Compose does: it loads them with compose-go (the loader Docker
// Compose itself uses) and applies them through the Engine API, so that
// berthd or any Docker daemon serves them. The resources it makes carry
// Docker Compose's names and labels, so that berth compose and docker
// compose can manage the same project.
package compose

// Docker Compose's labels (github.com/docker/compose pkg/api/labels.go).
const (
	ProjectLabel         = "com.docker.compose.project"
	ServiceLabel         = "com.docker.compose.service"
	ConfigHashLabel      = "com.docker.compose.config-hash"
	ContainerNumberLabel = "com.docker.compose.container-number"
	VolumeLabel          = "com.docker.compose.volume"
	NetworkLabel         = "com.docker.compose.network"
	WorkingDirLabel      = "com.docker.compose.project.working_dir"
	ConfigFilesLabel     = "com.docker.compose.project.config_files"
	EnvironmentFileLabel = "com.docker.compose.project.environment_file"
	OneoffLabel          = "com.docker.compose.oneoff"
	SlugLabel            = "com.docker.compose.slug"
	ImageDigestLabel     = "com.docker.compose.image"
	DependenciesLabel    = "com.docker.compose.depends_on"
	VersionLabel         = "com.docker.compose.version"
	ReplaceLabel         = "com.docker.compose.replace"
)

// Version is the Compose version berth compose speaks and writes in the
// VersionLabel: that of the Docker Compose whose behaviour it follows.
const Version = "2.40.3"
