# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Make ``ansible_collections.laravel_ops.k8s`` importable from a plain checkout.

When the checkout already sits at ``.../ansible_collections/laravel_ops/k8s`` (or ansible-test
set the path up), nothing is done. Otherwise a temporary tree
``<tmp>/ansible_collections/laravel_ops/k8s -> <checkout>`` is put on ``sys.path`` for the
session. ``ansible_collections`` is a namespace package, so kubernetes.core from the ``ansible``
package in site-packages stays importable beside it.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import atexit
import importlib.util
import json
import os
import shutil
import sys
import tempfile

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
COLLECTION = 'ansible_collections.laravel_ops.k8s'


def _importable():
    try:
        return importlib.util.find_spec(COLLECTION + '.plugins.module_utils') is not None
    except ImportError:
        return False


def _setup_collection_path():
    parts = REPO.split(os.sep)
    if parts[-3:] == ['ansible_collections', 'laravel_ops', 'k8s']:
        root = os.sep.join(parts[:-3]) or os.sep
        if root not in sys.path:
            sys.path.insert(0, root)
        return
    if _importable():
        return
    root = tempfile.mkdtemp(prefix='laravel_ops_k8s_units_')
    namespace_dir = os.path.join(root, 'ansible_collections', 'laravel_ops')
    os.makedirs(namespace_dir)
    os.symlink(REPO, os.path.join(namespace_dir, 'k8s'))
    atexit.register(shutil.rmtree, root, True)
    sys.path.insert(0, root)
    # A namespace package imported before the path change would not see the new portion.
    for name in list(sys.modules):
        if name == 'ansible_collections' or name.startswith('ansible_collections.laravel_ops'):
            del sys.modules[name]


_setup_collection_path()

# Test helpers next to this file (fake_k8s) import the same way under any pytest import mode.
if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class ModuleExit(Exception):
    """exit_json was called; ``result`` holds its arguments."""

    def __init__(self, result):
        super(ModuleExit, self).__init__(result)
        self.result = result


class ModuleFail(Exception):
    """fail_json was called; ``result`` holds its arguments."""

    def __init__(self, result):
        super(ModuleFail, self).__init__(result.get('msg'))
        self.result = result


@pytest.fixture
def run_module(monkeypatch):
    """Run a module's main() with the given args; returns ('exit'|'fail', result)."""
    from ansible.module_utils import basic

    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs['msg'] = msg
        raise ModuleFail(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)

    def _run(main, args):
        try:
            from ansible.module_utils.testing import patch_module_args
        except ImportError:  # ansible-core < 2.19
            patch_module_args = None
        try:
            if patch_module_args is not None:
                with patch_module_args(args):
                    main()
            else:
                monkeypatch.setattr(basic, '_ANSIBLE_ARGS', json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode())
                main()
        except ModuleExit as exc:
            return 'exit', exc.result
        except ModuleFail as exc:
            return 'fail', exc.result
        raise AssertionError('the module returned without exit_json or fail_json')

    return _run


@pytest.fixture
def repo_root():
    return REPO


@pytest.fixture
def run_action():
    """Run an action plugin's run() on the controller with the given task args; returns its result."""
    from unittest.mock import MagicMock

    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook.play_context import PlayContext
    from ansible.template import Templar

    def _run(action_class, args, check_mode=False):
        task = MagicMock(args=args, async_val=0, check_mode=check_mode, diff=False)
        play_context = PlayContext()
        play_context.check_mode = check_mode
        loader = DataLoader()
        action = action_class(task=task, connection=MagicMock(), play_context=play_context, loader=loader,
                              templar=Templar(loader=loader), shared_loader_obj=None)
        return action.run(task_vars={})

    return _run
