package report

import "time"

// Report is everything a report shows; the JSON format is this struct.
type Report struct {
	Title     string    `json:"title"`
	Generated time.Time `json:"generated"`
	Inputs    []string  `json:"inputs"`
	Since     time.Time `json:"since,omitempty"`
	Until     time.Time `json:"until,omitempty"`
	First     time.Time `json:"first_event,omitempty"`
	Last      time.Time `json:"last_event,omitempty"`
	Hosts     []string  `json:"hosts"`

	Lines       int   `json:"lines"`
	Events      int   `json:"events"`       // events in the period (alerts excluded)
	AlertsTotal int   `json:"alerts_total"` // alerts in the period
	OutOfPeriod int   `json:"out_of_period"`
	BadLines    int   `json:"bad_lines"`
	Bad         []Bad `json:"bad,omitempty"`

	Timeline     []Hour            `json:"timeline"`
	Categories   []Count           `json:"categories"`
	TopExecs     []Count           `json:"top_executables"`
	TopUsers     []Count           `json:"top_users"`
	Severities   [5]int            `json:"alerts_by_severity"` // index 1..4
	Novel        []NovelKey        `json:"new_against_baseline"`
	Loss         []Counter         `json:"loss_counters"`
	Config       []ConfigEvent     `json:"config_events"`
	Rules        []string          `json:"rules_in_force"` // of the last config event in or before the period
	Settings     map[string]string `json:"settings_in_force,omitempty"`
	ConfigSource string            `json:"config_source,omitempty"`

	Alerts []*Alert `json:"alerts"`
	// TreesOmitted counts alerts past MaxTrees, listed without a tree.
	TreesOmitted int `json:"trees_omitted,omitempty"`

	PCI []*Section `json:"pci_dss"`
	CIS []*CISItem `json:"cis_rhel7"`
}

// Hour is one bar of the timeline.
type Hour struct {
	Start  time.Time `json:"start"`
	Events int       `json:"events"`
	Alerts int       `json:"alerts"`
}

// Count is a name with how often it was seen.
type Count struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// NovelKey is a baseline key an alert said the baseline lacked.
type NovelKey struct {
	Key   string    `json:"key"`
	First time.Time `json:"first"`
	Count int       `json:"count"`
	Rule  string    `json:"rule"`
}

// Counter is one loss or data-quality counter.
type Counter struct {
	Name   string `json:"name"`
	Value  uint64 `json:"value"`
	Source string `json:"source"` // where it was read
	Means  string `json:"means"`
}

// ConfigEvent is one of lineaged's settings events (at start and reload).
type ConfigEvent struct {
	Time   time.Time `json:"time"`
	Host   string    `json:"host"`
	Action string    `json:"action"`
	Source string    `json:"source"`
	Rules  int       `json:"rules"`
	ID     string    `json:"event_id"`
}

// Alert is one alert with its tree.
type Alert struct {
	ID         string     `json:"event_id"`
	Time       time.Time  `json:"time"`
	Host       string     `json:"host"`
	RuleID     string     `json:"rule_id"`
	RuleName   string     `json:"rule_name"`
	Ruleset    string     `json:"ruleset"`
	Techniques []string   `json:"techniques"`
	Severity   int        `json:"severity"`
	RiskScore  int        `json:"risk_score"`
	Reason     string     `json:"reason"`
	Key        string     `json:"key,omitempty"`
	Count      int        `json:"count,omitempty"`
	Novel      []string   `json:"novel,omitempty"`
	Evidence   []Evidence `json:"evidence,omitempty"`

	EntityID   string   `json:"entity_id,omitempty"`
	PID        int      `json:"pid,omitempty"`
	Executable string   `json:"executable,omitempty"`
	Args       []string `json:"args,omitempty"`
	User       string   `json:"user,omitempty"`
	Object     string   `json:"object,omitempty"` // the file or endpoint it is about
	Ancestry   []Ref    `json:"ancestry,omitempty"`
	parentID   string

	Tree *Node  `json:"tree,omitempty"`
	SVG  string `json:"-"`
}

// Section is one PCI-DSS requirement with the evidence found.
type Section struct {
	ID      string  `json:"id"`
	Title   string  `json:"title"`
	Shows   string  `json:"shows"` // what counts as evidence
	Count   int     `json:"count"`
	Rows    []Row   `json:"rows"`              // the first MaxRows
	Summary []Count `json:"summary,omitempty"` // e.g. by user
	Note    string  `json:"note,omitempty"`
	// Fields is 10.2.2's table: each required element, the field that
	// carries it and how many events had it.
	Fields []FieldCoverage `json:"fields,omitempty"`
}

// Row is one piece of evidence.
type Row struct {
	Time    time.Time `json:"time"`
	ID      string    `json:"event_id"`
	User    string    `json:"user"`
	Exe     string    `json:"executable,omitempty"`
	Action  string    `json:"action"`
	Object  string    `json:"object,omitempty"`
	Outcome string    `json:"outcome,omitempty"`
}

// FieldCoverage is one element of PCI-DSS 10.2.2.
type FieldCoverage struct {
	Element string `json:"element"`
	Field   string `json:"field"`
	Events  int    `json:"events"`
	Of      int    `json:"of"`
}

// CISItem is one CIS RHEL 7 v3.1.1 section 4.1 item.
type CISItem struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Status  string   `json:"status"` // covered, partial, missing, compensated, manual, not-configured
	Detail  string   `json:"detail"`
	Met     []string `json:"met,omitempty"`     // expectations met, with the rule that meets each
	Missing []string `json:"missing,omitempty"` // expectations no rule meets
	Events  int      `json:"events"`            // events in the period tagged with the item's rule keys
}

// Node is a node of an alert's process tree.
type Node struct {
	Kind     string  `json:"kind"` // process, file, socket, more
	Label    string  `json:"label"`
	Detail   string  `json:"detail,omitempty"`
	EntityID string  `json:"entity_id,omitempty"`
	PID      int     `json:"pid,omitempty"`
	Focus    bool    `json:"focus,omitempty"`   // the alert's process
	Alerted  bool    `json:"alerted,omitempty"` // has an alert of its own
	Exited   bool    `json:"exited,omitempty"`
	Children []*Node `json:"children,omitempty"`
}
