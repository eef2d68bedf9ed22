#!/usr/bin/env python3
"""Holds the server's recorded answers to docs/openapi.yaml.

Each line of the recording is one exchange made by the end-to-end tests. For every one, the
(path, method, status) must be documented, the content type must match, and a JSON body must
validate against the documented schema. An empty recording fails: a check of nothing is no check.
"""
import json
import re
import sys

import jsonschema
import yaml


def to_json_schema(node, components):
    """OpenAPI 3.0 schema -> JSON Schema 2020-12: resolve $ref, turn nullable into a type list and
    3.0's boolean exclusiveMinimum/exclusiveMaximum (beside minimum/maximum) into numbers."""
    if isinstance(node, list):
        return [to_json_schema(n, components) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].split("/")[-1]
        return to_json_schema(components[name], components)
    out = {k: to_json_schema(v, components) for k, v in node.items() if k not in ("nullable", "example", "examples", "format")}
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if out.get(exclusive) is True:
            out[exclusive] = out.pop(bound)
        elif out.get(exclusive) is False:
            del out[exclusive]
    if node.get("nullable"):
        t = out.get("type")
        if isinstance(t, str):
            out["type"] = [t, "null"]
        if "enum" in out:
            out["enum"] = list(out["enum"]) + [None]
    return out


def match_path(paths, target):
    path = target.split("?", 1)[0]
    for template in paths:
        pattern = "^" + re.sub(r"\{[^/}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path):
            return template
    return None


def main():
    spec = yaml.safe_load(open(sys.argv[1]))
    components = spec.get("components", {}).get("schemas", {})
    lines = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
    if not lines:
        print("no recorded responses: the end-to-end tests recorded nothing")
        return 1
    failures, checked, seen = [], 0, set()
    validators = {}  # one compiled validator per documented response
    for ex in lines:
        template = match_path(spec["paths"], ex["target"])
        method = ex["method"].lower()
        status = str(ex["status"])
        where = f'{ex["method"]} {ex["target"][:80]} -> {status}'
        if template is None:
            # Unknown paths must still answer with a documented problem (404).
            if status != "404":
                failures.append(f"{where}: undocumented path answered {status}")
            continue
        op = spec["paths"][template].get(method)
        if op is None:
            if status != "405":
                failures.append(f"{where}: undocumented method answered {status}")
            continue
        responses = op.get("responses", {})
        doc = responses.get(status) or responses.get("default")
        if doc is None:
            failures.append(f"{where}: status {status} is not documented for {method.upper()} {template}")
            continue
        if "$ref" in doc:
            doc = spec["components"]["responses"][doc["$ref"].split("/")[-1]]
        content = doc.get("content", {})
        ctype = ex["content_type"].split(";")[0].strip()
        if content and ctype not in content:
            failures.append(f"{where}: content type {ctype} not in {sorted(content)}")
            continue
        schema = content.get(ctype, {}).get("schema")
        if schema and ctype.endswith("json"):
            key = (template, method, status, ctype)
            if key not in validators:
                converted = to_json_schema(schema, components)
                validators[key] = jsonschema.validators.validator_for(converted)(converted)
            try:
                validators[key].validate(json.loads(ex["body"]))
            except (jsonschema.ValidationError, json.JSONDecodeError) as e:
                failures.append(f"{where}: body does not match the schema: {str(e).splitlines()[0]}")
                continue
        checked += 1
        seen.add((template, method, status))
    for f in failures[:40]:
        print("FAIL", f)
    print(f"{checked} exchanges matched the OpenAPI document ({len(seen)} distinct path/method/status), {len(failures)} did not")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
