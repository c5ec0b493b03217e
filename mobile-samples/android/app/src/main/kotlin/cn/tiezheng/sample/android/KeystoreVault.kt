package cn.tiezheng.sample.android

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.UserNotAuthenticatedException
import cn.tiezheng.sdk.KeyVault
import cn.tiezheng.sdk.TiezhengException
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * Seals the SDK's key-encryption key with an AES-256 key that lives in the Android Keystore
 * (hardware-backed where available) and is usable only for 30 s after the officer unlocks with
 * PIN or biometric. The device's SM2 key therefore never exists in clear at rest.
 */
class KeystoreVault(private val alias: String = "tiezheng-kek-wrapping") : KeyVault {
    private val keyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

    private fun wrappingKey(): SecretKey =
        (keyStore.getKey(alias, null) as SecretKey?) ?: KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore").run {
            init(
                KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                    .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                    .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                    .setKeySize(256)
                    .setUserAuthenticationRequired(true)
                    .setUserAuthenticationParameters(30, KeyProperties.AUTH_DEVICE_CREDENTIAL or KeyProperties.AUTH_BIOMETRIC_STRONG)
                    .setInvalidatedByBiometricEnrollment(true)
                    .build(),
            )
            generateKey()
        }

    override fun sealKek(kek: ByteArray): ByteArray = guarded {
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.ENCRYPT_MODE, wrappingKey())
        c.iv + c.doFinal(kek)
    }

    override fun openKek(blob: ByteArray): ByteArray = guarded {
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.DECRYPT_MODE, wrappingKey(), GCMParameterSpec(128, blob.copyOfRange(0, 12)))
        c.doFinal(blob.copyOfRange(12, blob.size))
    }

    private inline fun guarded(block: () -> ByteArray): ByteArray = try {
        block()
    } catch (e: UserNotAuthenticatedException) {
        // No recent authentication (the prompt was cancelled, timed out or not shown yet):
        // nothing was proven wrong, so it must not count towards the permanent lock. The app
        // shows the prompt and tries again. (The Keystore itself counts wrong biometrics and
        // PINs and locks the key; WrongUnlock is for a vault that checks a credential itself.)
        throw TiezhengException.UnlockCancelled()
    } catch (e: KeyPermanentlyInvalidatedException) {
        throw TiezhengException.KeyLocked()
    } catch (e: Exception) {
        throw TiezhengException.Platform("Android Keystore: ${e.message}")
    }
}
