package output

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/lineaged/lineaged/event"
)

// TestIndexTemplate: the template is JSON that maps every field of the
// table at its path with the table's type (which event's schema test
// holds to ECS), and each ".*" row as a dynamic template.
func TestIndexTemplate(t *testing.T) {
	for _, flavor := range []string{"elasticsearch", "opensearch"} {
		b, err := IndexTemplate(flavor, "")
		if err != nil {
			t.Fatal(err)
		}
		var tpl struct {
			IndexPatterns []string `json:"index_patterns"`
			Template      struct {
				Mappings struct {
					Dynamic    []map[string]map[string]any `json:"dynamic_templates"`
					Properties map[string]any              `json:"properties"`
				} `json:"mappings"`
			} `json:"template"`
		}
		if err := json.Unmarshal(b, &tpl); err != nil {
			t.Fatalf("%s: %v", flavor, err)
		}
		if len(tpl.IndexPatterns) != 1 || tpl.IndexPatterns[0] != "lineaged-*" {
			t.Errorf("%s: index_patterns %v", flavor, tpl.IndexPatterns)
		}
		dyn := map[string]bool{}
		for _, d := range tpl.Template.Mappings.Dynamic {
			for _, v := range d {
				dyn[v["path_match"].(string)] = true
			}
		}
		for _, f := range event.Fields {
			if strings.HasSuffix(f.Path, ".*") {
				if !dyn[f.Path] {
					t.Errorf("%s: no dynamic template for %s", flavor, f.Path)
				}
				continue
			}
			var cur any = map[string]any{"properties": tpl.Template.Mappings.Properties}
			for _, k := range strings.Split(f.Path, ".") {
				props, _ := cur.(map[string]any)["properties"].(map[string]any)
				cur = props[k]
				if cur == nil {
					t.Fatalf("%s: %s is not mapped", flavor, f.Path)
				}
			}
			want := event.ESType(f)
			if flavor == "opensearch" && want == "wildcard" {
				want = "keyword"
			}
			if flavor == "opensearch" && want == "match_only_text" {
				want = "text"
			}
			got, _ := cur.(map[string]any)["type"].(string)
			if want == "object" {
				got = "object"
			}
			if got != want {
				t.Errorf("%s: %s mapped as %q, want %q", flavor, f.Path, got, want)
			}
		}
	}
	if _, err := IndexTemplate("splunk", ""); err == nil {
		t.Error("an unknown flavor was accepted")
	}
}

// TestFieldsDoc: docs/fields.md is what FieldsMarkdown generates (run
// lineaged schema --format markdown > docs/fields.md after changing the
// field table).
func TestFieldsDoc(t *testing.T) {
	got, err := os.ReadFile("../docs/fields.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, FieldsMarkdown()) {
		t.Error("docs/fields.md is out of date: run go run ./cmd/lineaged schema --format markdown > docs/fields.md")
	}
}
