import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

/// Writers share the lock fairly, and one waiting for input holds none of it.
@Suite struct WritersAndPipesTests {
    let directory = TemporaryDirectory()

    /// `shiplog ingest ARGUMENTS -` reading from a pipe this test writes to.
    func startReceiver(_ arguments: [String]) throws -> (process: Process, pipe: FileHandle) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ShiplogProcess.executable)
        process.arguments = ["ingest"] + arguments + ["-"]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, input.fileHandleForWriting)
    }

    func storedEvents(_ db: String) throws -> Int64 { try EventStore(path: db).stats().events }

    /// `shiplog record notify`, timed.
    func record(_ db: String, _ label: String) throws -> (result: ShiplogProcess.Result, seconds: Double) {
        let started = Date()
        let result = try ShiplogProcess.run(["record", "notify", "--db", db, "--channel", "#deploys", "--status", "success",
                                             "--id", "notify-\(label)"])
        return (result, Date().timeIntervalSince(started))
    }

    @Test func anIdlePipeHoldsNoLockAndWhatArrivedIsStoredWhileItWaits() throws {
        let db = directory.file("store.db")
        try ShiplogProcess.run(["init", "--db", db])
        let lines = NativeEvents.ndjson(count: 200).split(separator: "\n").map { Data(($0 + "\n").utf8) }
        let receiver = try startReceiver(["--db", db, "--skip-invalid", "--commit-every", "100"])
        // 150 events: one commit of 100 and 50 more; then nothing arrives, and the pipe stays open.
        for line in lines[0..<150] { receiver.pipe.write(line) }
        let deadline = Date().addingTimeInterval(30)
        while try storedEvents(db) < 150, Date() < deadline { usleep(50_000) }
        #expect(try storedEvents(db) == 150, "what arrived before the pipe went idle is stored while it is idle")
        let (recorded, seconds) = try record(db, "beside-a-receiver")
        #expect(recorded.status == 0, "\(recorded.errors)")
        #expect(seconds < 10, "record waited \(seconds) s for the receiver's lock")
        for line in lines[150...] { receiver.pipe.write(line) }
        try receiver.pipe.close()
        receiver.process.waitUntilExit()
        #expect(receiver.process.terminationStatus == 0)
        #expect(try storedEvents(db) == 201)
        #expect(try EventStore(path: db).verify().ok)
    }

    @Test func anAllOrNothingReceiverWithNothingYetHoldsNoLock() throws {
        let db = directory.file("store.db")
        try ShiplogProcess.run(["init", "--db", db])
        let receiver = try startReceiver(["--db", db])
        usleep(300_000)
        let (recorded, seconds) = try record(db, "beside-an-idle-receiver")
        #expect(recorded.status == 0 && seconds < 10, "\(recorded.errors) after \(seconds) s")
        receiver.pipe.write(Data(NativeEvents.ndjson(count: 30).utf8))
        try receiver.pipe.close()
        receiver.process.waitUntilExit()
        #expect(receiver.process.terminationStatus == 0)
        #expect(try storedEvents(db) == 31)
    }
}
