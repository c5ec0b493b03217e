// swift-tools-version:5.10
// The Tiezheng SDK as a Swift package: the XCFramework built by
// bindings/scripts/build-xcframework.sh plus the generated Swift sources.
import PackageDescription

let package = Package(
    name: "TiezhengSDK",
    platforms: [.iOS(.v16)],
    products: [.library(name: "TiezhengSDK", targets: ["TiezhengSDK"])],
    targets: [
        // Inside the package folder, as SwiftPM requires: build-xcframework.sh writes there.
        .binaryTarget(name: "TiezhengFFIC", path: "Artifacts/TiezhengFFI.xcframework"),
        .target(name: "TiezhengSDK", dependencies: ["TiezhengFFIC"], path: "Artifacts/swift"),
    ]
)
