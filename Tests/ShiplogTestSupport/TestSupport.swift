import Foundation
import ShiplogKit

/// A fresh directory under the system's temporary folder, removed when released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "shiplog-test") {
        let template = NSTemporaryDirectory() + "\(label)-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let created = mkdtemp(&bytes) else { fatalError("mkdtemp failed: \(String(cString: strerror(errno)))") }
        path = String(cString: created)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    public func write(_ name: String, _ text: String) -> String {
        let target = file(name)
        precondition(FileManager.default.createFile(atPath: target, contents: Data(text.utf8)), "cannot write \(target)")
        return target
    }

    @discardableResult
    public func write(_ name: String, bytes: [UInt8]) -> String {
        let target = file(name)
        precondition(FileManager.default.createFile(atPath: target, contents: Data(bytes)), "cannot write \(target)")
        return target
    }
}

/// Builds native events for tests.
public enum NativeEvents {
    public static let base = Timestamp.utc(year: 2026, month: 11, day: 1, hour: 12)

    /// A `deployment.started` for a service, `index` seconds after `base`.
    public static func deployment(
        _ index: Int, cluster: String = "ML-PIPE", service: String = "P1", revision: Int = 1, id: String? = nil
    ) -> NewEvent {
        NewEvent(
            id: id ?? "test-\(cluster)-\(service)-\(index)", type: "deployment.started", time: base + Int64(index),
            data: [
                "cluster": .string(cluster), "service": .string(service),
                "taskDefinition": .string("p1-crawler:\(revision)"), "deploymentId": .string("ecs-svc/\(1000 + index)"),
                "actor": "tester",
            ])
    }

    /// The NDJSON line of a native event.
    public static func line(_ event: NewEvent) -> String {
        JSONWriter.compact(NativeAdapter.document(for: event))
    }

    /// A document holding one event, as ingest would prepare it.
    public static func document(_ event: NewEvent) -> PreparedDocument {
        PreparedDocument(source: "native", bytes: Array(line(event).utf8), events: [event])
    }

    /// `count` deployment events spread over services of one cluster, as NDJSON.
    public static func ndjson(count: Int, services: Int = 3, start: Int = 0) -> String {
        (start..<(start + count)).map { index in
            line(deployment(index, service: "S\(index % services)", revision: index / services + 1))
        }.joined(separator: "\n") + "\n"
    }
}

/// Runs the built `shiplog` binary and captures what it prints.
public struct ShiplogProcess {
    public struct Result: Sendable {
        public let status: Int32
        public let output: String
        public let errors: String
    }

    /// The `shiplog` executable next to the test bundle (built by `swift test`).
    public static var executable: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates = [bundle.appendingPathComponent("shiplog").path]
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("shiplog").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    @discardableResult
    public static func run(_ arguments: [String], input: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SHIPLOG_DB")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let inputPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        try process.run()
        if let input {
            let handle = inputPipe.fileHandleForWriting
            DispatchQueue.global().async {
                handle.write(Data(input.utf8))
                try? handle.close()
            }
        }
        // Read both pipes concurrently so a chatty process never blocks on a full pipe.
        nonisolated(unsafe) var errorData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorData = errors.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            errors: String(decoding: errorData, as: UTF8.self))
    }
}

/// Direct SQL on a store file, as an attacker with file access (or a test) would do it.
public func withRawDatabase<T>(_ path: String, _ body: (Database) throws -> T) throws -> T {
    let database = try Database(path: path, mode: .readWrite)
    return try body(database)
}

/// Drops the triggers that refuse UPDATE and DELETE on the log tables.
public func dropAppendOnlyTriggers(_ database: Database) throws {
    for table in ["events", "documents", "streams", "dictionaries", "checkpoints", "checkpoint_signatures"] {
        try database.execute("DROP TRIGGER IF EXISTS \(table)_refuse_update; DROP TRIGGER IF EXISTS \(table)_refuse_delete;")
    }
}

/// The package root (for reading schema/ and fixtures in tests).
public func packageRoot(_ file: String = #filePath) -> String {
    var url = URL(fileURLWithPath: file)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
    }
    return FileManager.default.currentDirectoryPath
}

/// The project's own fixtures (Tests/Fixtures).
public enum Fixtures {
    public static var root: String { packageRoot() + "/Tests/Fixtures" }

    public static func path(_ relative: String) -> String { root + "/" + relative }

    /// The event documents of fixture folders: not the inputs the AWS CLI fixtures were made
    /// from, and not the one EC2 output (which shiplog rightly refuses).
    public static func documents(in folders: [String]) throws -> [String] {
        try Ingestor.expand(folders.map(path)).filter { !$0.contains("/input/") && !$0.contains("-ec2-") }
    }

    /// What ingest makes of a fixture file, without a store: one outcome per document.
    public static func normalize(_ relative: String, source: String? = nil) throws -> [Result<PreparedDocument?, AdapterError>] {
        let directory = TemporaryDirectory()
        let store = try EventStore(path: directory.file("scratch.db"), mode: .create)
        var options = IngestOptions()
        options.forcedSource = source
        let ingestor = try Ingestor(store: store, options: options)
        let reader = try InputReader(path: path(relative))
        var outcomes: [Result<PreparedDocument?, AdapterError>] = []
        while let item = try reader.next() {
            switch item {
            case .document(let document):
                outcomes.append(ingestor.prepare(document, receivedAt: Timestamp.utc(year: 2026, month: 11, day: 27)))
            case .invalid(let origin, let reason, _):
                outcomes.append(.failure(AdapterError("\(origin): \(reason)")))
            }
        }
        return outcomes
    }

    /// The events of a fixture that must normalize cleanly.
    public static func events(_ relative: String) throws -> [NewEvent] {
        try normalize(relative).flatMap { outcome -> [NewEvent] in
            switch outcome {
            case .success(let document): return document?.events ?? []
            case .failure(let error): throw error
            }
        }
    }

    /// The single event of a fixture.
    public static func event(_ relative: String) throws -> NewEvent {
        let all = try events(relative)
        guard all.count == 1 else { throw AdapterError("\(relative) yields \(all.count) events, expected 1") }
        return all[0]
    }
}

/// SHA-256 of bytes (for tests that forge checksums), through the sha256sum tool's algorithm in Swift Crypto's absence.
public func sha256(_ bytes: [UInt8]) -> [UInt8] {
    let directory = TemporaryDirectory()
    let path = directory.write("bytes", bytes: bytes)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    process.arguments = [path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try? process.run()
    process.waitUntilExit()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return Hex.decode(String(output.prefix(64))) ?? []
}
