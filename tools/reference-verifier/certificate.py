"""§5 certificates (JSON form; the PDF form is not implemented)."""
import datetime, json

import schema
from prims import HEX64, jcs, key_id, sm2_verify_block, sm3, sm3_doc, strict_json, ts_ms

CST = datetime.timezone(datetime.timedelta(hours=8))
# GB 32100-2015: the 31 characters of a unified social credit code, value = position (no I, O, S, V, Z)
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# "not only white space": Unicode's White_Space (str.isspace() would also count U+001C-U+001F)
WHITE_SPACE = set("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {chr(c) for c in range(0x2000, 0x200B)}
OPERATOR_TYPES = ("evidence_platform", "notary_office")


def is_certificate(raw):
    try:
        d = json.loads(raw)
    except Exception:  # noqa: BLE001
        return False
    return isinstance(d, dict) and "certificate" in d


def app_hash(cp):  # §4.11 chain.app_hash, also stated in embedded mode
    return sm3(b"TIEZHENG-APPHASH-V1" + cp["anchor_log_size"].to_bytes(8, "big")
               + bytes.fromhex(cp["anchor_log_root"]) + bytes.fromhex(cp["registry_root"])).hex()


def diff(stated, expected):
    return stated == expected, "" if stated == expected else f"stated {json.dumps(stated, ensure_ascii=False)[:200]}, expected {json.dumps(expected, ensure_ascii=False)[:200]}"


def credit_code_problem(code):
    """Why `code` is not a unified social credit code (GB 32100-2015), or None."""
    if not isinstance(code, str) or len(code) != 18:
        return "not 18 characters"
    bad = [ch for ch in code if ch not in CREDIT_CODE_CHARS]
    if bad:
        return f"{bad[0]!r} is not a character of GB 32100-2015"
    if not all(ch in "0123456789" for ch in code[2:8]):
        return "characters 3-8 (the registering authority's region) are not digits"
    v = [CREDIT_CODE_CHARS.index(ch) for ch in code]
    want = (31 - sum(x * pow(3, i, 31) for i, x in enumerate(v[:17])) % 31) % 31  # weights 3^(i-1) mod 31
    return None if v[17] == want else f"check character {code[17]}, expected {CREDIT_CODE_CHARS[want]}"


def standing(iss):
    """§5 certificate.issuer_standing: the form of the issuer's stated standing, (ok, detail)."""
    def text(k, hi):
        v = iss.get(k)
        if not isinstance(v, str) or not 1 <= len(v) <= hi or all(ch in WHITE_SPACE for ch in v):
            return f"{k}: not 1-{hi} characters, or only white space"
    probs = [] if iss.get("operator_type") in OPERATOR_TYPES else [f"operator_type: not one of {OPERATOR_TYPES}"]
    probs += [p for p in (text("name", 200), text("legal_name", 200),
                          None if iss.get("filing_number") is None else text("filing_number", 100),
                          text("contact", 200)) if p]
    cc = credit_code_problem(iss.get("credit_code"))
    probs += [f"credit_code: {cc}"] if cc else []
    return not probs, "; ".join(probs) or f"{iss['operator_type']}, credit code {iss['credit_code']} (check character right)"


def number_of(chain_id, proof_sm3, record):
    """§5 certificate.number: `TZ-<date of the anchoring block in UTC+08:00>-<16 hex>`, the hex the
    first 8 bytes of SM3("tiezheng.certificate.v1|" ‖ chain_id ‖ "|" ‖ proof_sm3 ‖ "|" ‖ SM3(record))."""
    day = datetime.datetime.fromtimestamp(ts_ms(record["time"]) / 1000, CST).strftime("%Y%m%d")
    h = sm3(f"tiezheng.certificate.v1|{chain_id}|{proof_sm3}|{sm3_doc(record)}".encode())
    return f"TZ-{day}-{h[:8].hex().upper()}"


def procedure_facts(man, rc):
    """§5 certificate.facts.procedure: the `procedure` (取证依据) a certificate must state for manifest
    `man` and the signed receipt's `rc`, or None when it must state none; and a detail."""
    import profile  # profile.py imports this module (WHITE_SPACE)
    proc = man.get("procedure")
    if proc is None:  # absent (a `null` fails proof.schema and is read as absent, as in §4.4.1)
        return None, "the manifest names no forensic profile"
    ref = proc.get("profile") if isinstance(proc, dict) else None
    if not (isinstance(ref, dict) and {"id", "version", "sm3"} <= ref.keys()):
        return None, "the manifest's procedure names no profile"
    prof, named = profile.named(ref)
    if prof is None:
        return None, named
    recorded = {}
    for o in proc["outcomes"]:  # by rule (profile.outcomes says whether they are once each, in order)
        recorded.setdefault(profile.get_rule(o), o)
    outcomes = []
    for r in prof["requirements"]:
        o = {k: r[k] for k in ("rule", "severity", "title_zh", "title_en")}
        if r["rule"] == profile.DELAY:  # decided from the receipt: whether it holds, not whether it passes
            o["met"] = profile.delay_holds(r, man, rc)[0]
        elif r["rule"] in recorded:
            got = recorded[r["rule"]]
            o["met"] = got["met"]
            if got.get("reason") is not None:
                o["reason"] = got["reason"]
        else:
            raise ValueError(f"the manifest records no outcome for {r['rule']}: there is no procedure to state")
        outcomes.append(o)
    return {"profile": ref, "title_zh": prof["title_zh"], "title_en": prof["title_en"],
            "legal_basis": prof["legal_basis"], "outcomes": outcomes}, f"{named}, {len(outcomes)} requirements"


def stated_procedure(p):
    """A certificate's `procedure` for comparison: absent as null, an outcome's `reason` null as absent
    (certificate.format refuses both nulls)."""
    if not isinstance(p, dict) or not isinstance(p.get("outcomes"), list):
        return p
    outs = [{k: v for k, v in o.items() if not (k == "reason" and v is None)} if isinstance(o, dict) else o
            for o in p["outcomes"]]
    return {**p, "outcomes": outs}


def first_difference(got, exp, path):
    """Where `got` first differs from `exp` (compared as RFC 8785 bytes), for a report's detail."""
    if isinstance(got, dict) and isinstance(exp, dict):
        for k in sorted(got.keys() | exp.keys()):
            if k not in got or k not in exp:
                return f"{path}.{k}: {'not stated' if k not in got else 'stated, not expected'}"
            if jcs(got[k]) != jcs(exp[k]):
                return first_difference(got[k], exp[k], f"{path}.{k}")
    if isinstance(got, list) and isinstance(exp, list):
        if len(got) != len(exp):
            return f"{path}: {len(got)} entries stated, {len(exp)} expected"
        for i, (g, e) in enumerate(zip(got, exp)):
            if jcs(g) != jcs(e):
                return first_difference(g, e, f"{path}[{i}]")
    return f"{path}: {diff(got, exp)[1] or 'the same values, of other JSON types (e.g. 1 for true)'}"


def check(raw, pinned, media, R, check_bundle):
    try:
        doc = strict_json(raw)
    except ValueError as e:
        R.add("certificate.format", False, f"not strict JSON: {e}")
        return
    errs = schema.check(doc, "certificate.schema.json")
    R.add("certificate.format", not errs, "; ".join(errs[:8]) or "matches schemas/certificate.schema.json")
    c, sig = doc.get("certificate"), doc.get("signature")
    if not isinstance(c, dict) or not isinstance(c.get("bundle"), dict):
        R.add("bundle.schema", False, "certificate carries no bundle")
        return
    b = c["bundle"]
    R.rule("certificate.signature", lambda: sm2_verify_block(sig, jcs(c)))
    R.rule("certificate.issuer", lambda: (
        c["issuer"]["public_key"] == sig["public_key"] and c["issuer"]["key_id"] == key_id(sig["public_key"])
        and c["issuer"]["key_id"] == b["receipt"]["receipt"]["notary_key_id"],
        "issuer key = signing key = the receipt's notary"))
    R.rule("certificate.issuer_standing", lambda: standing(c["issuer"]))

    man, rc, rec = b["proof"]["manifest"], b["receipt"]["receipt"], b["anchor"]["record"]
    cp, hdr = b["checkpoint"]["checkpoint"], b["batch"]["header"]["header"]

    R.rule("certificate.number", lambda: diff(c["number"], number_of(cp["chain_id"], b["batch"]["leaf"]["proof_sm3"], rec)))

    def evidence():
        exp = []
        for i, it in enumerate(man["items"]):
            r = it["recording"]
            exp.append({"index": i, "file_name": it["file_name"], "kind": it["kind"], "origin": it["origin"],
                        "mime": it["mime"], "bytes": it["bytes"], "hashes": it["hashes"],
                        "fingerprint": it.get("fingerprint"),
                        "recording": None if r is None else {"segments": len(r["segments"]),
                                                             "interrupted": r["interrupted"], "truncated": r["truncated"]}})
        keys = ["index", "file_name", "kind", "origin", "mime", "bytes", "hashes", "fingerprint", "recording"]
        got = [{k: ci.get(k) for k in keys} for ci in c["items"]]
        ok = c["proof_sm3"] == b["batch"]["leaf"]["proof_sm3"] and c.get("session") == man.get("session_summary")
        ok2, d = diff(got, exp)
        return ok and ok2, d or ("" if ok else "proof_sm3 or session differs")
    R.rule("certificate.facts.evidence", evidence)

    def per_item(fn):
        if len(c["items"]) != len(man["items"]):
            return False, "not one entry per manifest item"
        return diff([fn(ci, None) for ci in c["items"]], [fn(None, it) for it in man["items"]])

    def times(ci, it):
        if ci is not None:
            t = ci["times"]
            return [t["device_time"], t.get("gnss_time"), t.get("last_time_sync"), t.get("file_time"),
                    t["capture_to_receipt_ms"], t["capture_to_anchor_ms"]]
        t, dev = it["times"], ts_ms(it["times"]["device_time"])
        return [t["device_time"], t.get("gnss_time"), t.get("last_time_sync"), (it.get("metadata") or {}).get("captured_at"),
                ts_ms(rc["received_at"]) - dev, ts_ms(rec["time"]) - dev]
    R.rule("certificate.facts.capture_time", lambda: per_item(times))
    R.rule("certificate.facts.location", lambda: per_item(
        lambda ci, it: [ci.get("location"), ci.get("file_gps")] if ci is not None else
        [(it.get("location") or {}).get("os_fix"), (it.get("metadata") or {}).get("gps")]))

    def findings():
        ok, d = per_item(lambda ci, it: [(f["code"], f["detail"]) for f in (ci or it)["findings"]])
        return ok, d or "codes and details match; explanation texts NOT checked (explain_finding() is not in VERIFYING.md)"
    R.rule("certificate.facts.findings", findings)
    R.rule("certificate.facts.device", lambda: diff(c["device"], man["device"]))
    R.rule("certificate.facts.case", lambda: diff(c["case"], man["case"]))

    def procedure():
        exp, detail = procedure_facts(man, rc)
        got = stated_procedure(c.get("procedure"))
        if jcs(got) == jcs(exp):  # exactly: `true` is not `1`
            return True, detail if exp is not None else f"none stated: {detail}"
        if exp is None:
            return False, f"a procedure stated, but none is to be ({detail})"
        if got is None:
            return False, f"no procedure stated, but the manifest names {detail}"
        return False, first_difference(got, exp, "procedure")
    R.rule("certificate.facts.procedure", procedure)
    R.rule("certificate.facts.receipt", lambda: diff(c["receipt"], {k: rc[k] for k in (
        "received_at", "device_seq", "chain_gap", "manifest_sm3", "notary_key_id")}))

    def anchor():
        cb = b.get("cometbft")
        exp = {"mode": b["mode"], "chain_id": cp["chain_id"], "checkpoint_height": cp["height"],
               "checkpoint_time": cp["time"], "app_hash": app_hash(cp), "height": rec["height"],
               "block_time": rec["time"], "anchor_record_sm3": sm3_doc(rec), "batch_seq": hdr["batch_seq"],
               "batch_root": hdr["root"], "batch_size": hdr["leaf_count"], "batch_header_sm3": sm3_doc(hdr),
               "leaf_index": b["batch"]["inclusion"]["leaf_index"],
               "commit_height": int(cb["signed_header"]["header"]["height"]) if cb else None,
               "commit_block_hash": cb["signed_header"]["commit"]["block_id"]["hash"] if cb else None}
        return diff({k: c["anchor"].get(k) for k in exp}, exp)
    R.rule("certificate.facts.anchor", anchor)

    def consortium():
        members = b["policy"]["members"]
        power = {m["id"]: m["power"] for m in members}
        cos = [x["member"] for x in b["checkpoint"]["cosignatures"]]
        return diff(c["consortium"], {"members": members, "cosigners": cos,
                                      "signed_power": sum(power.get(m, 0) for m in cos),
                                      "total_power": sum(power.values())})
    R.rule("certificate.facts.consortium", consortium)
    R.add("certificate.statement", None, "not checked: the fixed text (statement()) is not given in VERIFYING.md")
    R.rule("certificate.issued_at", lambda: ts_ms(c["issued_at"]) >= max(ts_ms(rc["received_at"]), ts_ms(cp["time"])))
    def custody():
        cs = c["custody"]
        if not (cs["events"] >= 1 and isinstance(cs["last_event_hash"], str) and HEX64.match(cs["last_event_hash"])):
            return False, "fewer than one event, or the last event's hash is not 64 lowercase hex digits"
        events = (b.get("custody") or {}).get("events")
        if not events:  # the bundle carries no custody events (§4.12): nothing more to compare
            return True, f"{cs['events']} events stated"
        if len(events) > cs["events"]:
            return False, f"the bundle's {len(events)} anchored events are more than the {cs['events']} stated"
        if len(events) == cs["events"] and events[-1]["hash"] != cs["last_event_hash"]:
            return False, "as many events as stated, but the last one's hash is not last_event_hash"
        return True, f"{cs['events']} events stated, {len(events)} of them anchored in the bundle"
    R.rule("certificate.custody", custody)
    # then the embedded bundle, with every rule of §4
    check_bundle(json.dumps(b, ensure_ascii=False).encode("utf-8"), pinned, media, R)
