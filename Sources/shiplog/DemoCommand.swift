import ArgumentParser
import ShiplogKit

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a demo store of the ML-PIPE pipeline (services P1 and P2) and show what it holds.")

    @Option(name: .long, help: "Where to build it (replaced if it is an earlier demo store).")
    var db: String = "shiplog-demo.db"

    func run() throws {
        if System.fileExists(db) {
            guard (try? EventStore(path: db, mode: .existing).head()) != nil || Self.isEmptyStore(db) else {
                throw CommandFailure("\(db) exists and is not a shiplog demo store; choose another --db")
            }
            for suffix in ["", "-wal", "-shm"] { System.removeFile(db + suffix) }
        }
        let store = try EventStore(path: db, mode: .create)
        let result = try store.append(DemoScenario.documents())
        Terminal.write("demo store \(db): \(result.appended) events of the ML-PIPE pipeline\n\n")
        var events = TextTable([
            .init("POS", rightAligned: true), .init("TIME"), .init("TYPE"), .init("STREAM", flexible: true, minimumWidth: 12),
            .init("DETAIL", flexible: true, minimumWidth: 10),
        ])
        var filter = EventFilter()
        filter.types = ["deployment", "service", "build.completed"]
        try store.events(filter) { event in
            events.append([String(event.position), event.time.shortRFC3339, event.type, event.stream, event.summary])
        }
        Terminal.write(events.render())
        Terminal.write("""

            Explore it:
              shiplog --db \(db) events --type deployment
              shiplog --db \(db) events --service P1 --format json
              shiplog --db \(db) verify
              shiplog --db \(db) stats

            """)
    }

    static func isEmptyStore(_ path: String) -> Bool {
        (try? EventStore(path: path, mode: .existing)) != nil
    }
}
