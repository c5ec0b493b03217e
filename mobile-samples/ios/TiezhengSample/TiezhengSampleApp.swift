import BackgroundTasks
import SwiftUI
import TiezhengSDK

@main
struct TiezhengSampleApp: App {
    @StateObject private var model = EvidenceModel()

    init() {
        // Background sync: queued proofs go to the notary when iOS grants time and a network.
        BGTaskScheduler.shared.register(forTaskWithIdentifier: "cn.tiezheng.sync", using: nil) { task in
            Task {
                let done = await EvidenceModel.shared?.syncOnce() ?? false
                task.setTaskCompleted(success: done)
                EvidenceModel.scheduleSync()
            }
        }
    }

    var body: some Scene {
        WindowGroup { CaptureView().environmentObject(model) }
    }
}
