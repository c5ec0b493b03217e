import BackgroundTasks
import SwiftUI
import TiezhengSDK

@main
struct TiezhengSampleApp: App {
    @StateObject private var model = EvidenceModel()

    init() {
        // Background sync: queued proofs go to the notary when iOS grants time and a network.
        // The outbox needs no unlocked key and no UI: it works when iOS launches the app in the
        // background, before (or without) any EvidenceModel.
        BGTaskScheduler.shared.register(forTaskWithIdentifier: "cn.tiezheng.sync", using: nil) { task in
            let work = Task.detached(priority: .utility) {
                let done = await EvidenceModel.syncOutbox()
                task.setTaskCompleted(success: done)
                EvidenceModel.scheduleSync()
            }
            task.expirationHandler = {
                // Out of time: stop; the proofs stay queued and the next task resumes them.
                work.cancel()
                task.setTaskCompleted(success: false)
            }
        }
    }

    var body: some Scene {
        WindowGroup { CaptureView().environmentObject(model) }
    }
}
