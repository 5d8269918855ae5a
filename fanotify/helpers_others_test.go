//go:build !linux

package fanotify

import "errors"

func mkfifo(path string) error { return errors.New("no mkfifo here") }
