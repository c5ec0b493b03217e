// Hand-written companion of the generated bindings: compile it together with the generated
// `cn/tiezheng/sdk/tiezheng_ffi.kt` (bindings/scripts/generate.sh; the Android sample's Gradle
// build and the host-JVM tests in bindings/tests/kotlin-jvm add this directory to their sources).
package cn.tiezheng.sdk

import java.nio.ByteBuffer

// `ByteArray` overloads of the SDK's byte-taking calls, beside the generated `ByteBuffer` ones.
//
// The generated calls take exactly the bytes between a `ByteBuffer`'s position and limit, direct
// (read in place, zero-copy) or heap (copied once), and leave the buffer's position, limit and
// mark unchanged. These overloads take `length` bytes of an array from `offset` — copied once,
// since the JVM cannot lend a heap array to native code — and refuse a range outside the array
// with `TiezhengException.InvalidInput`, never with an `IndexOutOfBoundsException`. Prefer a
// direct `ByteBuffer` (a camera plane, `MediaCodec` output) where there is one: no copy at all.

/** `length` bytes of [bytes] from [offset], checked; the SDK's own error when out of range. */
private fun window(bytes: ByteArray, offset: Int, length: Int): ByteBuffer {
    if (offset < 0 || length < 0 || offset > bytes.size - length) {
        throw TiezhengException.InvalidInput(
            "byte range (offset $offset, length $length) is outside the ${bytes.size}-byte array",
        )
    }
    return ByteBuffer.wrap(bytes, offset, length)
}

/** Captures a photo from all of [bytes] (copied once). */
@Throws(TiezhengException::class)
fun DeviceInterface.capturePhoto(fileName: String, bytes: ByteArray, case: CaseInfo): CaptureResult =
    capturePhoto(fileName, ByteBuffer.wrap(bytes), case)

/** Captures a photo from [length] bytes of [bytes] starting at [offset] (copied once). */
@Throws(TiezhengException::class)
fun DeviceInterface.capturePhoto(fileName: String, bytes: ByteArray, offset: Int, length: Int, case: CaseInfo): CaptureResult =
    capturePhoto(fileName, window(bytes, offset, length), case)

/** Appends all of [chunk] to the recording (copied once). */
@Throws(TiezhengException::class)
fun RecordingInterface.write(chunk: ByteArray) = write(ByteBuffer.wrap(chunk))

/** Appends [length] bytes of [chunk] starting at [offset] to the recording (copied once). */
@Throws(TiezhengException::class)
fun RecordingInterface.write(chunk: ByteArray, offset: Int, length: Int) = write(window(chunk, offset, length))

/** SM3 and SHA-256 of all of [data]. */
fun hashBytes(data: ByteArray): ContentDigests = hashBytes(ByteBuffer.wrap(data))

/** SM3 and SHA-256 of [length] bytes of [data] starting at [offset]. */
@Throws(TiezhengException::class)
fun hashBytes(data: ByteArray, offset: Int, length: Int): ContentDigests = hashBytes(window(data, offset, length))
