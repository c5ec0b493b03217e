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
        .also { it.environment()["TIEZHENG_NOTARY_ADMIN_TOKEN"] = admin; it.environment()["TIEZHENG_LOG"] = "warn" }
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start()
    val url: String = process.inputStream.bufferedReader().readLine()!!.split(" ").first { it.startsWith("http://") }
    private val http = HttpClient.newHttpClient()

    fun call(method: String, path: String, body: String? = null): String {
        val req = HttpRequest.newBuilder(URI.create(url + path))
            .header("Authorization", "Bearer $admin")
            .header("Content-Type", "application/json")
            .method(method, if (body == null) HttpRequest.BodyPublishers.noBody() else HttpRequest.BodyPublishers.ofString(body))
            .build()
        return http.send(req, HttpResponse.BodyHandlers.ofString()).body()
    }

    fun enrolmentCode(officer: String): String =
        Regex("\"code\":\"([^\"]+)\"").find(call("POST", "/v1/enrolment-codes", "{\"officer_id\":\"$officer\"}"))!!.groupValues[1]

    fun publicKey(): String = Regex("\"public_key\":\"([0-9a-f]+)\"").find(call("GET", "/v1/notary"))!!.groupValues[1]

    override fun close() {
        process.destroyForcibly().waitFor()
    }
}
