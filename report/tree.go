package report

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/lineaged/lineaged/event"
)

// Limits of one drawn tree, so a busy process still gives a picture one
// can read: what is cut is counted in a "+N more" node.
const (
	maxChildren = 6 // child processes of the alert's process
	maxSiblings = 4 // siblings shown (only those that touched files or sockets, or alerted)
	maxObjects  = 6 // files and sockets of the alert's process, each
	maxChildObj = 3 // files and sockets of a child
	maxChain    = 7 // ancestors drawn; a longer chain loses its middle
)

// proc is what the second pass learns about a process near an alert.
type proc struct {
	entity      string
	pid         int
	exe         string
	args        []string
	user        string
	exited      bool
	exitCode    *int
	files       []string
	moreFiles   int
	sockets     []string
	moreSockets int
}

type treeBuilder struct {
	alerts   []*Alert
	focus    map[string]bool // the alerts' processes
	parents  map[string]bool // their parents (for siblings)
	alerted  map[string]bool // every alerted process
	procs    map[string]*proc
	children map[string][]*proc
}

func newTreeBuilder(alerts []*Alert, max int) *treeBuilder {
	t := &treeBuilder{focus: map[string]bool{}, parents: map[string]bool{}, alerted: map[string]bool{},
		procs: map[string]*proc{}, children: map[string][]*proc{}}
	for i, a := range alerts {
		if a.EntityID != "" {
			t.alerted[a.EntityID] = true
		}
		if i >= max {
			continue
		}
		t.alerts = append(t.alerts, a)
		if a.EntityID != "" {
			t.focus[a.EntityID] = true
		}
		if a.parentID != "" {
			t.parents[a.parentID] = true
		}
	}
	return t
}

func (t *treeBuilder) wanted() bool { return len(t.alerts) > 0 }

func (t *treeBuilder) add(d *Doc) {
	if d.IsAlert() {
		return
	}
	ent := d.Process.EntityID
	if ent == "" {
		return
	}
	p := t.procs[ent]
	if p == nil {
		par := ""
		if d.Process.Parent != nil {
			par = d.Process.Parent.EntityID
		}
		if !t.focus[ent] && !(par != "" && (t.focus[par] || t.parents[par])) {
			return
		}
		// A process can reach the output under two entity ids (the
		// proc connector's exit after audit's has closed the first):
		// the same pid under the same parent is the same child.
		for _, c := range t.children[par] {
			if par != "" && c.pid == d.Process.PID && (c.exe == "" || d.Process.Executable == "" || c.exe == d.Process.Executable) {
				p = c
				break
			}
		}
		if p == nil {
			p = &proc{entity: ent}
			if par != "" {
				t.children[par] = append(t.children[par], p)
			}
		}
		t.procs[ent] = p
	}
	if p.pid == 0 {
		p.pid = d.Process.PID
	}
	if d.Process.Executable != "" && (p.exe == "" || d.Event.Action == event.ActionExecuted) {
		p.exe, p.args = d.Process.Executable, d.Process.Args
	}
	if p.user == "" {
		p.user = d.User.ID
	}
	switch {
	case d.Event.Action == event.ActionExited:
		p.exited, p.exitCode = true, d.Process.ExitCode
	case d.File != nil && d.File.Path != "" && d.Event.Action != event.ActionExecuted:
		op := d.File.Operation
		if op == "" {
			op = string(d.Event.Action)
		}
		p.files, p.moreFiles = addDistinct(p.files, p.moreFiles, op+" "+d.File.Path)
	case d.Category() == event.CategoryNetwork:
		s := socketText(d)
		if s != "" {
			p.sockets, p.moreSockets = addDistinct(p.sockets, p.moreSockets, s)
		}
	}
}

// addDistinct keeps up to maxObjects distinct strings, counting the rest.
func addDistinct(list []string, more int, s string) ([]string, int) {
	for _, x := range list {
		if x == s {
			return list, more
		}
	}
	if len(list) >= maxObjects {
		return list, more + 1
	}
	return append(list, s), more
}

func socketText(d *Doc) string {
	dir := ""
	if d.Network != nil {
		dir = d.Network.Direction
	}
	switch {
	case d.Destination != nil && dir != "listening":
		t := "connect "
		if dir == "ingress" {
			t = "accepted "
		}
		return t + endpoint(d.Destination)
	case d.Source != nil:
		return "listen " + endpoint(d.Source)
	}
	return ""
}

// draw builds each alert's tree and its SVG; it returns how many alerts
// were drawn.
func (t *treeBuilder) draw() int {
	for _, a := range t.alerts {
		a.Tree = t.tree(a)
		a.SVG = renderSVG(a.Tree, a.ID)
	}
	return len(t.alerts)
}

func (t *treeBuilder) tree(a *Alert) *Node {
	focus := &Node{Kind: "process", Label: path.Base(orDash(a.Executable)), EntityID: a.EntityID, PID: a.PID, Focus: true, Alerted: true,
		Detail: procDetail(a.PID, a.User, a.Args)}
	if p := t.procs[a.EntityID]; p != nil {
		if focus.Label == "-" && p.exe != "" {
			focus.Label = path.Base(p.exe)
		}
		focus.Exited = p.exited
		if p.exited {
			focus.Detail += exitText(p.exitCode)
		}
		// Its children, with what they touched.
		kids := t.children[a.EntityID]
		for i, c := range kids {
			if i == maxChildren {
				focus.Children = append(focus.Children, &Node{Kind: "more", Label: fmt.Sprintf("+%d more child processes", len(kids)-maxChildren)})
				break
			}
			focus.Children = append(focus.Children, t.procNode(c, maxChildObj))
		}
		focus.Children = append(focus.Children, objectNodes(p, maxObjects)...)
	}
	if a.Object != "" && !mentions(focus, a.Object) {
		kind := "file"
		if !strings.HasPrefix(a.Object, "/") {
			kind = "socket"
		}
		focus.Children = append(focus.Children, &Node{Kind: kind, Label: a.Object, Detail: "the alert's object"})
	}

	// The parent: the focus and the siblings that matter.
	var top, parent *Node
	if len(a.Ancestry) > 0 {
		parent = refNode(&a.Ancestry[0], t.alerted)
		parent.Children = append(parent.Children, focus)
		var sibs []*proc
		for _, s := range t.children[a.Ancestry[0].EntityID] {
			if s.entity != a.EntityID && (len(s.files) > 0 || len(s.sockets) > 0 || t.alerted[s.entity]) {
				sibs = append(sibs, s)
			}
		}
		for i, s := range sibs {
			if i == maxSiblings {
				parent.Children = append(parent.Children, &Node{Kind: "more", Label: fmt.Sprintf("+%d more siblings", len(sibs)-maxSiblings)})
				break
			}
			parent.Children = append(parent.Children, t.procNode(s, 2))
		}
		top = parent
		anc := a.Ancestry
		for i := 1; i < len(anc); i++ {
			var n *Node
			if len(anc) > maxChain && i == maxChain-2 {
				// A long chain keeps its nearest and its farthest
				// ancestors; the middle is one node saying how many.
				skip := len(anc) - maxChain + 1
				var names []string
				for j := i + skip - 1; j >= i; j-- {
					names = append(names, path.Base(orDash(anc[j].Executable)))
				}
				n = &Node{Kind: "more", Label: fmt.Sprintf("+%d ancestors", skip), Detail: strings.Join(names, " → ")}
				i += skip - 1
			} else {
				n = refNode(&anc[i], t.alerted)
			}
			n.Children = []*Node{top}
			top = n
		}
	} else {
		top = focus
	}
	return top
}

func (t *treeBuilder) procNode(p *proc, objs int) *Node {
	n := &Node{Kind: "process", Label: path.Base(orDash(p.exe)), EntityID: p.entity, PID: p.pid,
		Alerted: t.alerted[p.entity], Exited: p.exited, Detail: procDetail(p.pid, uidText(p.user), p.args)}
	if p.exited {
		n.Detail += exitText(p.exitCode)
	}
	n.Children = objectNodes(p, objs)
	return n
}

func objectNodes(p *proc, max int) []*Node {
	var out []*Node
	add := func(kind string, list []string, more int) {
		for i, s := range list {
			if i == max {
				more += len(list) - max
				break
			}
			op, obj, _ := strings.Cut(s, " ")
			out = append(out, &Node{Kind: kind, Label: obj, Detail: op})
		}
		if more > 0 {
			out = append(out, &Node{Kind: "more", Label: fmt.Sprintf("+%d more %ss", more, kind)})
		}
	}
	add("file", p.files, p.moreFiles)
	add("socket", p.sockets, p.moreSockets)
	return out
}

func mentions(n *Node, obj string) bool {
	for _, c := range n.Children {
		if c.Label == obj {
			return true
		}
	}
	return false
}

func refNode(r *Ref, alerted map[string]bool) *Node {
	if r.Unknown || r.Executable == "" {
		return &Node{Kind: "process", Label: "pid " + strconv.Itoa(r.PID), Detail: "not seen by lineaged", PID: r.PID}
	}
	return &Node{Kind: "process", Label: path.Base(orDash(r.Executable)), EntityID: r.EntityID, PID: r.PID,
		Alerted: alerted[r.EntityID], Detail: procDetail(r.PID, uidText(r.User.ID), r.Args)}
}

func uidText(id string) string {
	if id == "" {
		return ""
	}
	return "uid " + id
}

func procDetail(pid int, user string, args []string) string {
	s := "pid " + strconv.Itoa(pid)
	if user != "" {
		s += ", " + user
	}
	if len(args) > 1 {
		s += ": " + strings.Join(args[1:], " ")
	}
	return s
}

func exitText(code *int) string {
	if code == nil {
		return " · exited"
	}
	return " · exited " + strconv.Itoa(*code)
}
