// Package chartcheck renders the credscan Helm chart with Helm's own
// engine and decodes every object strictly with the Kubernetes API types
// (an unknown or misplaced field is an error), then runs the commands the
// chart's pods would run as local processes: one per shard, then the
// merge. It is its own module, so Helm and the Kubernetes API stay out of
// credscan's dependencies; deploy/helm's test in the main module runs it.
package chartcheck

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const chartDir = "../credscan"

// render renders the chart with values merged over its defaults.
func render(t *testing.T, values map[string]any) (map[string]string, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := chartutil.ToRenderValues(ch, values, chartutil.ReleaseOptions{Name: "estate", Namespace: "security", IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	return engine.Render(ch, vals)
}

// objects are the rendered objects, each decoded strictly into its type.
type objects struct {
	configMaps []corev1.ConfigMap
	accounts   []corev1.ServiceAccount
	claims     []corev1.PersistentVolumeClaim
	jobs       map[string]batchv1.Job // by component
}

func decode(t *testing.T, files map[string]string) objects {
	t.Helper()
	out := objects{jobs: map[string]batchv1.Job{}}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") {
			continue // NOTES.txt, helpers
		}
		for _, doc := range strings.Split(files[name], "\n---") {
			if strings.TrimSpace(strings.ReplaceAll(doc, "---", "")) == "" {
				continue
			}
			var meta struct {
				Kind string `json:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			strict := func(into any) {
				t.Helper()
				if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
					t.Fatalf("%s: %s does not decode strictly: %v\n%s", name, meta.Kind, err, doc)
				}
			}
			switch meta.Kind {
			case "ConfigMap":
				var o corev1.ConfigMap
				strict(&o)
				out.configMaps = append(out.configMaps, o)
			case "ServiceAccount":
				var o corev1.ServiceAccount
				strict(&o)
				out.accounts = append(out.accounts, o)
			case "PersistentVolumeClaim":
				var o corev1.PersistentVolumeClaim
				strict(&o)
				out.claims = append(out.claims, o)
			case "Job":
				var o batchv1.Job
				strict(&o)
				out.jobs[o.Labels["app.kubernetes.io/component"]] = o
			default:
				t.Fatalf("%s: unexpected kind %q", name, meta.Kind)
			}
		}
	}
	return out
}

func checkSecure(t *testing.T, what string, pod corev1.PodSpec) {
	t.Helper()
	ps := pod.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser == 0 || ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: the pod may run as root or without seccomp: %+v", what, ps)
	}
	for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Errorf("%s/%s: not read-only, non-escalating, without capabilities: %+v", what, c.Name, sc)
		}
	}
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy %q", what, pod.RestartPolicy)
	}
}

func TestDefaultsRender(t *testing.T) {
	files, err := render(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, files)
	scan, ok := o.jobs["scan"]
	if !ok {
		t.Fatal("no scan Job")
	}
	s := scan.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.Completions == nil || *s.Completions != 4 || s.Parallelism == nil || *s.Parallelism != 4 {
		t.Fatalf("the scan Job is not Indexed with 4 completions: %+v", s)
	}
	if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex != 1 {
		t.Errorf("backoffLimitPerIndex %v", s.BackoffLimitPerIndex)
	}
	pod := s.Template.Spec
	checkSecure(t, "scan", pod)
	c := pod.Containers[0]
	for _, want := range []string{"scan", "estate", "--manifest=/etc/credscan/credscan.yaml", "--shard=$(JOB_COMPLETION_INDEX)/4",
		"--output=/reports/shard-$(JOB_COMPLETION_INDEX).json", "--format=json", "--report-only", "--cache=/cache"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("scan args %q lack %q", c.Args, want)
		}
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	for name, path := range map[string]string{"manifest": "/etc/credscan", "reports": "/reports", "cache": "/cache", "tmp": "/tmp", "shm": "/dev/shm"} {
		if mounts[name] != path {
			t.Errorf("volume %s mounted at %q, want %s", name, mounts[name], path)
		}
		if _, ok := vols[name]; !ok {
			t.Errorf("no volume %s", name)
		}
	}
	if vols["manifest"].ConfigMap == nil || vols["reports"].PersistentVolumeClaim == nil || vols["cache"].PersistentVolumeClaim == nil || vols["tmp"].EmptyDir == nil {
		t.Errorf("volumes: %+v", vols)
	}
	if *pod.AutomountServiceAccountToken {
		t.Error("the service account token is mounted though no Vault login needs it")
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if k := env["CREDSCAN_FINGERPRINT_KEY"]; k.ValueFrom == nil || k.ValueFrom.SecretKeyRef == nil || k.Value != "" {
		t.Error("the fingerprint key is not read from a Secret")
	}
	if len(o.configMaps) != 1 || !strings.Contains(o.configMaps[0].Data["credscan.yaml"], "targets:") {
		t.Errorf("the manifest ConfigMap: %+v", o.configMaps)
	}
	if len(o.claims) != 2 || len(o.accounts) != 1 {
		t.Errorf("%d claims, %d service accounts", len(o.claims), len(o.accounts))
	}
	merge, ok := o.jobs["merge"]
	if !ok {
		t.Fatal("no merge Job")
	}
	checkSecure(t, "merge", merge.Spec.Template.Spec)
	var shards []string
	for _, a := range merge.Spec.Template.Spec.Containers[0].Args {
		if strings.HasPrefix(a, "/reports/shard-") {
			shards = append(shards, a)
		}
	}
	if fmt.Sprint(shards) != "[/reports/shard-0.json /reports/shard-1.json /reports/shard-2.json /reports/shard-3.json]" {
		t.Errorf("the merge reads %v", shards)
	}
}

func TestVaultPushAndClaims(t *testing.T) {
	files, err := render(t, map[string]any{
		"shards": 2, "parallelism": 1, "push": true, "knownFromVault": []any{"arp/legacy/"},
		"vault":   map[string]any{"addr": "https://vault.example.com:8200", "role": "scanner", "caSecret": "vault-ca"},
		"reports": map[string]any{"existingClaim": "shared-reports"},
		"cache":   map[string]any{"enabled": false},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, files)
	pod := o.jobs["scan"].Spec.Template.Spec
	c := pod.Containers[0]
	for _, want := range []string{"vault", "push", "--shard=$(JOB_COMPLETION_INDEX)/2", "--vault-auth=kubernetes", "--vault-role=scanner", "--known-from-vault=arp/legacy/", "--no-cache"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("args %q lack %q", c.Args, want)
		}
	}
	if !*pod.AutomountServiceAccountToken {
		t.Error("Vault's Kubernetes auth needs the service account token")
	}
	if *o.jobs["scan"].Spec.Parallelism != 1 {
		t.Error("parallelism not taken")
	}
	if len(o.claims) != 0 {
		t.Errorf("claims made though an existing one is named and the cache is off: %d", len(o.claims))
	}
	for _, v := range pod.Volumes {
		if v.Name == "reports" && v.PersistentVolumeClaim.ClaimName != "shared-reports" {
			t.Errorf("reports claim %q", v.PersistentVolumeClaim.ClaimName)
		}
	}
	if _, err := render(t, map[string]any{"shards": 0}); err == nil || !strings.Contains(err.Error(), "shards must be at least 1") {
		t.Errorf("shards 0: %v", err)
	}
}

// The cluster run, simulated: the scan container's arguments, as
// Kubernetes gives them to each pod (JOB_COMPLETION_INDEX expanded), run
// as N local processes at once over the example estate, then the merge
// Job's; the merged report is what one process scanning the estate
// reports.
func TestShardsAsLocalProcesses(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "credscan")
	build := exec.Command("go", "build", "-o", bin, "./cmd/credscan")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building credscan: %v\n%s", err, out)
	}
	manifest := filepath.Join(root, "examples", "estate", "credscan.yaml")
	text, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3
	files, err := render(t, map[string]any{"shards": n, "manifest": string(text)})
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, files)
	if got := o.configMaps[0].Data["credscan.yaml"]; strings.TrimSpace(got) != strings.TrimSpace(string(text)) {
		t.Fatal("the ConfigMap does not hold the manifest as given")
	}
	work := t.TempDir()
	reports, cacheDir := filepath.Join(work, "reports"), filepath.Join(work, "cache")
	for _, d := range []string{reports, cacheDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	local := func(args []string, index string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			a = strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", index)
			a = strings.ReplaceAll(a, "/etc/credscan/credscan.yaml", manifest)
			a = strings.ReplaceAll(a, "/reports/", reports+"/")
			a = strings.ReplaceAll(a, "=/cache", "="+cacheDir)
			out[i] = a
		}
		return out
	}
	env := append(os.Environ(), "CREDSCAN_FINGERPRINT_KEY=chart-key-0123456789abcdef", "CREDSCAN_AUDIT_LOG="+filepath.Join(work, "audit.jsonl"), "HOME="+work, "NO_COLOR=1")
	runIt := func(args []string) (string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), code
	}
	scanArgs := o.jobs["scan"].Spec.Template.Spec.Containers[0].Args
	var wg sync.WaitGroup
	outs, codes := make([]string, n), make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], codes[i] = runIt(local(scanArgs, fmt.Sprint(i)))
		}()
	}
	wg.Wait()
	for i := range n {
		if codes[i] != 0 {
			t.Fatalf("shard %d exited %d:\n%s", i, codes[i], outs[i])
		}
	}
	mergePod := o.jobs["merge"].Spec.Template.Spec
	for _, c := range append(slices.Clone(mergePod.InitContainers), mergePod.Containers...) {
		if out, code := runIt(local(c.Args, "")); code != 0 {
			t.Fatalf("merge container %s exited %d:\n%s", c.Name, code, out)
		}
	}
	merged, err := os.ReadFile(filepath.Join(reports, "merged.json"))
	if err != nil {
		t.Fatal(err)
	}
	single, code := runIt([]string{"scan", "estate", "-m", manifest, "--sweep=false", "--no-cache", "-q", "-f", "json"})
	if code != 1 {
		t.Fatalf("the single run exited %d", code)
	}
	if string(merged) != single {
		t.Fatal("the merged report of the simulated cluster run differs from one process's")
	}
	if _, err := os.Stat(filepath.Join(reports, "merged.markdown")); err != nil {
		t.Fatalf("the readable merged report: %v", err)
	}
}
