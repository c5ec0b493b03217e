"""Host test of the generated Python bindings (standard library only).

Runs the officer's flow against a real notary started here: set up a device whose key is
sealed by a vault implemented in Python, capture a photo from its bytes and a video through the
streaming recording object, enrol, sync (asyncio drives the Rust future), verify the receipts,
and check the typed errors apps act on.

Environment: TIEZHENG_BIN (the `tiezheng` binary), TIEZHENG_CORPUS (tests/corpus), and the
generated module `tiezheng_ffi` on PYTHONPATH (bindings/scripts/generate.sh).
"""

import array
import asyncio
import hashlib
import hmac
import json
import os
import secrets
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import zlib

import tiezheng_ffi as tz

BIN = os.environ["TIEZHENG_BIN"]
CORPUS = os.environ["TIEZHENG_CORPUS"]
ADMIN = "tza_python-test-admin-token-0123456789"


def signature_png():
    """A 1×1 PNG, as a signature pad would hand over (the SDK records its SM3)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


class PinVault(tz.KeyVault):
    """A software vault: the KEK is sealed under a key derived from the PIN, with a MAC so that
    a wrong PIN is detected. (Phones use the Android Keystore / Secure Enclave instead.)"""

    def __init__(self, pin):
        self.pin = pin.encode()

    def _keys(self, salt):
        k = hashlib.pbkdf2_hmac("sha256", self.pin, salt, 1000, 64)
        return k[:32], k[32:]

    def seal_kek(self, kek):
        salt = secrets.token_bytes(16)
        enc, mac = self._keys(salt)
        body = bytes(a ^ b for a, b in zip(kek, enc))
        return salt + hmac.new(mac, body, "sha256").digest() + body

    def open_kek(self, blob):
        salt, tag, body = blob[:16], blob[16:48], blob[48:]
        enc, mac = self._keys(salt)
        if not hmac.compare_digest(tag, hmac.new(mac, body, "sha256").digest()):
            raise tz.TiezhengError.WrongUnlock(0)
        return bytes(a ^ b for a, b in zip(body, enc))


class CancelledVault(tz.KeyVault):
    """The officer dismissed the biometric prompt: nothing is proven wrong."""

    def seal_kek(self, kek):
        raise tz.TiezhengError.UnlockCancelled()

    def open_kek(self, blob):
        raise tz.TiezhengError.UnlockCancelled()


class BrokenVault(tz.KeyVault):
    def seal_kek(self, kek):
        raise RuntimeError("keystore unavailable")

    def open_kek(self, blob):
        raise RuntimeError("keystore unavailable")


class SystemClock(tz.Clock):
    def now_unix_ms(self):
        return int(time.time() * 1000)

    def utc_offset_minutes(self):
        return 480

    def monotonic_ms(self):
        return int(time.monotonic() * 1000)


class FixedLocation(tz.LocationProvider):
    def current_fix(self):
        return tz.LocationFix(latitude=31.23039, longitude=121.47369, altitude=4.0,
                              horizontal_accuracy=5.0, vertical_accuracy=None,
                              source=tz.LocationSource.FUSED, fix_time_unix_ms=None,
                              satellites=12, mock=False)


class SettableLocation(tz.LocationProvider):
    """A good GNSS fix with its satellite time, unless the test makes it a mock or skews the time."""
    def __init__(self):
        self.mock, self.skew_ms = False, 0

    def current_fix(self):
        now = int(time.time() * 1000)
        return tz.LocationFix(latitude=31.23039, longitude=121.47369, altitude=4.0,
                              horizontal_accuracy=5.0, vertical_accuracy=None,
                              source=tz.LocationSource.GPS, fix_time_unix_ms=now,
                              satellites=12, mock=self.mock, gnss_time_unix_ms=now + self.skew_ms)


class Events(tz.SyncListener):
    def __init__(self):
        self.events = []

    def on_event(self, event):
        self.events.append(event)


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def case(ref="PY-2026-0001"):
    return tz.CaseInfo(reference=ref, cause=None, object=None, description="python host test",
                       method=None, collectors=[], holder_name=None, holder_note=None,
                       witness_name=None, witness_note="none present")


class Notary:
    def __init__(self, data_dir, extra_env=None):
        env = dict(os.environ, TIEZHENG_NOTARY_ADMIN_TOKEN=ADMIN, TIEZHENG_LOG="warn", TIEZHENG_NOTARY_BATCH_MAX_MS="100")
        env.update(extra_env or {})
        self.proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
        line = self.proc.stdout.readline()
        self.url = next(w for w in line.split() if w.startswith("http://"))

    def call(self, method, path, body=None, token=ADMIN):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


class SdkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.notary = Notary(os.path.join(cls.tmp.name, "notary"))

    @classmethod
    def tearDownClass(cls):
        cls.notary.stop()
        cls.tmp.cleanup()

    def new_device(self, name, pin="2468"):
        d = os.path.join(self.tmp.name, name)
        dev = tz.Device.setup(d, ["310101", "310102"], "python host", "linux", PinVault(pin), SystemClock(), FixedLocation(), None)
        return d, dev

    def test_defaults_and_set_up_devices(self):
        # Only the reference is required; everything else defaults to absent.
        info = tz.CaseInfo(reference="PY-DEFAULTS")
        self.assertEqual((info.cause, info.collectors, info.witness_note), (None, [], None))
        d = os.path.join(self.tmp.name, "dev-exists")
        self.assertFalse(tz.device_exists(d))
        # The hooks a device can do without default to absent.
        tz.Device.setup(d, ["310101"], "python host", "linux", PinVault("2468"), SystemClock())
        self.assertTrue(tz.device_exists(d))
        tz.Device.unlock(d, PinVault("2468"), SystemClock())

    def test_every_error_carries_the_sdks_message(self):
        E = tz.TiezhengError
        for e in [E.KeyLocked(), E.WrongUnlock(3), E.UnlockCancelled(), E.NotEnrolled(),
                  E.DeviceRevoked("revoked"), E.TokenExpired("expired"), E.RateLimited(42),
                  E.NotaryKeyMismatch("ab", "cd"), E.Network("offline"),
                  E.Rejected("invalid_code", "unknown code", "/request/code"), E.InvalidInput("bad"),
                  E.ProfileRefused("profile.collectors", "profile_requirement_not_met", "two officers"),
                  E.UnknownProfile("cn.nowhere"), E.Platform("keystore"), E.Other("other")]:
            self.assertTrue(str(e).strip(), "%s has no message" % type(e).__name__)
        self.assertIn("42", str(E.RateLimited(42)))

    def test_forensic_profiles_refuse_a_must_and_record_a_should(self):
        ids = [p.id for p in tz.profiles()]
        self.assertEqual(ids, ["basic", "cn.mps.criminal-electronic-data.2019",
                               "cn.admin-penalty.onsite.2021", "cn.online-litigation.2021"])
        admin = tz.profile("cn.admin-penalty.onsite.2021")
        first = admin.requirements[0]
        self.assertEqual((first.rule, first.must, first.at_capture), ("profile.collectors", True, True))
        self.assertIn("两人", first.title_zh)
        with self.assertRaises(tz.TiezhengError.UnknownProfile) as unknown:
            tz.profile("cn.nowhere")
        self.assertIn("cn.nowhere", str(unknown.exception))
        d = os.path.join(self.tmp.name, "dev-profile")
        dev = tz.Device.setup(d, ["310101"], "python host", "linux", PinVault("2468"), SystemClock(),
                              FixedLocation(), None, "cn.admin-penalty.onsite.2021")
        self.assertEqual(dev.summary().profile, "cn.admin-penalty.onsite.2021")
        # Each officer's own key, sealed by the officer's own vault, unlocked for the session.
        dev.add_officer(tz.OfficerInfo(officer_id="310101", name="王强", badge_number="沪执0310101",
                                       unit="浦东新区城管执法局"), PinVault("1357"))
        with self.assertRaises(tz.TiezhengError.InvalidInput):
            dev.add_officer(tz.OfficerInfo(officer_id=" ", name="x", badge_number="y", unit="z"), PinVault("1"))
        with self.assertRaises(tz.TiezhengError.WrongUnlock):
            dev.unlock_officer("310101", PinVault("0000"))
        self.assertEqual(dev.unlock_officer("310101", PinVault("1357")).officer_id, "310101")
        photo = read(os.path.join(CORPUS, "photos/DSCN0010.jpg"))
        one = tz.CaseInfo(reference="PY-PROFILE", cause="占道经营", holder_name="张某", witness_name="李某")
        with self.assertRaises(tz.TiezhengError.ProfileRefused) as refused:
            dev.capture_photo("one.jpg", photo, one)
        self.assertEqual((refused.exception.rule, refused.exception.code),
                         ("profile.collectors", "profile_requirement_not_met"))
        self.assertIn("profile.collectors", str(refused.exception))
        two = tz.CaseInfo(reference="PY-PROFILE", cause="占道经营", holder_name="张某", witness_name="李某",
                          collectors=["310101", "310102"])
        # 310102 has no key of their own on the device: one key does not stand in for two officers.
        with self.assertRaises(tz.TiezhengError.ProfileRefused) as unsigned:
            dev.capture_photo("two.jpg", photo, two)
        self.assertEqual(unsigned.exception.rule, "profile.signatures")
        dev.add_officer(tz.OfficerInfo(officer_id="310102", name="李明", badge_number="沪执0310102",
                                       unit="浦东新区城管执法局"), PinVault("2468"))
        dev.unlock_officer("310102", PinVault("2468"))
        self.assertEqual([o.officer_id for o in dev.officers()], ["310101", "310102"])
        # The fix is good; the clock has no trusted time: a should, refused without a reason.
        with self.assertRaises(tz.TiezhengError.ProfileRefused) as no_reason:
            dev.capture_photo("two.jpg", photo, two)
        self.assertEqual((no_reason.exception.rule, no_reason.exception.code),
                         ("profile.clock", "profile_reason_required"))
        two.reasons = [tz.ProfileReason(rule="profile.clock", reason="no network for a time sync")]
        result = dev.capture_photo("two.jpg", photo, two)
        signed = json.loads(result.proof_json)
        self.assertEqual([o["officer_id"] for o in signed["officer_signatures"]], ["310101", "310102"])
        procedure = signed["manifest"]["procedure"]
        self.assertEqual(procedure["profile"]["id"], "cn.admin-penalty.onsite.2021")
        self.assertEqual(procedure["profile"]["sm3"], admin.sm3)
        clock = [o for o in procedure["outcomes"] if o["rule"] == "profile.clock"][0]
        self.assertEqual(clock, {"rule": "profile.clock", "met": False, "reason": "no network for a time sync"})
        self.assertEqual(len(dev.queue()), 1, "only the capture that met the profile is queued")
        with self.assertRaises(tz.TiezhengError.UnknownProfile):
            tz.Device.setup(os.path.join(self.tmp.name, "dev-unknown"), ["1"], "m", "os", PinVault("2468"),
                            SystemClock(), None, None, "cn.nowhere")

    def test_every_must_of_every_profile_is_refused_and_every_should_recorded(self):
        photo = read(os.path.join(CORPUS, "photos/DSCN0010.jpg"))
        checked = []
        for prof in tz.profiles():
            where = SettableLocation()
            d = os.path.join(self.tmp.name, "dev-every-" + prof.id)
            dev = tz.Device.setup(d, ["310101"], "python host", "linux", PinVault("2468"), SystemClock(),
                                  where, None, prof.id)
            for officer, pin in [("310101", "1357"), ("310102", "8642")]:
                dev.add_officer(tz.OfficerInfo(officer_id=officer, name="officer " + officer,
                                               badge_number="沪执" + officer, unit="unit"), PinVault(pin))
                dev.unlock_officer(officer, PinVault(pin))

            def complete():
                where.mock, where.skew_ms = False, 0
                return tz.CaseInfo(reference="PY-EVERY", cause="占道经营", object="摊位", description="stall",
                                   collectors=["310101", "310102"], holder_name="张某", witness_name="李某")
            # A capture that meets every requirement records every outcome as met.
            met = json.loads(dev.capture_photo("met.jpg", photo, complete()).proof_json)
            self.assertTrue(all(o["met"] for o in met["manifest"]["procedure"]["outcomes"]), prof.id)
            for req in [r for r in prof.requirements if r.at_capture]:
                case, imported = complete(), False
                if req.rule == "profile.collectors":
                    case.collectors = [" "]  # no collector named, whatever the minimum
                elif req.rule == "profile.signatures":
                    case.collectors = ["310101", "310109"]  # 310109 has no key of their own here
                elif req.rule == "profile.holder":
                    case.holder_name = None
                elif req.rule == "profile.witness":
                    case.witness_name = None
                elif req.rule == "profile.fields":
                    case.cause, case.object, case.description = None, None, " "
                elif req.rule == "profile.location":
                    where.mock = True
                elif req.rule == "profile.clock":
                    where.skew_ms = 3_600_000
                elif req.rule == "profile.origin":
                    imported = True
                else:
                    self.fail("no way to break %s" % req.rule)
                shoot = (lambda c: dev.import_file(os.path.join(CORPUS, "photos/DSCN0010.jpg"), c)) if imported \
                    else (lambda c: dev.capture_photo("x.jpg", photo, c))
                queued = len(dev.queue())
                with self.assertRaises(tz.TiezhengError.ProfileRefused, msg=(prof.id, req.rule)) as refused:
                    shoot(case)
                want = "profile_requirement_not_met" if req.must else "profile_reason_required"
                self.assertEqual((refused.exception.rule, refused.exception.code), (req.rule, want), prof.id)
                self.assertEqual(len(dev.queue()), queued, "nothing queued for a refused capture")
                if not req.must:
                    case.reasons = [tz.ProfileReason(rule=req.rule, reason="why not: " + req.rule)]
                    outcomes = json.loads(shoot(case).proof_json)["manifest"]["procedure"]["outcomes"]
                    self.assertIn({"rule": req.rule, "met": False, "reason": "why not: " + req.rule}, outcomes)
                checked.append((prof.id, req.rule, req.must))
        self.assertEqual(len(checked), 19, checked)

    def test_a_session_closes_with_the_record_and_a_whole_process_video_when_no_witness_signs(self):
        d = os.path.join(self.tmp.name, "dev-record")
        dev = tz.Device.setup(d, ["310101"], "python host", "linux", PinVault("2468"), SystemClock(),
                              FixedLocation(), None, "cn.mps.criminal-electronic-data.2019")
        for officer, name, pin in [("310101", "王强", "1357"), ("310102", "李明", "8642")]:
            dev.add_officer(tz.OfficerInfo(officer_id=officer, name=name, badge_number="沪刑" + officer,
                                           unit="浦东分局"), PinVault(pin))
            dev.unlock_officer(officer, PinVault(pin))
        case = tz.CaseInfo(reference="PY-RECORD", cause="盗窃", object="涉案手机", holder_name="张某",
                           witness_note="深夜现场无见证人", collectors=["310101", "310102"],
                           reasons=[tz.ProfileReason(rule="profile.clock", reason="no network for a time sync")])
        opened = int(time.time() * 1000) - 1000
        dev.capture_photo("scene.jpg", read(os.path.join(CORPUS, "photos/DSCN0010.jpg")), case)
        video = read(os.path.join(CORPUS, "video/street_8s_720p.mp4"))
        rec = dev.start_recording("process.mp4", case, 1_000_000, 60_000)
        for i in range(0, len(video), 65536):
            rec.write(video[i:i + 65536])
        rec.finish()
        png = signature_png()
        record = tz.SessionRecord(
            place="上海市浦东新区某路12号", process="二名侦查人员出示证件，现场拍照并全程录像",
            original_medium="执法手机", not_seized_reason="执法设备继续使用，原始文件已存证",
            holder=tz.PartyConfirmation.SIGNATURE(png),
            witness=tz.PartyConfirmation.REFUSED("深夜现场无见证人"))
        queued = len(dev.queue())
        # No witness signed and no video of the whole process is named: the profile's must.
        with self.assertRaises(tz.TiezhengError.ProfileRefused) as refused:
            dev.close_session_with_record(case, opened, record)
        self.assertEqual(refused.exception.rule, "profile.witness")
        self.assertIn("video", str(refused.exception))
        # Naming a photo, or a file of no session, is bad input; so is a signature that is no image.
        for bad in ["scene.jpg", "elsewhere.mp4"]:
            record.process_recording = bad
            with self.assertRaises(tz.TiezhengError.InvalidInput) as invalid:
                dev.close_session_with_record(case, opened, record)
            self.assertIn(bad, str(invalid.exception))
        record.process_recording = "process.mp4"
        record.holder = tz.PartyConfirmation.SIGNATURE(b"not an image at all")
        with self.assertRaises(tz.TiezhengError.InvalidInput) as not_image:
            dev.close_session_with_record(case, opened, record)
        self.assertIn("PNG or JPEG", str(not_image.exception))
        self.assertEqual(len(dev.queue()), queued, "nothing is signed or queued for a refused record")
        record.holder = tz.PartyConfirmation.SIGNATURE(png)
        closed = dev.close_session_with_record(case, opened, record)
        summary = json.loads(closed.proof_json)
        rec_json = summary["manifest"]["session_summary"]["record"]
        self.assertEqual([e["file_name"] for e in rec_json["inventory"]], ["scene.jpg", "process.mp4"])
        self.assertEqual(rec_json["process_recording"]["file_name"], "process.mp4")
        self.assertEqual(rec_json["holder"]["signature_image_sm3"], hashlib.new("sm3", png).hexdigest())
        self.assertEqual(rec_json["witness"], {"signature_image_sm3": None, "refusal": "深夜现场无见证人"})
        self.assertEqual([o["officer_id"] for o in summary["officer_signatures"]], ["310101", "310102"])
        self.assertEqual(tz.verify_proof(closed.proof_json).proof_sm3, closed.proof_sm3)

    def test_known_answer(self):
        self.assertEqual(tz.hash_bytes(b"abc").sm3, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")

    def test_capture_sync_and_receipts(self):
        d, dev = self.new_device("dev-flow")
        photo = read(os.path.join(CORPUS, "photos/DSCN0010.jpg"))
        r1 = dev.capture_photo("DSCN0010.jpg", photo, case())
        self.assertEqual(r1.sm3, hashlib.new("sm3", photo).hexdigest())
        self.assertEqual(r1.device_seq, 1)
        self.assertIn("gps_distance", [f.code for f in r1.findings])
        self.assertEqual(tz.verify_proof(r1.proof_json).proof_sm3, r1.proof_sm3)

        video = read(os.path.join(CORPUS, "video/street_8s_720p.mp4"))
        rec = dev.start_recording("street.mp4", case(), 1_000_000, 60_000)
        for i in range(0, len(video), 65536):
            rec.write(video[i:i + 65536])
        self.assertEqual(rec.segments(), 2)
        r2 = rec.finish()
        self.assertEqual(r2.sha256, hashlib.sha256(video).hexdigest())
        with self.assertRaises(tz.TiezhengError.InvalidInput):
            rec.finish()

        with self.assertRaises(tz.TiezhengError.NotEnrolled):
            asyncio.run(dev.sync(None))
        with self.assertRaises(tz.TiezhengError.Rejected) as bad:
            asyncio.run(dev.enrol(self.notary.url, "NOT-A-REAL-CODE"))
        self.assertEqual(bad.exception.code, "invalid_code")
        code = self.notary.call("POST", "/v1/enrolment-codes", {"officer_id": "310101"})["code"]
        # Pinned to another notary key: refused, and the code is not spent.
        key_id = self.notary.call("GET", "/v1/notary")["key_id"]
        with self.assertRaises(tz.TiezhengError.NotaryKeyMismatch) as pinned:
            asyncio.run(dev.enrol_pinned(self.notary.url, code, "ab" * 32))
        self.assertEqual((pinned.exception.expected, pinned.exception.actual), ("ab" * 32, key_id))
        summary = asyncio.run(dev.enrol_pinned(self.notary.url, code, key_id))
        self.assertTrue(summary.enrolment_id.startswith("enr-"))

        events = Events()
        report = asyncio.run(dev.sync(events))
        self.assertEqual((report.acknowledged, report.pending), (2, 0))
        self.assertEqual([e.device_seq for e in events.events if e.is_RECEIPTED()], [1, 2])
        self.assertTrue(all(q.acknowledged for q in dev.queue()))
        notary_key = self.notary.call("GET", "/v1/notary")["public_key"]
        receipt = read(os.path.join(d, "queue/acked/00000000000000000001.receipt.json"), "r")
        self.assertTrue(tz.verify_receipt(receipt, notary_key, r1.proof_json))

        # Once anchored, the court's offline bundle verifies against the file, and a tampered
        # bundle names the broken layer.
        court = self.notary.call("POST", "/v1/tokens", {"role": "court", "subject": "py"})["token"]
        bundle = None
        for _ in range(100):
            try:
                bundle = self.notary.call("GET", "/v1/proofs/%s/bundle" % r1.proof_sm3, token=court)
                break
            except urllib.error.HTTPError as e:
                self.assertEqual(e.code, 409)
                time.sleep(0.1)
        self.assertIsNotNone(bundle, "proof was not anchored in time")
        policy = json.dumps(self.notary.call("GET", "/v1/ledger/policy"))
        photo_path = os.path.join(CORPUS, "photos/DSCN0010.jpg")
        check = tz.verify_document(json.dumps(bundle).encode(), photo_path, policy)
        self.assertTrue(check.valid, check.reason)
        self.assertTrue(check.media_checked)
        bundle["anchor"]["record"]["height"] = 0
        bad = tz.verify_document(json.dumps(bundle).encode(), None, policy)
        self.assertEqual((bad.valid, bad.failed_layer), (False, "anchor"))
        self.assertIn("fail", [c.status for c in bad.checks if c.rule.startswith("anchor.")])

    def test_bytes_like_objects_and_their_slices(self):
        abc = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        raw = b"\x55" * 5 + b"abc" + b"\x77" * 4
        for v in (raw[5:8], bytearray(raw)[5:8], memoryview(raw)[5:8], memoryview(bytearray(raw))[5:8],
                  memoryview(b"aXbXcX")[::2], array.array("B", b"abc")):
            self.assertEqual(tz.hash_bytes(v).sm3, abc, repr(v))
        seven = tz.hash_bytes(b"TieZhng")
        framed = bytearray(b"\x11" * 5 + b"TieZhng" + b"\x22" * 9)
        view = memoryview(framed)[5:12]
        self.assertEqual(tz.hash_bytes(view), seven)
        self.assertEqual(bytes(view), b"TieZhng")  # left as it was
        self.assertEqual(tz.hash_bytes(memoryview(framed)[12:12]).sm3, tz.hash_bytes(b"").sm3)
        with self.assertRaises(TypeError):
            tz.hash_bytes("abc")

        d, dev = self.new_device("dev-slices")
        photo = read(os.path.join(CORPUS, "photos/DSCN0010.jpg"))
        sm3 = hashlib.new("sm3", photo).hexdigest()
        for i, v in enumerate((memoryview(b"xyz" + photo + b"tail")[3:3 + len(photo)],
                               memoryview(bytearray(b"xyzw" + photo))[4:],
                               bytearray(photo))):
            r = dev.capture_photo("p%d.jpg" % i, v, case())
            self.assertEqual((r.sm3, r.bytes), (sm3, len(photo)))
        self.assertEqual(read(os.path.join(d, "media", sm3)), photo)

        video = read(os.path.join(CORPUS, "video/street_8s_720p.mp4"))
        half = len(video) // 2
        rec = dev.start_recording("street.mp4", case(), 1_000_000, 60_000)
        rec.write(memoryview(bytearray(b"1234567" + video[:half] + b"89"))[7:7 + half])
        rec.write(memoryview(b"abc" + video[half:] + b"defgh")[3:3 + len(video) - half])
        r = rec.finish()
        self.assertEqual(r.sha256, hashlib.sha256(video).hexdigest())
        self.assertEqual(read(os.path.join(d, "media", r.sm3)), video)

    def test_wrong_pin_and_broken_vault(self):
        d, dev = self.new_device("dev-pin", pin="1111")
        del dev
        with self.assertRaises(tz.TiezhengError.WrongUnlock) as e:
            tz.Device.unlock(d, PinVault("9999"), SystemClock(), None, None)
        self.assertEqual(e.exception.attempts_left, 4)
        tz.Device.unlock(d, PinVault("1111"), SystemClock(), None, None)
        # Ten cancelled prompts count for nothing: the right PIN still unlocks.
        for _ in range(10):
            with self.assertRaises(tz.TiezhengError.UnlockCancelled) as c:
                tz.Device.unlock(d, CancelledVault(), SystemClock(), None, None)
            self.assertTrue(str(c.exception), "every error says what happened")
        tz.Device.unlock(d, PinVault("1111"), SystemClock(), None, None)
        # Five wrong PINs in a row lock the key for good, the right one included.
        for left in (4, 3, 2, 1):
            with self.assertRaises(tz.TiezhengError.WrongUnlock) as e:
                tz.Device.unlock(d, PinVault("9999"), SystemClock(), None, None)
            self.assertEqual(e.exception.attempts_left, left)
        with self.assertRaises(tz.TiezhengError.KeyLocked):
            tz.Device.unlock(d, PinVault("9999"), SystemClock(), None, None)
        with self.assertRaises(tz.TiezhengError.KeyLocked):
            tz.Device.unlock(d, PinVault("1111"), SystemClock(), None, None)
        with self.assertRaises(tz.TiezhengError.Platform):
            tz.Device.setup(os.path.join(self.tmp.name, "dev-broken"), ["1"], "m", "os", BrokenVault(), SystemClock(), None, None)


    def test_outbox_syncs_a_locked_device_and_errors_are_told_apart(self):
        n2 = Notary(os.path.join(self.tmp.name, "notary-outbox"), {
            "TIEZHENG_NOTARY_DEVICE_TOKEN_TTL_SECONDS": "4",
            "TIEZHENG_NOTARY_ENROL_ATTEMPTS_PER_MINUTE": "1",
        })
        try:
            d, dev = self.new_device("dev-outbox", pin="1357")
            photo = read(os.path.join(CORPUS, "photos/DSCN0010.jpg"))
            for i in range(3):
                dev.capture_photo("p%d.jpg" % i, photo, case("PY-OUTBOX"))
            code = n2.call("POST", "/v1/enrolment-codes", {"officer_id": "310101"})["code"]
            asyncio.run(dev.enrol(n2.url, code))
            del dev
            # The officer's key locks (five wrong PINs); the queue must still go out.
            for _ in range(5):
                with self.assertRaises((tz.TiezhengError.WrongUnlock, tz.TiezhengError.KeyLocked)):
                    tz.Device.unlock(d, PinVault("0000"), SystemClock(), None, None)
            with self.assertRaises(tz.TiezhengError.KeyLocked):
                tz.Device.unlock(d, PinVault("1357"), SystemClock(), None, None)
            # The second proof is damaged in the queue: the notary refuses it, not the others.
            second = os.path.join(d, "queue/pending/00000000000000000002.proof.json")
            text = read(second, "r")
            self.assertIn("python host test", text)
            with open(second, "w") as f:
                f.write(text.replace("python host test", "python host TEST"))
            # A fresh process, as a background worker would be: no vault, no unlock.
            script = (
                "import asyncio, json, sys, tiezheng_ffi as tz\n"
                "ob = tz.Outbox.open(sys.argv[1], None)\n"
                "r = asyncio.run(ob.sync(None))\n"
                "print(json.dumps({'ack': r.acknowledged, 'pending': r.pending,"
                " 'refused': [[x.device_seq, x.code, x.reason] for x in r.refused]}))\n"
            )
            out = subprocess.run([sys.executable, "-c", script, d], capture_output=True, text=True,
                                 env=os.environ)
            self.assertEqual(out.returncode, 0, out.stderr)
            r = json.loads(out.stdout)
            self.assertEqual((r["ack"], r["pending"]), (2, 1), r)
            self.assertEqual([x[0] for x in r["refused"]], [2], r)
            self.assertTrue(r["refused"][0][1] and r["refused"][0][2], r)
            ob = tz.Outbox.open(d, None)
            key = ob.notary_public_key()
            for seq in (1, 3):
                self.assertTrue(tz.verify_receipt(ob.receipt(seq), key, ob.proof(seq)))
            self.assertIsNone(ob.receipt(2))
            self.assertEqual([q.acknowledged for q in ob.queue()], [True, False, True])

            # Expired, revoked and rate limited are told apart, each with its message.
            time.sleep(4.5)
            with self.assertRaises(tz.TiezhengError.TokenExpired) as e:
                asyncio.run(ob.sync(None))
            self.assertIn("expired", str(e.exception))
            key_id = json.loads(read(os.path.join(d, "device.json"), "r"))["key_id"]
            n2.call("POST", "/v1/devices/%s/revoke" % key_id, {})
            with self.assertRaises(tz.TiezhengError.DeviceRevoked) as e:
                asyncio.run(ob.sync(None))
            self.assertIn("revoked", str(e.exception))
            _, other = self.new_device("dev-rate")
            seen = []
            started = time.monotonic()
            for _ in range(8):
                try:
                    asyncio.run(other.enrol(n2.url, "NOT-A-CODE"))
                except tz.TiezhengError.Rejected as e:
                    seen.append(e.code)
                except tz.TiezhengError.RateLimited as e:
                    seen.append(e.retry_after_seconds)
                    break
            self.assertIsInstance(seen[-1], int, seen)
            self.assertGreater(seen[-1], 5, seen)
            self.assertLess(time.monotonic() - started, 20, "no silent minute-long wait")
        finally:
            n2.stop()


if __name__ == "__main__":
    unittest.main()
