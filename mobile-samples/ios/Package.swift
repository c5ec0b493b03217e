// swift-tools-version:5.10
// The Tiezheng SDK as a Swift package: the XCFramework built by
// bindings/scripts/build-xcframework.sh plus the generated Swift sources.
import PackageDescription

let package = Package(
    name: "TiezhengSDK",
    platforms: [.iOS(.v16)],
    products: [.library(name: "TiezhengSDK", targets: ["TiezhengSDK"])],
    targets: [
        .binaryTarget(name: "TiezhengFFIC", path: "../../target/ios/TiezhengFFI.xcframework"),
        .target(name: "TiezhengSDK", dependencies: ["TiezhengFFIC"], path: "../../target/ios/swift"),
    ]
)
