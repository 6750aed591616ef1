package audit

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"strconv"
	"strings"
)

// OCSF schema version the export follows, and the API Activity class.
const (
	OCSFVersion      = "1.3.0"
	ocsfClassUID     = 6003
	ocsfCategoryUID  = 6
	activityCreate   = 1
	activityRead     = 2
	activityUpdate   = 3
	activityDelete   = 4
	activityOther    = 99
	statusSuccess    = 1
	statusFailure    = 2
	statusUnknown    = 0
	severityInfo     = 1
	productName      = "SecureCart"
	productComponent = "audit"
)

// OCSF returns the record as an OCSF API Activity (class 6003) event.
// What OCSF has no attribute for (the phase, the decision and its
// policies, the stated purpose, the fields returned in clear) is under
// "unmapped".
func OCSF(e Entry) map[string]any {
	r := e.Record
	activity := activityOf(r.Action)
	ev := map[string]any{
		"class_uid":     ocsfClassUID,
		"class_name":    "API Activity",
		"category_uid":  ocsfCategoryUID,
		"category_name": "Application Activity",
		"activity_id":   activity,
		"activity_name": activityName(activity),
		"type_uid":      ocsfClassUID*100 + activity,
		"time":          r.Time.UnixMilli(),
		"severity_id":   severityInfo,
		"severity":      "Informational",
		"metadata": map[string]any{
			"version":           OCSFVersion,
			"uid":               strconv.FormatUint(e.Seq, 10),
			"sequence":          e.Seq,
			"correlation_uid":   r.RequestID,
			"product":           map[string]any{"name": productName, "vendor_name": productName},
			"product_component": productComponent,
			"log_name":          productComponent,
			"log_version":       strconv.Itoa(Version),
			"event_code":        r.Phase.String(),
		},
		"actor": map[string]any{
			"user": map[string]any{
				"uid":     r.Principal.ID,
				"type":    r.Principal.Kind,
				"groups":  groups(r.Principal.Roles),
				"type_id": userType(r.Principal.Kind),
			},
		},
		"api": map[string]any{
			"operation": r.Action,
			"request":   map[string]any{"uid": r.RequestID},
		},
		"resources": []map[string]any{{"type": r.Resource.Type, "uid": r.Resource.ID}},
		"unmapped": map[string]any{
			"phase":           r.Phase.String(),
			"request_seq":     r.RequestSeq,
			"decision":        r.Decision.Effect.String(),
			"policies":        nonNil(r.Decision.Policies),
			"fields_in_clear": nonNil(r.Fields),
		},
	}
	if r.Purpose != "" {
		ev["unmapped"].(map[string]any)["purpose"] = r.Purpose
	}
	if src := endpoint(r.Source.Address); src != nil {
		ev["src_endpoint"] = src
	}
	if r.Source.UserAgent != "" {
		ev["http_request"] = map[string]any{"user_agent": r.Source.UserAgent, "uid": r.RequestID}
	}
	if r.Source.TLSVersion != 0 || r.Source.ClientCert != "" {
		t := map[string]any{}
		if r.Source.TLSVersion != 0 {
			t["version"] = strings.TrimPrefix(tls.VersionName(r.Source.TLSVersion), "TLS ")
		}
		if r.Source.ClientCert != "" {
			t["certificate"] = map[string]any{"subject": r.Source.ClientCert}
		}
		ev["tls"] = t
	}
	status := statusUnknown
	if r.Phase == PhaseOutcome {
		status = statusSuccess
		if r.Outcome.Status >= 400 {
			status = statusFailure
		}
		ev["http_response"] = map[string]any{"code": r.Outcome.Status}
		ev["status_code"] = strconv.Itoa(r.Outcome.Status)
		if r.Outcome.ErrorCode != "" {
			ev["status_detail"] = r.Outcome.ErrorCode
		}
	}
	if r.Decision.Effect == EffectDeny {
		status = statusFailure
	}
	ev["status_id"] = status
	ev["status"] = map[int]string{statusUnknown: "Unknown", statusSuccess: "Success", statusFailure: "Failure"}[status]
	return ev
}

// MarshalOCSF returns the OCSF event of e as one line of JSON.
func MarshalOCSF(e Entry) ([]byte, error) {
	return json.Marshal(OCSF(e))
}

func activityOf(action string) int {
	for _, p := range []struct {
		prefix string
		id     int
	}{
		{"create", activityCreate}, {"tokenize", activityCreate}, {"issue", activityCreate},
		{"read", activityRead}, {"list", activityRead}, {"lookup", activityRead},
		{"export", activityRead}, {"detokenize", activityRead},
		{"update", activityUpdate}, {"manage", activityUpdate},
		{"delete", activityDelete}, {"erase", activityDelete},
	} {
		if strings.HasPrefix(action, p.prefix) {
			return p.id
		}
	}
	return activityOther
}

func activityName(id int) string {
	return map[int]string{activityCreate: "Create", activityRead: "Read", activityUpdate: "Update",
		activityDelete: "Delete", activityOther: "Other"}[id]
}

func userType(kind string) int {
	switch kind {
	case "person", "customer":
		return 1 // User
	case "admin":
		return 2 // Admin
	case "service":
		return 3 // System
	}
	return 99
}

func groups(roles []string) []map[string]any {
	out := make([]map[string]any, 0, len(roles))
	for _, r := range roles {
		out = append(out, map[string]any{"name": r})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func endpoint(addr string) map[string]any {
	if addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return map[string]any{"ip": addr}
	}
	ep := map[string]any{"ip": host}
	if p, err := strconv.Atoi(port); err == nil {
		ep["port"] = p
	}
	return ep
}
