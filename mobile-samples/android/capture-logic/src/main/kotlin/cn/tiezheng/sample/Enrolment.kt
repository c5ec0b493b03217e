package cn.tiezheng.sample

import cn.tiezheng.sdk.Device
import cn.tiezheng.sdk.DeviceSummary
import cn.tiezheng.sdk.TiezhengException

/**
 * Enrolment with the notary's key pinned. The notary's operator publishes its key ID (its
 * fingerprint, 64 hex digits; `tiezheng serve` prints it) out of band, on paper or on the
 * unit's intranet; the officer types or scans it with the one-time code, and the app shows both
 * fingerprints grouped in fours so that a person can compare them. A notary that answers with
 * another key is refused before the code is spent.
 */
object Enrolment {
    /** What the enrolment screen shows after an attempt. */
    sealed class Result {
        /** Enrolled; keep showing the fingerprint the phone now trusts. */
        data class Enrolled(val summary: DeviceSummary, val fingerprint: String) : Result()
        /** The notary has another key: do not enrol; show both fingerprints to compare. */
        data class WrongNotary(val expected: String, val actual: String) : Result()
        /** The fingerprint typed is not 64 hexadecimal digits. */
        data class BadFingerprint(val reason: String) : Result()
    }

    /** `ab12cd34…` as `AB12 CD34 …`: sixteen groups a person can read aloud and compare. */
    fun display(keyId: String): String =
        keyId.filter { !it.isWhitespace() }.uppercase().chunked(4).joinToString(" ")

    suspend fun enrol(device: Device, notaryUrl: String, code: String, fingerprint: String): Result {
        val keyId = fingerprint.filter { !it.isWhitespace() }.lowercase()
        return try {
            Result.Enrolled(device.enrolPinned(notaryUrl, code, keyId), display(keyId))
        } catch (e: TiezhengException.NotaryKeyMismatch) {
            Result.WrongNotary(display(e.expected), display(e.actual))
        } catch (e: TiezhengException.InvalidInput) {
            Result.BadFingerprint(e.reason)
        }
    }
}
