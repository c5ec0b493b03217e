package cn.tiezheng.test

import cn.tiezheng.sample.CaseForm
import cn.tiezheng.sample.EvidenceCapture
import cn.tiezheng.sample.Enrolment
import cn.tiezheng.sample.SyncCoordinator
import cn.tiezheng.sample.SyncOutcome
import cn.tiezheng.sdk.Device
import cn.tiezheng.sdk.CaseInfo
import cn.tiezheng.sdk.OfficerInfo
import cn.tiezheng.sdk.ProfileReason
import cn.tiezheng.sdk.profiles
import cn.tiezheng.sdk.PartyConfirmation
import cn.tiezheng.sdk.SessionRecord
import cn.tiezheng.sdk.Outbox
import cn.tiezheng.sdk.TiezhengException
import cn.tiezheng.sdk.hashBytes
import cn.tiezheng.sdk.verifyDocument
import cn.tiezheng.sdk.verifyProof
import cn.tiezheng.sdk.verifyReceipt
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/** The Kotlin bindings on the host JVM: a capture → sync flow against a real notary. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SdkTest {
    private val tmp: Path = Files.createTempDirectory("tiezheng-kotlin-test")
    private lateinit var notary: Notary
    private val corpus: Path = Path.of(System.getProperty("tiezheng.corpus"))

    private val form = CaseForm(
        reference = "KT-2026-0001",
        cause = "占道经营",
        description = "host JVM test",
        collectors = listOf("310101", "310102"),
        witnessNote = "no bystander willing to witness",
    )

    @BeforeAll
    fun start() {
        notary = Notary(tmp.resolve("notary"))
    }

    @AfterAll
    fun stop() {
        notary.close()
        tmp.toFile().deleteRecursively()
    }

    private fun setup(name: String, pin: String = "2468"): Pair<String, Device> {
        val dir = tmp.resolve(name).toString()
        return dir to Device.setup(dir, listOf("310101", "310102"), "JVM", "linux", JceVault(pin), SystemClock(), ShanghaiFix(), null)
    }

    @Test
    fun knownAnswerThroughADirectBuffer() {
        val buf = ByteBuffer.allocateDirect(3).put("abc".toByteArray()).flip()
        assertEquals("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0", hashBytes(buf).sm3)
    }

    @Test
    fun captureStreamSyncAndVerifyReceipts() = runBlocking {
        val (dir, device) = setup("flow")
        device.use {
            val capture = EvidenceCapture(device, form)
            val photo = Files.readAllBytes(corpus.resolve("photos/DSCN0010.jpg"))
            val shot = capture.photo("DSCN0010.jpg", photo)
            assertEquals(1UL, shot.deviceSeq)
            assertEquals(MessageDigest.getInstance("SHA-256").digest(photo).joinToString("") { "%02x".format(it) }, shot.sha256)
            assertEquals(shot.proofSm3, verifyProof(shot.proofJson).proofSm3)

            val video = Files.readAllBytes(corpus.resolve("video/street_8s_720p.mp4"))
            val clip = capture.startVideo("street.mp4").use { session ->
                var at = 0
                while (at < video.size) {
                    val n = minOf(65536, video.size - at)
                    session.onEncodedChunk(video, at, n)
                    at += n
                }
                session.stop()
            }
            assertEquals(video.size.toULong(), clip.bytes)

            // Not enrolled yet: the coordinator says so; a bad code is refused with its code.
            val outbox = Outbox.open(dir, null)
            assertTrue(SyncCoordinator(outbox).runOnce() is SyncOutcome.NeedsEnrolment)
            val refused = assertFailsWith<TiezhengException.Rejected> { device.enrol(notary.url, "NOT-A-CODE") }
            assertEquals("invalid_code", refused.code)
            // Pinned to another notary key: refused before the code is spent.
            val code = notary.enrolmentCode("310101")
            val keyId = Regex("\"key_id\":\"([0-9a-f]+)\"").find(notary.call("GET", "/v1/notary"))!!.groupValues[1]
            val wrong = Enrolment.enrol(device, notary.url, code, "ab".repeat(32))
            assertEquals(Enrolment.Result.WrongNotary(Enrolment.display("ab".repeat(32)), Enrolment.display(keyId)), wrong)
            val enrolled = Enrolment.enrol(device, notary.url, code, Enrolment.display(keyId))
            assertTrue(enrolled is Enrolment.Result.Enrolled, "$enrolled")
            val summary = enrolled.summary
            assertTrue(summary.enrolmentId!!.startsWith("enr-"))

            val coordinator = SyncCoordinator(outbox)
            val outcome = coordinator.runOnce()
            assertTrue(outcome is SyncOutcome.Done, "$outcome")
            assertEquals(listOf(1L, 2L), coordinator.receipted)
            assertTrue(device.queue().all { it.acknowledged })
            // Receipts and the pinned notary key come from the outbox: no private file is read.
            val receipt = outbox.receipt(1UL)!!
            assertEquals(notary.publicKey(), outbox.notaryPublicKey())
            assertTrue(verifyReceipt(receipt, outbox.notaryPublicKey()!!, shot.proofJson))
            assertEquals(shot.proofJson, outbox.proof(1UL))

            // The court's offline bundle verifies against the photo; tampering names the layer.
            val bundle = notary.bundle(shot.proofSm3)
            val policy = notary.call("GET", "/v1/ledger/policy")
            val check = verifyDocument(bundle.toByteArray(), corpus.resolve("photos/DSCN0010.jpg").toString(), policy)
            assertTrue(check.valid, check.reason)
            assertTrue(check.mediaChecked)
            val tampered = verifyDocument(bundle.replace("\"leaf_count\":", "\"leaf_count\":1").toByteArray(), null, policy)
            assertEquals(false, tampered.valid)
        }
    }

    @Test
    fun everyErrorCarriesTheSdksMessage() {
        val all = listOf(
            TiezhengException.KeyLocked(), TiezhengException.WrongUnlock(3u), TiezhengException.UnlockCancelled(),
            TiezhengException.NotEnrolled(), TiezhengException.DeviceRevoked("revoked by the administrator"),
            TiezhengException.TokenExpired("expired"), TiezhengException.RateLimited(42uL),
            TiezhengException.NotaryKeyMismatch("ab", "cd"), TiezhengException.Network("offline"),
            TiezhengException.Rejected("invalid_code", "unknown code", "/request/code"),
            TiezhengException.InvalidInput("bad"), TiezhengException.Platform("keystore"), TiezhengException.Other("other"),
            TiezhengException.ProfileRefused("profile.collectors", "profile_requirement_not_met", "two officers"),
            TiezhengException.UnknownProfile("cn.nowhere"),
        )
        for (e in all) assertTrue(!e.message.isNullOrBlank(), "${e::class.simpleName} has no message")
        assertTrue(TiezhengException.RateLimited(42uL).message!!.contains("42"))
        assertTrue(TiezhengException.WrongUnlock(3u).message!!.contains("3 attempts"))
    }

    @Test
    fun theCoordinatorTellsARevokedDeviceFromTheRest() = runBlocking {
        val (dir, device) = setup("revoked")
        device.use {
            EvidenceCapture(device, form).photo("a.jpg", Files.readAllBytes(corpus.resolve("photos/DSCN0010.jpg")))
            device.enrol(notary.url, notary.enrolmentCode("310101"))
        }
        // Five wrong credentials lock the key for good; the outbox still syncs the queue.
        repeat(4) { assertFailsWith<TiezhengException.WrongUnlock> { Device.unlock(dir, JceVault("0000"), SystemClock(), null, null) } }
        assertFailsWith<TiezhengException.KeyLocked> { Device.unlock(dir, JceVault("0000"), SystemClock(), null, null) }
        assertFailsWith<TiezhengException.KeyLocked> { Device.unlock(dir, JceVault("2468"), SystemClock(), null, null) }
        // The administrator revoked the device meanwhile: the worker is told so, not "retry".
        val keyId = Regex("\"key_id\": *\"([0-9a-f]+)\"").find(Files.readString(Path.of(dir, "device.json")))!!.groupValues[1]
        notary.call("POST", "/v1/devices/$keyId/revoke", "{}")
        val outcome = SyncCoordinator(Outbox.open(dir, null)).runOnce()
        assertTrue(outcome is SyncOutcome.Revoked, "$outcome")
        assertTrue(outcome.reason.contains("revoked"), outcome.reason)
    }

    @Test
    fun typedErrorsAndTheForeignVault() {
        val (dir, device) = setup("pins", pin = "1111")
        device.close()
        val wrong = assertFailsWith<TiezhengException.WrongUnlock> { Device.unlock(dir, JceVault("9999"), SystemClock(), null, null) }
        assertEquals(4u, wrong.attemptsLeft)
        // Ten cancelled prompts count for nothing, and every error carries its message.
        repeat(10) {
            val cancelled = assertFailsWith<TiezhengException.UnlockCancelled> { Device.unlock(dir, CancelledVault(), SystemClock(), null, null) }
            assertTrue(!cancelled.message.isNullOrEmpty(), "a message for people")
        }
        Device.unlock(dir, JceVault("1111"), SystemClock(), null, null).use { d ->
            assertFailsWith<TiezhengException.InvalidInput> { d.capturePhoto("../escape.jpg", ByteBuffer.allocateDirect(4), form.toCaseInfo()) }
            val r = d.startRecording("x.m4a", form.toCaseInfo(), 1024UL, 1000UL)
            r.abort()
            assertFailsWith<TiezhengException.InvalidInput> { r.finish() }
        }
        assertFailsWith<TiezhengException.Platform> {
            Device.setup(tmp.resolve("broken").toString(), listOf("1"), "m", "os", BrokenVault(), SystemClock(), null, null)
        }
        Device.unlock(dir, JceVault("1111"), SystemClock(), null, Offline()).use { d ->
            val e = assertFailsWith<TiezhengException.Network> { runBlocking { d.sync(null) } }
            assertTrue(e.reason.contains("offline"))
        }
    }

    @Test
    fun forensicProfilesRefuseAMustAndRecordAShould() {
        val admin = "cn.admin-penalty.onsite.2021"
        val dir = tmp.resolve("profile").toString()
        Device.setup(dir, listOf("310101"), "JVM", "linux", JceVault("2468"), SystemClock(), ShanghaiFix(), null, admin).use { d ->
            assertEquals(admin, d.summary().profile)
            val one = CaseForm(reference = "KT-PROFILE", cause = "占道经营", holderName = "张某", witnessName = "李某")
            val checklist = one.checklist(d.summary().profile)
            assertEquals("profile.collectors", checklist.first().rule)
            assertTrue(checklist.first().must)
            d.addOfficer(OfficerInfo("310101", "王强", "沪执0310101", "浦东新区城管执法局"), JceVault("1357"))
            d.unlockOfficer("310101", JceVault("1357"))
            val photo = Files.readAllBytes(corpus.resolve("photos/DSCN0010.jpg"))
            val refused = assertFailsWith<TiezhengException.ProfileRefused> {
                d.capturePhoto("one.jpg", ByteBuffer.wrap(photo), one.toCaseInfo())
            }
            assertEquals("profile.collectors", refused.rule)
            assertEquals("profile_requirement_not_met", refused.code)
            assertTrue(!refused.message.isNullOrEmpty(), "a message for people")
            val two = one.copy(collectors = listOf("310101", "310102"))
            // 310102 has no key of their own yet: one key does not stand in for two officers.
            val unsigned = assertFailsWith<TiezhengException.ProfileRefused> { d.capturePhoto("two.jpg", ByteBuffer.wrap(photo), two.toCaseInfo()) }
            assertEquals("profile.signatures", unsigned.rule)
            d.addOfficer(OfficerInfo("310102", "李明", "沪执0310102", "浦东新区城管执法局"), JceVault("2468"))
            d.unlockOfficer("310102", JceVault("2468"))
            val noReason = assertFailsWith<TiezhengException.ProfileRefused> { d.capturePhoto("two.jpg", ByteBuffer.wrap(photo), two.toCaseInfo()) }
            assertEquals("profile.clock" to "profile_reason_required", noReason.rule to noReason.code)
            val shot = EvidenceCapture(d, two.copy(reasons = mapOf("profile.clock" to "no network"))).photo("two.jpg", photo)
            assertTrue(shot.proofJson.contains("\"reason\":\"no network\""), shot.proofJson)
            assertEquals(1, d.queue().size, "only the capture that met the profile is queued")
        }
        assertFailsWith<TiezhengException.UnknownProfile> {
            Device.setup(tmp.resolve("unknown").toString(), listOf("1"), "m", "os", JceVault("1"), SystemClock(), null, null, "cn.nowhere")
        }
    }

    @Test
    fun everyMustOfEveryProfileIsRefusedAndEveryShouldRecorded() {
        val photo = Files.readAllBytes(corpus.resolve("photos/DSCN0010.jpg"))
        var checked = 0
        for (prof in profiles()) {
            val where = SettableFix()
            val dir = tmp.resolve("every-${prof.id}").toString()
            Device.setup(dir, listOf("310101"), "JVM", "linux", JceVault("2468"), SystemClock(), where, null, prof.id).use { d ->
                for ((id, pin) in listOf("310101" to "1357", "310102" to "8642")) {
                    d.addOfficer(OfficerInfo(id, "officer $id", "沪执$id", "unit"), JceVault(pin))
                    d.unlockOfficer(id, JceVault(pin))
                }
                val complete = CaseInfo(
                    reference = "KT-EVERY", cause = "占道经营", `object` = "摊位", description = "stall",
                    collectors = listOf("310101", "310102"), holderName = "张某", witnessName = "李某",
                )
                d.capturePhoto("met.jpg", ByteBuffer.wrap(photo), complete)
                for (req in prof.requirements.filter { it.atCapture }) {
                    where.mock = false
                    where.skewMs = 0
                    var imported = false
                    val case = when (req.rule) {
                        "profile.collectors" -> complete.copy(collectors = listOf(" "))
                        "profile.signatures" -> complete.copy(collectors = listOf("310101", "310109"))
                        "profile.holder" -> complete.copy(holderName = null)
                        "profile.witness" -> complete.copy(witnessName = null)
                        "profile.fields" -> complete.copy(cause = null, `object` = null, description = " ")
                        "profile.location" -> complete.also { where.mock = true }
                        "profile.clock" -> complete.also { where.skewMs = 3_600_000 }
                        "profile.origin" -> complete.also { imported = true }
                        else -> error("no way to break ${req.rule}")
                    }
                    val shoot = { c: CaseInfo ->
                        if (imported) d.importFile(corpus.resolve("photos/DSCN0010.jpg").toString(), c)
                        else d.capturePhoto("x.jpg", ByteBuffer.wrap(photo), c)
                    }
                    val queued = d.queue().size
                    val refused = assertFailsWith<TiezhengException.ProfileRefused>("${prof.id} ${req.rule}") { shoot(case) }
                    val want = if (req.must) "profile_requirement_not_met" else "profile_reason_required"
                    assertEquals(req.rule to want, refused.rule to refused.code, prof.id)
                    assertEquals(queued, d.queue().size, "nothing queued for a refused capture")
                    if (!req.must) {
                        val why = "why not: ${req.rule}"
                        val shot = shoot(case.copy(reasons = listOf(ProfileReason(req.rule, why))))
                        assertTrue(shot.proofJson.contains("{\"met\":false,\"reason\":\"$why\",\"rule\":\"${req.rule}\"}"), shot.proofJson)
                    }
                    checked++
                }
            }
        }
        assertEquals(19, checked)
    }

    @Test
    fun aSessionClosesWithItsRecordAndAWholeProcessVideoWhenNoWitnessSigns() {
        val criminal = "cn.mps.criminal-electronic-data.2019"
        val dir = tmp.resolve("record").toString()
        Device.setup(dir, listOf("310101"), "JVM", "linux", JceVault("2468"), SystemClock(), ShanghaiFix(), null, criminal).use { d ->
            for ((id, pin) in listOf("310101" to "1357", "310102" to "8642")) {
                d.addOfficer(OfficerInfo(id, "侦查员$id", "沪刑$id", "浦东分局"), JceVault(pin))
                d.unlockOfficer(id, JceVault(pin))
            }
            val case = CaseForm(
                reference = "KT-RECORD", cause = "盗窃", collectors = listOf("310101", "310102"),
                holderName = "张某", witnessNote = "深夜现场无见证人", reasons = mapOf("profile.clock" to "no network"),
            ).toCaseInfo().copy(`object` = "涉案手机")
            val opened = System.currentTimeMillis() - 1000
            d.capturePhoto("scene.jpg", ByteBuffer.wrap(Files.readAllBytes(corpus.resolve("photos/DSCN0010.jpg"))), case)
            val video = Files.readAllBytes(corpus.resolve("video/street_8s_720p.mp4"))
            val rec = d.startRecording("process.mp4", case, 1_000_000UL, 60_000UL)
            rec.write(ByteBuffer.wrap(video))
            rec.finish()
            // The holder's signature as a signature pad hands it over: a PNG.
            val png = java.io.ByteArrayOutputStream().also {
                javax.imageio.ImageIO.write(java.awt.image.BufferedImage(64, 24, java.awt.image.BufferedImage.TYPE_BYTE_GRAY), "png", it)
            }.toByteArray()
            val record = SessionRecord(
                place = "上海市浦东新区某路12号", process = "二名侦查人员出示证件，现场拍照并全程录像",
                originalMedium = "执法手机", notSeizedReason = "执法设备继续使用",
                holder = PartyConfirmation.Signature(png), witness = PartyConfirmation.Refused("深夜现场无见证人"),
            )
            val refused = assertFailsWith<TiezhengException.ProfileRefused> { d.closeSessionWithRecord(case, opened, record) }
            assertEquals("profile.witness", refused.rule)
            val photo = assertFailsWith<TiezhengException.InvalidInput> {
                d.closeSessionWithRecord(case, opened, record.copy(processRecording = "scene.jpg"))
            }
            assertTrue(photo.reason.contains("not a video"), photo.reason)
            assertEquals(2, d.queue().size, "nothing is signed for a refused record")
            val closed = d.closeSessionWithRecord(case, opened, record.copy(processRecording = "process.mp4"))
            assertTrue(closed.proofJson.contains("\"process_recording\":{\"device_seq\":2,\"file_name\":\"process.mp4\"}"), closed.proofJson)
            assertEquals(closed.proofSm3, verifyProof(closed.proofJson).proofSm3)
        }
    }

    @Test
    fun caseFormAsksForWhatTheRulesRequire() {
        val incomplete = CaseForm(reference = " ", collectors = listOf("310101"))
        assertEquals(3, incomplete.problems().size)
        assertTrue(form.problems().isEmpty())
    }
}
