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
        Terminal.write("""
            demo store \(db): \(result.appended) events of the ML-PIPE pipeline (cluster ML-PIPE, services P1
            crawler and P2 resizer): pushes, builds, :latest image pushes, task definitions, deployments
            (one rolled back by the circuit breaker), a scale-out and Slack notifications.

            $ shiplog where
            """)
        try Where.print(try store.whereRunning(), format: .table)
        Terminal.write("\n$ shiplog history P1\n")
        try History.print(try store.history(cluster: DemoScenario.cluster, service: "P1"), format: .table)
        Terminal.write("""

            Explore it:
              shiplog --db \(db) trace ml-pipe/p1-crawler:latest     every digest :latest pointed at, and where each ran
              shiplog --db \(db) where --as-of 2026-11-08T10:55:00Z  what ran while p1-crawler:3 was failing
              shiplog --db \(db) diff P1 2 3                          what the bad release changed
              shiplog --db \(db) events --service P1 --format json
              shiplog --db \(db) verify

            """)
    }

    static func isEmptyStore(_ path: String) -> Bool {
        (try? EventStore(path: path, mode: .existing)) != nil
    }
}
