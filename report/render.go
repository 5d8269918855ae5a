package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lineaged/lineaged/internal/atomicfile"
)

// Formats are the report formats Write takes.
var Formats = []string{"html", "md", "json"}

// Write writes r into dir as report.html, report.md (with the trees as
// trees/*.svg beside it) or report.json, and returns the file's path. The
// file is replaced through atomicfile (a temporary file, fsynced and
// renamed), so a reader, or a crash mid-write, never leaves half a report
// under the final name.
func Write(r *Report, format, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("report: %v", err)
	}
	var name string
	var fn func(io.Writer) error
	switch format {
	case "html":
		name, fn = "report.html", func(w io.Writer) error { return HTML(w, r) }
	case "md":
		name, fn = "report.md", func(w io.Writer) error { return Markdown(w, r, dir) }
	case "json":
		name, fn = "report.json", func(w io.Writer) error { return JSON(w, r) }
	default:
		return "", fmt.Errorf("report: unknown format %q (use html, md or json)", format)
	}
	out := filepath.Join(dir, name)
	if err := atomicfile.Write(out, 0o640, fn); err != nil {
		return "", fmt.Errorf("report: writing %s: %w", out, err)
	}
	return out, nil
}

// JSON writes the report as one indented JSON document.
func JSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(r)
}

var sevNames = [...]string{"", "low", "medium", "high", "critical"}

func sevName(s int) string {
	if s >= 1 && s <= 4 {
		return sevNames[s]
	}
	return "unknown"
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// period says what span the report covers.
func (r *Report) period() string {
	from, to := r.Since, r.Until
	if from.IsZero() {
		from = r.First
	}
	if to.IsZero() {
		to = r.Last
	}
	return fmtTime(from) + " to " + fmtTime(to)
}

func (r *Report) lossTotal() uint64 {
	var n uint64
	for _, c := range r.Loss {
		n += c.Value
	}
	return n
}

// timelineSVG draws events and alerts per hour as bars: events in blue on
// a square-root scale (one busy hour would flatten the rest), alerts as
// red marks with their count.
func timelineSVG(hours []Hour) string {
	if len(hours) == 0 {
		return ""
	}
	const barW, gap, hgt, top = 14.0, 3.0, 120.0, 18.0
	maxE := 1
	for _, h := range hours {
		if h.Events > maxE {
			maxE = h.Events
		}
	}
	w := float64(len(hours))*(barW+gap) + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="events and alerts per hour">`, w, hgt+top+30, w, hgt+top+30)
	sq := func(v int) float64 { return hgt * math.Sqrt(float64(v)) / math.Sqrt(float64(maxE)) }
	for i, h := range hours {
		x := 30 + float64(i)*(barW+gap)
		eh := sq(h.Events)
		fmt.Fprintf(&b, `<g><title>%s: %d events, %d alerts</title><rect x="%.1f" y="%.1f" width="%.0f" height="%.1f" fill="#6b8fc7"/>`,
			h.Start.Format("2006-01-02 15:00Z"), h.Events, h.Alerts, x, top+hgt-eh, barW, eh)
		if h.Alerts > 0 {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.0f" height="4" fill="#c62828"/><text x="%.1f" y="%.1f" font-size="9" fill="#c62828" text-anchor="middle">%d</text>`,
				x, top+hgt-eh-6, barW, x+barW/2, top+hgt-eh-9, h.Alerts)
		}
		if i%6 == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="9" fill="#555">%s</text>`, x, top+hgt+14, h.Start.Format("02 15h"))
		}
		b.WriteString(`</g>`)
	}
	fmt.Fprintf(&b, `<text x="0" y="12" font-size="9" fill="#555">max %d events/h (bar height ∝ √events); red: alerts</text>`, maxE)
	b.WriteString(`</svg>`)
	return b.String()
}

var funcs = template.FuncMap{
	"time":     fmtTime,
	"sev":      sevName,
	"svg":      func(s string) template.HTML { return template.HTML(s) }, // built by renderSVG, every text escaped
	"timeline": func(h []Hour) template.HTML { return template.HTML(timelineSVG(h)) },
	"join":     strings.Join,
	"args": func(a []string) string {
		return cut(strings.Join(a, " "), 200)
	},
	"period":    func(r *Report) string { return r.period() },
	"losstotal": func(r *Report) uint64 { return r.lossTotal() },
	"statusClass": func(s string) string {
		switch s {
		case "covered":
			return "ok"
		case "compensated", "partial", "manual":
			return "warn"
		}
		return "bad"
	},
	"pct": func(n, of int) string {
		if of == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
	},
	"sub": func(a, b int) int { return a - b },
}

var htmlTmpl = template.Must(template.New("report").Funcs(funcs).Parse(htmlText))

// HTML writes the report as one self-contained HTML document: styles and
// pictures inline, no script, nothing fetched.
func HTML(w io.Writer, r *Report) error { return htmlTmpl.Execute(w, r) }
