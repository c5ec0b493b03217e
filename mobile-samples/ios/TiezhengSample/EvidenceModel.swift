import BackgroundTasks
import Foundation
import TiezhengSDK

/// Holds the unlocked device and runs captures and syncs for the UI.
@MainActor
final class EvidenceModel: ObservableObject {
    static weak var shared: EvidenceModel?
    @Published var status = "Locked"
    private var device: Device?
    private let location = CoreLocationProvider()

    /// The forensic profile (取证规范) this unit captures under; the SDK enforces it at capture.
    static let profileId = "cn.admin-penalty.onsite.2021"
    /// The profile's checklist, shown to the officer before capturing (musts first).
    let checklist: [RequirementInfo] = ((try? profile(id: EvidenceModel.profileId))?.requirements ?? [])
        .filter { $0.atCapture }
        .sorted { $0.must && !$1.must }

    let caseInfo = CaseInfo(
        reference: "沪浦-2026-0001", cause: "占道经营", object: nil, description: nil, method: nil,
        collectors: ["310101", "310102"], holderName: nil,
        holderNote: "the stall holder left before the inspection",
        witnessName: nil, witnessNote: "no bystander willing to witness",
        profile: EvidenceModel.profileId,
        reasons: [ProfileReason(rule: "profile.clock", reason: "no trusted time source on this iPhone")])

    init() {
        EvidenceModel.shared = self
        location.start()
    }

    func unlock() {
        let dir = EvidenceModel.deviceDirectory
        do {
            if FileManager.default.fileExists(atPath: dir + "/device.json") {
                device = try Device.unlock(dir: dir, vault: SecureEnclaveVault(), clock: SystemClock(),
                                           location: location, network: nil)
            } else {
                device = try Device.setup(dir: dir, officers: caseInfo.collectors, model: "iPhone",
                                          os: "iOS", vault: SecureEnclaveVault(), clock: SystemClock(),
                                          location: location, network: nil, profile: EvidenceModel.profileId)
            }
            // Each collector signs with a key of their own, sealed by a vault of theirs (a real
            // app asks each officer to authenticate here).
            if let device {
                let registered = try device.officers().map { $0.officerId }
                for id in caseInfo.collectors {
                    let vault = SecureEnclaveVault(tag: "tiezheng-officer-\(id)")
                    if !registered.contains(id) {
                        _ = try device.addOfficer(officer: OfficerInfo(officerId: id, name: "Officer \(id)",
                                                                         badgeNumber: "badge-\(id)", unit: "unit"),
                                                  vault: vault)
                    }
                    _ = try device.unlockOfficer(officerId: id, vault: vault)
                }
            }
            status = "Ready"
        } catch TiezhengError.UnlockCancelled {
            status = "Unlock cancelled: nothing was counted; try again"
        } catch TiezhengError.WrongUnlock(let left) {
            status = "Authentication failed: \(left) attempts left"
        } catch TiezhengError.KeyLocked {
            status = "The evidence key is locked: re-enrol this iPhone"
        } catch {
            status = error.localizedDescription
        }
    }

    /// `ab12cd34…` as `AB12 CD34 …`: sixteen groups an officer can compare with the notary
    /// fingerprint the operator published (out of band: on paper, on the unit's intranet).
    static func displayFingerprint(_ keyId: String) -> String {
        let hex = keyId.filter { !$0.isWhitespace }.uppercased()
        return stride(from: 0, to: hex.count, by: 4).map { i -> String in
            let start = hex.index(hex.startIndex, offsetBy: i)
            return String(hex[start..<hex.index(start, offsetBy: min(4, hex.count - i))])
        }.joined(separator: " ")
    }

    /// Enrols with the notary's key pinned: a notary answering with another key is refused
    /// before the one-time code is spent, and both fingerprints are shown to compare.
    func enrol(notaryUrl: String, code: String, fingerprint: String) async {
        guard let device else { return unlock() }
        let keyId = fingerprint.filter { !$0.isWhitespace }.lowercased()
        do {
            _ = try await device.enrolPinned(notaryUrl: notaryUrl, code: code, notaryKeyId: keyId)
            status = "Enrolled with notary \(Self.displayFingerprint(keyId))"
        } catch TiezhengError.NotaryKeyMismatch(let expected, let actual) {
            status = "NOT enrolled: the notary's key is \(Self.displayFingerprint(actual)), " +
                "not \(Self.displayFingerprint(expected)). Ask the notary's operator."
        } catch {
            status = "Not enrolled: \(error)"
        }
    }

    /// The photo exactly as AVFoundation delivered it: these bytes are the evidence.
    func capture(photo data: Data) {
        guard let device else { return unlock() }
        do {
            let result = try device.capturePhoto(fileName: "IMG_\(Int(Date().timeIntervalSince1970)).heic",
                                                 bytes: data, case: caseInfo)
            status = "Signed #\(result.deviceSeq): SM3 \(result.sm3.prefix(16))…"
            EvidenceModel.scheduleSync()
        } catch TiezhengError.ProfileRefused(let rule, _, let reason) {
            status = "Not captured — \(rule): \(reason)"
        } catch {
            status = "Not captured: \(error)"
        }
    }

    nonisolated static var deviceDirectory: String {
        FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
            .appendingPathComponent("tiezheng").path
    }

    /// One sync of the device's outbox, off the main actor: no unlocked key is needed.
    nonisolated static func syncOutbox() async -> Bool {
        do {
            let outbox = try Outbox.open(dir: deviceDirectory, network: nil)
            let report = try await outbox.sync(listener: nil)
            return Int(report.pending) == report.refused.count
        } catch {
            return false // offline, rate limited, revoked: the proofs stay queued
        }
    }

    func syncOnce() async -> Bool {
        let done = await EvidenceModel.syncOutbox()
        status = done ? "Everything receipted" : "Some proofs stay queued"
        return done
    }

    static func scheduleSync() {
        let request = BGProcessingTaskRequest(identifier: "cn.tiezheng.sync")
        request.requiresNetworkConnectivity = true
        try? BGTaskScheduler.shared.submit(request)
    }
}
