package cn.tiezheng.sample.android

import android.Manifest
import android.os.Bundle
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView
import androidx.appcompat.app.AppCompatActivity
import androidx.biometric.BiometricManager
import androidx.biometric.BiometricPrompt
import androidx.camera.core.ImageCapture
import androidx.camera.core.ImageCaptureException
import androidx.camera.core.ImageProxy
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.core.content.ContextCompat
import androidx.lifecycle.lifecycleScope
import cn.tiezheng.sample.CaseForm
import cn.tiezheng.sdk.OfficerInfo
import cn.tiezheng.sample.EvidenceCapture
import cn.tiezheng.sdk.Device
import cn.tiezheng.sdk.TiezhengException
import cn.tiezheng.sdk.deviceExists
import java.io.File
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

/**
 * The sample capture screen: CameraX preview, a shutter that hands the JPEG bytes straight to
 * the SDK (hashed before anything is written), and background sync through WorkManager.
 */
class MainActivity : AppCompatActivity() {
    private lateinit var status: TextView
    private lateinit var location: FusedLocation
    private val imageCapture = ImageCapture.Builder().setCaptureMode(ImageCapture.CAPTURE_MODE_MAXIMIZE_QUALITY).build()

    // In the real app the officer fills this in; the sample uses a fixed record.
    private val case = CaseForm(
        reference = "沪浦-2026-0001",
        cause = "占道经营",
        collectors = listOf("310101", "310102"),
        holderNote = "the stall holder left before the inspection",
        witnessNote = "no bystander willing to witness",
        profile = PROFILE,
        // The fused fix carries no satellite time and this sample syncs no clock: say so.
        reasons = mapOf("profile.clock" to "no trusted time source on this phone"),
    )

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val preview = PreviewView(this)
        status = TextView(this)
        val shutter = Button(this).apply { text = "Capture evidence" }
        // The forensic profile's checklist (取证规范): what the SDK will hold the capture to.
        val checklist = TextView(this).apply {
            text = case.checklist(PROFILE).joinToString("\n") { (if (it.must) "● " else "○ ") + it.titleZh }
        }
        setContentView(LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            addView(preview, LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT, 0, 1f))
            addView(checklist)
            addView(shutter)
            addView(status)
        })
        location = FusedLocation(this)
        requestPermissions(arrayOf(Manifest.permission.CAMERA, Manifest.permission.ACCESS_FINE_LOCATION, Manifest.permission.RECORD_AUDIO), 1)
        startCamera(preview)
        shutter.setOnClickListener { capture() }
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        super.onRequestPermissionsResult(requestCode, permissions, grantResults)
        location.start()
        unlockDevice()
    }

    /**
     * Set up on first start; afterwards the officer authenticates with BiometricPrompt (strong
     * biometric or the device credential), which opens the Keystore key for 30 s, and the SDK
     * unlocks off the main thread. A cancelled or failed prompt never reaches the SDK, so it
     * counts for nothing; the Keystore itself limits wrong attempts.
     */
    private fun unlockDevice() {
        val dir = File(filesDir, "tiezheng").path
        if (!deviceExists(dir)) {
            openDevice { Device.setup(dir, case.collectors, android.os.Build.MODEL, "Android ${android.os.Build.VERSION.RELEASE}", KeystoreVault(), AndroidClock(), location, AndroidNetwork(this), PROFILE) }
            return
        }
        val prompt = BiometricPrompt(this, ContextCompat.getMainExecutor(this), object : BiometricPrompt.AuthenticationCallback() {
            override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                openDevice { Device.unlock(dir, KeystoreVault(), AndroidClock(), location, AndroidNetwork(this@MainActivity)) }
            }

            override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
                // Cancelled, timed out or locked out by the system: nothing was counted.
                status.text = "Not unlocked ($errString): tap Capture to try again"
            }
        })
        prompt.authenticate(
            BiometricPrompt.PromptInfo.Builder()
                .setTitle("Unlock the evidence key")
                .setSubtitle("Officer ${case.collectors.firstOrNull() ?: ""}")
                .setAllowedAuthenticators(BiometricManager.Authenticators.BIOMETRIC_STRONG or BiometricManager.Authenticators.DEVICE_CREDENTIAL)
                .build(),
        )
    }

    /** Runs `open` off the main thread and shows every outcome. */
    private fun openDevice(open: () -> Device) {
        lifecycleScope.launch {
            val message = withContext(Dispatchers.IO) {
                try {
                    val device = open()
                    DeviceHolder.device = device
                    // Each collector signs with a key of their own, sealed by a Keystore key of
                    // theirs (a real app asks each officer to authenticate here).
                    val registered = device.officers().map { it.officerId }
                    for (id in case.collectors) {
                        val vault = KeystoreVault("tiezheng-officer-$id")
                        if (id !in registered) device.addOfficer(OfficerInfo(id, "Officer $id", "badge-$id", "unit"), vault)
                        device.unlockOfficer(id, vault)
                    }
                    "Ready"
                } catch (e: TiezhengException.UnlockCancelled) {
                    "Unlock cancelled or timed out: nothing was counted; try again"
                } catch (e: TiezhengException.WrongUnlock) {
                    "Wrong credential: ${e.attemptsLeft} attempts left before the evidence key locks"
                } catch (e: TiezhengException.KeyLocked) {
                    "The evidence key is locked: set this phone up again and re-enrol it"
                } catch (e: TiezhengException) {
                    e.message ?: "Cannot open the evidence key"
                }
            }
            status.text = message
        }
    }

    private fun startCamera(preview: PreviewView) {
        val future = ProcessCameraProvider.getInstance(this)
        future.addListener({
            val provider = future.get()
            val p = androidx.camera.core.Preview.Builder().build().also { it.surfaceProvider = preview.surfaceProvider }
            provider.bindToLifecycle(this, androidx.camera.core.CameraSelector.DEFAULT_BACK_CAMERA, p, imageCapture)
        }, ContextCompat.getMainExecutor(this))
    }

    private fun capture() {
        val device = DeviceHolder.device ?: return unlockDevice()
        // The callback runs on a background executor: hashing and storing happen off the main
        // thread; only the status goes back to it.
        imageCapture.takePicture(captureExecutor, object : ImageCapture.OnImageCapturedCallback() {
            override fun onCaptureSuccess(image: ImageProxy) {
                // The JPEG exactly as the camera encoded it: these bytes are the evidence. The
                // plane's direct buffer is read in place (position to limit, no copy), so the
                // image is closed only after the SDK has hashed and stored it.
                val message = try {
                    val result = EvidenceCapture(device, case).photo("IMG_${System.currentTimeMillis()}.jpg", image.planes[0].buffer)
                    SyncWorker.schedule(this@MainActivity)
                    "Signed #${result.deviceSeq}: SM3 ${result.sm3.take(16)}…"
                } catch (e: TiezhengException.ProfileRefused) {
                    // A must not met, or a should without its reason: nothing was stored.
                    "Not captured — ${e.rule}: ${e.reason}"
                } catch (e: TiezhengException) {
                    "Not captured: ${e.message}"
                } finally {
                    image.close()
                }
                runOnUiThread { status.text = message }
            }

            override fun onError(e: ImageCaptureException) {
                runOnUiThread { status.text = "Camera error: ${e.message}" }
            }
        })
    }

    private val captureExecutor = java.util.concurrent.Executors.newSingleThreadExecutor()

    override fun onDestroy() {
        captureExecutor.shutdown()
        super.onDestroy()
    }

    private companion object {
        /** The forensic profile this unit captures under: administrative enforcement on site. */
        const val PROFILE = "cn.admin-penalty.onsite.2021"
    }
}
