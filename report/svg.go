package report

import (
	"fmt"
	"html"
	"strings"
	"unicode/utf8"
)

// Geometry of a drawn tree, in SVG user units (CSS pixels at 100%).
const (
	nodeW = 210
	nodeH = 46
	gapX  = 14
	gapY  = 30
	pad   = 8
)

type placed struct {
	n    *Node
	x, y float64 // top-left
}

// layout places n's subtree with its leaves left to right from slot and
// each parent centred over its children; it returns the next free slot.
func layout(n *Node, depth int, slot float64, out *[]placed, edges *[][2]int) (float64, int) {
	idx := len(*out)
	*out = append(*out, placed{n: n, y: float64(depth * (nodeH + gapY))})
	if len(n.Children) == 0 {
		(*out)[idx].x = slot * (nodeW + gapX)
		return slot + 1, idx
	}
	first, last := -1.0, 0.0
	for _, c := range n.Children {
		var ci int
		slot, ci = layout(c, depth+1, slot, out, edges)
		*edges = append(*edges, [2]int{idx, ci})
		if first < 0 {
			first = (*out)[ci].x
		}
		last = (*out)[ci].x
	}
	(*out)[idx].x = (first + last) / 2
	return slot, idx
}

// renderSVG draws a tree as one inline SVG element: processes as boxes
// (the alert's own in red, other alerted ones in orange, exited ones
// dashed), files and sockets as tinted boxes below the process that
// touched them. Every box has a <title> with its full text, since labels
// are cut to fit.
func renderSVG(root *Node, alertID string) string {
	if root == nil {
		return ""
	}
	var nodes []placed
	var edges [][2]int
	slots, _ := layout(root, 0, 0, &nodes, &edges)
	depth := 0.0
	for _, p := range nodes {
		if p.y > depth {
			depth = p.y
		}
	}
	w := slots*(nodeW+gapX) - gapX + 2*pad
	h := depth + nodeH + 2*pad
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="tree" data-alert="%s" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="process tree of alert %s">`,
		esc(alertID), w, h, w, h, esc(alertID))
	b.WriteString(`<g fill="none" stroke="#8a94a6" stroke-width="1.2">`)
	for _, e := range edges {
		p, c := nodes[e[0]], nodes[e[1]]
		x1, y1 := p.x+pad+nodeW/2, p.y+pad+nodeH
		x2, y2 := c.x+pad+nodeW/2, c.y+pad
		my := (y1 + y2) / 2
		fmt.Fprintf(&b, `<path d="M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f"/>`, x1, y1, x1, my, x2, my, x2, y2)
	}
	b.WriteString(`</g>`)
	for _, p := range nodes {
		n := p.n
		fill, stroke, sw, dash := "#eef3fb", "#4a6fa5", 1.2, ""
		class := "node " + n.Kind
		switch n.Kind {
		case "file":
			fill, stroke = "#fdf6e3", "#b58900"
		case "socket":
			fill, stroke = "#eaf7ee", "#2e8b57"
		case "more":
			fill, stroke, dash = "#f4f4f4", "#999999", ` stroke-dasharray="3 3"`
		}
		if n.Exited {
			dash = ` stroke-dasharray="5 3"`
			class += " exited"
		}
		if n.Alerted {
			stroke, sw = "#d9822b", 2
			class += " alerted"
		}
		if n.Focus {
			fill, stroke, sw = "#fdecea", "#c62828", 2.6
			class += " focus"
		}
		x, y := p.x+pad, p.y+pad
		title := n.Label
		if n.Detail != "" {
			title += " — " + n.Detail
		}
		fmt.Fprintf(&b, `<g class="%s" data-pid="%d" data-entity="%s"><title>%s</title>`, class, n.PID, esc(n.EntityID), esc(title))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%d" height="%d" rx="6" fill="%s" stroke="%s" stroke-width="%.1f"%s/>`,
			x, y, nodeW, nodeH, fill, stroke, sw, dash)
		kind := n.Kind
		if kind == "more" {
			kind = ""
		}
		if kind != "" {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="9" fill="#7a8699" text-anchor="end">%s</text>`, x+nodeW-6, y+12, kind)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12.5" font-weight="600" fill="#1d2430">%s</text>`, x+8, y+18, esc(cut(n.Label, 24)))
		if n.Detail != "" {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10.5" fill="#4b5563" font-family="ui-monospace,Menlo,Consolas,monospace">%s</text>`, x+8, y+35, esc(cut(n.Detail, 34)))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// cut shortens s to n runes with an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func esc(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	// XML 1.0 forbids most control characters even escaped.
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return '\uFFFD'
		}
		return r
	}, s)
	return html.EscapeString(s)
}
