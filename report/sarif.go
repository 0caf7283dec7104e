package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

const sarifSchema = "https://json.schemastore.org/sarif-2.1.0.json"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

// sarifInvocation says whether the scan ran to its end; an incomplete one
// carries a notification that says why.
type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID               string     `json:"id"`
	Name             string     `json:"name"`
	ShortDescription sarifText  `json:"shortDescription"`
	FullDescription  sarifText  `json:"fullDescription"`
	Help             sarifText  `json:"help"`
	Properties       sarifProps `json:"properties"`
}

type sarifProps struct {
	Tags []string `json:"tags"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int       `json:"startLine"`
	StartColumn int       `json:"startColumn,omitempty"`
	Snippet     sarifText `json:"snippet"`
}

func writeSARIF(w io.Writer, r *Report) error {
	used := map[string]bool{}
	for _, f := range r.Findings {
		used[f.RuleID] = true
	}
	var ids []string
	for id := range used {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	index := map[string]int{}
	driver := sarifDriver{Name: r.Tool, Version: r.Version, InformationURI: "https://github.com/credscan/credscan", Rules: []sarifRule{}}
	for i, id := range ids {
		index[id] = i
		desc := r.Rules[id]
		if desc == "" {
			desc = id
		}
		help := r.RuleHelp[id]
		if help == "" {
			help = "Remove the secret from the file and its history, rotate it, and read it from Vault at run time."
		}
		driver.Rules = append(driver.Rules, sarifRule{ID: id, Name: id, ShortDescription: sarifText{desc}, FullDescription: sarifText{desc},
			Help: sarifText{help}, Properties: sarifProps{Tags: []string{"security", "secret"}}})
	}
	inv := sarifInvocation{ExecutionSuccessful: r.Incomplete == ""}
	if r.Incomplete != "" {
		inv.ToolExecutionNotifications = []sarifNotification{{Level: "error", Message: sarifText{incompleteBanner(r)}}}
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Invocations: []sarifInvocation{inv}, Results: []sarifResult{}}
	for _, f := range r.Findings {
		level := "warning"
		if f.Blocking {
			level = "error"
		}
		who := ""
		if f.DB != nil && f.DB.User != "" {
			who = fmt.Sprintf(" for user %s", f.DB.User)
		}
		target := ""
		if f.Target != "" {
			target = fmt.Sprintf(" (target %s)", f.Target)
		}
		msg := fmt.Sprintf("%s%s%s: hardcoded secret, fingerprint %s", r.Rules[f.RuleID], who, target, shortFP(f.Fingerprint))
		uri := f.Origin.Path
		if f.Origin.Layer != "" || strings.Contains(uri, "!") {
			uri = strings.ReplaceAll(uri, "!", "/")
		}
		line := f.Origin.Line
		if line < 1 {
			line = 1
		}
		run.Results = append(run.Results, sarifResult{RuleID: f.RuleID, RuleIndex: index[f.RuleID], Level: level, Message: sarifText{msg},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: uri},
				Region: sarifRegion{StartLine: line, StartColumn: max(f.Column, 0), Snippet: sarifText{f.Redacted}}}}},
			PartialFingerprints: map[string]string{"credscan/v1": f.Fingerprint}})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}
