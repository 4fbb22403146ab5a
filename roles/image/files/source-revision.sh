#!/bin/sh
# Prints the revision an image of this source tree is tagged with: the short git commit when the
# tree is a clean git checkout, else a hash of its content, so equal sources get equal tags.
set -eu
cd "$1"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && [ -z "$(git status --porcelain -- .)" ]; then
  git rev-parse --short=12 HEAD
else
  printf 'src-%s\n' "$(tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    --exclude=./vendor --exclude=./node_modules --exclude=./.git -cf - . | sha256sum | cut -c1-12)"
fi
