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
import cn.tiezheng.sdk.Outbox
import cn.tiezheng.sdk.TiezhengException
import java.util.concurrent.TimeUnit

/**
 * Sends queued proofs to the notary in the background once a network is available, from the
 * device's [Outbox]: no unlocked key is needed, so this works in a fresh process and while the
 * phone is locked. The decision logic is [SyncCoordinator], tested on the host JVM.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val dir = java.io.File(applicationContext.filesDir, "tiezheng").path
        val outbox = try {
            Outbox.open(dir, AndroidNetwork(applicationContext))
        } catch (e: TiezhengException) {
            return Result.failure() // no device set up yet
        }
        return when (val outcome = SyncCoordinator(outbox).runOnce()) {
            is SyncOutcome.Done -> Result.success()
            is SyncOutcome.RetryLater -> {
                // The notary's Retry-After, when it gave one, rather than the generic backoff.
                outcome.afterSeconds?.let { schedule(applicationContext, it) } ?: return Result.retry()
                Result.success()
            }
            is SyncOutcome.NeedsEnrolment, is SyncOutcome.Revoked,
            is SyncOutcome.Refused, is SyncOutcome.Failed -> Result.failure()
        }
    }

    companion object {
        fun schedule(context: Context, afterSeconds: Long = 0) = WorkManager.getInstance(context).enqueueUniqueWork(
            "tiezheng-sync",
            if (afterSeconds > 0) ExistingWorkPolicy.APPEND_OR_REPLACE else ExistingWorkPolicy.KEEP,
            OneTimeWorkRequestBuilder<SyncWorker>()
                .setConstraints(Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build())
                .setInitialDelay(afterSeconds, TimeUnit.SECONDS)
                .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
                .build(),
        )
    }
}

/** The unlocked device for this process (set by MainActivity after the officer unlocks). */
object DeviceHolder {
    @Volatile var device: cn.tiezheng.sdk.Device? = null
}
