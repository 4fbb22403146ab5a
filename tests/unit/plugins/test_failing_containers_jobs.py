# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""failing_containers leaves out what finished well: the release's selector also matches its
migration and seed Jobs' pods, and their completed containers must not take the places (at most
``limit``) of the web containers whose logs say why a rollout failed."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.laravel_ops.k8s.plugins.filter.diagnostics import failing_containers


def _completed_job_pod(name):
    return {"metadata": {"name": name}, "status": {"phase": "Succeeded", "containerStatuses": [
        {"name": "migrate", "ready": False, "restartCount": 0,
         "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]}}


def _unready_web_pod(name):
    return {"metadata": {"name": name}, "status": {"phase": "Running", "containerStatuses": [
        {"name": "nginx", "ready": False, "restartCount": 0, "state": {"running": {}}},
        {"name": "php-fpm", "ready": True, "restartCount": 0, "state": {"running": {}}}]}}


def test_completed_job_pods_do_not_crowd_out_the_failing_web_containers():
    pods = [_completed_job_pod("live-backend-migrate-%d" % n) for n in range(4)] + [
        _unready_web_pod("live-backend-7f9c-a"), _unready_web_pod("live-backend-7f9c-b")]
    assert failing_containers(pods) == [
        {"pod": "live-backend-7f9c-a", "container": "nginx", "label": "live-backend-7f9c-a/nginx", "previous": False},
        {"pod": "live-backend-7f9c-b", "container": "nginx", "label": "live-backend-7f9c-b/nginx", "previous": False},
    ]


def test_a_failed_job_and_a_container_that_exited_with_an_error_still_count():
    failed_job = {"metadata": {"name": "live-backend-migrate-x"}, "status": {"phase": "Failed", "containerStatuses": [
        {"name": "migrate", "ready": False, "restartCount": 0,
         "state": {"terminated": {"reason": "Error", "exitCode": 1}}}]}}
    exited_zero_in_running_pod = {"metadata": {"name": "web-1"}, "status": {"phase": "Running", "containerStatuses": [
        {"name": "sidecar", "ready": False, "restartCount": 0,
         "state": {"terminated": {"reason": "Completed", "exitCode": 0}}},
        {"name": "php-fpm", "ready": False, "restartCount": 2,
         "state": {"terminated": {"reason": "Error", "exitCode": 255}}}]}}
    assert failing_containers([failed_job, exited_zero_in_running_pod]) == [
        {"pod": "web-1", "container": "php-fpm", "label": "web-1/php-fpm", "previous": True},
        {"pod": "live-backend-migrate-x", "container": "migrate", "label": "live-backend-migrate-x/migrate",
         "previous": False},
    ]
