#!/usr/bin/env python3
"""Self-test: schemas/vectors known answers, GB 32100-2015 credit codes, the three example bundles,
the example certificate and its public digest, the example appraisal opinion (§6), single-value
forgeries, and the Rust suite's forgeries and genuine bundles and opinions (target/forgeries/,
target/forgeries/appraisal/) when they have been written."""
import base64, contextlib, copy, io, json, os, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import certificate, prims, verify  # noqa: E402

ROOT = os.path.join(HERE, "..", "..", "schemas")
ok = True


def expect(name, cond):
    global ok
    ok &= bool(cond)
    print(("ok   " if cond else "FAIL ") + name)


# primitives against schemas/vectors
v = json.load(open(os.path.join(ROOT, "vectors", "sm2-sm3.json")))
for t in v["sm3"]:
    expect("sm3 " + t["message_ascii"][:8], prims.sm3(t["message_ascii"].encode()).hex() == t["digest"])
s = v["sm2_sign"]
block = {"algorithm": "SM2-with-SM3", "oid": prims.SM2_OID, "sm2_id": "1234567812345678",
         "public_key": s["public_key_uncompressed"],
         "value": base64.b64encode(bytes.fromhex(s["signature_der"])).decode()}
expect("sm2 known answer", prims.sm2_verify_block(block, s["message_ascii"].encode())[0])
expect("sm2 changed message refused", not prims.sm2_verify_block(block, b"message digesT")[0])
m = json.load(open(os.path.join(ROOT, "vectors", "merkle.json")))
leaves = [bytes.fromhex(x) for x in m["leaves"]]
for alg, h in (("sha256", prims.sha256), ("sm3", prims.sm3)):
    roots = [prims.merkle_root(leaves[:n], h).hex() for n in range(len(leaves) + 1)]
    expect(f"merkle {alg} roots", roots == m[alg]["roots"][:len(roots)])
for t in m["sm3"]["inclusion"]:
    i, n = t["leaf_index"], t["tree_size"]
    expect(f"sm3 inclusion {i}/{n}", prims.verify_inclusion(prims.leaf_hash(leaves[i]), i, n, t["path"],
                                                             bytes.fromhex(m["sm3"]["roots"][n])))
# unified social credit codes (GB 32100-2015), real ones and single-character damage
for code, why in (("91330100716105852F", None), ("9144030071526726XG", None), ("91110000802100433B", None),
                  ("91330100716105852G", "check character"), ("91330100716105825F", "two characters swapped"),
                  ("91330100716105852", "17 characters"), ("9I330100716105852F", "contains I"),
                  ("913301A0716105852F", "region not digits"), ("91330100716105852f", "lower case")):
    expect(f"credit code {code} {why or 'valid'}", (certificate.credit_code_problem(code) is None) == (why is None))

# examples, then forgeries that must be refused
E = os.path.join(ROOT, "examples")
cases = [("bundle.json", "policy.json"), ("bundle-consortium.json", "policy-consortium.json"),
         ("bundle-consortium-governance.json", "policy-consortium.json")]


def run(bundle, pol):
    R = verify.Report()
    verify.check_bundle(json.dumps(bundle, ensure_ascii=False).encode(), json.load(open(os.path.join(E, pol))), None, R)
    return R.failed


for f, p in cases:
    expect(f"example {f} valid", run(json.load(open(os.path.join(E, f))), p) == [])
# the example's two collectors signed with their own keys, and it carries their credentials (§4.4.2)
R = verify.Report()
verify.check_bundle(open(os.path.join(E, "bundle.json"), "rb").read(), json.load(open(os.path.join(E, "policy.json"))), None, R)
expect("example bundle.json: officers' signatures and credentials checked, profile.signatures too",
       [c["status"] for c in R.checks if c["rule"] in ("officer.signature", "officer.credential", "profile.signatures")]
       == ["pass"] * 3)


def run_certificate(cert):
    R = verify.Report()
    certificate.check(json.dumps(cert, ensure_ascii=False).encode(), json.load(open(os.path.join(E, "policy.json"))),
                      None, R, verify.check_bundle)
    return R.failed


CERT = json.load(open(os.path.join(E, "certificate.json")))
expect("example certificate.json valid", run_certificate(CERT) == [])
# its manifest names cn.admin-penalty.onsite.2021, every requirement met: the procedure it states
# (取证依据) is compared, not skipped, and one stated outcome changed is refused under that rule alone
R = verify.Report()
certificate.check(json.dumps(CERT, ensure_ascii=False).encode(), json.load(open(os.path.join(E, "policy.json"))),
                  None, R, verify.check_bundle)
expect("example certificate states its procedure", [c["status"] for c in R.checks if c["rule"] == "certificate.facts.procedure"] == ["pass"]
       and CERT["certificate"]["procedure"]["profile"] == CERT["certificate"]["bundle"]["proof"]["manifest"]["procedure"]["profile"])
c = copy.deepcopy(CERT)
c["certificate"]["procedure"]["outcomes"][-1]["met"] = False  # profile.receipt_delay: the receipt came in time
failed = run_certificate(c)
expect(f"certificate stating the receipt late -> certificate.facts.procedure {failed}",
       "certificate.facts.procedure" in failed and "certificate.format" not in failed)
# the issuer's standing: its form alone (certificate.issuer_standing), then in a certificate
ISSUER = CERT["certificate"]["issuer"]
for what, change, good in (("as stated", {}, True),
                           ("a notary office without a filing number", {"operator_type": "notary_office", "filing_number": None}, True),
                           ("an operator type court", {"operator_type": "court"}, False),
                           ("a legal name of white space", {"legal_name": "\u3000\n"}, False),
                           ("a contact of 201 characters", {"contact": "x" * 201}, False),
                           ("a filing number of 101 characters", {"filing_number": "x" * 101}, False),
                           ("a wrong check character", {"credit_code": ISSUER["credit_code"][:17] + "C"}, False)):
    expect(f"issuer with {what}: standing {'holds' if good else 'fails'}", certificate.standing({**ISSUER, **change})[0] == good)
c = copy.deepcopy(CERT)
c["certificate"]["issuer"]["credit_code"] = "91330100716105852G"  # the form is right, the check character not
failed = run_certificate(c)
expect(f"certificate with a wrong check character -> certificate.issuer_standing {failed}",
       "certificate.issuer_standing" in failed and "certificate.format" not in failed)

# the example certificate's public digest (§5.1), against the certificate's trusted policy, with its
# one file (the 3 bytes "abc") and with another; the command line recognises it by its `digest`
expect("policy.json is the example certificate's policy", CERT["certificate"]["bundle"]["policy"] ==
       json.load(open(os.path.join(E, "policy.json"))))


def run_digest(media):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), tempfile.NamedTemporaryFile() as f:
        f.write(media)
        f.flush()
        code = verify.main([os.path.join(E, "public-digest.json"), "--policy", os.path.join(E, "policy.json"),
                            "--media", f.name, "--json"])
    rep = json.loads(out.getvalue())
    return code, rep["valid"], rep["failed"], {c["rule"] for c in rep["checks"]}


code, valid, failed, rules = run_digest(b"abc")
expect(f"example public-digest.json with its file valid {failed}", (code, valid, failed) == (0, True, []))
expect("public digest: its own rules and the ledger layers are checked",
       {"digest.format", "digest.signature", "digest.issuer", "digest.number", "receipt.proof_sm3", "leaf.inclusion",
        "anchor.inclusion", "checkpoint.quorum", "media.item"} <= rules)
code, valid, failed, _ = run_digest(b"abd")
expect(f"example public-digest.json with another file -> media.item {failed}", (code, valid, failed) == (1, False, ["media.item"]))

FORGERIES = [  # (bundle, description, edit, a rule that must fail)
    (0, "receipt.device_seq", lambda b: b["receipt"]["receipt"].update(device_seq=3), "receipt.device_seq"),
    (0, "received_at", lambda b: b["receipt"]["receipt"].update(received_at="2026-11-21T09:31:01.417+08:00"), "receipt.signature"),
    (0, "leaf salt digit", lambda b: b["batch"]["leaf"].update(salt="1" + b["batch"]["leaf"]["salt"][1:]), "leaf.inclusion"),
    (0, "anchor height", lambda b: b["anchor"]["record"].update(height=1043), "anchor.height"),
    (0, "manifest time", lambda b: b["proof"]["manifest"].update(created_at="2026-11-21T09:30:00.251+08:00"), "proof.signature"),
    (0, "policy copy", lambda b: b["policy"]["members"][0].update(power=2), "policy.copy"),
    (0, "an officer's credential dropped", lambda b: b["officers"].pop(), "officer.credential"),
    (0, "an officer's signature dropped", lambda b: b["proof"]["officer_signatures"].pop(), "profile.signatures"),
    (0, "an officer's credential re-dated", lambda b: b["officers"][0]["certificate"].update(
        issued_at="2026-11-20T16:05:01.001+08:00"), "officer.credential"),
    (1, "header time", lambda b: b["cometbft"]["signed_header"]["header"].update(time="2026-11-21T11:08:55.455404969Z"), "chain.commit"),
    (1, "vote timestamp", lambda b: b["cometbft"]["signed_header"]["commit"]["signatures"][0].update(timestamp="2026-11-21T11:08:56.1Z"), "chain.signatures"),
    (1, "validator order", lambda b: b["cometbft"]["validators"].reverse(), "chain.validators"),
    (1, "next validators", lambda b: b["cometbft"]["signed_header"]["header"].update(next_validators_hash="AB" * 32), "chain.next_validators"),
    (1, "validator's member", lambda b: b["policy"]["validators"][0].update(member="court"), "policy.copy"),
    (1, "two cosignatures dropped", lambda b: b["checkpoint"]["cosignatures"].__delitem__(slice(0, 2)), "checkpoint.quorum"),
    (2, "approval dropped", lambda b: b["governance"][0]["approvals"].pop(), "governance.quorum"),
    (2, "governance dropped", lambda b: b.pop("governance"), "checkpoint.registry_root"),
]
for idx, what, edit, rule in FORGERIES:
    f, p = cases[idx]
    b = copy.deepcopy(json.load(open(os.path.join(E, f))))
    edit(b)
    failed = run(b, p)
    expect(f"forgery {f}: {what} -> {rule} {failed}", rule in failed)
# a pinned policy whose validator names a member: a listed one, with its power, one each (§2)
pol = json.load(open(os.path.join(E, "policy-consortium.json")))
for what, edit, bad in (("its member's", lambda v: v[0].update(member="court"), False),
                        ("not a member's", lambda v: v[0].update(member="bank"), True),
                        ("another power", lambda v: v[0].update(member="court", power=2), True),
                        ("a member's second", lambda v: (v[0].update(member="court"), v[1].update(member="court")), True)):
    p = copy.deepcopy(pol)
    edit(p["validators"])
    expect(f"policy with a validator {what} is {'unusable' if bad else 'usable'}", bool(verify.policy_problems(p)) == bad)
# the lead's Rust forgery suite, when it has been written (cargo test -p … forgeries)
FORGED = os.path.join(HERE, "..", "..", "target", "forgeries")
if os.path.exists(os.path.join(FORGED, "index.json")):
    policies = {}  # each forgery names the policy it is checked against (the consortium's pins validators)
    for e in json.load(open(os.path.join(FORGED, "index.json"))):
        name = e.get("policy", "policy.json")
        pol = policies.setdefault(name, json.load(open(os.path.join(FORGED, name))))
        media = open(os.path.join(FORGED, e["media"]), "rb").read() if e["media"] else None
        R = verify.Report()
        verify.check_bundle(open(os.path.join(FORGED, e["file"]), "rb").read(), pol, media, R)
        # as the Rust suite compares: a chain-layer forgery (checked against the consortium's
        # policy) fails its rule alone; the others fail it, perhaps beside the schema or a rule
        # downstream of the one broken
        named = R.failed == [e["rule"]] if name == "policy-consortium.json" else e["rule"] in R.failed
        expect(f"{e['file']} {e['name'][:50]} -> {e['rule']}" + ("" if named else f" {R.failed}"), named)
    # the suite's genuine bundles (custody included), each valid against its policy, with its video
    video = os.path.join(FORGED, "video.bin")
    video = open(video, "rb").read() if os.path.exists(video) else None
    for f, name in (("genuine.json", "policy.json"), ("governed.json", "policy.json"),
                    ("consortium.json", "policy-consortium.json")):
        if os.path.exists(os.path.join(FORGED, f)):
            R = verify.Report()
            verify.check_bundle(open(os.path.join(FORGED, f), "rb").read(),
                                json.load(open(os.path.join(FORGED, name))), video, R)
            expect(f"{f} valid against {name}{' with video.bin' if video else ''} {R.failed}", R.failed == [])


# §6 appraisal opinions: the example package against the court's policy (with its `parties`), through
# the command line, every appraisal rule passing in the order of the §6 table; without a policy it
# is unusable (the parties are the policy's)
def run_opinion(path, pol):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = verify.main([path] + (["--policy", pol] if pol else []) + ["--json"])
    return code, json.loads(out.getvalue())


import appraisal  # noqa: E402
code, rep = run_opinion(os.path.join(E, "appraisal-opinion.json"), os.path.join(E, "policy-judicial.json"))
expect(f"example appraisal-opinion.json valid {rep['failed']}", (code, rep["valid"], rep["failed"]) == (0, True, []))
expect("example appraisal-opinion.json: every appraisal rule passes, in the §6 order",
       [(c["rule"], c["status"]) for c in rep["checks"]] == [(r, "pass") for r in appraisal.RULES])
code, rep = run_opinion(os.path.join(E, "appraisal-opinion.json"), None)
expect("example appraisal-opinion.json without --policy is unusable", code == 2 and rep["failed"] == [])
# the Rust suite's appraisal forgeries (re-signed with the real keys): each refused by its rule alone
APPRAISED = os.path.join(FORGED, "appraisal")
if os.path.exists(os.path.join(APPRAISED, "index.json")):
    code, rep = run_opinion(os.path.join(APPRAISED, "genuine.json"), os.path.join(APPRAISED, "policy.json"))
    expect(f"appraisal/genuine.json valid {rep['failed']}", (code, rep["failed"]) == (0, []))
    for e in json.load(open(os.path.join(APPRAISED, "index.json"))):
        code, rep = run_opinion(os.path.join(APPRAISED, e["file"]), os.path.join(APPRAISED, e.get("policy", "policy.json")))
        expect(f"appraisal/{e['file']} {e['name'][:50]} -> {e['rule']} {rep['failed']}",
               (code, rep["failed"]) == (1, [e["rule"]]))
sys.exit(0 if ok else 1)
