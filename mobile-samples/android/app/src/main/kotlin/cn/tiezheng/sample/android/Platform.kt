package cn.tiezheng.sample.android

import android.annotation.SuppressLint
import android.content.Context
import android.net.ConnectivityManager
import android.net.NetworkCapabilities
import android.os.Looper
import android.os.SystemClock
import cn.tiezheng.sdk.Clock
import cn.tiezheng.sdk.LocationFix
import cn.tiezheng.sdk.LocationProvider
import cn.tiezheng.sdk.LocationSource
import cn.tiezheng.sdk.NetworkStatus
import com.google.android.gms.location.LocationCallback
import com.google.android.gms.location.LocationRequest
import com.google.android.gms.location.LocationResult
import com.google.android.gms.location.LocationServices
import com.google.android.gms.location.Priority
import java.util.TimeZone

/** Wall clock, zone offset and the monotonic clock since boot. */
class AndroidClock : Clock {
    override fun nowUnixMs(): Long = System.currentTimeMillis()
    override fun utcOffsetMinutes(): Int = TimeZone.getDefault().getOffset(System.currentTimeMillis()) / 60_000
    override fun monotonicMs(): ULong = SystemClock.elapsedRealtime().toULong()
}

/**
 * The fused provider's latest fix, kept current while the capture screen is open, so that a
 * capture never waits for a fix. Coordinates are WGS-84 exactly as the OS reports them.
 */
class FusedLocation(context: Context) : LocationProvider {
    private val client = LocationServices.getFusedLocationProviderClient(context)
    @Volatile private var latest: LocationFix? = null
    private val callback = object : LocationCallback() {
        override fun onLocationResult(result: LocationResult) {
            val l = result.lastLocation ?: return
            latest = LocationFix(
                latitude = l.latitude,
                longitude = l.longitude,
                altitude = if (l.hasAltitude()) l.altitude else null,
                horizontalAccuracy = if (l.hasAccuracy()) l.accuracy.toDouble() else null,
                verticalAccuracy = if (l.hasVerticalAccuracy()) l.verticalAccuracyMeters.toDouble() else null,
                source = LocationSource.FUSED,
                fixTimeUnixMs = l.time,
                satellites = l.extras?.getInt("satellites")?.toUInt(),
                mock = l.isMock,
            )
        }
    }

    @SuppressLint("MissingPermission") // requested by MainActivity before start()
    fun start() = client.requestLocationUpdates(
        LocationRequest.Builder(Priority.PRIORITY_HIGH_ACCURACY, 1_000).build(), callback, Looper.getMainLooper(),
    )

    fun stop() = client.removeLocationUpdates(callback)

    override fun currentFix(): LocationFix? = latest
}

/** Whether a validated network is up. */
class AndroidNetwork(context: Context) : NetworkStatus {
    private val cm = context.getSystemService(ConnectivityManager::class.java)
    override fun isOnline(): Boolean =
        cm.getNetworkCapabilities(cm.activeNetwork)?.hasCapability(NetworkCapabilities.NET_CAPABILITY_VALIDATED) == true
}
