package containers

// jsonLogPath is inspect's LogPath: set for the json-file driver only.
func jsonLogPath(c *Container) string {
	if c.HostConfig.LogConfig.Type != "json-file" {
		return ""
	}
	return c.logPath()
}
