#!/usr/bin/env bash
# Proves that the cluster cluster/up.sh started runs real workloads, with images built here:
#   1. a Pod (Debian minbase image) writes to stdout and exits 0: its container ID (also looked
#      up in containerd), restart count, exit code and logs are read back through the API;
#   2. a Deployment of 2 replicas behind a Service answers HTTP through the Service's ClusterIP
#      from the host (kube-proxy's iptables rules);
#   3. another Pod resolves the Service by DNS name (CoreDNS; glibc and Go resolvers) and
#      fetches it by its short name.
# The namespace enforces the "restricted" Pod Security Standard, so everything runs non-root.
# Ends with "smoke: N passed, N failed"; exits 1 if any check failed.
#
# Usage: cluster/smoke.sh [--keep]   (--keep leaves the namespace for a look afterwards)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib/common.sh
source "$HERE/lib/common.sh"
export PATH="$PATH:/usr/sbin:/sbin"

KEEP=0
[[ "${1:-}" == --keep ]] && KEEP=1
# a fresh namespace each run: a Service re-created under an old name could meet cached DNS answers
NS="laravel-ops-smoke-$(date +%s)"
WAIT="${LARAVEL_OPS_SMOKE_TIMEOUT:-120}"
PASSED=0
FAILED=0

[[ -f "$KUBECONFIG_ADMIN" ]] || die "no $KUBECONFIG_ADMIN: run cluster/up.sh first"
kubectl get --raw /readyz >/dev/null 2>&1 || die "the API server does not answer: run cluster/up.sh first"

ok() { log "PASS: $*"; PASSED=$((PASSED + 1)); }
bad() { log "FAIL: $*"; FAILED=$((FAILED + 1)); }
matches() { [[ "$1" =~ $2 ]]; }
equals() { [[ "$1" == "$2" ]]; }
check() { # DESCRIPTION COMMAND...
  local what="$1"; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

cleanup() {
  if [[ $KEEP == 0 ]]; then
    kubectl delete namespace "$NS" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  fi
}
# wait_pod_done POD: until the pod has Succeeded or Failed; prints the phase
wait_pod_done() {
  local phase="" i
  for ((i = 0; i < WAIT; i++)); do
    phase="$(kubectl -n "$NS" get pod "$1" -o jsonpath='{.status.phase}' 2>/dev/null || true)"
    [[ "$phase" == Succeeded || "$phase" == Failed ]] && break
    sleep 1
  done
  echo "${phase:-Unknown}"
}
trap 'status_end $?; cleanup' EXIT

SECURE='
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}'
POD_SECURITY='
  securityContext:
    runAsNonRoot: true
    runAsUser: 65534
    runAsGroup: 65534
    seccompProfile: {type: RuntimeDefault}'

# namespaces of earlier runs that were kept (--keep) or interrupted
kubectl delete namespace -l laravel-ops.local/smoke=true --wait=false >/dev/null 2>&1 || true
start=$SECONDS
kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $NS
  labels:
    laravel-ops.local/smoke: "true"
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/warn: restricted
---
apiVersion: v1
kind: Pod
metadata:
  name: hello
  namespace: $NS
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
$POD_SECURITY
  containers:
    - name: hello
      image: $TEST_IMAGE
      imagePullPolicy: Never
      command: ["/bin/sh", "-c", "echo \"hello from a pod: Debian \$(cat /etc/debian_version), uid \$(id -u)\"; exit 0"]
$SECURE
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: $NS
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65534
        runAsGroup: 65534
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: web
          image: $TEST_IMAGE
          imagePullPolicy: Never
          command: ["testbox", "serve", "-addr", ":8080"]
          ports:
            - {name: http, containerPort: 8080}
          readinessProbe:
            httpGet: {path: /, port: http}
            periodSeconds: 2
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: $NS
spec:
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: http}
EOF
log "applied the smoke namespace, pod, deployment and service"

# ---- 1. a pod that prints and exits 0 --------------------------------------------------------
phase="$(wait_pod_done hello)"
if [[ "$phase" == Succeeded ]]; then
  ok "pod hello ran to completion (phase Succeeded)"
else
  bad "pod hello did not succeed: phase $phase $(kubectl -n "$NS" get pod hello -o jsonpath='{.status.containerStatuses[0].state}')"
  kubectl -n "$NS" describe pod hello | tail -n 20 >&2 || true
fi
cid="$(kubectl -n "$NS" get pod hello -o jsonpath='{.status.containerStatuses[0].containerID}')"
restarts="$(kubectl -n "$NS" get pod hello -o jsonpath='{.status.containerStatuses[0].restartCount}')"
exit_code="$(kubectl -n "$NS" get pod hello -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')"
logs="$(kubectl -n "$NS" logs hello 2>&1 || true)"
log "pod hello: containerID=$cid restartCount=$restarts exitCode=$exit_code"
log "pod hello logs: $logs"
check "container ID is a containerd ID" matches "$cid" '^containerd://[0-9a-f]{64}$'
check "containerd knows container ${cid#containerd://}" \
  bash -c "ctr --address '$CONTAINERD_SOCK' -n k8s.io containers info '${cid#containerd://}' >/dev/null 2>&1"
check "restart count is 0" equals "$restarts" 0
check "exit code is 0" equals "$exit_code" 0
check "logs carry the pod's output" grep -q '^hello from a pod: Debian [0-9.]*, uid 65534$' <<< "$logs"

# ---- 2. deployment + service through the ClusterIP, from the host ---------------------------
if kubectl -n "$NS" rollout status deployment/web --timeout="${WAIT}s" >/dev/null; then
  ok "deployment web rolled out (2 replicas ready)"
else
  bad "deployment web did not roll out"
  kubectl -n "$NS" get pods -o wide >&2 || true
fi
cluster_ip="$(kubectl -n "$NS" get service web -o jsonpath='{.spec.clusterIP}')"
answers=""
for _ in $(seq 1 20); do
  if body="$(curl -fsS --max-time 3 "http://$cluster_ip/" 2>/dev/null)"; then
    answers+="$body"$'\n'
    [[ "$(sort -u <<< "$answers" | grep -c '^hello from web-')" -ge 2 ]] && break
  fi
  sleep 0.5
done
log "answers from http://$cluster_ip/ (host -> ClusterIP): $(sort -u <<< "$answers" | grep . | tr '\n' ' ')"
check "the service's ClusterIP $cluster_ip answers from the host" grep -q '^hello from web-' <<< "$answers"
check "both replicas answered through the ClusterIP" \
  equals "$(sort -u <<< "$answers" | grep -c '^hello from web-')" 2

# ---- 3. DNS name from another pod ------------------------------------------------------------
fqdn="web.$NS.svc.$CLUSTER_DOMAIN"
kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: client
  namespace: $NS
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
$POD_SECURITY
  containers:
    - name: client
      image: $TEST_IMAGE
      imagePullPolicy: Never
      command:
        - /bin/bash
        - -c
        - |
          set -e
          echo "resolv.conf: \$(grep -v '^#' /etc/resolv.conf | tr '\n' ' ')"
          echo "getent: \$(getent hosts $fqdn)"
          testbox lookup -tries 10 $fqdn
          testbox get -tries 10 http://web/
$SECURE
EOF
phase="$(wait_pod_done client)"
if [[ "$phase" == Succeeded ]]; then
  ok "pod client resolved and fetched the service (phase Succeeded)"
else
  bad "pod client did not succeed: phase $phase"
fi
client_logs="$(kubectl -n "$NS" logs client 2>&1 || true)"
# shellcheck disable=SC2001  # prefixes every line
sed 's/^/[cluster]   client: /' <<< "$client_logs" >&2
check "$fqdn resolves to the ClusterIP $cluster_ip (glibc)" grep -q "^getent: $cluster_ip " <<< "$client_logs"
check "$fqdn resolves to the ClusterIP $cluster_ip (Go resolver)" grep -q "^$fqdn $cluster_ip\$" <<< "$client_logs"
check "http://web/ answers by its short DNS name from a pod" grep -q '^hello from web-' <<< "$client_logs"

log "smoke test took $((SECONDS - start))s"
echo "smoke: $PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
