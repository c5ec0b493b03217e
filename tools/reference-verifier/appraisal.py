"""§6 appraisal opinions (鉴定意见书): an opinion package's chain of signed steps, the appraisers'
credentials and revocations, checked against the pinned policy's `parties`, its evidence bundles
through the bundle verifier, and its steps against the `appraisal_step` events of the bundles'
custody logs (`appraisal.*`, in the order of the §6 table)."""
import json
from collections import Counter

import schema
from certificate import WHITE_SPACE
from prims import Unusable, jcs, key_id, sm2_verify_block, sm3_doc, strict_json, ts_ms

TYPE = "tiezheng.appraisal-opinion.v1"
RULES = tuple("appraisal." + r for r in (
    "schema", "signatures", "chain", "court", "institution", "credential", "revocation", "appraiser",
    "order", "time", "assignment", "material", "opinion", "review", "evidence", "anchor"))
INSTITUTION_ACTS = ("acceptance", "assignment", "opinion", "delivery")  # every other act (but the
# commission, whose role is appraisal.court's) is made in the role `appraiser`
APPRAISER_ACTS = ("declaration", "material_receipt", "record_entry")
REVIEWER_ACTS = ("declaration", "review")


def is_opinion(raw):
    """An opinion package: its `type` says so, or it has `steps` and is no certificate or digest
    (so that a package with a wrong `type` is refused by appraisal.schema, not as a bundle)."""
    try:
        d = json.loads(raw)
    except Exception:  # noqa: BLE001
        return False
    return isinstance(d, dict) and (d.get("type") == TYPE or
                                    ("steps" in d and "certificate" not in d and "digest" not in d))


def blank(s):
    """Empty or only white space (Unicode's White_Space, as for certificates)."""
    return all(ch in WHITE_SPACE for ch in s)


def keys(entry):
    """The keys a signed step "is signed by": those its blocks carry, verifying or not (§6)."""
    return [b["public_key"] for b in entry["signatures"]]


class Package:
    """The package's parts the rules share, read once appraisal.schema holds."""

    def __init__(self, doc, pinned):
        self.doc, self.signed = doc, doc["steps"]
        self.steps = [e["step"] for e in self.signed]
        # the SM3 of each signed step: RFC 8785 bytes of the whole entry {"step", "signatures"}
        self.hashes = [sm3_doc(e) for e in self.signed]
        self.kinds = [s["act"]["kind"] for s in self.steps]
        self.commission = self.steps[0]["act"]
        self.parties = pinned.get("parties") or []
        self.iid = self.commission["institution"]
        party = self.party(self.iid, "appraisal_institution")
        # "the institution's key": the pinned party's, else the first signature of steps[1]
        first = self.signed[1]["signatures"] if len(self.signed) > 1 else []
        self.inst_key = party["public_key"] if party else (first[0]["public_key"] if first else None)
        self.creds = [c["credential"] for c in doc["credentials"]]
        a = self.first("assignment")
        self.assignment = self.steps[a]["act"] if a is not None else None
        self.appraisers = list(dict.fromkeys(self.assignment["appraisers"])) if self.assignment else []
        self.reviewer = self.assignment["reviewer"] if self.assignment else None
        self.assigned = list(dict.fromkeys(self.appraisers + ([self.reviewer] if self.assignment else [])))

    def party(self, pid, role):
        return next((p for p in self.parties if p["id"] == pid and p["role"] == role), None)

    def first(self, kind):
        return next((i for i, k in enumerate(self.kinds) if k == kind), None)

    def all(self, kind):
        return [i for i, k in enumerate(self.kinds) if k == kind]

    def cred_key(self, person):
        """"A person's credential key": that of the one credential naming them (None: none or several)."""
        mine = [c for c in self.creds if c["appraiser_id"] == person]
        return mine[0]["public_key"] if len(mine) == 1 else None

    def first_signed_by(self, pk):
        return next((s for e, s in zip(self.signed, self.steps) if pk in keys(e)), None)


def check(raw, pinned, R, check_bundle):
    """Report every appraisal.* rule on the package `raw` against the pinned policy `pinned`;
    `check_bundle` is the bundle verifier (verify.check_bundle) appraisal.evidence runs."""
    if pinned is None:
        raise Unusable("an opinion package is checked against a pinned policy and its parties (--policy)")
    try:
        doc = strict_json(raw)
        errs = schema.check(doc, "appraisal-opinion.schema.json")
    except (ValueError, RecursionError) as e:
        doc, errs = None, [f"not strict JSON: {e}"]
    if not errs and not doc["steps"]:
        errs = ["$.steps: no steps (a commission first)"]
    elif not errs and doc["steps"][0]["step"]["act"]["kind"] != "commission":
        errs = ["$.steps[0]: the first step is not a commission"]
    R.add(RULES[0], not errs, "; ".join(errs[:8]) or "matches schemas/appraisal-opinion.schema.json, a commission first")
    if errs:
        for r in RULES[1:]:
            R.add(r, None, "skipped: appraisal.schema fails")
        return
    P = Package(doc, pinned)
    for name, fn in zip(RULES[1:], (signatures, chain, court, institution, credential, revocation, appraiser,
                                    order, time, assignment, material, opinion, review)):
        R.rule(name, lambda fn=fn: verdict(fn(P)))
    R.rule("appraisal.evidence", lambda: verdict(evidence(P, pinned, check_bundle, type(R))))
    R.rule("appraisal.anchor", lambda: verdict(anchor(P)))


def verdict(res):
    """A rule's (problems, detail when none) as the report's (ok, detail)."""
    probs, ok_detail = res
    return not probs, "; ".join(probs) or ok_detail


# ---- the rules, each returning (problems, detail) ----------------------------------------
def signatures(P):
    bad = []
    for i, e in enumerate(P.signed):
        if not e["signatures"]:
            bad.append(f"step {i}: no signature")
        for j, b in enumerate(e["signatures"]):
            ok, why = sm2_verify_block(b, jcs(e["step"]))
            bad += [] if ok else [f"step {i} signature {j}: {why}"]
    for what, name in (("credentials", "credential"), ("revocations", "revocation")):
        for i, x in enumerate(P.doc[what]):
            ok, why = sm2_verify_block(x["signature"], jcs(x[name]))
            bad += [] if ok else [f"{name} {i}: {why}"]
    n = sum(len(e["signatures"]) for e in P.signed) + len(P.doc["credentials"]) + len(P.doc["revocations"])
    return bad, f"{n} signatures verify"


def chain(P):
    bad, hashes = [], P.hashes
    for i, s in enumerate(P.steps):
        if s["seq"] != i:
            bad.append(f"step {i} has seq {s['seq']}")
        if i == 0:
            if s["commission"] is not None or s["prev"] is not None:
                bad.append("the commission's commission or prev is not null")
            continue
        if s["commission"] != hashes[0]:
            bad.append(f"step {i}: commission is not the SM3 of the signed commission")
        if s["prev"] != hashes[i - 1]:
            bad.append(f"step {i}: prev is not the SM3 of signed step {i - 1}")
        if P.kinds[i] == "commission":
            bad.append(f"step {i} is a second commission")
    return bad, f"{len(P.steps)} steps linked"


def court(P):
    s, bad = P.steps[0], []
    if s["role"] != "court":
        bad.append(f"the commission is made in the role {s['role']!r}")
    party, sk = P.party(s["by"], "court"), keys(P.signed[0])
    if party is None:
        bad.append(f"{s['by']!r} is not a court of the pinned policy")
    elif sk != [party["public_key"]]:
        bad.append(f"the commission is not signed by the key of {s['by']!r} alone")
    bad += [f"step {i}: the delivery names {P.steps[i]['act']['court']!r}, not {s['by']!r}"
            for i in P.all("delivery") if P.steps[i]["act"]["court"] != s["by"]]
    return bad, f"commissioned by {s['by']}"


def institution(P):
    party, bad = P.party(P.iid, "appraisal_institution"), []
    if party is None:
        bad.append(f"{P.iid!r} is not an appraisal institution of the pinned policy")
    for i, (e, s) in enumerate(zip(P.signed, P.steps)):
        if s["role"] != "institution":
            continue
        if s["by"] != P.iid:
            bad.append(f"step {i} is by {s['by']!r}, not the commissioned institution")
        if P.inst_key is None or P.inst_key not in keys(e):
            bad.append(f"step {i} is not signed with the institution's key")
    return bad, f"{P.iid}, a party of the pinned policy"


def credential(P):
    bad = [f"{p!r} has {n} credentials" for p in P.assigned
           if (n := sum(c["appraiser_id"] == p for c in P.creds)) != 1]
    for i, (c, x) in enumerate(zip(P.creds, P.doc["credentials"])):
        who = f"credential {i} ({c['appraiser_id']})"
        if c["institution"] != P.iid:
            bad.append(f"{who} names {c['institution']!r}, not the commissioned institution")
        if c["key_id"] != key_id(c["public_key"]):
            bad.append(f"{who}: key_id is not the SM3 of its public_key")
        if P.inst_key is None or x["signature"]["public_key"] != P.inst_key:
            bad.append(f"{who} is not signed with the institution's key")
        s = P.first_signed_by(c["public_key"])
        if s is not None and ts_ms(c["issued_at"]) > ts_ms(s["at"]):
            bad.append(f"{who} issued at {c['issued_at']}, after step {s['seq']} its key signs ({s['at']})")
    return bad, f"{len(P.creds)} credentials"


def revocation(P):
    bad = []
    for i, x in enumerate(P.doc["revocations"]):
        r = x["revocation"]
        if r["institution"] != P.iid:
            bad.append(f"revocation {i} names {r['institution']!r}, not the commissioned institution")
        if P.inst_key is None or x["signature"]["public_key"] != P.inst_key:
            bad.append(f"revocation {i} is not signed with the institution's key")
        for j, (e, s) in enumerate(zip(P.signed, P.steps)):
            if any(key_id(k) == r["key_id"] for k in keys(e)) and ts_ms(s["at"]) >= ts_ms(r["revoked_at"]):
                bad.append(f"step {j} ({s['at']}) is signed with the key revoked at {r['revoked_at']}")
    return bad, f"{len(P.doc['revocations'])} revocations"


def appraiser(P):
    bad = []
    for i, (e, s) in enumerate(zip(P.signed, P.steps)):
        if s["role"] != "appraiser":
            continue
        by, kind = s["by"], P.kinds[i]
        allowed = (APPRAISER_ACTS if by in P.appraisers else ()) + (REVIEWER_ACTS if by == P.reviewer else ())
        if not allowed:
            bad.append(f"step {i} is by {by!r}, neither an assigned appraiser nor the reviewer")
            continue
        if kind not in allowed:
            bad.append(f"step {i}: a {kind} by {by!r}")
        pk, sk = P.cred_key(by), keys(e)
        if pk is None:
            bad.append(f"step {i}: {by!r} has no single credential")
        elif sk != [pk]:
            bad.append(f"step {i} is not signed by the key of {by!r}'s credential alone")
    return bad, "every appraiser's step by an assigned person, with their credential's key"


def order(P):
    bad, k, n = [], P.kinds, len(P.kinds)
    if n < 2 or k[1] != "acceptance" or P.steps[1]["act"]["accepted"] is not True:
        bad.append("step 1 is not an acceptance that accepts")
    if n < 3 or k[2] != "assignment":
        bad.append("step 2 is not the assignment")
    bad += [f"{len(P.all(x))} {x}s" for x in ("acceptance", "assignment") if len(P.all(x)) > 1]
    for i, s in enumerate(P.steps):
        want = None if k[i] == "commission" else "institution" if k[i] in INSTITUTION_ACTS else "appraiser"
        if want and s["role"] != want:
            bad.append(f"step {i}: a {k[i]} in the role {s['role']!r}")
    ops = P.all("opinion")
    for p in P.assigned:
        own = [(i, k[i]) for i, s in enumerate(P.steps) if s["by"] == p and s["role"] == "appraiser"]
        if [x for _, x in own].count("declaration") != 1 or own[0][1] != "declaration":
            bad.append(f"{p!r} does not declare once, before anything else")
        if p not in P.appraisers:
            continue
        got = [i for i, x in own if x == "material_receipt"]
        if len(got) != 1:
            bad.append(f"{p!r} receives the material {len(got)} times")
        elif ops and got[0] > ops[0]:
            bad.append(f"{p!r} receives the material after the first opinion")
        if any(x == "record_entry" and (not got or i < got[0]) for i, x in own):
            bad.append(f"{p!r} records before receiving the material")
    if ops and "record_entry" not in k[:ops[0]]:
        bad.append("no record entry precedes the first opinion")
    last = -1
    for r in P.all("review"):
        if not any(last < o < r for o in ops):
            bad.append(f"the review at step {r} follows no opinion made since the previous review")
        last = r
    if ops and not any(r > ops[-1] for r in P.all("review")):
        bad.append("the last opinion is not reviewed")
    if P.all("delivery") != [n - 1]:
        bad.append("the delivery is not the last step" + ("" if P.all("delivery") else " (there is none)"))
    return bad, " → ".join(k)


def time(P):
    bad, at = [], [ts_ms(s["at"]) for s in P.steps]
    bad += [f"step {i} ({P.steps[i]['at']}) is not later than step {i - 1} ({P.steps[i - 1]['at']})"
            for i in range(1, len(at)) if at[i] <= at[i - 1]]
    deadline = P.commission["deadline"]
    bad += [f"the {P.kinds[i]} at step {i} is after the deadline {deadline}"
            for i in P.all("acceptance") + P.all("opinion") if at[i] > ts_ms(deadline)]
    return bad, f"{len(at)} steps in time order, within the deadline {deadline}"


def assignment(P):
    a = P.assignment
    if a is None:
        return ["no assignment"], ""
    apps, rev, bad = a["appraisers"], a["reviewer"], []
    if len(apps) < 2 or len(set(apps)) != len(apps):
        bad.append(f"appraisers {apps} are not at least two distinct ones")
    if any(blank(x) for x in apps):
        bad.append("a blank appraiser")
    if blank(rev):
        bad.append("a blank reviewer")
    elif rev in apps:
        bad.append(f"the reviewer {rev!r} is one of the appraisers")
    return bad, f"appraisers {', '.join(apps)}; reviewer {rev}"


def material(P):
    items = P.commission["items"]
    bad = [f"the material receipt at step {i} lists other items than the commission's"
           for i in P.all("material_receipt") if P.steps[i]["act"]["items"] != items]
    return bad, f"{len(P.all('material_receipt'))} receipts of the {len(items)} commissioned items"


def opinion(P):
    ops = P.all("opinion")
    if not ops:
        return ["no opinion"], ""
    i, bad = ops[-1], []
    found, qs = P.steps[i]["act"]["findings"], P.commission["questions"]
    if len(found) != len(qs):
        bad.append(f"{len(found)} findings for {len(qs)} questions")
    bad += [f"finding {j} is blank" for j, f in enumerate(found) if blank(f)]
    want = [P.inst_key] + [P.cred_key(a) for a in P.appraisers]
    bad += ["no institution key"] if P.inst_key is None else []
    bad += [f"{a!r} has no single credential" for a in P.appraisers if P.cred_key(a) is None]
    if None not in want and Counter(keys(P.signed[i])) != Counter(want):
        names = {P.inst_key: P.iid, **{P.cred_key(a): a for a in P.appraisers}}
        got, need = Counter(keys(P.signed[i])), Counter(want)
        off = [f"{names[k]} {got[k]} times" for k in need if got[k] != need[k]] + \
            [f"another key {k[:16]}… {n} times" for k, n in got.items() if k not in need]
        bad.append("not signed exactly once by the institution and once by each assigned appraiser, by no one else: "
                   + ", ".join(off))
    return bad, f"step {i}: {len(found)} findings, signed by the institution and {len(P.appraisers)} appraisers"


def review(P):
    ops, revs = P.all("opinion"), P.all("review")
    if not revs or not ops:
        return ["no " + ("review" if not revs else "opinion")], ""
    bad = [] if revs[-1] > ops[-1] else [f"the last review (step {revs[-1]}) precedes the last opinion (step {ops[-1]})"]
    bad += [] if P.steps[revs[-1]]["act"]["approved"] is True else ["the last review does not approve"]
    return bad, f"step {revs[-1]} approves the opinion of step {ops[-1]}"


def evidence(P, pinned, check_bundle, Report):
    """One bundle per distinct commissioned proof, each valid by every rule of §4 (the bundle
    verifier `check_bundle`, against the pinned policy, into a fresh `Report`), each commissioned
    file an item of its proof."""
    want = list(dict.fromkeys(it["proof_sm3"] for it in P.commission["items"]))
    bad, held = [], {}
    for i, b in enumerate(P.doc["bundles"]):
        try:
            p = sm3_doc(b["proof"])
        except Exception:  # noqa: BLE001
            bad.append(f"bundle {i} has no proof")
            continue
        if p not in want:
            bad.append(f"bundle {i} is of a proof the commission does not name ({p})")
        elif p in held:
            bad.append(f"bundle {i} is a second bundle of proof {p}")
        held.setdefault(p, b)
        R = Report()
        try:
            check_bundle(json.dumps(b, ensure_ascii=False).encode(), pinned, None, R)
        except Exception as e:  # noqa: BLE001
            R.add("input", False, f"{type(e).__name__}: {e}")
        if R.failed:
            bad.append(f"bundle {i} fails {', '.join(R.failed)}")
    bad += [f"no bundle of proof {p}" for p in want if p not in held]
    for j, it in enumerate(P.commission["items"]):
        b = held.get(it["proof_sm3"])
        if b is not None and not any(x["file_name"] == it["file_name"] and any(
                h["algorithm"] == "SM3" and h["value"] == it["sm3"] for h in x["hashes"])
                for x in b["proof"]["manifest"]["items"]):
            bad.append(f"commissioned file {j} ({it['file_name']}) is not an item of its proof with that name and SM3")
    return bad, f"{len(want)} proofs, each bundle valid by every rule of §4"


def filed(P):
    """The `detail` of the custody event each step of the package is filed as (§6, "Anchoring of the
    steps"): "<commission SM3> <seq> <act kind> <step SM3>", the commission's SM3 that of steps[0]."""
    return [f"{P.hashes[0]} {s['seq']} {k} {h}" for s, k, h in zip(P.steps, P.kinds, P.hashes)]


def anchor(P):
    """In every bundle's custody log (its `custody.events`, in their order), the `appraisal_step`
    events whose `detail` starts with the SM3 of the signed commission are exactly the package's
    steps, one each, in step order; a bundle without `custody` fails. (Whether the events are
    logged and anchored as §4.12 says is appraisal.evidence's question.)"""
    want, bad = filed(P), []
    for i, b in enumerate(P.doc["bundles"]):
        if not isinstance(b, dict) or "custody" not in b:
            bad.append(f"bundle {i} carries no custody log")
            continue
        got = [e["detail"] for e in b["custody"]["events"] if e["event"] == "appraisal_step"
               and isinstance(e["detail"], str) and e["detail"].startswith(P.hashes[0] + " ")]
        if got == want:
            continue
        j = next((j for j, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
        count = f"{len(got)} appraisal_step events of the commission for {len(want)} steps"
        if j < min(len(got), len(want)):
            bad.append(f"bundle {i}: the commission's appraisal_step event {j} is {got[j][65:]!r}, "
                       f"not step {j}'s {want[j][65:]!r}" + ("" if len(got) == len(want) else f" ({count})"))
        elif len(got) < len(want):
            bad.append(f"bundle {i}: " + (f"step {j} is" if j == len(want) - 1 else f"steps {j} to {len(want) - 1} are")
                       + f" not filed ({count})")
        else:
            bad.append(f"bundle {i}: events of no step of the package after the last step's ({count})")
    return bad, f"{len(want)} steps filed, in order, in the custody log of each of {len(P.doc['bundles'])} bundles"
