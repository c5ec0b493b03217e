package cn.tiezheng.sample.android

import android.Manifest
import android.os.Bundle
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView
import androidx.appcompat.app.AppCompatActivity
import androidx.camera.core.ImageCapture
import androidx.camera.core.ImageCaptureException
import androidx.camera.core.ImageProxy
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.core.content.ContextCompat
import cn.tiezheng.sample.CaseForm
import cn.tiezheng.sample.EvidenceCapture
import cn.tiezheng.sdk.Device
import cn.tiezheng.sdk.TiezhengException
import java.io.File

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
        witnessNote = "no bystander willing to witness",
    )

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val preview = PreviewView(this)
        status = TextView(this)
        val shutter = Button(this).apply { text = "Capture evidence" }
        setContentView(LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            addView(preview, LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT, 0, 1f))
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

    private fun unlockDevice() {
        val dir = File(filesDir, "tiezheng").path
        DeviceHolder.device = try {
            if (File(dir, "device.json").exists()) {
                Device.unlock(dir, KeystoreVault(), AndroidClock(), location, AndroidNetwork(this))
            } else {
                Device.setup(dir, case.collectors, android.os.Build.MODEL, "Android ${android.os.Build.VERSION.RELEASE}", KeystoreVault(), AndroidClock(), location, AndroidNetwork(this))
            }
        } catch (e: TiezhengException.UnlockCancelled) {
            // Cancelled or timed out: counted for nothing.
            status.text = "Unlock the phone, then try again"
            null
        } catch (e: TiezhengException.WrongUnlock) {
            status.text = "Wrong credential: ${e.attemptsLeft} attempts left before the evidence key locks"
            null
        } catch (e: TiezhengException.KeyLocked) {
            status.text = "The evidence key is locked: re-enrol this phone"
            null
        } catch (e: TiezhengException) {
            status.text = e.message ?: "Cannot open the evidence key"
            null
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
        imageCapture.takePicture(ContextCompat.getMainExecutor(this), object : ImageCapture.OnImageCapturedCallback() {
            override fun onCaptureSuccess(image: ImageProxy) {
                // The JPEG exactly as the camera encoded it: these bytes are the evidence. The
                // plane's direct buffer is read in place (position to limit), so the image is
                // closed only after the SDK has hashed and stored it.
                val result = try {
                    EvidenceCapture(device, case).photo("IMG_${System.currentTimeMillis()}.jpg", image.planes[0].buffer)
                } finally {
                    image.close()
                }
                status.text = "Signed #${result.deviceSeq}: SM3 ${result.sm3.take(16)}…"
                SyncWorker.schedule(this@MainActivity)
            }

            override fun onError(e: ImageCaptureException) {
                status.text = "Camera error: ${e.message}"
            }
        })
    }
}
