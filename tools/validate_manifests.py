#!/usr/bin/env python3
"""Validate rendered Kubernetes manifests offline against OpenAPI-derived JSON schemas.

Reads one or more multi-document YAML streams (files, or standard input for "-" or no
argument) and validates every object, in strict mode (unknown fields are errors), against
the JSON schemas that the ``kubernetes_validate`` package bundles for the chosen
Kubernetes version (derived from the upstream OpenAPI spec), plus the hand-written
custom-resource schemas in ``tools/crd-schemas/`` (ServiceMonitor and PrometheusRule of
monitoring.coreos.com/v1) or any ``--crd-schemas DIR``.

Output, one line each, in input order::

    OK Kind/name
    ERROR Kind/name: path.to[0].field: message      (one line per problem)
    SKIP Kind/name: no schema for <apiVersion> <Kind>
    N valid, N invalid, N skipped

Exit status: 0 when nothing is invalid (skips allowed unless --fail-on-skip), 1 when an
object is invalid (or skipped with --fail-on-skip), 2 on usage errors, unreadable files
or YAML syntax errors.

Why not ``kubernetes_validate.validate()``: it works offline, but stops at the first error
of an object and re-reads the 1.5 MB definitions file for every object. This tool uses the
same bundled schema files and the same jsonschema/referencing machinery, loads them once,
and reports every error. Objects of a built-in API group whose apiVersion/kind the chosen
Kubernetes version does not serve (e.g. policy/v1beta1 PodDisruptionBudget on 1.35) are
reported as errors, not skipped.

Like the API server (sigs.k8s.io/yaml), YAML timestamps are kept as strings, non-string
mapping keys become strings, a key repeated in one mapping is an error, and null-valued
fields count as unset.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

import jsonschema
import kubernetes_validate
import yaml
from referencing import Registry, Resource

SCHEMA_ROOT = Path(kubernetes_validate.__file__).resolve().parent / "kubernetes-json-schema"
DEFAULT_CRD_DIR = Path(__file__).resolve().parent / "crd-schemas"
DEFAULT_K8S_VERSION = "1.35.0"
K8S_DEFS_ID = "https://kubernetes.io/api/_definitions.json"
MAX_MESSAGE = 300

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


# --------------------------------------------------------------------------- YAML loading


class ManifestLoader(yaml.SafeLoader):
    """SafeLoader that behaves like the Kubernetes API server's YAML decoding."""

    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML override
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                    continue
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        "found duplicate key %r" % key_node.value, key_node.start_mark)
                seen.add(key_node.value)
        mapping = super().construct_mapping(node, deep=deep)
        if all(isinstance(k, str) for k in mapping):
            return mapping
        return {_key_str(k): v for k, v in mapping.items()}


def _key_str(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


# Timestamps stay strings (sigs.k8s.io/yaml does not turn them into times).
ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# A plain "=" scalar (yaml.org value tag) is a string.
ManifestLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: str(node.value))


@dataclass
class Document:
    source: str
    index: int  # 1-based position in the stream
    line: int  # 1-based line where the document starts
    data: Any = None
    error: Optional[str] = None  # set when the document could not be constructed
    ident: str = ""  # Kind/name guessed from the YAML nodes, for error reports


def _ident_from_node(node: yaml.Node) -> str:
    kind = name = None
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "kind" and isinstance(value, yaml.ScalarNode):
                kind = value.value
            if isinstance(key, yaml.ScalarNode) and key.value == "metadata" and isinstance(value, yaml.MappingNode):
                for k2, v2 in value.value:
                    if isinstance(k2, yaml.ScalarNode) and k2.value == "name" and isinstance(v2, yaml.ScalarNode):
                        name = v2.value
    return "%s/%s" % (kind or "<no kind>", name or "<unnamed>")


def load_documents(text: str, source: str) -> Iterator[Document]:
    """Yields the documents of a YAML stream; raises yaml.YAMLError on a syntax error."""
    loader = ManifestLoader(text)
    loader.name = source  # used in error marks instead of "<unicode string>"
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()  # syntax errors surface here and end the stream
            index += 1
            doc = Document(source=source, index=index, line=node.start_mark.line + 1)
            try:
                doc.data = loader.construct_document(node)
            except yaml.YAMLError as exc:
                # reset the constructor so that the next documents load cleanly
                loader.constructed_objects = {}
                loader.recursive_objects = {}
                loader.state_generators = []
                loader.deep_construct = False
                doc.error = yaml_error_text(exc)
                doc.ident = _ident_from_node(node)
            yield doc
    finally:
        loader.dispose()


def yaml_error_text(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        where = " (%s line %d, column %d)" % (mark.name, mark.line + 1, mark.column + 1) if mark else ""
        return "%s%s" % (exc.problem, where)
    return " ".join(str(exc).split())


def prune_nulls(value: Any) -> Any:
    """Drops null-valued mapping entries, as the API server treats them as unset."""
    if isinstance(value, dict):
        return {k: prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune_nulls(v) for v in value]
    return value


# --------------------------------------------------------------------------- schemas


def bundled_versions() -> list[str]:
    """Kubernetes versions (e.g. '1.35.0') whose strict schemas kubernetes_validate bundles."""
    found = []
    for entry in SCHEMA_ROOT.iterdir():
        m = re.fullmatch(r"v(\d+\.\d+\.\d+)-local-strict", entry.name)
        if m and (entry / "_definitions.json").is_file():
            found.append(m.group(1))
    return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")))


def resolve_version(requested: str) -> str:
    """Maps '1.35', 'v1.35.2' or '1.35.0' to the bundled '1.35.0'; raises ValueError."""
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", requested.strip())
    versions = bundled_versions()
    if m:
        for v in versions:
            if v.split(".")[:2] == [m.group(1), m.group(2)]:
                return v
    raise ValueError("Kubernetes version %r is not bundled by kubernetes-validate %s; choose one of: %s"
                     % (requested, kubernetes_validate.__version__, ", ".join(versions)))


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


@dataclass
class SchemaStore:
    """Strict schemas of one Kubernetes version plus custom-resource schemas."""

    k8s_version: str
    crd_dirs: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.schema_dir = SCHEMA_ROOT / ("v%s-local-strict" % self.k8s_version)
        definitions = json.loads((self.schema_dir / "_definitions.json").read_text())
        self.registry = Registry().with_resource(K8S_DEFS_ID, Resource.from_contents(definitions))
        # (group, version, kind) -> definition name, for every kind this version serves
        self.builtin: dict[tuple[str, str, str], str] = {}
        for name, schema in definitions.get("$defs", {}).items():
            gvks = schema.get("x-kubernetes-group-version-kind") or []
            if len(gvks) == 1:  # several entries only for shared meta types such as DeleteOptions
                g = gvks[0]
                self.builtin[(g.get("group", ""), g["version"], g["kind"])] = name
        self.builtin_groups = {g for g, _, _ in self.builtin}
        self.crds: dict[tuple[str, str, str], tuple[Path, dict]] = {}
        for directory in self.crd_dirs:
            for path in sorted(Path(directory).glob("*.json")):
                schema = json.loads(path.read_text())
                jsonschema.Draft202012Validator.check_schema(schema)
                for g in schema.get("x-kubernetes-group-version-kind") or []:
                    self.crds[(g.get("group", ""), g["version"], g["kind"])] = (path, schema)
        self._validators: dict[tuple[str, str, str], Any] = {}

    def _validator(self, schema: dict) -> jsonschema.Draft202012Validator:
        registry = self.registry
        if "$id" in schema:
            registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
        return jsonschema.Draft202012Validator(schema, registry=registry)

    def lookup(self, api_version: str, kind: str) -> tuple[str, Optional[jsonschema.Draft202012Validator]]:
        """Returns (status, validator): status is 'ok', 'not-served' or 'unknown'."""
        group, version = split_api_version(api_version)
        key = (group, version, kind)
        if key in self._validators:
            return "ok", self._validators[key]
        if key in self.crds:
            validator = self._validator(self.crds[key][1])
        elif key in self.builtin:
            # kubernetes_validate's file naming: <kind>-<first label of the group>-<version>.json
            prefix = group.split(".")[0] + "-" if group else ""
            path = self.schema_dir / ("%s-%s%s.json" % (kind.lower(), prefix, version))
            schema = json.loads(path.read_text()) if path.is_file() else None
            if schema is None or {"group": group, "version": version, "kind": kind} not in [
                    {"group": g.get("group", ""), "version": g["version"], "kind": g["kind"]}
                    for g in schema.get("x-kubernetes-group-version-kind") or []]:
                schema = {"$ref": "%s#/$defs/%s" % (K8S_DEFS_ID, self.builtin[key])}
            validator = self._validator(schema)
        elif group in self.builtin_groups:
            return "not-served", None
        else:
            return "unknown", None
        self._validators[key] = validator
        return "ok", validator


# --------------------------------------------------------------------------- validation


def format_path(path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += "[%d]" % part
        else:
            out += ("." if out else "") + str(part)
    return out or "(root)"


def _shorten(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 3] + "..."


def schema_errors(validator, obj: dict) -> list[tuple[str, str]]:
    """All schema violations of obj as (path, message), unknown fields one per field."""
    problems = []
    for err in validator.iter_errors(obj):
        path = list(err.absolute_path)
        if err.validator == "additionalProperties" and err.validator_value is False and isinstance(err.instance, dict):
            known = set(err.schema.get("properties", {}))
            patterns = list(err.schema.get("patternProperties", {}))
            for key in err.instance:
                if key not in known and not any(re.search(p, key) for p in patterns):
                    problems.append((format_path(path + [key]), 'unknown field "%s"' % key))
            continue
        if err.validator in ("oneOf", "anyOf") and err.context:
            # e.g. int-or-string: say what the value is not, from the closest sub-errors
            best = jsonschema.exceptions.best_match(err.context)
            if best is not None and best.validator != "type":
                problems.append((format_path(list(best.absolute_path)), _shorten(best.message)))
                continue
        problems.append((format_path(path), _shorten(err.message)))
    unique = sorted(set(problems), key=lambda p: (p[0], p[1]))
    return unique


def object_ident(obj: dict) -> str:
    kind = obj.get("kind") if isinstance(obj.get("kind"), str) and obj.get("kind") else "<no kind>"
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = meta.get("name") if isinstance(meta.get("name"), str) and meta.get("name") else None
    if not name and isinstance(meta.get("generateName"), str) and meta.get("generateName"):
        name = meta["generateName"] + "*"
    return "%s/%s" % (kind, name or "<unnamed>")


@dataclass
class Report:
    out: Any = None  # None: sys.stdout at the time of printing
    quiet: bool = False
    valid: int = 0
    invalid: int = 0
    skipped: int = 0
    yaml_errors: int = 0

    def _print(self, line: str) -> None:
        print(line, file=self.out if self.out is not None else sys.stdout)

    def ok(self, ident: str) -> None:
        self.valid += 1
        if not self.quiet:
            self._print("OK %s" % ident)

    def error(self, ident: str, problems: list[tuple[str, str]]) -> None:
        self.invalid += 1
        for path, message in problems:
            self._print("ERROR %s: %s: %s" % (ident, path, message))

    def skip(self, ident: str, reason: str) -> None:
        self.skipped += 1
        self._print("SKIP %s: %s" % (ident, reason))

    def summary(self) -> str:
        return "%d valid, %d invalid, %d skipped" % (self.valid, self.invalid, self.skipped)


def check_object(obj: Any, store: SchemaStore, report: Report, where: str) -> None:
    if not isinstance(obj, dict):
        report.error("<%s>" % where, [("(root)", "document is not a mapping (a Kubernetes object)")])
        return
    ident = object_ident(obj)
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    missing = [(f, "required field is missing or not a string") for f, v in
               (("apiVersion", api_version), ("kind", kind)) if not isinstance(v, str) or not v]
    if missing:
        report.error(ident, missing)
        return
    if kind == "List" and api_version == "v1" and isinstance(obj.get("items"), list):
        for i, item in enumerate(obj["items"]):
            check_object(item, store, report, "%s items[%d]" % (where, i))
        return
    status, validator = store.lookup(api_version, kind)
    if status == "not-served":
        report.error(ident, [("apiVersion", "%s %s is not served by Kubernetes %s"
                                            % (api_version, kind, store.k8s_version))])
        return
    if status == "unknown":
        report.skip(ident, "no schema for %s %s" % (api_version, kind))
        return
    problems = schema_errors(validator, obj)
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    if not meta.get("name") and not meta.get("generateName"):
        problems.append(("metadata.name", "required (or metadata.generateName)"))
    if problems:
        report.error(ident, problems)
    else:
        report.ok(ident)


def validate_stream(text: str, source: str, store: SchemaStore, report: Report) -> None:
    try:
        for doc in load_documents(text, source):
            where = "%s document %d (line %d)" % (source, doc.index, doc.line)
            if doc.error is not None:
                report.error(doc.ident, [("(document)", _shorten(doc.error))])
                continue
            if doc.data is None:  # empty document, e.g. only a "# Source:" comment
                continue
            check_object(prune_nulls(doc.data), store, report, where)
    except yaml.YAMLError as exc:
        report.yaml_errors += 1
        report._print("ERROR %s: YAML syntax error: %s" % (source, yaml_error_text(exc)))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="validate_manifests.py",
        description="Validate Kubernetes manifests (multi-document YAML) offline and strictly against the "
                    "JSON schemas bundled in kubernetes-validate, plus CRD schemas from tools/crd-schemas.")
    parser.add_argument("files", nargs="*", default=["-"], metavar="FILE",
                        help='manifest files; "-" or none reads standard input')
    parser.add_argument("--kubernetes-version", "-k", default=DEFAULT_K8S_VERSION,
                        help="Kubernetes version of the schemas (default %(default)s; see --list-versions)")
    parser.add_argument("--crd-schemas", action="append", type=Path, metavar="DIR",
                        help="directory of custom-resource JSON schemas (repeatable; default %s)" % DEFAULT_CRD_DIR)
    parser.add_argument("--fail-on-skip", action="store_true",
                        help="exit 1 when an object has no schema (default: report SKIP and go on)")
    parser.add_argument("--quiet", "-q", action="store_true", help="do not print OK lines")
    parser.add_argument("--list-versions", action="store_true", help="print the bundled Kubernetes versions")
    args = parser.parse_args(argv)

    if args.list_versions:
        print("\n".join(bundled_versions()))
        return EXIT_OK
    try:
        version = resolve_version(args.kubernetes_version)
    except ValueError as exc:
        print("validate_manifests: %s" % exc, file=sys.stderr)
        return EXIT_USAGE
    crd_dirs = args.crd_schemas if args.crd_schemas else [DEFAULT_CRD_DIR]
    for directory in crd_dirs:
        if not directory.is_dir():
            print("validate_manifests: CRD schema directory %s does not exist" % directory, file=sys.stderr)
            return EXIT_USAGE
    store = SchemaStore(version, crd_dirs)
    report = Report(quiet=args.quiet)

    unreadable = 0
    for name in args.files:
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text()
        except OSError as exc:
            unreadable += 1
            report._print("ERROR %s: cannot read: %s" % (name, exc.strerror or exc))
            continue
        validate_stream(text, "<stdin>" if name == "-" else name, store, report)

    report._print(report.summary())
    if unreadable or report.yaml_errors:
        return EXIT_USAGE
    if report.invalid or (args.fail_on_skip and report.skipped):
        return EXIT_INVALID
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
