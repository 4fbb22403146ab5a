# The two commands a new machine needs:
#   make deploy   bring up the local kind cluster (when no other is configured) and deploy the example app
#   make test     every static, unit, chart and integration check
SHELL := /bin/bash
.DEFAULT_GOAL := help
ENV ?= local
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/.tools/venv/bin:$(PATH)

.PHONY: help setup test deploy down render molecule

help:
	@echo "make deploy [ENV=local]  deploy the backend (local: onto the project's own kind cluster)"
	@echo "make test                run every check (what CI runs)"
	@echo "make render ENV=prod     write rendered/values-prod.yaml for plain helm users"
	@echo "make molecule            Molecule on the local cluster (kind's published node image where kind and Docker are found)"
	@echo "make down                delete the local cluster and stop the local registry"

setup:
	@bash scripts/setup.sh

test: setup
	@bash scripts/test.sh

deploy: setup
	@bash scripts/deploy.sh $(ENV)

molecule: setup
	@bash scripts/molecule.sh

render: setup
	ansible-playbook playbooks/render.yml -i inventories/$(ENV)

down: setup
	@bash scripts/cluster.sh -e local_cluster_state=absent
