package cn.tiezheng.test

import cn.tiezheng.sdk.Clock
import cn.tiezheng.sdk.KeyVault
import cn.tiezheng.sdk.LocationFix
import cn.tiezheng.sdk.LocationProvider
import cn.tiezheng.sdk.LocationSource
import cn.tiezheng.sdk.NetworkStatus
import cn.tiezheng.sdk.TiezhengException
import java.security.SecureRandom
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.SecretKeyFactory
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.PBEKeySpec
import javax.crypto.spec.SecretKeySpec

/**
 * A key vault in Kotlin with the JDK's own crypto: AES-256-GCM under a PBKDF2 key from the PIN.
 * On Android the same interface wraps an Android Keystore key that requires user authentication.
 */
class JceVault(private val pin: String) : KeyVault {
    private fun key(salt: ByteArray): SecretKeySpec {
        val spec = PBEKeySpec(pin.toCharArray(), salt, 10_000, 256)
        return SecretKeySpec(SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).encoded, "AES")
    }

    override fun sealKek(kek: ByteArray): ByteArray {
        val salt = ByteArray(16).also { SecureRandom().nextBytes(it) }
        val iv = ByteArray(12).also { SecureRandom().nextBytes(it) }
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.ENCRYPT_MODE, key(salt), GCMParameterSpec(128, iv))
        return salt + iv + c.doFinal(kek)
    }

    override fun openKek(blob: ByteArray): ByteArray {
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.DECRYPT_MODE, key(blob.copyOfRange(0, 16)), GCMParameterSpec(128, blob.copyOfRange(16, 28)))
        return try {
            c.doFinal(blob.copyOfRange(28, blob.size))
        } catch (e: AEADBadTagException) {
            throw TiezhengException.WrongUnlock(0u)
        }
    }
}

/** The officer dismissed the biometric prompt: nothing is proven wrong. */
class CancelledVault : KeyVault {
    override fun sealKek(kek: ByteArray): ByteArray = throw TiezhengException.UnlockCancelled()
    override fun openKek(blob: ByteArray): ByteArray = throw TiezhengException.UnlockCancelled()
}

/** A vault whose platform keystore is broken: its exceptions must become typed errors. */
class BrokenVault : KeyVault {
    override fun sealKek(kek: ByteArray): ByteArray = throw IllegalStateException("keystore unavailable")
    override fun openKek(blob: ByteArray): ByteArray = throw IllegalStateException("keystore unavailable")
}

class SystemClock : Clock {
    override fun nowUnixMs(): Long = System.currentTimeMillis()
    override fun utcOffsetMinutes(): Int = 480
    override fun monotonicMs(): ULong = (System.nanoTime() / 1_000_000).toULong()
}

class ShanghaiFix : LocationProvider {
    override fun currentFix(): LocationFix? = LocationFix(
        latitude = 31.23039, longitude = 121.47369, altitude = 4.0, horizontalAccuracy = 5.0,
        verticalAccuracy = null, source = LocationSource.FUSED, fixTimeUnixMs = null,
        satellites = 12u, mock = false,
    )
}

class Offline : NetworkStatus {
    override fun isOnline(): Boolean = false
}

/** A good GNSS fix with its satellite time, unless a test makes it a mock or skews the time. */
class SettableFix : LocationProvider {
    @Volatile var mock = false
    @Volatile var skewMs = 0L
    override fun currentFix(): LocationFix? {
        val now = System.currentTimeMillis()
        return LocationFix(
            latitude = 31.23039, longitude = 121.47369, altitude = 4.0, horizontalAccuracy = 5.0,
            verticalAccuracy = null, source = LocationSource.GPS, fixTimeUnixMs = now,
            satellites = 12u, mock = mock, gnssTimeUnixMs = now + skewMs,
        )
    }
}
