import ArgumentParser
import ShiplogKit

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the log's integrity: payload checksums, the hash chain, stream versions, checkpoints.",
        discussion: """
            Exit status 4 and the first bad position when anything does not match. Keep the head \
            it prints somewhere else (a CI artifact, a ticket); --anchor then proves the log was \
            not rewritten since, even by someone who re-hashed it.
            """)

    @OptionGroup var store: StoreOptions

    @Option(help: ArgumentHelp("A chain hash recorded earlier: HEX (the head) or HEX@POSITION.", valueName: "hash"))
    var anchor: String?

    @Option(help: ArgumentHelp("Check an export file against the log instead.", valueName: "file"))
    var export: String?

    @Option(name: .long, help: "Output format: table or json.")
    var format: OutputFormat = .table

    func run() throws {
        do {
            try check()
        } catch StoreError.damaged(let path, let reason) {
            throw CommandFailure("integrity failure: \(path) is damaged: \(reason)", status: .integrity)
        }
    }

    private func check() throws {
        if let export {
            let opened = try store.open()
            try opened.ensureProjections()
            switch try opened.verifyExport(bytes: try System.readFile(export)) {
            case .matches(let position, let rows):
                Terminal.write("ok: \(export) matches the log at position \(position) (\(rows) rows)\n")
            case .mismatch(let reason):
                throw CommandFailure("integrity failure: \(export): \(reason)", status: .integrity)
            }
            return
        }
        var parsedAnchor: ChainAnchor?
        if let anchor {
            guard let value = ChainAnchor(anchor) else {
                throw CommandFailure("--anchor must be a 64-hex-digit chain hash, optionally @POSITION", status: .usage)
            }
            parsedAnchor = value
        }
        let opened = try store.open()
        let showProgress = Terminal.errorIsTerminal
        let report = try opened.verify(anchor: parsedAnchor) { position in
            if showProgress { try? Terminal.errors.write("\rverified \(position) events…"); try? Terminal.errors.flush() }
        }
        if showProgress { try? Terminal.errors.write("\r\u{1B}[K"); try? Terminal.errors.flush() }
        if format == .json {
            var object: JSONObject = [
                "ok": .bool(report.ok), "events": .number(String(report.events)), "documents": .number(String(report.documents)),
                "checkpoints": .number(String(report.checkpoints)),
            ]
            if let failure = report.failure {
                object["firstBadPosition"] = .number(String(failure.position))
                object["reason"] = .string(failure.reason)
            } else {
                object["headPosition"] = .number(String(report.headPosition))
                object["headChain"] = .string(report.headChain)
            }
            Terminal.write(JSONWriter.pretty(.object(object)) + "\n")
        }
        if let failure = report.failure {
            let place = failure.position > 0 ? " at position \(failure.position)" : ""
            throw CommandFailure("integrity failure\(place): \(failure.reason)", status: .integrity)
        }
        // Comparing the projections with a fold needs a transaction to fold in (rolled back after).
        if !opened.readOnly, let table = try opened.projectionsDifferFromRebuild() {
            throw CommandFailure(
                "integrity failure: the projection \(table) differs from a fold of the log (run `shiplog rebuild`)",
                status: .integrity)
        }
        if format != .json {
            let projections = opened.readOnly
                ? "verified (the projections were not compared: the store is read-only)" : "and the projections verified"
            Terminal.write("""
                ok: \(report.events) events, \(report.documents) documents, \(report.checkpoints) checkpoints \(projections)
                head: position \(report.headPosition), chain \(report.headChain)

                """)
        }
    }
}
