// swift-tools-version:6.1
// libFuzzer harnesses for shiplog's ingest path. Not part of the main package: build it with
// tools/fuzz-run (which passes -sanitize=fuzzer), never with a plain `swift build`.
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, so find it rather than assume "shiplog".
let mainPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../..").standardizedFileURL.lastPathComponent

let package = Package(
    name: "shiplog-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "ShiplogFuzz",
            dependencies: [.product(name: "ShiplogKit", package: mainPackage)],
            path: "Sources/ShiplogFuzz"),
    ]
)
