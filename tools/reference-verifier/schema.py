"""A small JSON Schema (2020-12 subset) validator: exactly the keywords schemas/*.schema.json use."""
import json, os, re

from prims import TS, is_ts

SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schemas")
FORMATS = {"int64": (-2**63, 2**63 - 1), "uint64": (0, 2**64 - 1),
           "uint32": (0, 2**32 - 1), "uint16": (0, 2**16 - 1)}


def load(name):
    with open(os.path.join(SCHEMAS, name), encoding="utf-8") as f:
        return json.load(f)


def _type_ok(v, t):
    return {"object": isinstance(v, dict), "array": isinstance(v, list),
            "string": isinstance(v, str), "boolean": isinstance(v, bool), "null": v is None,
            "integer": isinstance(v, int) and not isinstance(v, bool),
            "number": isinstance(v, int) and not isinstance(v, bool)}[t]


def errors(value, schema, root=None, path="$", name=None):
    """Yield 'path: problem' strings for every violation (`name`: the $defs entry `schema` is)."""
    root = root if root is not None else schema
    if schema is True or schema is False:  # a boolean schema (`"items": true`): anything, or nothing
        if schema is False:
            yield f"{path}: not allowed"
        return
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        yield from errors(value, target, root, path, schema["$ref"].rsplit("/", 1)[-1])
        if schema["$ref"].endswith("/Timestamp") and isinstance(value, str) and TS.match(value) and not is_ts(value):
            yield f"{path}: {value!r} is not a real time"  # e.g. month 13, offset +25:00
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if not any(_type_ok(value, x) for x in types):
            yield f"{path}: expected {t}"
            return
    if "const" in schema and (value != schema["const"] or type(value) is not type(schema["const"])):
        yield f"{path}: must be {schema['const']!r}"
    if "enum" in schema and value not in schema["enum"]:
        yield f"{path}: not one of {schema['enum']}"
    for kw in ("anyOf", "oneOf"):
        if kw in schema:
            n = sum(1 for s in schema[kw] if not any(True for _ in errors(value, s, root, path)))
            if n == 0 or (kw == "oneOf" and n > 1):
                yield f"{path}: matches {n} of the {kw} alternatives"
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            yield f"{path}: does not match {schema['pattern']}"
        if len(value) > schema.get("maxLength", len(value)) or len(value) < schema.get("minLength", 0):
            yield f"{path}: length {len(value)} out of range"
    if isinstance(value, int) and not isinstance(value, bool):
        lo, hi = FORMATS.get(schema.get("format"), (None, None))
        if "minimum" in schema and value < schema["minimum"] or lo is not None and value < lo:
            yield f"{path}: {value} below minimum"
        if "maximum" in schema and value > schema["maximum"] or hi is not None and value > hi:
            yield f"{path}: {value} above maximum"
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            yield f"{path}: {len(value)} items out of range"
        if "items" in schema:
            for i, x in enumerate(value):
                yield from errors(x, schema["items"], root, f"{path}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for k in schema.get("required", []):
            if k not in value:
                yield f"{path}: missing member {k!r}"
        # §4.1: optional members inside documents are written as null, never omitted (the
        # schemas' `required` lists leave nullable members out; the bundle's own top level, and
        # a public digest's, omit `cometbft`/`governance` instead, see check()).
        if path not in TOP_LEVEL_OMITS:
            for k, sub in props.items():
                if k not in value and k not in schema.get("required", []) and _nullable(sub, root) \
                        and (name, k) not in OMITTABLE:
                    yield f"{path}: optional member {k!r} omitted instead of written as null"
        for k in props:
            if (name, k) in NEVER_NULL and k in value and value[k] is None:
                yield f"{path}: {k!r} is null instead of absent"
        for k in props:
            if (name, k) in NEVER_EMPTY and value.get(k) == []:
                yield f"{path}: {k!r} is [] instead of absent"
        # §4.1: at the top level `cometbft`, `governance`, `custody` and `officers` are present
        # only when there is something in them: absent, never null (nor `governance` or
        # `officers` empty).
        if path in TOP_LEVEL_OMITS and props:  # (once: not again for a `$ref` to the bundle)
            for k in ("cometbft", "governance", "custody", "officers"):
                if k in value and (value[k] is None or value[k] == []):
                    yield f"{path}: {k!r} is {json.dumps(value[k])} instead of absent"
        for k, x in value.items():
            if k in props:
                yield from errors(x, props[k], root, f"{path}.{k}")
            elif schema.get("additionalProperties") is False:
                yield f"{path}: unknown member {k!r}"
            elif isinstance(schema.get("additionalProperties"), dict):
                yield from errors(x, schema["additionalProperties"], root, f"{path}.{k}")


TOP_LEVEL_OMITS = {"$"}  # only the bundle's (or digest's) top level; set per call in check()
# Members the spec itself calls optional, which may be left out: a validator's `member`
# (VERIFYING.md §2 "and optionally `member`"; absent is the same as null, §4.2), a batch header's
# `custody` (§4.8: "absent when the notary commits none"), a legacy custody event's `item_prev`
# (§4.12: events logged before it "lack it"). (A bundle's own `custody` is at its top level.)
# The manifest's `procedure` and an outcome's `reason` (§4.4.1: "absent in manifests that make no
# procedural claim", `"reason"?`), and a forensic profile's requirement parameters (each
# requirement states only its own; profiles are not bundle documents). A certificate's
# `procedure` and a stated outcome's `reason` (§5 certificate.facts.procedure: "absent exactly
# when the manifest has no `procedure`", `"reason"?`, "absent when the outcome has none"). A
# session summary's `record` (§4.4: "may carry `record`"; the certificate's `session` is that summary),
# and the record's `process_recording` (§4.4 proof.session_record: "when present and not null").
OMITTABLE = {("PolicyValidator", "member"), ("BatchHeader", "custody"), ("CustodyEvent", "item_prev"),
             ("Manifest", "procedure"), ("Outcome", "reason"), ("Certificate", "procedure"),
             ("OutcomeFacts", "reason"), ("SessionSummary", "record"), ("CollectionRecord", "process_recording")} | \
    {("Requirement", k) for k in ("min_collectors", "fields", "max_accuracy_m", "max_skew_s", "max_delay_s")}
# Of those, the ones inside a signed or hashed document are absent, never `null`, although the
# schemas let them be null: a `null` would be signed or hashed as written, unlike an absent member.
NEVER_NULL = {("BatchHeader", "custody"), ("CustodyEvent", "item_prev"), ("Manifest", "procedure"),
              ("Outcome", "reason"), ("Certificate", "procedure"), ("OutcomeFacts", "reason"),
              ("SessionSummary", "record")}


# A list the spec says is absent when nothing is in it, inside a signed or hashed document: the
# proof's `officer_signatures` (§4.4.2 "absent when no officer signed"); `[]` would be hashed as
# written, unlike an absent member.
NEVER_EMPTY = {("Proof", "officer_signatures")}


def _nullable(sub, root):
    if "$ref" in sub:
        target = root
        for part in sub["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return _nullable(target, root)
    t = sub.get("type")
    if t == "null" or isinstance(t, list) and "null" in t:
        return True
    return any(_nullable(x, root) for x in sub.get("anyOf", []) + sub.get("oneOf", []))


def check(value, schema_name):
    global TOP_LEVEL_OMITS
    TOP_LEVEL_OMITS = {"bundle.schema.json": {"$"}, "certificate.schema.json": {"$.certificate.bundle"},
                       "public-digest.schema.json": {"$.digest"}}.get(schema_name, set())
    s = load(schema_name)
    return list(errors(value, s, s, name=s.get("title")))  # the root is named by its title, e.g. Manifest
