// Package atomicfile replaces a file so that a crash or a kill -9 at any
// moment leaves either the old content or the new one whole, never a mix
// and never an empty file: the one way lineaged writes its state files
// (the baseline, the audit state, the live view's token, the output
// spools' segments, the auditd replacement marker, reports).
//
// The sequence is the one the kernel's rename(2) guarantee needs: write a
// temporary file in the same directory (rename is atomic only within a
// filesystem), fsync it (else the rename can reach the disk before the
// data, and a power cut leaves an empty file under the final name), rename
// it over the target, then fsync the directory (else the rename itself can
// be lost). A failure at any step removes the temporary file and leaves
// the target as it was.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile replaces path with data, created with mode perm.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write replaces path with what fill writes, created with mode perm (the
// umask does not apply: the mode is set explicitly, so a secret is never
// readable by others even for a moment). fill's writer is buffered; an
// error from fill leaves path untouched and is returned as it is.
func Write(path string, perm fs.FileMode, fill func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close() // a second Close of a closed file only returns an error
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("replacing %s: chmod %s: %w", path, tmp, err)
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	if err = fill(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("replacing %s: writing %s: %w", path, tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("replacing %s: fsync %s: %w", path, tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("replacing %s: closing %s: %w", path, tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory, so that a rename or a new entry in it
// survives a power cut.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
