package cn.tiezheng.sample.android

import android.content.Context
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import cn.tiezheng.sample.SyncCoordinator
import cn.tiezheng.sample.SyncOutcome
import java.util.concurrent.TimeUnit

/**
 * Sends queued proofs to the notary in the background once a network is available; the
 * decision logic is [SyncCoordinator], tested on the host JVM.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val device = DeviceHolder.device ?: return Result.retry() // unlocked on the next app start
        return when (val outcome = SyncCoordinator(device).runOnce()) {
            is SyncOutcome.Done -> Result.success()
            is SyncOutcome.RetryLater -> Result.retry()
            SyncOutcome.NeedsEnrolment -> Result.failure()
            is SyncOutcome.Refused -> Result.failure()
        }
    }

    companion object {
        fun schedule(context: Context) = WorkManager.getInstance(context).enqueueUniqueWork(
            "tiezheng-sync",
            ExistingWorkPolicy.KEEP,
            OneTimeWorkRequestBuilder<SyncWorker>()
                .setConstraints(Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build())
                .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
                .build(),
        )
    }
}

/** The unlocked device for this process (set by MainActivity after the officer unlocks). */
object DeviceHolder {
    @Volatile var device: cn.tiezheng.sdk.Device? = null
}
