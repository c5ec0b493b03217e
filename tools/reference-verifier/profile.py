"""§4.4.1 `profile`: the forensic procedure a manifest claims, against the forensic profiles this
verifier ships (schemas/profiles/*.json; a bundle cannot bring its own)."""
import decimal, os

import schema
from certificate import WHITE_SPACE
from prims import sm3_doc, strict_json, ts_ms

PROFILES = os.path.join(schema.SCHEMAS, "profiles")
RULES = ("profile.named", "profile.outcomes", "profile.collectors", "profile.signatures", "profile.holder",
         "profile.witness", "profile.fields", "profile.location", "profile.clock", "profile.origin", "profile.receipt_delay")
DELAY = "profile.receipt_delay"  # the one requirement decided here, from the signed receipt
MAX_REASON = 500
_shipped = None


def shipped():
    """[(file name, profile or None, its SM3 or why it is not a profile)] for schemas/profiles/*.json."""
    global _shipped
    if _shipped is None:
        _shipped = []
        for f in sorted(os.listdir(PROFILES)):
            if f.endswith(".json"):
                with open(os.path.join(PROFILES, f), "rb") as fh:
                    p = strict_json(fh.read())
                errs = schema.check(p, "profile.schema.json")
                _shipped.append((f, None, "; ".join(errs[:3])) if errs else (f, p, sm3_doc(p)))
    return _shipped


# ---- white space (Unicode White_Space, as certificate.py) -----------------------------------
def trim(s):
    i, j = 0, len(s)
    while i < j and s[i] in WHITE_SPACE:
        i += 1
    while j > i and s[j - 1] in WHITE_SPACE:
        j -= 1
    return s[i:j]


def filled(s):
    """A string that is not blank (blank = empty or only white space)."""
    return isinstance(s, str) and trim(s) != ""


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


# ---- profile.named, profile.outcomes --------------------------------------------------------
def named(ref):
    """profile.named: (the shipped profile `ref` names, or None; detail)."""
    pid, ver, digest = ref["id"], ref["version"], ref["sm3"]
    for f, p, h in shipped():
        if p is not None and p["id"] == pid and is_int(ver) and p["version"] == ver:
            if digest != h:
                return None, f"sm3 {digest} is not the SM3 of {f} ({h})"
            return p, f"{pid} version {ver} ({f})"
    return None, f"no shipped forensic profile {pid!r} version {ver!r}"


def outcome_problems(prof, outcomes):
    """profile.outcomes: what is wrong with the recorded outcomes of `prof`'s capture-time
    requirements (every one but profile.receipt_delay, once, in the profile's order)."""
    reqs = [r for r in prof["requirements"] if r["rule"] != DELAY]
    got = [get_rule(o) for o in outcomes]
    if got != [r["rule"] for r in reqs]:
        return [f"outcomes {got} are not the profile's capture-time requirements "
                f"{[r['rule'] for r in reqs]}, in order"]
    bad = []
    for r, o in zip(reqs, outcomes):
        met, reason = o["met"], o.get("reason")  # a `null` reason is no reason (and fails the schema)
        if not isinstance(met, bool):
            bad.append(f"{r['rule']}: met is not a boolean")
        elif met and reason is not None:
            bad.append(f"{r['rule']}: met, with a reason")
        elif not met and r["severity"] == "must":
            bad.append(f"{r['rule']}: a must recorded as not met")
        elif not met and not reason_ok(reason):
            bad.append(f"{r['rule']}: a should not met without a reason of 1 to {MAX_REASON} characters, "
                       "not blank, without white space around it")
    return bad


def get_rule(o):
    return o.get("rule") if isinstance(o, dict) else None


def reason_ok(reason):
    # reading: the recorded reason is its own trimmed form, as the capture records it
    return isinstance(reason, str) and 1 <= len(reason) <= MAX_REASON and trim(reason) == reason


# ---- what "holds" means on the manifest, for each requirement -------------------------------
def collectors(req, man):
    n = len({trim(c) for c in man["case"]["collectors"] if filled(c)})
    return n >= req["min_collectors"], f"{n} distinct collectors, at least {req['min_collectors']} required"


def signatures(req, man, signers):
    """Every collector named (trimmed, blank ones aside) is, trimmed, the `officer_id` of an entry of
    the proof's `officer_signatures` (whether each verifies is officer.signature's)."""
    signed = {trim(e["officer_id"]) for e in signers if isinstance(e["officer_id"], str)}
    missing = sorted({trim(c) for c in man["case"]["collectors"] if filled(c)} - signed)
    return not missing, f"collectors who did not sign: {missing}" if missing else \
        f"every collector signed ({len(signed)} officers' signatures)"


def party(member):
    def holds(req, man):
        p = man["case"][member]
        ok = p is not None and (filled(p.get("name")) or filled(p.get("note")))
        return ok, f"the {member} is named or the note says why not" if ok else f"no {member} named, and no note"
    return holds


def fields(req, man):
    blank = [f for f in req["fields"] if not filled(man["case"][f])]
    return not blank, f"blank case fields: {blank}" if blank else f"case fields {req['fields']} filled in"


def location(req, man):
    bad = [i for i, it in enumerate(man["items"]) if not fix_ok(it["location"], req["max_accuracy_m"])]
    return not bad, f"items without a non-mock OS fix within {req['max_accuracy_m']} m: {bad}" if bad else \
        f"every item has a non-mock OS fix within {req['max_accuracy_m']} m"


def fix_ok(loc, max_m):
    fix = loc["os_fix"] if loc is not None else None
    if fix is None or fix["mock"] is not False or fix["horizontal_accuracy"] is None:
        return False
    return decimal.Decimal(fix["horizontal_accuracy"]) <= max_m


def clock(req, man):
    lim = 1000 * req["max_skew_s"]
    bad = [i for i, it in enumerate(man["items"]) if not time_ok(it["times"], lim)]
    return not bad, f"items off trusted time by more than {req['max_skew_s']} s, or unchecked: {bad}" if bad else \
        f"every item within {req['max_skew_s']} s of trusted time"


def time_ok(t, lim):
    sync, gnss = t.get("last_time_sync"), t.get("gnss_time")
    if sync is not None and abs(sync["offset_ms"]) <= lim:
        return True
    return gnss is not None and abs(ts_ms(gnss) - ts_ms(t["device_time"])) <= lim


def origin(req, man):
    bad = [i for i, it in enumerate(man["items"]) if it["origin"] != "captured"]
    return not bad, f"items not captured: {bad}" if bad else "every item captured"


def witness(req, man):
    """party("witness"); on a summary carrying `record`, also: the witness signed the record, or it
    names an inventoried video of the whole collection."""
    from record import process_video  # record.py imports this module's helpers
    ok, detail = party("witness")(req, man)
    rec = (man.get("session_summary") or {}).get("record")
    if not ok or rec is None:
        return ok, detail
    if rec["witness"]["signature_image_sm3"] is not None:
        return True, "the witness signed the collection record"
    if process_video(rec) is not None:
        return True, "no witness signed; the whole collection is recorded on video"
    return False, "no witness signed the record, and it names no video of the whole collection"


HOLDS = {"profile.collectors": collectors, "profile.signatures": signatures, "profile.holder": party("holder"),
         "profile.witness": witness,
         "profile.fields": fields, "profile.location": location, "profile.clock": clock, "profile.origin": origin}


# ---- the layer -------------------------------------------------------------------------------
def check(man, rc, R, signers=None):
    """§4.4.1: the rules of the `profile` layer for manifest `man`, the signed receipt's `rc` and the
    proof's `officer_signatures` (`signers`; None when absent)."""
    proc = man.get("procedure") if isinstance(man, dict) else None
    if proc is None:
        return skip(R, RULES, "the manifest names no forensic profile")
    prof = None

    def named_rule():
        nonlocal prof
        prof, detail = named(proc["profile"])
        return prof is not None, detail
    if not R.rule("profile.named", named_rule):
        return skip(R, RULES[1:], "not checked: profile.named fails")

    def outcomes_rule():
        bad = outcome_problems(prof, proc["outcomes"])
        return not bad, "; ".join(bad) or f"{len(proc['outcomes'])} outcomes, in the profile's order"
    if not R.rule("profile.outcomes", outcomes_rule):
        return skip(R, RULES[2:], "not checked: profile.outcomes fails")
    reqs = {r["rule"]: r for r in prof["requirements"]}
    recorded = {o["rule"]: o for o in proc["outcomes"]}
    for rule, holds in HOLDS.items():
        if rule not in reqs:
            R.add(rule, None, "the profile does not require it")
        elif not recorded[rule]["met"]:
            R.add(rule, True, f"recorded as not met ({reqs[rule]['severity']}): {recorded[rule]['reason']}")
        else:
            R.rule(rule, lambda req=reqs[rule], holds=holds: signatures(req, man, signers or [])
                   if holds is signatures else holds(req, man))
    if DELAY in reqs:
        R.rule(DELAY, lambda: receipt_delay(reqs[DELAY], man, rc))
    else:
        R.add(DELAY, None, "the profile does not limit the delay")


def delay_holds(req, man, rc):
    """Whether profile.receipt_delay holds (§4.4.1): received_at − created_at ≤ 1000·max_delay_s ms."""
    delay, lim = ts_ms(rc["received_at"]) - ts_ms(man["created_at"]), 1000 * req["max_delay_s"]
    return delay <= lim, f"received {delay} ms after the manifest was created, {lim} ms allowed"


def receipt_delay(req, man, rc):
    """profile.receipt_delay: received_at − created_at ≤ max_delay_s; only a `must` exceeded fails."""
    holds, said = delay_holds(req, man, rc)
    if holds:
        return True, said
    if req["severity"] == "should":
        return True, f"not met (should, reported, not refused): {said}"
    return False, said


def skip(R, rules, why):
    for r in rules:
        R.add(r, None, why)
