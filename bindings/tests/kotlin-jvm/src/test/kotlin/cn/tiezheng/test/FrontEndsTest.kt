package cn.tiezheng.test

import cn.tiezheng.sdk.TiezhengException
import cn.tiezheng.sdk.verifyDocument
import org.junit.jupiter.api.Test
import java.nio.file.Files
import java.nio.file.Path

/**
 * The Kotlin side of the cross-front-end comparison (`tests/bindings.rs`,
 * `every_front_end_gives_the_same_report`): verifies every document the Rust test lists
 * (`name<TAB>document<TAB>policy`, one per line) with `verifyDocument` and writes each outcome as
 * `name<TAB>verdict<TAB>rule=status,rule=status,...`, for the Rust test to compare rule by rule
 * with the command line, Python, the WebAssembly build and the notary's pre-issue check.
 * Skipped unless the Rust test passes `-Dfront.ends.cases`.
 */
class FrontEndsTest {
    @Test
    fun verifyTheListedDocuments() {
        val cases = System.getProperty("front.ends.cases").orEmpty()
        val out = System.getProperty("front.ends.out").orEmpty()
        if (cases.isEmpty() || out.isEmpty()) return
        val lines = Files.readAllLines(Path.of(cases)).filter { it.isNotBlank() }.map { line ->
            val (name, document, policy) = line.split('\t')
            val policyJson = if (policy.isEmpty()) null else Files.readString(Path.of(policy))
            val outcome = try {
                val r = verifyDocument(Files.readAllBytes(Path.of(document)), null, policyJson)
                val checks = r.checks.joinToString(",") { "${it.rule}=${it.status}" }
                "${if (r.valid) "valid" else "invalid"}\t$checks"
            } catch (e: TiezhengException.InvalidInput) {
                "unusable\t"
            }
            "$name\t$outcome"
        }
        Files.write(Path.of(out), lines)
    }
}
