import ArgumentParser
import ShiplogKit

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the log's integrity: checksums, the hash chain, stream versions, checkpoints, signatures, schema.",
        discussion: """
            Exit status 4 and the first bad position when anything does not match. Without a key \
            or an anchor this cannot tell a tail rewritten together with its checkpoints by \
            someone who can write the file. --public-key then requires every event to be covered \
            by a checkpoint signed with the key (forging needs the key); --anchor FILE (from \
            `shiplog anchor`, kept elsewhere) detects a log rewritten or cut back since.
            """)

    @OptionGroup var store: StoreOptions

    @Option(
        help: ArgumentHelp(
            "A head recorded earlier: a file from `shiplog anchor`, or a chain hash HEX (the head) or HEX@POSITION.",
            valueName: "anchor"))
    var anchor: String?

    @Option(
        name: .customLong("public-key"),
        help: ArgumentHelp(
            "Require every event to be covered by a checkpoint signed with this key (hex, or a file holding it; repeat for rotated keys).",
            valueName: "key"))
    var publicKeys: [String] = []

    @Option(help: ArgumentHelp("Check an export file against the log instead.", valueName: "file"))
    var export: String?

    @Option(name: .long, help: "Output format: table or json.")
    var format: OutputFormat = .table

    func run() throws {
        do {
            try check()
        } catch StoreError.damaged(let path, let reason) {
            throw CommandFailure("integrity failure: \(path) is damaged: \(reason)", status: .integrity)
        } catch let error as StoreError {
            // An emptied or replaced file is what a wiped log looks like.
            if case .notAStore = error { throw CommandFailure("integrity failure: \(error)", status: .integrity) }
            throw error
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
        let parsedAnchor = try anchor.map(Self.parseAnchor)
        let keys = try publicKeys.map(Self.parsePublicKey)
        let opened = try store.open()
        let showProgress = Terminal.errorIsTerminal
        let report = try opened.verify(anchor: parsedAnchor, publicKeys: keys) { position in
            if showProgress { try? Terminal.errors.write("\rverified \(position) events…"); try? Terminal.errors.flush() }
        }
        if showProgress { try? Terminal.errors.write("\r\u{1B}[K"); try? Terminal.errors.flush() }
        if format == .json {
            var object: JSONObject = [
                "ok": .bool(report.ok), "events": .number(String(report.events)), "documents": .number(String(report.documents)),
                "checkpoints": .number(String(report.checkpoints)),
                "signedCheckpoints": .number(String(report.signedCheckpoints)),
                "signedThrough": .number(String(report.signedThrough)),
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
                \(Self.coverage(report, keys: keys.count, anchor: parsedAnchor))

                """)
        }
    }

    /// What this run proved, so a plain "ok" is not read as more than it is.
    static func coverage(_ report: VerifyReport, keys: Int, anchor: ChainAnchor?) -> String {
        var text = keys > 0
            ? "signed: every event is covered by a checkpoint signed with the given key (the last at \(report.signedThrough))"
            : report.signedCheckpoints > 0
                ? "signatures: \(report.signedCheckpoints) checkpoints validly signed, through position \(report.signedThrough) (give --public-key to require the key)"
                : "unsigned: someone who can write the file could rewrite the tail with its checkpoints undetected (see --public-key, --anchor)"
        if let anchor {
            text += "\nanchor: the log holds the anchored chain at position \(anchor.position ?? report.headPosition)"
        }
        return text
    }

    static func parseAnchor(_ argument: String) throws -> ChainAnchor {
        if let value = ChainAnchor(argument) { return value }
        guard System.fileExists(argument) else {
            throw CommandFailure(
                "--anchor must be a file from `shiplog anchor`, or a 64-hex-digit chain hash, optionally @POSITION", status: .usage)
        }
        do { return ChainAnchor(try SignedCheckpoint(json: try System.readFile(argument), origin: argument)) } catch let error
            as SigningKeyError
        {
            throw CommandFailure(error.description, status: .usage)
        }
    }

    static func parsePublicKey(_ argument: String) throws -> CheckpointPublicKey {
        let fromFile = !argument.isEmpty && Hex.decode(argument) == nil && System.fileExists(argument)
        let text = fromFile ? String(decoding: try System.readFile(argument), as: UTF8.self) : argument
        do { return try CheckpointPublicKey(text: text, origin: fromFile ? "--public-key \(argument)" : "--public-key") } catch {
            throw CommandFailure(error.description, status: .usage)
        }
    }
}
