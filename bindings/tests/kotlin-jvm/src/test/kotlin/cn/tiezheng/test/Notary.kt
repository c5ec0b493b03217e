package cn.tiezheng.test

import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Path

/** A real `tiezheng serve` started for the tests. */
class Notary(dataDir: Path) : AutoCloseable {
    val admin = "tza_kotlin-test-admin-token-0123456789"
    private val process: Process = ProcessBuilder(System.getProperty("tiezheng.bin"), "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir.toString())
        .also {
            it.environment()["TIEZHENG_NOTARY_ADMIN_TOKEN"] = admin
            it.environment()["TIEZHENG_LOG"] = "warn"
            it.environment()["TIEZHENG_NOTARY_BATCH_MAX_MS"] = "100"
        }
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start()
    val url: String = process.inputStream.bufferedReader().readLine()!!.split(" ").first { it.startsWith("http://") }
    private val http = HttpClient.newHttpClient()

    fun call(method: String, path: String, body: String? = null, token: String = admin): String =
        send(method, path, body, token).body()

    fun send(method: String, path: String, body: String? = null, token: String = admin): HttpResponse<String> {
        val req = HttpRequest.newBuilder(URI.create(url + path))
            .header("Authorization", "Bearer $token")
            .header("Content-Type", "application/json")
            .method(method, if (body == null) HttpRequest.BodyPublishers.noBody() else HttpRequest.BodyPublishers.ofString(body))
            .build()
        // A keep-alive connection the notary closed while idle (5 s) is only noticed when it
        // is reused: the request never reached the notary, so it is sent once more.
        return try {
            http.send(req, HttpResponse.BodyHandlers.ofString())
        } catch (e: java.io.IOException) {
            http.send(req, HttpResponse.BodyHandlers.ofString())
        }
    }

    /** The offline bundle of a proof, once its batch is anchored. */
    fun bundle(proofSm3: String): String {
        val court = Regex("\"token\":\"([^\"]+)\"").find(call("POST", "/v1/tokens", "{\"role\":\"court\",\"subject\":\"kt\"}"))!!.groupValues[1]
        repeat(100) {
            val r = send("GET", "/v1/proofs/$proofSm3/bundle", token = court)
            if (r.statusCode() == 200) return r.body()
            Thread.sleep(100)
        }
        error("proof $proofSm3 was not anchored in time")
    }

    fun enrolmentCode(officer: String): String =
        Regex("\"code\":\"([^\"]+)\"").find(call("POST", "/v1/enrolment-codes", "{\"officer_id\":\"$officer\"}"))!!.groupValues[1]

    fun publicKey(): String = Regex("\"public_key\":\"([0-9a-f]+)\"").find(call("GET", "/v1/notary"))!!.groupValues[1]

    override fun close() {
        process.destroyForcibly().waitFor()
    }
}
