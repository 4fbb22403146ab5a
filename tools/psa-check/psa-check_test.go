package main

import (
	"bytes"
	"strings"
	"testing"
)

const compliantPod = `
apiVersion: v1
kind: Pod
metadata:
  name: good
  annotations:
    helm.sh/hook: test
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: app
      image: php:8.3-fpm
      securityContext:
        allowPrivilegeEscalation: false
        capabilities:
          drop: ["ALL"]
`

const nonCompliantPod = `
apiVersion: v1
kind: Pod
metadata:
  name: bad
spec:
  containers:
    - name: app
      image: php:8.3-fpm
      securityContext:
        privileged: true
        runAsUser: 0
`

func runOn(t *testing.T, input string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(input), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCompliantPodPasses(t *testing.T) {
	code, out, errOut := runOn(t, compliantPod)
	if code != 0 || strings.TrimSpace(out) != "PASS Pod/good" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and PASS Pod/good", code, out, errOut)
	}
}

func TestNonCompliantPodFails(t *testing.T) {
	code, out, _ := runOn(t, "---\n# Source: chart/templates/cm.yaml\n---\n"+compliantPod+"---\n"+nonCompliantPod)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stdout %q", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[0] != "PASS Pod/good" || !strings.HasPrefix(lines[1], "FAIL Pod/bad: ") {
		t.Fatalf("unexpected output %q", out)
	}
	for _, want := range []string{"privileged", "runAsNonRoot != true", "runAsUser=0", "seccompProfile", `container "app"`} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("FAIL line lacks %q: %s", want, lines[1])
		}
	}
	// The same pod is allowed at the privileged level.
	if code, out, _ := runOn(t, nonCompliantPod, "-level", "privileged"); code != 0 || !strings.HasPrefix(out, "PASS Pod/bad") {
		t.Fatalf("privileged level: exit %d, stdout %q", code, out)
	}
}

func TestWorkloadsAndParseErrors(t *testing.T) {
	cron := `
apiVersion: batch/v1
kind: CronJob
metadata: {name: scheduler}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          hostNetwork: true
          containers: [{name: cron, image: php}]
`
	code, out, _ := runOn(t, cron, "-level", "baseline")
	if code != 1 || !strings.HasPrefix(out, "FAIL CronJob/scheduler: host namespaces") {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	code, _, errOut := runOn(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: many}\n")
	if code != 2 || !strings.Contains(errOut, "Deployment/x") {
		t.Fatalf("type error: exit %d, stderr %q; want 2", code, errOut)
	}
	if code, _, _ := runOn(t, compliantPod, "-level", "strict"); code != 2 {
		t.Fatalf("bad -level: exit %d, want 2", code)
	}
}
