package cn.tiezheng.sample

import cn.tiezheng.sdk.CaptureResult
import cn.tiezheng.sdk.Device
import cn.tiezheng.sdk.Recording
import java.nio.ByteBuffer

/**
 * The app's capture logic, free of Android APIs: CameraX hands photo bytes to [photo]; the
 * video encoder's output goes chunk by chunk into a [VideoSession]. Bytes cross into Rust
 * without copies through one reusable direct buffer.
 */
class EvidenceCapture(private val device: Device, private val case: CaseForm) {
    private var buffer: ByteBuffer = ByteBuffer.allocateDirect(1 shl 20)

    private fun direct(bytes: ByteArray, offset: Int = 0, length: Int = bytes.size): ByteBuffer {
        if (buffer.capacity() < length) buffer = ByteBuffer.allocateDirect(length)
        buffer.clear()
        buffer.put(bytes, offset, length)
        buffer.flip()
        return buffer
    }

    /** Signs and queues a photo exactly as the camera delivered it. */
    fun photo(fileName: String, jpeg: ByteArray): CaptureResult {
        require(case.problems().isEmpty()) { case.problems().joinToString(" ") }
        return device.capturePhoto(fileName, direct(jpeg), case.toCaseInfo())
    }

    /** Starts a recording; segments close every 4 MiB or 2 s. */
    fun startVideo(fileName: String): VideoSession {
        require(case.problems().isEmpty()) { case.problems().joinToString(" ") }
        return VideoSession(device.startRecording(fileName, case.toCaseInfo(), 4UL shl 20, 2000UL))
    }

    /** A recording in progress. Closing without [stop] leaves it for recovery, as a crash would. */
    inner class VideoSession(private val recording: Recording) : AutoCloseable {
        /** Encoder output, as MediaCodec/MediaMuxer produce it. */
        fun onEncodedChunk(bytes: ByteArray, offset: Int = 0, length: Int = bytes.size) =
            recording.write(direct(bytes, offset, length))

        /** Segments closed so far (each provable on its own if the phone dies). */
        val closedSegments: Long get() = recording.segments().toLong()

        /** Ends the recording: stored, signed, queued. */
        fun stop(): CaptureResult = recording.finish()

        /** Throws the recording away. */
        fun discard() = recording.abort()

        override fun close() = recording.close()
    }
}
