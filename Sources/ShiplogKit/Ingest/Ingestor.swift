/// A document that was not appended, and why: printed as `file:line: reason`.
public struct Rejection: Sendable, CustomStringConvertible {
    public let origin: Origin
    public let reason: String
    /// The document's bytes as read (for the rejects file).
    public let bytes: [UInt8]

    public var description: String { "\(origin): \(reason)" }
}

/// What an ingest run did.
public struct IngestReport: Sendable {
    public var documents = 0
    public var appended = 0
    public var duplicates = 0
    public var rejected = 0
    public var redactions = 0
    /// Recognized documents that record no pipeline change, by reason.
    public var ignored: [String: Int] = [:]
    public var ignoredCount: Int { ignored.values.reduce(0, +) }
    /// True when nothing was appended because some document was rejected (all-or-nothing).
    public var rolledBack = false
}

public struct IngestOptions: Sendable {
    /// Append the valid documents even when others are rejected (default: all or nothing).
    public var skipInvalid = false
    /// Read every document as this source instead of detecting it.
    public var forcedSource: String?
    /// Documents per append call; with `skipInvalid`, also per committed transaction batch.
    public var batchSize = 4096
    /// With `skipInvalid`, commit after about this many documents so a huge input keeps the WAL small.
    public var commitEvery = 100_000

    public init() {}
}

/// Reads inputs, detects each document's source, normalizes it and appends the result.
///
/// By default a run is all or nothing: every document is read and checked, every problem is
/// reported, and only when there is none is anything committed.
public final class Ingestor {
    private let store: EventStore
    private let options: IngestOptions
    private let forcedAdapter: (any SourceAdapter)?

    public init(store: EventStore, options: IngestOptions) throws(AdapterError) {
        self.store = store
        self.options = options
        if let name = options.forcedSource {
            guard let adapter = SourceRegistry.adapter(named: name) else {
                throw AdapterError("unknown source \"\(name)\" (known: \(SourceRegistry.names.joined(separator: ", ")))")
            }
            forcedAdapter = adapter
        } else {
            forcedAdapter = nil
        }
    }

    /// The files an ingest of `paths` reads: files as given, folders searched for
    /// `.json`, `.ndjson`, `.jsonl` files (sorted, hidden ones skipped), `-` for standard input.
    public static func expand(_ paths: [String]) throws(SystemError) -> [String] {
        var files: [String] = []
        for path in paths {
            if path != "-" && System.isDirectory(path) {
                try collect(path, into: &files)
            } else {
                if path != "-" && !System.fileExists(path) { throw SystemError(path: path, reason: "no such file or directory") }
                files.append(path)
            }
        }
        return files
    }

    private static func collect(_ directory: String, into files: inout [String]) throws(SystemError) {
        for name in try System.listDirectory(directory) where !name.hasPrefix(".") {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            if System.isDirectory(path) {
                try collect(path, into: &files)
            } else if name.hasSuffix(".json") || name.hasSuffix(".ndjson") || name.hasSuffix(".jsonl") {
                files.append(path)
            }
        }
    }

    /// Ingests the files; calls `onReject` for each rejected document as it is found.
    public func ingest(files: [String], onReject: (Rejection) -> Void) throws -> IngestReport {
        var report = IngestReport()
        var session: AppendSession?
        var batch: [PreparedDocument] = []
        var origins: [Origin] = []
        var sinceCommit = 0
        let receivedAt = System.now()

        func reject(_ rejection: Rejection) {
            report.rejected += 1
            onReject(rejection)
        }
        func flush() throws {
            guard !batch.isEmpty else { return }
            if session == nil { session = try store.beginAppend() }
            let outcomes = try session!.append(batch)
            for (index, outcome) in outcomes.enumerated() {
                if case .conflicting(let id, let position) = outcome {
                    reject(Rejection(
                        origin: origins[index],
                        reason: "event id \(id) is already stored at position \(position) with different content",
                        bytes: batch[index].bytes))
                }
            }
            sinceCommit += batch.count
            batch.removeAll(keepingCapacity: true)
            origins.removeAll(keepingCapacity: true)
            if options.skipInvalid, sinceCommit >= options.commitEvery {
                _ = try session!.commitAndContinue()
                sinceCommit = 0
            }
        }

        do {
            for file in files {
                let reader = try InputReader(path: file)
                while let item = try reader.next() {
                    switch item {
                    case .invalid(let origin, let reason, let bytes):
                        report.documents += 1
                        reject(Rejection(origin: origin, reason: reason, bytes: bytes))
                    case .document(let document):
                        report.documents += 1
                        report.redactions += document.redactions
                        switch prepare(document, receivedAt: receivedAt) {
                        case .success(.some(let prepared)):
                            batch.append(prepared)
                            origins.append(document.origin)
                            if batch.count >= options.batchSize { try flush() }
                        case .success(.none):
                            break
                        case .failure(let error):
                            reject(Rejection(origin: document.origin, reason: error.reason, bytes: document.bytes))
                        }
                    }
                }
            }
            try flush()
        } catch {
            session?.rollback()
            throw error
        }

        report.ignored = ignored
        if let session {
            if report.rejected > 0 && !options.skipInvalid {
                session.rollback()
                report.rolledBack = true
            } else {
                let result = try session.commit()
                report.appended = result.appended
                report.duplicates = result.duplicates
                if result.appended >= 50_000 { store.checkpointWAL() }
            }
        }
        return report
    }

    /// Detects the source and normalizes one document; `.success(nil)` when it is ignored.
    public func prepare(_ document: InputDocument, receivedAt: Timestamp) -> Result<PreparedDocument?, AdapterError> {
        guard let adapter = forcedAdapter ?? SourceRegistry.detect(document.json) else {
            return .failure(AdapterError("unrecognized document: not a format shiplog reads (\(Self.hint(document.json)))"))
        }
        let context = AdapterContext(
            documentSHA256: Hex.encode(SHA256Digest.of(document.bytes)), receivedAt: receivedAt)
        do {
            switch try adapter.read(document.json, context: context) {
            case .ignored(let reason):
                ignored[reason, default: 0] += 1
                return .success(nil)
            case .events(let events):
                guard !events.isEmpty else { return .failure(AdapterError("\(adapter.name): the document yields no events")) }
                for event in events {
                    do { _ = try event.stream() } catch { return .failure(AdapterError("\(adapter.name): \(error.reason)")) }
                    if JSON.object(event.data).longestString > Self.maximumFieldLength {
                        return .failure(AdapterError(
                            "\(adapter.name): a field of \(event.type) is longer than \(Self.maximumFieldLength) bytes"))
                    }
                    if let problem = SchemaValidator.shared.validate(.object(event.data), against: event.type + ".json", path: "data"),
                        adapter.name != "native"
                    {
                        return .failure(AdapterError("\(adapter.name): normalized \(event.type) is invalid: \(problem)"))
                    }
                }
                return .success(PreparedDocument(source: adapter.name, bytes: document.bytes, events: events))
            }
        } catch {
            return .failure(AdapterError("\(adapter.name): \(error.reason)"))
        }
    }

    /// Documents recognized but ignored in this ingestor's runs, by reason.
    public private(set) var ignored: [String: Int] = [:]

    /// No normalized field (an id, a name, a reason) is longer than this; the original document
    /// may hold longer text, but a field this long is not what the source means.
    public static let maximumFieldLength = 65_536

    static func hint(_ document: JSON) -> String {
        let keys = document.object?.keys.prefix(6).joined(separator: ", ") ?? ""
        return keys.isEmpty ? "an empty object" : "top-level keys: \(keys)"
    }
}
