// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "shiplog",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ShiplogKit", targets: ["ShiplogKit"]),
        .executable(name: "shiplog", targets: ["shiplog"]),
        .executable(name: "shiplog-server", targets: ["shiplog-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
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
        // The HTTP server: a thin layer over ShiplogKit's ingest and queries, kept out of the
        // library so that the library and the other commands do not carry NIO.
        .target(
            name: "ShiplogServer",
            dependencies: [
                "ShiplogKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .executableTarget(
            name: "shiplog",
            dependencies: [
                "ShiplogKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // `shiplog serve` runs this binary, so the other commands do not load the server's
        // libraries (Foundation among them) every time they start.
        .executableTarget(
            name: "shiplog-server",
            dependencies: [
                "ShiplogKit", "ShiplogServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "ShiplogTestSupport", dependencies: ["ShiplogKit"],
            path: "Tests/ShiplogTestSupport"),
        .testTarget(name: "ShiplogKitTests", dependencies: ["ShiplogKit", "ShiplogTestSupport"]),
        .testTarget(name: "shiplogTests", dependencies: ["shiplog", "shiplog-server", "ShiplogKit", "ShiplogServer", "ShiplogTestSupport"]),
    ]
)
