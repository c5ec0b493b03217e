import AVFoundation
import SwiftUI

/// A shutter over the camera: AVCapturePhotoOutput delivers the encoded photo, which goes to
/// the SDK byte for byte.
struct CaptureView: View {
    @EnvironmentObject var model: EvidenceModel
    @StateObject private var camera = Camera()

    var body: some View {
        VStack {
            Text(model.status).padding()
            // The forensic profile's checklist: what the capture must (or should) satisfy.
            List(model.checklist, id: \.rule) { item in
                Label("\(item.titleZh) · \(item.titleEn)",
                      systemImage: item.must ? "exclamationmark.circle" : "circle")
            }
            Button("Capture evidence") { camera.shoot { model.capture(photo: $0) } }
                .buttonStyle(.borderedProminent)
        }
        .onAppear { camera.start(); model.unlock() }
    }
}

final class Camera: NSObject, ObservableObject, AVCapturePhotoCaptureDelegate {
    private let session = AVCaptureSession()
    private let output = AVCapturePhotoOutput()
    private var done: ((Data) -> Void)?

    func start() {
        guard let device = AVCaptureDevice.default(for: .video), let input = try? AVCaptureDeviceInput(device: device) else { return }
        session.beginConfiguration()
        if session.canAddInput(input) { session.addInput(input) }
        if session.canAddOutput(output) { session.addOutput(output) }
        session.commitConfiguration()
        DispatchQueue.global(qos: .userInitiated).async { self.session.startRunning() }
    }

    func shoot(_ completion: @escaping (Data) -> Void) {
        done = completion
        output.capturePhoto(with: AVCapturePhotoSettings(format: [AVVideoCodecKey: AVVideoCodecType.hevc]), delegate: self)
    }

    func photoOutput(_ output: AVCapturePhotoOutput, didFinishProcessingPhoto photo: AVCapturePhoto, error: Error?) {
        guard let data = photo.fileDataRepresentation() else { return }
        DispatchQueue.main.async { self.done?(data) }
    }
}
