{{- define "credscan.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "credscan.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "credscan.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "credscan.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "credscan.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* the environment every credscan container gets */}}
{{- define "credscan.env" -}}
- name: HOME
  value: /tmp
- name: CREDSCAN_FINGERPRINT_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.fingerprintKey.secretName }}
      key: {{ .Values.fingerprintKey.secretKey }}
- name: CREDSCAN_AUDIT_LOG
  value: /reports/audit.jsonl
{{- if .Values.vault.addr }}
- name: VAULT_ADDR
  value: {{ .Values.vault.addr | quote }}
{{- end }}
{{- if .Values.vault.namespace }}
- name: VAULT_NAMESPACE
  value: {{ .Values.vault.namespace | quote }}
{{- end }}
{{- if .Values.vault.caSecret }}
- name: VAULT_CACERT
  value: /etc/vault-ca/ca.crt
{{- end }}
{{- end -}}

{{- define "credscan.vaultArgs" -}}
{{- if .Values.vault.addr }}
- --vault-auth={{ .Values.vault.auth }}
{{- if eq .Values.vault.auth "kubernetes" }}
- --vault-role={{ .Values.vault.role }}
{{- end }}
{{- if .Values.vault.authMount }}
- --vault-auth-mount={{ .Values.vault.authMount }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "credscan.claim" -}}
{{- if .spec.existingClaim -}}
{{ .spec.existingClaim }}
{{- else -}}
{{ printf "%s-%s" (include "credscan.fullname" .root) .name }}
{{- end -}}
{{- end -}}
