// Command psa-check evaluates the pod specs found in rendered Kubernetes manifests
// against the Pod Security Standards, using the upstream Pod Security Admission
// library (k8s.io/pod-security-admission), entirely offline.
//
// Usage:
//
//	psa-check [-level restricted|baseline|privileged] [-version latest|v1.N] [-v] [FILE|-]...
//
// With no FILE, or with "-", the manifests are read from standard input. Every
// document of the (multi-document) YAML stream that carries a pod spec (Pod,
// PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet,
// ReplicaSet, Job, CronJob, including Helm hook/test pods, and the items of a
// v1 List) gives one line:
//
//	PASS Kind/name
//	FAIL Kind/name: <reasons>; <details>
//
// Exit status: 0 when every pod spec passes, 1 when at least one fails, 2 on a
// usage error or when a file or document cannot be read or parsed (parse errors
// win over failures; the other documents are still evaluated).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

// Exit codes.
const (
	exitOK         = 0
	exitViolations = 1
	exitParseError = 2
)

// podTarget is one pod spec extracted from a manifest, with the metadata that
// Pod Security Admission evaluates alongside it (the pod template's metadata for
// workload resources, as the admission plugin does).
type podTarget struct {
	Kind string
	Name string
	Meta metav1.ObjectMeta
	Spec corev1.PodSpec
}

// header is the part of any Kubernetes object needed to route it.
type header struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
}

// Checker evaluates manifests at one Pod Security level and version.
type Checker struct {
	Evaluator    policy.Evaluator
	LevelVersion api.LevelVersion
	Verbose      bool // also print SKIP lines for objects without a pod spec
	Out          io.Writer
	Err          io.Writer

	Passed, Failed, Skipped, ParseErrors int
}

// NewChecker builds a Checker with the upstream default checks.
func NewChecker(level, version string, out, errOut io.Writer) (*Checker, error) {
	lvl, err := api.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("invalid -level %q: %v", level, err)
	}
	ver, err := api.ParseVersion(version)
	if err != nil {
		return nil, fmt.Errorf("invalid -version %q: %v", version, err)
	}
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return nil, fmt.Errorf("building pod security evaluator: %v", err)
	}
	return &Checker{
		Evaluator:    eval,
		LevelVersion: api.LevelVersion{Level: lvl, Version: ver},
		Out:          out,
		Err:          errOut,
	}, nil
}

// CheckStream evaluates every document of a YAML (or JSON) stream; source names
// the stream in error messages.
func (c *Checker) CheckStream(r io.Reader, source string) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for doc := 1; ; doc++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			c.parseError(source, doc, err)
			return
		}
		c.checkDocument(raw, source, doc)
	}
}

func (c *Checker) parseError(source string, doc int, err error) {
	c.ParseErrors++
	fmt.Fprintf(c.Err, "ERROR %s: document %d: %v\n", source, doc, err)
}

func (c *Checker) checkDocument(raw []byte, source string, doc int) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return
	}
	var generic interface{}
	if err := yaml.Unmarshal(raw, &generic); err != nil {
		c.parseError(source, doc, err)
		return
	}
	if generic == nil { // only comments, e.g. an empty "# Source:" block from helm template
		return
	}
	if _, ok := generic.(map[string]interface{}); !ok {
		c.parseError(source, doc, fmt.Errorf("document is not a mapping (a Kubernetes object)"))
		return
	}
	targets, isPod, err := extract(raw)
	if err != nil {
		c.parseError(source, doc, err)
		return
	}
	if !isPod {
		c.Skipped++
		if c.Verbose {
			var h header
			_ = yaml.Unmarshal(raw, &h)
			fmt.Fprintf(c.Out, "SKIP %s/%s: no pod spec\n", h.Kind, objectName(h.Metadata))
		}
		return
	}
	for _, t := range targets {
		c.evaluate(t)
	}
}

func (c *Checker) evaluate(t podTarget) {
	results := c.Evaluator.EvaluatePod(c.LevelVersion, &t.Meta, &t.Spec)
	agg := policy.AggregateCheckResults(results)
	if agg.Allowed {
		c.Passed++
		fmt.Fprintf(c.Out, "PASS %s/%s\n", t.Kind, t.Name)
		return
	}
	c.Failed++
	fmt.Fprintf(c.Out, "FAIL %s/%s: %s; %s\n", t.Kind, t.Name, agg.ForbiddenReason(), agg.ForbiddenDetail())
}

// ExitCode is the process exit status for everything checked so far.
func (c *Checker) ExitCode() int {
	switch {
	case c.ParseErrors > 0:
		return exitParseError
	case c.Failed > 0:
		return exitViolations
	default:
		return exitOK
	}
}

func objectName(m metav1.ObjectMeta) string {
	switch {
	case m.Name != "":
		return m.Name
	case m.GenerateName != "":
		return m.GenerateName + "*"
	default:
		return "<unnamed>"
	}
}

func apiGroup(apiVersion string) string {
	if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
		return apiVersion[:i]
	}
	return "" // core group, "v1"
}

// extract decodes one object and returns the pod specs it carries. isPod is false
// for objects that carry none (Services, ConfigMaps, custom resources...).
func extract(raw []byte) (targets []podTarget, isPod bool, err error) {
	var h header
	if err := yaml.Unmarshal(raw, &h); err != nil {
		return nil, false, err
	}
	if h.Kind == "" {
		return nil, false, fmt.Errorf("object has no kind")
	}
	group := apiGroup(h.APIVersion)
	name := objectName(h.Metadata)
	one := func(meta metav1.ObjectMeta, spec corev1.PodSpec) ([]podTarget, bool, error) {
		return []podTarget{{Kind: h.Kind, Name: name, Meta: meta, Spec: spec}}, true, nil
	}
	// decode into a typed object; type errors (e.g. a string where an int belongs) surface here.
	decode := func(into interface{}) error {
		if err := yaml.Unmarshal(raw, into); err != nil {
			return fmt.Errorf("%s/%s: %v", h.Kind, name, err)
		}
		return nil
	}

	switch {
	case group == "" && h.Kind == "List":
		var list struct {
			Items []map[string]interface{} `json:"items"`
		}
		if err := decode(&list); err != nil {
			return nil, false, err
		}
		found := false
		for _, item := range list.Items {
			itemRaw, err := yaml.Marshal(item)
			if err != nil {
				return nil, false, err
			}
			t, ok, err := extract(itemRaw)
			if err != nil {
				return nil, false, err
			}
			found = found || ok
			targets = append(targets, t...)
		}
		return targets, found, nil
	case group == "" && h.Kind == "Pod":
		var o corev1.Pod
		if err := decode(&o); err != nil {
			return nil, false, err
		}
		return one(o.ObjectMeta, o.Spec)
	case group == "" && h.Kind == "PodTemplate":
		var o corev1.PodTemplate
		if err := decode(&o); err != nil {
			return nil, false, err
		}
		return one(o.Template.ObjectMeta, o.Template.Spec)
	case group == "" && h.Kind == "ReplicationController":
		var o corev1.ReplicationController
		if err := decode(&o); err != nil {
			return nil, false, err
		}
		if o.Spec.Template == nil {
			return one(metav1.ObjectMeta{}, corev1.PodSpec{})
		}
		return one(o.Spec.Template.ObjectMeta, o.Spec.Template.Spec)
	case (group == "apps" || group == "extensions") &&
		(h.Kind == "Deployment" || h.Kind == "StatefulSet" || h.Kind == "DaemonSet" || h.Kind == "ReplicaSet"):
		var tmpl *corev1.PodTemplateSpec
		var into interface{}
		switch h.Kind {
		case "Deployment":
			o := &appsv1.Deployment{}
			into, tmpl = o, &o.Spec.Template
		case "StatefulSet":
			o := &appsv1.StatefulSet{}
			into, tmpl = o, &o.Spec.Template
		case "DaemonSet":
			o := &appsv1.DaemonSet{}
			into, tmpl = o, &o.Spec.Template
		default:
			o := &appsv1.ReplicaSet{}
			into, tmpl = o, &o.Spec.Template
		}
		if err := decode(into); err != nil {
			return nil, false, err
		}
		return one(tmpl.ObjectMeta, tmpl.Spec)
	case group == "batch" && h.Kind == "Job":
		var o batchv1.Job
		if err := decode(&o); err != nil {
			return nil, false, err
		}
		return one(o.Spec.Template.ObjectMeta, o.Spec.Template.Spec)
	case group == "batch" && h.Kind == "CronJob":
		var o batchv1.CronJob
		if err := decode(&o); err != nil {
			return nil, false, err
		}
		t := o.Spec.JobTemplate.Spec.Template
		return one(t.ObjectMeta, t.Spec)
	}
	return nil, false, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("psa-check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	level := fs.String("level", string(api.LevelRestricted), "Pod Security level: restricted, baseline or privileged")
	version := fs.String("version", "latest", `Pod Security Standards version: "latest" or "v1.N"`)
	verbose := fs.Bool("v", false, "also print a SKIP line for each object that has no pod spec")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: psa-check [-level restricted|baseline|privileged] [-version latest|v1.N] [-v] [FILE|-]...\n"+
			"Evaluates the pod specs of Kubernetes manifests (multi-document YAML; stdin when no FILE or \"-\")\n"+
			"with k8s.io/pod-security-admission. Exit: 0 all pass, 1 a pod spec fails, 2 usage or parse error.\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitParseError
	}
	c, err := NewChecker(*level, *version, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "psa-check: %v\n", err)
		return exitParseError
	}
	c.Verbose = *verbose

	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, f := range files {
		if f == "-" {
			c.CheckStream(stdin, "<stdin>")
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			c.ParseErrors++
			fmt.Fprintf(stderr, "ERROR %v\n", err)
			continue
		}
		c.CheckStream(fh, f)
		fh.Close()
	}
	return c.ExitCode()
}
