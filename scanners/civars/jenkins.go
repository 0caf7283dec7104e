package civars

import (
	"regexp"
	"strings"
)

var (
	jenkinsStage    = regexp.MustCompile(`\bstage\s*\(\s*['"]([^'"]+)['"]`)
	jenkinsEnvOpen  = regexp.MustCompile(`^\s*environment\s*\{\s*$`)
	jenkinsAssign   = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*$`)
	jenkinsCreds    = regexp.MustCompile(`\bcredentials\s*\(\s*['"]([^'"]+)['"]\s*\)|\bcredentialsId\s*:\s*['"]([^'"]+)['"]`)
	jenkinsWithEnv  = regexp.MustCompile(`\bwithEnv\s*\(\s*\[(.*)\]`)
	jenkinsQuoted   = regexp.MustCompile(`'([^']*)'|"((?:[^"\\]|\\.)*)"`)
	jenkinsSh       = regexp.MustCompile(`^\s*(?:sh|bat|powershell|pwsh)\s*\(?\s*(?:script\s*:\s*)?('''|"""|'|")(.*)$`)
	jenkinsEnvDollr = regexp.MustCompile(`\$\{?(?:env\.)?([A-Za-z_][A-Za-z0-9_]*)\}?`)
	jenkinsBinding  = regexp.MustCompile(`\b(?:usernameVariable|passwordVariable|keyFileVariable|variable)\s*:\s*['"]([^'"]+)['"]`)
)

// parseJenkins reads a Jenkinsfile (declarative or scripted) line by line:
// stages name the job, environment {} blocks and withEnv([...]) set
// variables, sh/bat steps run shell, and credentials('id') or
// credentialsId: 'id' reference Jenkins' credential store.
func parseJenkins(p *Pipeline, src string) {
	lines := strings.Split(src, "\n")
	var items []Item
	stage := ""
	inEnv := false
	depth, envDepth := 0, 0
	closer := "" // the quote that ends a multi-line sh script
	defined := map[string]bool{}
	var cands []Ref
	for i, line := range lines {
		n := i + 1
		if m := jenkinsStage.FindStringSubmatch(line); m != nil && closer == "" {
			stage = m[1]
		}
		l := Loc{Line: n, Job: stage}
		if closer != "" {
			text := line
			if k := strings.Index(line, closer); k >= 0 {
				text, closer = line[:k], ""
			}
			items = append(items, Item{Loc: l, Text: text})
			cands = appendDollarRefs(cands, l, text)
			p.locs[n] = Loc{Job: stage}
			continue
		}
		for _, m := range jenkinsBinding.FindAllStringSubmatch(line, -1) {
			defined[m[1]] = true // bound by withCredentials: the credential is the reference
		}
		for _, m := range jenkinsCreds.FindAllStringSubmatch(line, -1) {
			p.Refs = append(p.Refs, Ref{Loc: jenkinsVarLoc(l, line), Name: m[1] + m[2], Store: "credentials"})
		}
		switch {
		case inEnv:
			if m := jenkinsAssign.FindStringSubmatch(line); m != nil {
				l.Variable = m[1]
				defined[m[1]] = true
				if !jenkinsCreds.MatchString(m[2]) {
					items = append(items, Item{Loc: l, Text: m[1] + "=" + m[2]})
				}
			}
		case jenkinsEnvOpen.MatchString(line):
			inEnv, envDepth = true, depth
		}
		if m := jenkinsWithEnv.FindStringSubmatch(line); m != nil {
			for _, q := range jenkinsQuoted.FindAllStringSubmatch(m[1], -1) {
				s := q[1] + q[2]
				if k := strings.IndexByte(s, '='); k > 0 {
					ll := l
					ll.Variable = s[:k]
					defined[s[:k]] = true
					items = append(items, Item{Loc: ll, Text: s})
				}
			}
		}
		if m := jenkinsSh.FindStringSubmatch(line); m != nil {
			q, rest := m[1], m[2]
			text := rest
			if k := strings.Index(rest, q); k >= 0 {
				text = rest[:k]
			} else if len(q) == 3 {
				closer = q
			}
			items = append(items, Item{Loc: l, Text: text})
			cands = appendDollarRefs(cands, l, text)
		}
		for _, c := range line {
			switch c {
			case '{':
				depth++
			case '}':
				depth--
				if inEnv && depth <= envDepth {
					inEnv = false
				}
			}
		}
		p.locs[n] = Loc{Job: l.Job, Variable: l.Variable}
		if inEnv && l.Variable == "" {
			p.locs[n].Variable = ""
		}
	}
	for _, r := range cands {
		if !defined[r.Name] && !predefined(r.Name) && secretish(r.Name) {
			p.Refs = append(p.Refs, r)
		}
	}
	p.Refs = dedupeRefs(p.Refs)
	if len(items) > 0 {
		p.Groups = [][]Item{items}
	}
}

// jenkinsVarLoc names the variable an assignment line sets.
func jenkinsVarLoc(l Loc, line string) Loc {
	if m := jenkinsAssign.FindStringSubmatch(line); m != nil {
		l.Variable = m[1]
	}
	return l
}

func appendDollarRefs(out []Ref, l Loc, s string) []Ref {
	for _, m := range jenkinsEnvDollr.FindAllStringSubmatch(s, -1) {
		out = append(out, Ref{Loc: l, Name: m[1], Store: "variables"})
	}
	return out
}
