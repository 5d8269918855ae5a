// Package config reads lineaged's configuration file,
// /etc/lineaged/lineaged.yml.
//
// The file overlays the defaults, which are themselves a YAML file
// embedded in the binary (default.yml, installed as the documented
// example): a key that is absent keeps its default, so an empty file is
// a valid one. Everything else is strict. An unknown key, a value of the
// wrong type or out of range, a duplicate key, a relative path or a
// regexp that does not compile is an error that names the file, the line
// and the full dotted key, and says what is allowed: a typo must stop
// lineaged, not silently leave a host unwatched.
//
// Lists replace the default list rather than extend it, except the file
// watches, whose defaults are switched by files.defaults.
//
// The configuration is plain data: config imports nothing of lineaged,
// so reading a file needs no kernel source. It checks what it can check
// alone (paths, ranges, the names of file operations and log levels) and
// leaves the rest to the packages the values are for: package agent
// builds fanotify's policy from the files: section (agent.FilePolicy).
package config
