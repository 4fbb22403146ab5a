# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.laravel_ops.k8s.plugins.filter.diagnostics import event_summary, failing_containers, pod_summary


def test_pod_summary_names_why_each_container_is_not_ready():
    pods = [{
        "metadata": {"name": "backend-1"},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {"name": "php-fpm", "ready": False, "restartCount": 4,
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
                {"name": "nginx", "ready": True, "restartCount": 0, "state": {"running": {}}},
            ],
        },
    }, {
        "metadata": {"name": "backend-2"},
        "status": {"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "message": "0/1 nodes are available: 1 Insufficient cpu."}]},
    }, {
        "metadata": {"name": "backend-3"},
        "status": {"containerStatuses": [
            {"name": "php-fpm", "restartCount": 1,
             "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]},
    }]
    assert pod_summary(pods) == [
        "backend-1/php-fpm: waiting CrashLoopBackOff, 4 restarts",
        "backend-1/nginx: running, ready, 0 restarts",
        "backend-2: Pending (0/1 nodes are available: 1 Insufficient cpu.)",
        "backend-3/php-fpm: terminated OOMKilled (exit 137), 1 restarts",
    ]


def test_pod_summary_of_nothing_is_empty():
    assert pod_summary(None) == []
    assert pod_summary([]) == []


def test_event_summary_orders_newest_first_and_limits():
    events = [
        {"involvedObject": {"kind": "Pod", "name": "a"}, "reason": "Pulled", "message": "old",
         "lastTimestamp": "2026-01-01T00:00:00Z"},
        {"involvedObject": {"kind": "Pod", "name": "b"}, "reason": "BackOff", "message": "new",
         "lastTimestamp": "2026-01-01T00:05:00Z"},
        # Events recorded with the events.k8s.io API carry eventTime instead of lastTimestamp.
        {"involvedObject": {"kind": "Job", "name": "c"}, "reason": "Failed", "message": "mid",
         "lastTimestamp": None, "eventTime": "2026-01-01T00:03:00Z"},
    ]
    assert event_summary(events) == ["Pod/b: BackOff: new", "Job/c: Failed: mid", "Pod/a: Pulled: old"]
    assert event_summary(events, limit=1) == ["Pod/b: BackOff: new"]


def test_failing_containers_restarted_first_with_their_previous_log():
    pods = [
        {"metadata": {"name": "web-1"}, "status": {"containerStatuses": [
            {"name": "nginx", "ready": True, "restartCount": 0, "state": {"running": {}}},
            {"name": "php-fpm", "ready": False, "restartCount": 0, "state": {"running": {}}}]}},
        {"metadata": {"name": "web-2"}, "status": {"containerStatuses": [
            {"name": "php-fpm", "ready": False, "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}},
    ]
    assert failing_containers(pods) == [
        {"pod": "web-2", "container": "php-fpm", "label": "web-2/php-fpm", "previous": True},
        {"pod": "web-1", "container": "php-fpm", "label": "web-1/php-fpm", "previous": False},
    ]
    assert len(failing_containers(pods * 5, limit=4)) == 4
