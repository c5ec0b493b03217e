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

    let caseInfo = CaseInfo(
        reference: "沪浦-2026-0001", cause: "占道经营", object: nil, description: nil, method: nil,
        collectors: ["310101", "310102"], holderName: nil, holderNote: nil,
        witnessName: nil, witnessNote: "no bystander willing to witness")

    init() {
        EvidenceModel.shared = self
        location.start()
    }

    func unlock() {
        let dir = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
            .appendingPathComponent("tiezheng").path
        do {
            if FileManager.default.fileExists(atPath: dir + "/device.json") {
                device = try Device.unlock(dir: dir, vault: SecureEnclaveVault(), clock: SystemClock(),
                                           location: location, network: nil)
            } else {
                device = try Device.setup(dir: dir, officers: caseInfo.collectors, model: "iPhone",
                                          os: "iOS", vault: SecureEnclaveVault(), clock: SystemClock(),
                                          location: location, network: nil)
            }
            status = "Ready"
        } catch TiezhengError.WrongUnlock(let left) {
            status = "Authentication failed: \(left) attempts left"
        } catch TiezhengError.KeyLocked {
            status = "The evidence key is locked: re-enrol this iPhone"
        } catch {
            status = "\(error)"
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
        } catch {
            status = "Not captured: \(error)"
        }
    }

    func syncOnce() async -> Bool {
        guard let device else { return false }
        do {
            let report = try await device.sync(listener: nil)
            status = "\(report.acknowledged) receipted, \(report.pending) pending"
            return report.pending == 0
        } catch TiezhengError.Network(let reason) {
            status = "Offline (\(reason)); proofs stay queued"
            return false
        } catch {
            status = "Sync refused: \(error)"
            return false
        }
    }

    static func scheduleSync() {
        let request = BGProcessingTaskRequest(identifier: "cn.tiezheng.sync")
        request.requiresNetworkConnectivity = true
        try? BGTaskScheduler.shared.submit(request)
    }
}
