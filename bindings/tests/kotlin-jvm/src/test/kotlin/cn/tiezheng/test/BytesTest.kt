package cn.tiezheng.test

import cn.tiezheng.sdk.CaseInfo
import cn.tiezheng.sdk.Device
import cn.tiezheng.sdk.TiezhengException
import cn.tiezheng.sdk.capturePhoto
import cn.tiezheng.sdk.hashBytes
import cn.tiezheng.sdk.inspectFile
import cn.tiezheng.sdk.write
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith

/**
 * Byte arguments take exactly the bytes between a buffer's position and limit — direct or heap,
 * read-only or not — or an array's offset and length, and leave the buffer as it was; a bad
 * range is the SDK's own `InvalidInput`.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BytesTest {
    private val tmp: Path = Files.createTempDirectory("tiezheng-bytes-test")
    private val corpus: Path = Path.of(System.getProperty("tiezheng.corpus"))
    private val case = CaseInfo("KT-BYTES-0001", null, null, "offset buffers", null, emptyList(), null, null, null, "none present")

    @AfterAll
    fun cleanUp() {
        tmp.toFile().deleteRecursively()
    }

    private fun device(name: String): Pair<Path, Device> {
        val dir = tmp.resolve(name)
        return dir to Device.setup(dir.toString(), listOf("310101"), "JVM", "linux", JceVault("2468"), SystemClock(), null, null)
    }

    private fun sha256(b: ByteArray) = MessageDigest.getInstance("SHA-256").digest(b).joinToString("") { "%02x".format(it) }

    /** [payload] with [before] junk bytes in front and [after] behind, in a direct buffer whose window is the payload. */
    private fun directWindow(payload: ByteArray, before: Int = 5, after: Int = 3): ByteBuffer {
        val buf = ByteBuffer.allocateDirect(before + payload.size + after)
        repeat(before) { buf.put(0x55) }
        buf.put(payload)
        repeat(after) { buf.put(0x77) }
        return buf.position(before).limit(before + payload.size)
    }

    private fun framed(payload: ByteArray, before: Int = 3, after: Int = 4) =
        ByteArray(before) { 0x11 } + payload + ByteArray(after) { 0x22 }

    @Test
    fun aDirectBufferHashesItsPositionToLimit() {
        val abc = directWindow("abc".toByteArray())
        assertEquals(5, abc.position())
        assertEquals("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0", hashBytes(abc).sm3)

        // Position 5, limit 12: exactly those 7 bytes.
        val seven = "TieZhng".toByteArray()
        val buf = directWindow(seven, before = 5, after = 9)
        assertEquals(5 to 12, buf.position() to buf.limit())
        val d = hashBytes(buf)
        val fresh = ByteBuffer.allocateDirect(7).put(seven.copyOf()).flip()
        assertEquals(hashBytes(fresh), d)
        assertEquals(7UL, d.bytes)
        assertEquals(sha256(seven), d.sha256)
        // The buffer is left as it was.
        assertEquals(5 to 12, buf.position() to buf.limit())
        // A read-only view and a slice read the same bytes.
        assertEquals(d, hashBytes(buf.asReadOnlyBuffer()))
        assertEquals(d, hashBytes(buf.slice()))
        // An empty window is the empty input, wherever it is.
        assertEquals("1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b", hashBytes(buf.duplicate().position(12)).sm3)
    }

    @Test
    fun heapBuffersAndArraysGiveTheSameDigests() {
        val payload = "0123456789".toByteArray()
        val array = framed(payload, before = 3, after = 4)
        val expected = hashBytes(ByteBuffer.allocateDirect(10).put(payload).flip())

        val sliced = ByteBuffer.wrap(array, 3, 10).slice()
        assertEquals(0, sliced.position())
        assertEquals(expected, hashBytes(sliced))

        val wrapped = ByteBuffer.wrap(array, 3, 10)
        assertEquals(3 to 13, wrapped.position() to wrapped.limit())
        assertEquals(expected, hashBytes(wrapped))
        assertEquals(3 to 13, wrapped.position() to wrapped.limit())

        assertEquals(expected, hashBytes(wrapped.asReadOnlyBuffer()))
        assertEquals(expected, hashBytes(array, 3, 10))
        assertEquals(expected, hashBytes(payload))
        assertEquals("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0", hashBytes("xxabcx".toByteArray(), 2, 3).sm3)
    }

    @Test
    fun aPhotoFromAnOffsetBufferIsStoredExactly() {
        val (dir, device) = device("photo")
        device.use {
            val photo = Files.readAllBytes(corpus.resolve("photos/DSCN0010.jpg"))
            val expected = hashBytes(photo)

            val direct = directWindow(photo, before = 5, after = 9)
            val shot = device.capturePhoto("DSCN0010.jpg", direct, case)
            assertEquals(expected.sm3, shot.sm3)
            assertEquals(sha256(photo), shot.sha256)
            assertEquals(photo.size.toULong(), shot.bytes)
            assertEquals(5, direct.position())
            val stored = dir.resolve("media").resolve(shot.sm3)
            assertContentEquals(photo, Files.readAllBytes(stored))
            assertEquals(expected, inspectFile(stored.toString()).digests)

            // A heap buffer with an offset, and an array with offset and length: the same file.
            val array = framed(photo, before = 3, after = 6)
            val heap = device.capturePhoto("heap.jpg", ByteBuffer.wrap(array, 3, photo.size), case)
            assertEquals(expected.sm3, heap.sm3)
            val ranged = device.capturePhoto("array.jpg", array, 3, photo.size, case)
            assertEquals(expected.sm3, ranged.sm3)
        }
    }

    @Test
    fun aRecordingOfOffsetBuffersIsTheirConcatenation() {
        val (dir, device) = device("recording")
        device.use {
            val video = Files.readAllBytes(corpus.resolve("video/street_8s_720p.mp4"))
            val half = video.size / 2
            val first = video.copyOfRange(0, half)
            val second = video.copyOfRange(half, video.size)
            val rec = device.startRecording("street.mp4", case, 1UL shl 20, 60_000UL)
            rec.write(directWindow(first, before = 7, after = 2))
            rec.write(ByteBuffer.wrap(framed(second, before = 3, after = 5), 3, second.size))
            val clip = rec.finish()
            assertEquals(hashBytes(video).sm3, clip.sm3)
            assertEquals(sha256(video), clip.sha256)
            assertContentEquals(video, Files.readAllBytes(dir.resolve("media").resolve(clip.sm3)))

            // Arrays with offset and length, and a chunk of nothing.
            val again = device.startRecording("again.mp4", case, 1UL shl 20, 60_000UL)
            again.write(framed(first), 3, first.size)
            again.write(ByteBuffer.allocateDirect(4).position(4))
            again.write(second)
            assertEquals(hashBytes(video).sm3, again.finish().sm3)
        }
    }

    @Test
    fun aBadRangeIsTheSdksOwnError() {
        val (_, device) = device("misuse")
        device.use {
            val bytes = ByteArray(12) { it.toByte() }
            for ((offset, length) in listOf(-1 to 2, 2 to -1, 5 to 8, 13 to 0, Int.MAX_VALUE to 1, 1 to Int.MAX_VALUE)) {
                assertFailsWith<TiezhengException.InvalidInput>("hashBytes($offset, $length)") { hashBytes(bytes, offset, length) }
                assertFailsWith<TiezhengException.InvalidInput> { device.capturePhoto("x.jpg", bytes, offset, length, case) }
            }
            val rec = device.startRecording("x.m4a", case, 1024UL, 1000UL)
            assertFailsWith<TiezhengException.InvalidInput> { rec.write(bytes, 10, 3) }
            rec.abort()
            // A finished recording refuses more bytes, heap or direct, with the same error.
            assertFailsWith<TiezhengException.InvalidInput> { rec.write(ByteBuffer.wrap(bytes)) }
            assertFailsWith<TiezhengException.InvalidInput> { rec.write(bytes) }
            // The whole array and an empty range at its end are fine.
            assertEquals(hashBytes(ByteBuffer.wrap(bytes)), hashBytes(bytes, 0, 12))
            assertEquals(0UL, hashBytes(bytes, 12, 0).bytes)
        }
    }
}
