# -*- coding: utf-8 -*-
# Copyright: (c) 2026, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Documented in pod_summary.yml, event_summary.yml and failing_containers.yml beside this file.


def _container_state(status):
    state = status.get("state") or {}
    if "waiting" in state:
        waiting = state["waiting"] or {}
        return "waiting %s" % waiting.get("reason", "")
    if "terminated" in state:
        terminated = state["terminated"] or {}
        return "terminated %s (exit %s)" % (terminated.get("reason", ""), terminated.get("exitCode", "?"))
    return "running, ready" if status.get("ready") else "running, not ready"


def pod_summary(pods):
    lines = []
    for pod in pods or []:
        name = (pod.get("metadata") or {}).get("name", "?")
        status = pod.get("status") or {}
        statuses = status.get("initContainerStatuses", []) + status.get("containerStatuses", [])
        if not statuses:
            reasons = [c.get("message") or c.get("reason") for c in status.get("conditions", [])
                       if c.get("status") != "True" and (c.get("message") or c.get("reason"))]
            detail = " (%s)" % "; ".join(reasons) if reasons else ""
            lines.append("%s: %s%s" % (name, status.get("phase", "Unknown"), detail))
            continue
        for container in statuses:
            lines.append("%s/%s: %s, %d restarts" % (
                name, container.get("name", "?"), _container_state(container), container.get("restartCount", 0)))
    return lines


def _finished(status):
    """A container that ran to its end and exited 0 (a Job's): not ready, but not failing."""
    terminated = (status.get("state") or {}).get("terminated")
    return terminated is not None and (terminated or {}).get("exitCode") == 0


def failing_containers(pods, limit=4):
    """The containers that are not ready, as ``{pod, container, previous}``, the ones that restarted
    first (their previous instance's log says why); at most ``limit``. The pods of Jobs that
    succeeded (the release's migration and seed Jobs match its selector too) are left out, so they
    cannot take the places of the containers that fail."""
    found = []
    for pod in pods or []:
        name = (pod.get("metadata") or {}).get("name", "?")
        if (pod.get("status") or {}).get("phase") == "Succeeded":
            continue
        for status in (pod.get("status") or {}).get("containerStatuses", []):
            if not status.get("ready") and not _finished(status):
                restarts = status.get("restartCount", 0)
                running = "running" in (status.get("state") or {})
                found.append({"pod": name, "container": status.get("name", "?"),
                              "label": "%s/%s" % (name, status.get("name", "?")),
                              "previous": restarts > 0 and not running, "restarts": restarts})
    found.sort(key=lambda entry: -entry["restarts"])
    return [dict((k, v) for k, v in entry.items() if k != "restarts") for entry in found[:limit]]


def _event_time(event):
    return event.get("lastTimestamp") or event.get("eventTime") or (event.get("metadata") or {}).get("creationTimestamp") or ""


def event_summary(events, limit=20):
    """Latest events first, as `Kind/name: Reason: message` lines."""
    ordered = sorted(events or [], key=_event_time, reverse=True)[:limit]
    return ["%s/%s: %s: %s" % ((e.get("involvedObject") or {}).get("kind", "?"),
                               (e.get("involvedObject") or {}).get("name", "?"),
                               e.get("reason", ""), e.get("message", "")) for e in ordered]


class FilterModule(object):
    def filters(self):
        return {"pod_summary": pod_summary, "event_summary": event_summary, "failing_containers": failing_containers}
