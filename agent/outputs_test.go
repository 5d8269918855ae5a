package agent

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/kafkaout"
	"github.com/lineaged/lineaged/syslogout"
)

// TestOutputsKafka: with output.kafka, every line written to the events
// file goes to Kafka too (kfake, in-process), its spool is one of
// lineaged's own paths, and a reload cannot change the section.
func TestOutputsKafka(t *testing.T) {
	cl, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "lineaged-events", "lineaged-alerts"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	dir := t.TempDir()
	c := config.Default()
	c.Output.File = filepath.Join(dir, "events.jsonl")
	c.Output.Kafka.Brokers = cl.ListenAddrs()
	c.Output.Kafka.SpoolDir = filepath.Join(dir, "kafka-spool")
	o, err := openOutputs(c, nil, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.kafka == nil || o.slog != nil || len(o.copies()) != 1 {
		t.Fatalf("outputs: kafka %v, syslog %v", o.kafka, o.slog)
	}
	for _, k := range []event.Kind{event.KindEvent, event.KindAlert} {
		if err := o.sink.Write(&event.Event{TimeMsec: 1, Kind: k, Host: "web-1", Message: k.String()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.sink.Flush(); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(60 * time.Second); o.kafka.Stats().Sent != 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("kafka: %+v", o.kafka.Stats())
		}
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	// The real JSON lines: alert on its topic, host.name the key.
	kc, err := kgo.NewClient(kgo.SeedBrokers(cl.ListenAddrs()...), kgo.ConsumeTopics("lineaged-events", "lineaged-alerts"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got := map[string]string{}
	for len(got) < 2 && ctx.Err() == nil {
		kc.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got[r.Topic] = string(r.Key) })
	}
	if got["lineaged-events"] != "web-1" || got["lineaged-alerts"] != "web-1" {
		t.Errorf("records by topic, their keys: %v", got)
	}
	if !slices.Contains(OwnPaths(c), c.Output.Kafka.SpoolDir) {
		t.Errorf("own paths %v lack the Kafka spool", OwnPaths(c))
	}
	next := config.Default()
	next.Output = c.Output
	next.Output.Kafka.Brokers = []string{"elsewhere:9092"}
	if notes := KeepRestartOnly(c, next); len(notes) != 1 || !strings.HasPrefix(notes[0], "output.kafka changed") ||
		!slices.Equal(next.Output.Kafka.Brokers, c.Output.Kafka.Brokers) {
		t.Errorf("reload: %q, brokers %v", notes, next.Output.Kafka.Brokers)
	}
}

// TestWritePrometheusOutputs: the syslog and Kafka counters appear when
// those outputs are on.
func TestWritePrometheusOutputs(t *testing.T) {
	var b bytes.Buffer
	if err := WritePrometheus(&b, &Counters{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "lineaged_kafka_") || strings.Contains(b.String(), "lineaged_syslog_") {
		t.Errorf("output counters without the outputs:\n%s", b.String())
	}
	b.Reset()
	c := &Counters{Syslog: &syslogout.Stats{Sent: 3},
		Kafka: &kafkaout.Stats{Sent: 5, Spooled: 2, Dropped: 1, Errors: 4, Queued: 7, SpoolBytes: 100, Failing: true}}
	if err := WritePrometheus(&b, c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`lineaged_syslog_messages_total{outcome="sent"} 3`,
		`lineaged_kafka_lines_total{outcome="sent"} 5`,
		`lineaged_kafka_lines_total{outcome="spooled"} 2`,
		`lineaged_kafka_lines_total{outcome="dropped"} 1`,
		`lineaged_kafka_lines_total{outcome="corrupt"} 0`,
		"lineaged_kafka_delivery_errors_total 4",
		"lineaged_kafka_queued 7",
		"lineaged_kafka_spool_bytes 100",
		"lineaged_kafka_failing 1",
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}
