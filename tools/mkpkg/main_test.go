package main

import "testing"

func TestPackageVersion(t *testing.T) {
	for in, want := range map[string]string{
		"v1.2.3":                  "1.2.3",
		"1.2.3":                   "1.2.3",
		"v1.2.3-rc1":              "1.2.3~rc1",
		"v1.2.3-5-gabc1234":       "1.2.3+git5.gabc1234",
		"v1.2.3-rc.1-5-gabc1234":  "1.2.3~rc.1+git5.gabc1234",
		"v1.2.3-5-gabc1234-dirty": "1.2.3+git5.gabc1234.dirty",
		"v1.2.3-dirty":            "1.2.3+dirty",
		"0d8489c":                 "0.0.0~git0d8489c",
		"0d8489c-dirty":           "0.0.0~git0d8489c+dirty",
		"9.9.9~it":                "9.9.9~it",
		"release/2024_x":          "0.0.0~release.2024.x",
		"":                        "0.0.0",
	} {
		if got := packageVersion(in); got != want {
			t.Errorf("packageVersion(%q) = %q, want %q", in, got, want)
		}
	}
}
