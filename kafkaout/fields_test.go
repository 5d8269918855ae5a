package kafkaout

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

func TestFields(t *testing.T) {
	for _, tc := range []struct {
		line  string
		host  string // "-": no key
		alert bool
	}{
		{`{"@timestamp":"x","event":{"id":"1","kind":"event"},"host":{"name":"web-1"},"process":{}}`, "web-1", false},
		{`{"@timestamp":"x","event":{"id":"1","kind":"alert","severity":73},"host":{"name":"db-2"}}`, "db-2", true},
		{` { "host" : { "id" : 3 , "name" : "sp ace" } , "event" : { "kind" : "alert" } } `, "sp ace", true},
		// A string value holding the fields is skipped whole.
		{`{"process":{"title":"echo \"host\":{\"name\":\"evil\"},\"event\":{\"kind\":\"alert\"}"},"host":{"name":"h"}}`, "h", false},
		// Nested objects and arrays before them are skipped.
		{`{"a":[{"host":{"name":"no"}},[1,{"b":"}"}]],"event":{"x":{"kind":"alert"},"kind":"event"},"host":{"name":"yes"}}`, "yes", false},
		// The first of a repeated key counts.
		{`{"host":{"name":"first"},"host":{"name":"second"}}`, "first", false},
		{`{"host":{"name":"a","name":"b"}}`, "a", false},
		// Escapes are decoded, in keys too.
		{`{"ho\u0073t":{"name":"caf\u00e9\n"},"event":{"kind":"al\u0065rt"}}`, "café\n", true},
		// No host, a host that is not an object, a name that is not a string.
		{`{"event":{"kind":"alert"}}`, "-", true},
		{`{"host":"web-1"}`, "-", false},
		{`{"host":{"name":7}}`, "-", false},
		{`{"host":{"name":""}}`, "", false},
		// Not an object, or broken.
		{`["host",{"name":"x"}]`, "-", false},
		{``, "-", false},
		{`{"host":{"name":"trunc`, "-", false},
		{`{"event":{"kind":"alert"},"host":{"name":"x"`, "x", true},
	} {
		host, alert := fields([]byte(tc.line))
		want := []byte(tc.host)
		if tc.host == "-" {
			want = nil
		}
		if (host == nil) != (want == nil) || !bytes.Equal(host, want) || alert != tc.alert {
			t.Errorf("fields(%s) = %q (nil %v), %v; want %q, %v", tc.line, host, host == nil, alert, tc.host, tc.alert)
		}
	}
}

// TestFieldsGolden: every line of the replay golden file agrees with
// encoding/json.
func TestFieldsGolden(t *testing.T) {
	f, err := os.Open("../testdata/sample/audit.log.golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		checkFields(t, sc.Bytes())
		n++
	}
	if n == 0 {
		t.Fatal("no lines")
	}
}

// oracle reads the same fields with encoding/json's tokenizer: the first
// "host" member, if an object, its first "name" member, if a string;
// likewise event.kind.
func oracle(line []byte) (host []byte, alert bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	seenHost, seenEvent := false, false
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return host, alert
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return host, alert
		}
		switch {
		case k == "host" && !seenHost:
			seenHost = true
			if s, ok := firstString(v, "name"); ok {
				host = []byte(s)
			}
		case k == "event" && !seenEvent:
			seenEvent = true
			s, _ := firstString(v, "kind")
			alert = s == "alert"
		}
	}
	return host, alert
}

func firstString(obj json.RawMessage, name string) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", false
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return "", false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return "", false
		}
		if k == name {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return "", false
			}
			return s, true
		}
	}
	return "", false
}

func checkFields(t *testing.T, line []byte) {
	t.Helper()
	host, alert := fields(line)
	if !json.Valid(line) {
		return // no panic is all that is asked
	}
	wh, wa := oracle(line)
	if (host == nil) != (wh == nil) || !bytes.Equal(host, wh) || alert != wa {
		t.Fatalf("fields(%q) = %q (nil %v), %v; encoding/json: %q (nil %v), %v", line, host, host == nil, alert, wh, wh == nil, wa)
	}
}

// FuzzHostName: fields never panics, and on valid JSON finds what
// encoding/json finds (the record key and the
// topic come from files on disk after a restart: the spool).
func FuzzHostName(f *testing.F) {
	for _, s := range []string{
		`{"@timestamp":"2026-11-27T03:36:05.361Z","event":{"id":"golden-1","kind":"event","category":["process"]},"host":{"name":"sample"},"process":{"pid":1}}`,
		`{"event":{"kind":"alert","severity":73,"risk_score":73.5},"host":{"name":"db-2","ip":["10.0.0.1"]}}`,
		`{"process":{"title":"a \"host\":{\"name\":\"evil\"}"},"host":{"name":"h\u00e9\ud83d\ude00"}}`,
		`{"host":{"name":"a","name":"b"},"host":{"name":"c"}}`,
		`{"ho\u0073t":{"name":"x\\y"},"event":{"kind":"al\u0065rt"}}`,
		`{"a":[1,[2,{"b":null}],true,false,-1.5e3],"host":{"name":7}}`,
		"{\"host\":{\"name\":\"\xff\xfe\"}}",
		`{"host":{"name":"trunc`,
		`["host"]`,
		` {} `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		checkFields(t, line)
	})
}
