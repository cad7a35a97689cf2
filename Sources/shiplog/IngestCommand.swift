import ArgumentParser
import ShiplogKit

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append documents from files, folders or standard input.",
        discussion: """
            Each input holds one JSON document, a JSON array of documents, or NDJSON. The format \
            of each document is detected (--source forces one). Folders are searched for .json, \
            .ndjson and .jsonl files.

            All or nothing: if any document is rejected, nothing is appended; every rejected \
            document is reported as file:line: reason and the exit status is 3. With \
            --skip-invalid the valid documents are appended anyway (still exit 3). Documents \
            already stored are counted as duplicates, not stored again. Secrets are redacted \
            before anything is stored.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var signing: SigningOptions

    @Argument(help: "Files, folders, or - for standard input (the default).")
    var paths: [String] = []

    @Option(help: ArgumentHelp("Read every document as this source: \(SourceRegistry.names.joined(separator: ", ")).", valueName: "name"))
    var source: String?

    @Flag(help: "Append the valid documents even when some are rejected.")
    var skipInvalid = false

    @Option(help: ArgumentHelp("Write the rejected documents to this file, as they were read.", valueName: "file"))
    var rejects: String?

    @Option(help: ArgumentHelp(
        "With --skip-invalid: commit after every N documents, so a long or endless input (a pipe) is stored as it comes.",
        valueName: "N"))
    var commitEvery: Int?

    @Option(name: .long, help: "Summary format: table or json.")
    var format: OutputFormat = .table

    func validate() throws {
        if let commitEvery {
            guard skipInvalid else {
                throw ValidationError("--commit-every needs --skip-invalid: an all-or-nothing ingest commits once, at the end")
            }
            guard commitEvery > 0 else { throw ValidationError("--commit-every must be at least 1") }
        }
        if let source, SourceRegistry.adapter(named: source) == nil {
            throw ValidationError("unknown --source \(source); known: \(SourceRegistry.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        let inputs = paths.isEmpty ? ["-"] : paths
        let files = try Ingestor.expand(inputs)
        try refuseOverwriting(rejects, option: "--rejects", store: store.path, inputs: files)
        let opened = try signing.open(store)
        var options = IngestOptions()
        options.skipInvalid = skipInvalid
        options.forcedSource = source
        if let commitEvery {
            options.commitEvery = commitEvery
            options.batchSize = min(options.batchSize, commitEvery)
        }
        let ingestor: Ingestor
        do { ingestor = try Ingestor(store: opened, options: options) } catch {
            throw CommandFailure(error.reason, status: .usage)
        }
        let rejectsFile = try rejects.map { try FileWriter(path: $0, ownerOnly: true) }
        let report = try ingestor.ingest(files: files) { rejection in
            printError(rejection.description, prefix: false)
            try? rejectsFile?.write(rejection.bytes)
            try? rejectsFile?.write("\n")
        }
        try rejectsFile?.close()

        if format == .json {
            Terminal.write(JSONWriter.pretty([
                "documents": .number(String(report.documents)), "appended": .number(String(report.appended)),
                "duplicates": .number(String(report.duplicates)), "rejected": .number(String(report.rejected)),
                "redacted": .number(String(report.redactions)), "ignored": .number(String(report.ignoredCount)),
                "committed": .bool(!report.rolledBack),
            ]) + "\n")
        } else {
            var line = "appended \(report.appended), duplicates \(report.duplicates), rejected \(report.rejected)"
            if report.ignoredCount > 0 { line += ", ignored \(report.ignoredCount)" }
            if report.redactions > 0 { line += " (\(report.redactions) secret values redacted)" }
            Terminal.write(line + "\n")
            for (reason, count) in report.ignored.sorted(by: { $0.key < $1.key }) {
                Terminal.write("  ignored \(count): \(reason)\n")
            }
        }
        if report.rejected > 0 {
            let what = report.rolledBack
                ? "nothing appended: \(report.rejected) of \(report.documents) documents rejected (all or nothing; --skip-invalid appends the valid ones)"
                : "\(report.rejected) of \(report.documents) documents rejected"
            throw CommandFailure(what, status: .rejected)
        }
    }
}
