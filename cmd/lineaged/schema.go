package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/lineaged/lineaged/output"
)

// cmdSchema prints the field table as an index template or as
// docs/fields.md.
func cmdSchema(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("schema", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "elasticsearch", "elasticsearch or opensearch (an index template), or markdown (the field list)")
	pattern := fs.String("index-pattern", "lineaged-*", "the indices the template applies to")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lineaged schema: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var b []byte
	if *format == "markdown" {
		b = output.FieldsMarkdown()
	} else {
		var err error
		if b, err = output.IndexTemplate(*format, *pattern); err != nil {
			fmt.Fprintf(stderr, "lineaged schema: %v\n", err)
			return 2
		}
	}
	if _, err := stdout.Write(b); err != nil {
		fmt.Fprintf(stderr, "lineaged schema: %v\n", err)
		return 1
	}
	return 0
}
