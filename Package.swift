// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "shiplog",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ShiplogKit", targets: ["ShiplogKit"]),
        .executable(name: "shiplog", targets: ["shiplog"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CLZ4", pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]),
        .target(
            name: "ShiplogKit",
            dependencies: [
                "CSQLite", "CLZ4",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .executableTarget(
            name: "shiplog",
            dependencies: [
                "ShiplogKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(
            name: "ShiplogTestSupport", dependencies: ["ShiplogKit"],
            path: "Tests/ShiplogTestSupport"),
        .testTarget(name: "ShiplogKitTests", dependencies: ["ShiplogKit", "ShiplogTestSupport"]),
        .testTarget(name: "shiplogTests", dependencies: ["shiplog", "ShiplogKit", "ShiplogTestSupport"]),
    ]
)
