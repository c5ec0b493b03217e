package cn.tiezheng.sample

import cn.tiezheng.sdk.Outbox
import cn.tiezheng.sdk.RefusedProof
import cn.tiezheng.sdk.SyncEvent
import cn.tiezheng.sdk.SyncListener
import cn.tiezheng.sdk.SyncReport
import cn.tiezheng.sdk.TiezhengException

/** What a background sync run (WorkManager on Android, BGTask on iOS) should do next. */
sealed class SyncOutcome {
    /** Everything that can go is receipted; [refused] proofs stay queued for the officer to see. */
    data class Done(val report: SyncReport, val refused: List<RefusedProof>) : SyncOutcome()
    /** A transient problem: the proofs stay queued; try again after [afterSeconds] (or the worker's backoff). */
    data class RetryLater(val reason: String, val afterSeconds: Long? = null) : SyncOutcome()
    /** The device must be enrolled (first time, or its token expired). */
    data class NeedsEnrolment(val reason: String) : SyncOutcome()
    /** The notary's administrator revoked this device: set it up and enrol it again. */
    data class Revoked(val reason: String) : SyncOutcome()
    /** The notary refused the device's request: show the officer [message]; retrying will not help. */
    data class Refused(val code: String, val message: String, val field: String?) : SyncOutcome()
    /** Anything else (storage, a notary answer that does not verify): show [message]. */
    data class Failed(val message: String) : SyncOutcome()
}

/**
 * Runs one sync of the device's [Outbox] and classifies the result, so that the worker only maps
 * outcomes. The outbox needs no unlocked key: a worker started in a fresh process, or while the
 * phone is locked, sends the queue.
 */
class SyncCoordinator(private val outbox: Outbox) {
    /** Receipts acknowledged during the last run, by `device_seq`. */
    val receipted = mutableListOf<Long>()

    suspend fun runOnce(): SyncOutcome = try {
        receipted.clear()
        val report = outbox.sync(object : SyncListener {
            override fun onEvent(event: SyncEvent) {
                if (event is SyncEvent.Receipted) receipted += event.deviceSeq.toLong()
            }
        })
        val left = report.pending.toLong() - report.refused.size
        if (left <= 0L) SyncOutcome.Done(report, report.refused) else SyncOutcome.RetryLater("$left proofs still pending")
    } catch (e: TiezhengException.Network) {
        SyncOutcome.RetryLater(e.reason)
    } catch (e: TiezhengException.RateLimited) {
        SyncOutcome.RetryLater(e.message ?: "rate limited", e.retryAfterSeconds.toLong())
    } catch (e: TiezhengException.NotEnrolled) {
        SyncOutcome.NeedsEnrolment(e.message ?: "not enrolled")
    } catch (e: TiezhengException.TokenExpired) {
        SyncOutcome.NeedsEnrolment(e.reason)
    } catch (e: TiezhengException.DeviceRevoked) {
        SyncOutcome.Revoked(e.reason)
    } catch (e: TiezhengException.Rejected) {
        SyncOutcome.Refused(e.code, e.reason, e.field)
    } catch (e: TiezhengException) {
        SyncOutcome.Failed(e.message ?: e.toString())
    }
}
