package cn.tiezheng.sample

import cn.tiezheng.sdk.CaptureResult
import cn.tiezheng.sdk.Device
import cn.tiezheng.sdk.Recording
import cn.tiezheng.sdk.capturePhoto
import cn.tiezheng.sdk.write
import java.nio.ByteBuffer

/**
 * The app's capture logic, free of Android APIs: CameraX hands the photo's plane buffer to
 * [photo]; the video encoder's output goes chunk by chunk into a [VideoSession].
 *
 * The SDK takes exactly the bytes between a `ByteBuffer`'s position and limit and leaves the
 * buffer as it was: a direct buffer (a camera plane, `MediaCodec` output) crosses into Rust
 * with no copy, so it is passed as it is; a `ByteArray` is copied once by the SDK.
 */
class EvidenceCapture(private val device: Device, private val case: CaseForm) {
    /** Signs and queues a photo exactly as the camera delivered it (position to limit). */
    fun photo(fileName: String, jpeg: ByteBuffer): CaptureResult {
        require(case.problems().isEmpty()) { case.problems().joinToString(" ") }
        return device.capturePhoto(fileName, jpeg, case.toCaseInfo())
    }

    /** Signs and queues a photo from [length] bytes of [jpeg] starting at [offset]. */
    fun photo(fileName: String, jpeg: ByteArray, offset: Int = 0, length: Int = jpeg.size - offset): CaptureResult {
        require(case.problems().isEmpty()) { case.problems().joinToString(" ") }
        return device.capturePhoto(fileName, jpeg, offset, length, case.toCaseInfo())
    }

    /** Starts a recording; segments close every 4 MiB or 2 s. */
    fun startVideo(fileName: String): VideoSession {
        require(case.problems().isEmpty()) { case.problems().joinToString(" ") }
        return VideoSession(device.startRecording(fileName, case.toCaseInfo(), 4UL shl 20, 2000UL))
    }

    /** A recording in progress. Closing without [stop] leaves it for recovery, as a crash would. */
    inner class VideoSession(private val recording: Recording) : AutoCloseable {
        /**
         * Encoder output as `MediaCodec` delivers it: set the buffer's position and limit to
         * `BufferInfo.offset` and `offset + size`. The buffer is left as it was, so the same
         * buffer can go on to `MediaMuxer.writeSampleData`.
         */
        fun onEncodedChunk(buffer: ByteBuffer) = recording.write(buffer)

        /** Encoder output copied into an array. */
        fun onEncodedChunk(bytes: ByteArray, offset: Int = 0, length: Int = bytes.size - offset) =
            recording.write(bytes, offset, length)

        /** Segments closed so far (each provable on its own if the phone dies). */
        val closedSegments: Long get() = recording.segments().toLong()

        /** Ends the recording: stored, signed, queued. */
        fun stop(): CaptureResult = recording.finish()

        /** Throws the recording away. */
        fun discard() = recording.abort()

        override fun close() = recording.close()
    }
}
