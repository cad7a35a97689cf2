import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

/// A small file system of its own (tmpfs), for a disk that fills up or goes read-only. Needs the
/// right to mount (root in the CI container); the tests that use it are skipped without it.
final class ScratchMount {
    private let folder = TemporaryDirectory("shiplog-mount")
    var path: String { folder.path }

    static let available: Bool = {
        guard let mount = ScratchMount(megabytes: 1) else {
            print("skipping the tmpfs tests: this process cannot mount a tmpfs (not root, or no mount namespace)")
            return false
        }
        mount.unmount()
        return true
    }()

    init?(megabytes: Int) {
        guard Self.shell("mount -t tmpfs -o size=\(megabytes)m tmpfs '\(path)'") == 0 else { return nil }
    }

    func remountReadOnly() -> Bool { Self.shell("mount -o remount,ro '\(path)'") == 0 }

    func unmount() { _ = Self.shell("umount '\(path)'") }

    @discardableResult
    static func shell(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command + " 2>/dev/null"]
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite struct BadEnvironmentTests {
    let directory = TemporaryDirectory()

    /// Notifications with 1 KB of random text each: input that does not compress.
    func incompressible(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { index in
            let noise = (0..<512).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
            return NativeEvents.line(NewEvent(
                id: "noise-\(index)", type: "notification.sent", time: NativeEvents.base + Int64(index),
                data: ["channel": "#deploys", "status": "success", "message": .string(noise)]))
        }.joined(separator: "\n") + "\n"
    }

    func fingerprint(_ path: String) throws -> [UInt8] {
        sha256(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test func aMissingStoreOrAnImpossibleFolderIsAClearError() throws {
        let missing = try ShiplogProcess.run(["where", "--db", directory.file("no/such/folder/store.db")])
        #expect(missing.status == 1 && missing.errors.contains("no shiplog store at"))
        #expect(!FileManager.default.fileExists(atPath: directory.file("no")))
        let file = directory.write("plain.txt", "not a folder")
        let impossible = try ShiplogProcess.run(["init", "--db", file + "/store.db"])
        #expect(impossible.status == 1 && impossible.errors.contains(file), "\(impossible.errors)")
    }

    @Test(.enabled(if: ScratchMount.available)) func aReadOnlyStoreAnswersQueriesAndRefusesWrites() throws {
        let mount = try #require(ScratchMount(megabytes: 8))
        defer { mount.unmount() }
        let db = mount.path + "/store.db"
        #expect(try ShiplogProcess.run(["demo", "--db", db]).status == 0)
        #expect(mount.remountReadOnly())
        let before = try fingerprint(db)
        let answer = try ShiplogProcess.run(["where", "--db", db])
        #expect(answer.status == 0 && answer.output.contains("p1-crawler:2"), "\(answer.errors)")
        let verify = try ShiplogProcess.run(["verify", "--db", db])
        #expect(verify.status == 0 && verify.output.contains("the store is read-only"), "\(verify.errors)")
        let ingest = try ShiplogProcess.run(["ingest", "--db", db, directory.write("more.ndjson", NativeEvents.ndjson(count: 5))])
        #expect(ingest.status == 1 && ingest.errors.contains("is read-only"), "\(ingest.errors)")
        let record = try ShiplogProcess.run(["mark-bad", "P1", "p1-crawler:1", "--reason", "x", "--db", db])
        #expect(record.status == 1 && record.errors.contains("is read-only"))
        #expect(try fingerprint(db) == before)
    }

    @Test(.enabled(if: ScratchMount.available)) func aFullDiskRollsTheAppendBackAndKeepsTheStore() throws {
        let mount = try #require(ScratchMount(megabytes: 3))
        defer { mount.unmount() }
        let db = mount.path + "/store.db"
        #expect(try ShiplogProcess.run(["demo", "--db", db]).status == 0)
        let ingest = try ShiplogProcess.run(["ingest", "--db", db, directory.write("big.ndjson", incompressible(5000))])
        #expect(ingest.status == 1 && ingest.errors.contains("is full; nothing was appended"), "\(ingest.errors)")
        let store = try EventStore(path: db)
        #expect(try store.stats().events == 75)
        #expect(try store.verify().ok)
    }

    @Test func aFileSizeLimitIsReportedNotACrash() throws {
        let db = directory.file("store.db")
        #expect(try ShiplogProcess.run(["demo", "--db", db]).status == 0)
        let input = directory.write("big.ndjson", incompressible(3000))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        // Past `ulimit -f` the kernel sends SIGXFSZ, which would kill the process mid-write.
        process.arguments = ["-c", "ulimit -f 1024; exec \"$0\" ingest --db \"$1\" \"$2\"", ShiplogProcess.executable, db, input]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "\(message)")
        #expect(message.contains("ulimit -f"), "\(message)")
        let store = try EventStore(path: db)
        #expect(try store.stats().events == 75)
        #expect(try store.verify().ok)
    }

    @Test func aStoreFromANewerShiplogIsRefusedUntouched() throws {
        let db = directory.file("store.db")
        #expect(try ShiplogProcess.run(["demo", "--db", db]).status == 0)
        try withRawDatabase(db) { try $0.execute("PRAGMA user_version = 99") }
        let before = try fingerprint(db)
        for command in [["where"], ["ingest", directory.write("x.ndjson", NativeEvents.ndjson(count: 2))], ["verify"]] {
            let result = try ShiplogProcess.run(command + ["--db", db])
            #expect(result.status == 1 && result.errors.contains("schema version 99, newer than this shiplog knows"), "\(command)")
        }
        #expect(try fingerprint(db) == before)
    }

    @Test func aDamagedFileIsAnIntegrityFailureAndAForeignFileIsNamedSo() throws {
        let db = directory.file("store.db")
        #expect(try ShiplogProcess.run(["demo", "--db", db]).status == 0)
        // Overwrite two pages in the middle, as a failing disk would.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: db))
        try handle.seek(toOffset: 4096 * 20)
        handle.write(Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }))
        try handle.close()
        let verify = try ShiplogProcess.run(["verify", "--db", db])
        #expect(verify.status == 4 && verify.errors.contains("integrity failure"), "\(verify.errors)")
        #expect(verify.errors.contains("damaged"))

        let foreign = directory.write("photo.db", String(repeating: "JFIF not a database ", count: 400))
        let notAStore = try ShiplogProcess.run(["where", "--db", foreign])
        #expect(notAStore.status == 1 && notAStore.errors.contains("is not a shiplog store"), "\(notAStore.errors)")
    }
}
