package cn.tiezheng.sample

import cn.tiezheng.sdk.Device
import cn.tiezheng.sdk.SyncEvent
import cn.tiezheng.sdk.SyncListener
import cn.tiezheng.sdk.SyncReport
import cn.tiezheng.sdk.TiezhengException

/** What a background sync run (WorkManager on Android, BGTask on iOS) should do next. */
sealed class SyncOutcome {
    /** Everything queued is receipted. */
    data class Done(val report: SyncReport) : SyncOutcome()
    /** A transient problem: the proofs stay queued; try again later. */
    data class RetryLater(val reason: String) : SyncOutcome()
    /** The device must be enrolled first. */
    object NeedsEnrolment : SyncOutcome()
    /** The notary refused something: show the officer `message`; retrying will not help. */
    data class Refused(val code: String, val message: String, val field: String?) : SyncOutcome()
}

/** Runs one sync and classifies the result, so that the worker only maps outcomes. */
class SyncCoordinator(private val device: Device) {
    /** Receipts acknowledged during the last run, by `device_seq`. */
    val receipted = mutableListOf<Long>()

    suspend fun runOnce(): SyncOutcome = try {
        receipted.clear()
        val report = device.sync(object : SyncListener {
            override fun onEvent(event: SyncEvent) {
                if (event is SyncEvent.Receipted) receipted += event.deviceSeq.toLong()
            }
        })
        if (report.pending == 0UL) SyncOutcome.Done(report) else SyncOutcome.RetryLater("${report.pending} proofs still pending")
    } catch (e: TiezhengException.Network) {
        SyncOutcome.RetryLater(e.reason)
    } catch (e: TiezhengException.NotEnrolled) {
        SyncOutcome.NeedsEnrolment
    } catch (e: TiezhengException.Rejected) {
        SyncOutcome.Refused(e.code, e.reason, e.field)
    }
}
