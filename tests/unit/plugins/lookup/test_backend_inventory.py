# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The backend_inventory lookup, run by a real Templar over a set of variables."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest
import yaml

from ansible import constants
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.laravel_ops.k8s.plugins.lookup.backend_inventory import DOCUMENTATION, LookupModule

NAME = 'laravel_ops.k8s.backend_inventory'

VARIABLES = {
    'backend_environment': 'dev',
    # Templates from inventory files are trusted; strings made here must be marked so.
    'backend_namespace': trust_as_template('backend-{{ backend_environment }}'),
    'backend_php_image': {'registry': 'r.example.com', 'repository': 'acme/php'},
    'backend_pgbouncer_image': {'registry': 'r.example.com', 'repository': 'acme/pgbouncer'},
    'backend_app_key': trust_as_template('{{ vault_app_key | default(none) }}'),
    'backend_typo': 1,
    'unrelated': 'x',
}


def run(**options):
    # What the plugin loader does before a play calls the lookup: register the documented options.
    constants.config.initialize_plugin_configuration_definitions('lookup', NAME, yaml.safe_load(DOCUMENTATION)['options'])
    loader = DataLoader()
    lookup = LookupModule(loader=loader, templar=Templar(loader=loader, variables=VARIABLES))
    lookup._load_name = NAME
    return lookup.run([], variables=VARIABLES, **options)[0]


def test_all_backend_variables_templated_unknown_names_kept():
    inventory = run()
    assert inventory['backend_namespace'] == 'backend-dev'
    assert inventory['backend_app_key'] is None
    assert inventory['backend_typo'] == 1
    assert 'unrelated' not in inventory
    assert inventory['backend_build_image'] is True


def test_a_role_gets_its_variables_with_defaults_and_only_images_in_use():
    inventory = run(role='image')
    assert set(inventory) == {'backend_php_image', 'backend_pgbouncer_enabled', 'backend_database_in_cluster',
                              'backend_image_flavour'}
    assert inventory['backend_image_flavour'] == 'alpine'


def test_built_images_are_laid_over():
    built = {'backend_php_image': {'registry': 'r.example.com', 'repository': 'acme/php', 'tag': 'abc',
                                   'digest': 'sha256:' + 'e' * 64}}
    assert run(role='release', images=built)['backend_php_image']['tag'] == 'abc'


def test_an_unknown_role_is_refused_naming_the_known_ones():
    with pytest.raises(AnsibleError) as info:
        run(role='images')
    assert "role: 'images' is not a role that reads the inventory; allowed: deploy, deployer, image, migrations" in str(info.value)
