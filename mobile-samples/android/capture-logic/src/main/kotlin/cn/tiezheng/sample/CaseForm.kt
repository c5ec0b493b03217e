package cn.tiezheng.sample

import cn.tiezheng.sdk.CaseInfo

/**
 * What the officer fills in before capturing: the collection record of the case. Checked here
 * (two collectors, a witness or the reason for none) so that the app can ask before it records.
 */
data class CaseForm(
    val reference: String,
    val cause: String? = null,
    val description: String? = null,
    val collectors: List<String> = emptyList(),
    val holderName: String? = null,
    val holderNote: String? = null,
    val witnessName: String? = null,
    val witnessNote: String? = null,
) {
    /** Problems to show the officer; empty when the form is complete. */
    fun problems(): List<String> = buildList {
        if (reference.isBlank()) add("Enter the case reference.")
        if (collectors.distinct().size < 2) add("Two collecting officers are required.")
        if (witnessName.isNullOrBlank() && witnessNote.isNullOrBlank()) add("Name a witness or record why there is none.")
    }

    /** The SDK's record. */
    fun toCaseInfo(): CaseInfo = CaseInfo(
        reference = reference.trim(),
        cause = cause,
        `object` = null,
        description = description,
        method = null,
        collectors = collectors,
        holderName = holderName,
        holderNote = holderNote,
        witnessName = witnessName,
        witnessNote = witnessNote,
    )
}
