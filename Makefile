# The two commands a new machine needs:
#   make deploy   bring up the local cluster (when no other is configured) and deploy the example app
#   make test     every static, unit, chart and integration check
SHELL := /bin/bash
.DEFAULT_GOAL := help
ENV ?= local
SCENARIO ?= default
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/.tools/venv/bin:$(PATH)

.PHONY: help setup test deploy render molecule kind kind-down

help:
	@echo "make deploy [ENV=local]  deploy the backend (local: onto the project's own cluster)"
	@echo "make test                run every check (what CI runs)"
	@echo "make render ENV=prod     write rendered/values-prod.yaml for plain helm users"
	@echo "make molecule [SCENARIO=default]  Molecule against the local cluster (kind: SCENARIO=kind)"
	@echo "make kind / make kind-down  a three-node kind cluster from the node image built here"

setup:
	@bash scripts/setup.sh

test: setup
	@bash scripts/test.sh

deploy: setup
	@bash scripts/deploy.sh $(ENV)

molecule: setup
	@bash scripts/molecule.sh $(SCENARIO)

render: setup
	ansible-playbook playbooks/render.yml -i inventories/$(ENV)

kind: setup
	@bash cluster/kind/up.sh >/dev/null

kind-down:
	@bash cluster/kind/up.sh down >/dev/null
