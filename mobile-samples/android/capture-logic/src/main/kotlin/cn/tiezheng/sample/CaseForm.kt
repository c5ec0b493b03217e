package cn.tiezheng.sample

import cn.tiezheng.sdk.CaseInfo
import cn.tiezheng.sdk.ProfileReason
import cn.tiezheng.sdk.RequirementInfo
import cn.tiezheng.sdk.profile as sdkProfile

/**
 * What the officer fills in before capturing: the collection record of the case. Checked here
 * (two collectors, a witness or the reason for none) so that the app can ask before it records,
 * with the forensic profile's checklist ([checklist]) shown beside it; the SDK enforces the
 * profile itself at capture (`TiezhengException.ProfileRefused` names the rule).
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
    /** The forensic profile to follow (`profiles()` lists them); null: the device's default. */
    val profile: String? = null,
    /** Why a `should` of the profile cannot be met, by rule (e.g. `profile.location`). */
    val reasons: Map<String, String> = emptyMap(),
) {
    /** The profile's checklist for the officer: what is decided at capture, musts first. */
    fun checklist(deviceProfile: String): List<RequirementInfo> =
        sdkProfile(profile ?: deviceProfile).requirements
            .filter { it.atCapture }
            .sortedByDescending { it.must }

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
        profile = profile,
        reasons = reasons.map { (rule, reason) -> ProfileReason(rule, reason) },
    )
}
