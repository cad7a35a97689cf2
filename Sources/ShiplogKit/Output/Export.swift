/// What `shiplog export` writes.
public enum ExportKind: String, CaseIterable, Sendable {
    case deployments, events, services

    /// The stable columns of each export (also documented in `schema/exports.json`).
    public var columns: [String] {
        switch self {
        case .deployments: return DeploymentSummary.csvColumns
        case .events: return StoredEvent.recordColumns
        case .services: return ServiceStatus.csvColumns
        }
    }
}

/// Which rows an export holds.
/// Which changes an audit or an export covers: a time window, a place, an actor.
public struct ScopeFilter: Sendable, Equatable {
    public var since: Timestamp?
    public var until: Timestamp?
    public var cluster: String?
    public var service: String?
    public var actor: String?

    public init() {}

    var record: JSONObject {
        [
            "since": JSON(since?.rfc3339), "until": JSON(until?.rfc3339), "cluster": JSON(cluster), "service": JSON(service),
            "actor": JSON(actor),
        ]
    }

    init(_ json: JSON?) {
        since = json?["since"]?.string.flatMap { Timestamp(iso8601: $0) }
        until = json?["until"]?.string.flatMap { Timestamp(iso8601: $0) }
        cluster = json?["cluster"]?.string
        service = json?["service"]?.string
        actor = json?["actor"]?.string
    }
}

/// What an export says about itself, written after its rows: the log position and chain hash
/// it was made at, and the SHA-256 of its rows, so an auditor can check it against the log.
public struct ExportManifest: Sendable {
    public var kind: ExportKind
    public var format: OutputFormat
    public var position: Int64
    public var chain: String
    public var madeAt: Timestamp
    public var rowCount: Int
    public var sha256: String
    public var filter: ScopeFilter

    public var record: JSONObject {
        [
            "kind": .string(kind.rawValue), "format": .string(format.rawValue), "position": .number(String(position)),
            "chain": .string(chain), "madeAt": .string(madeAt.rfc3339), "rows": .number(String(rowCount)),
            "sha256": .string(sha256), "filter": .object(filter.record), "columns": JSON(kind.columns),
        ]
    }

    /// The trailer line of a CSV export (a comment after the rows).
    static let csvPrefix = "# shiplog export: "
    /// The key of the trailer object of an NDJSON export (its last line).
    static let ndjsonKey = "shiplogExport"
}

extension ExportManifest {
    init?(_ json: JSON) {
        guard let kind = json["kind"]?.string.flatMap(ExportKind.init), let format = json["format"]?.string.flatMap(OutputFormat.init),
            let position = json["position"]?.int, let chain = json["chain"]?.string, let sha = json["sha256"]?.string,
            let rows = json["rows"]?.int
        else { return nil }
        self.init(
            kind: kind, format: format, position: position, chain: chain,
            madeAt: json["madeAt"]?.string.flatMap { Timestamp(iso8601: $0) } ?? Timestamp(microseconds: 0), rowCount: Int(rows),
            sha256: sha, filter: ScopeFilter(json["filter"]))
    }
}

extension ExportManifest {
    /// The first field of a manifest as read that differs from what shiplog writes for the values
    /// parsed from it (an edited count, column list, time or filter, or a field added), or nil.
    func fieldDiffering(from json: JSON) -> String? {
        guard let given = json.object else { return "whole manifest" }
        let written = record
        for member in written where given[member.key].map(JSONWriter.canonical) != JSONWriter.canonical(member.value) {
            return member.key
        }
        return given.keys.first { written[$0] == nil }
    }
}

/// The result of `verify --export`.
public enum ExportCheck: Sendable, Equatable {
    case matches(position: Int64, rows: Int)
    case mismatch(String)
}

/// Writes an export's rows and keeps the SHA-256 of exactly the bytes it wrote.
final class ExportWriter {
    private let format: OutputFormat
    private let columns: [String]
    private let output: FileWriter?
    private var hasher = SHA256Hasher()
    private(set) var rows = 0
    private var csv = CSVWriter()
    /// When set, the rows are also kept (to regenerate an export in memory).
    var captured: [UInt8]?

    init(format: OutputFormat, columns: [String], output: FileWriter?) {
        self.format = format
        self.columns = columns
        self.output = output
    }

    private func emit(_ bytes: [UInt8]) throws {
        hasher.update(bytes)
        captured?.append(contentsOf: bytes)
        try output?.write(bytes)
    }

    func begin() throws {
        switch format {
        case .json: try emit(Array("{\"rows\": [\n".utf8))
        case .csv:
            csv.writeRow(columns)
            try emit(csv.take())
        default: break
        }
    }

    func write(_ record: JSONObject, csvRecord: JSONObject? = nil) throws {
        switch format {
        case .json: try emit(Array(((rows == 0 ? "" : ",\n") + JSONWriter.compact(.object(record))).utf8))
        case .ndjson: try emit(Array((JSONWriter.compact(.object(record)) + "\n").utf8))
        case .csv:
            let row = csvRecord ?? record
            csv.writeRow(columns.map { RecordWriter.cell(row[$0]) })
            try emit(csv.take())
        case .table: break
        }
        rows += 1
    }

    /// Ends the rows section; returns its SHA-256 (hex).
    func endRows() throws -> String {
        if format == .json { try emit(Array("\n],\n".utf8)) }
        return Hex.encode(hasher.finalize())
    }

    func writeManifest(_ manifest: ExportManifest) throws {
        let text: String
        switch format {
        case .json: text = "\"export\": " + JSONWriter.compact(.object(manifest.record)) + "}\n"
        case .ndjson: text = JSONWriter.compact([ExportManifest.ndjsonKey: .object(manifest.record)]) + "\n"
        case .csv: text = ExportManifest.csvPrefix + JSONWriter.compact(.object(manifest.record)) + "\r\n"
        case .table: text = ""
        }
        try output?.write(text)
        try output?.flush()
    }
}

extension EventStore {
    /// Streams an export (constant memory) to `output` and returns its manifest. The rows are
    /// those of the log at one snapshot, whose position and chain head the manifest states.
    @discardableResult
    public func export(
        _ kind: ExportKind, filter: ScopeFilter, format: OutputFormat, to output: FileWriter, progress: ((Int) -> Void)? = nil
    ) throws -> ExportManifest {
        precondition(format != .table, "exports are json, ndjson or csv")
        return try read {
            let head = try self.head()
            let writer = ExportWriter(format: format, columns: kind.columns, output: output)
            let sha = try writeRows(kind, filter: filter, writer: writer, upTo: head?.position ?? 0, progress: progress)
            let manifest = ExportManifest(
                kind: kind, format: format, position: head?.position ?? 0, chain: head?.chain ?? Hex.encode(HashChain.genesis),
                madeAt: System.now(), rowCount: writer.rows, sha256: sha, filter: filter)
            try writer.writeManifest(manifest)
            return manifest
        }
    }

    private func writeRows(
        _ kind: ExportKind, filter: ScopeFilter, writer: ExportWriter, upTo position: Int64, progress: ((Int) -> Void)?
    ) throws -> String {
        try writer.begin()
        func tick() { if writer.rows % 10_000 == 0 { progress?(writer.rows) } }
        switch kind {
        case .events:
            var events = EventFilter()
            events.since = filter.since
            events.until = filter.until
            events.cluster = filter.cluster
            events.service = filter.service
            events.actor = filter.actor
            events.upToPosition = position
            try self.events(events) { event in
                try writer.write(event.record)
                tick()
            }
        case .deployments:
            var history = HistoryFilter()
            history.since = filter.since
            history.until = filter.until
            history.actor = filter.actor
            for (cluster, service) in try services(cluster: filter.cluster, service: filter.service) {
                for deployment in try self.history(cluster: cluster, service: service, filter: history) {
                    try writer.write(deployment.record)
                    tick()
                }
            }
        case .services:
            for status in try whereRunning(cluster: filter.cluster, service: filter.service) {
                try writer.write(status.record, csvRecord: status.flatRecord)
                tick()
            }
        }
        return try writer.endRows()
    }

    /// Checks an export file against the log: its rows against its own checksum, the chain at
    /// the position it names against the log's, and its rows against what the log gives at that
    /// position (the projections folded up to it, in a transaction that is rolled back).
    public func verifyExport(bytes: [UInt8]) throws -> ExportCheck {
        guard let (rows, manifestJSON) = Self.splitExport(bytes) else {
            return .mismatch("not a shiplog export: no manifest (the trailer that names the position and chain) was found")
        }
        guard let manifest = ExportManifest(manifestJSON) else {
            return .mismatch("the export's manifest is incomplete or malformed")
        }
        if let field = manifest.fieldDiffering(from: manifestJSON) {
            return .mismatch("the export's manifest was edited: its \(field) is not what shiplog wrote for this export")
        }
        if Hex.encode(SHA256Digest.of(rows)) != manifest.sha256 {
            return .mismatch("the export was edited after it was made: its rows do not match its own SHA-256")
        }
        guard let chain = try chain(at: manifest.position) else {
            return .mismatch("the export names position \(manifest.position), but the log ends before it")
        }
        if chain != manifest.chain {
            return .mismatch("the log's chain at position \(manifest.position) is \(chain), the export says \(manifest.chain): the log was rewritten, or the export comes from another store")
        }
        let regenerated = try wrap { () -> (sha: String, rows: Int) in
            useWriteCache(true)
            defer { useWriteCache(false) }
            try database.execute("BEGIN IMMEDIATE")
            defer { try? database.execute("ROLLBACK") }
            if manifest.kind != .events, let head = try head(), head.position > manifest.position {
                try Projector(database: database).rebuild(upTo: manifest.position)
            }
            let writer = ExportWriter(format: manifest.format, columns: manifest.kind.columns, output: nil)
            let sha = try writeRows(manifest.kind, filter: manifest.filter, writer: writer, upTo: manifest.position, progress: nil)
            return (sha, writer.rows)
        }
        if regenerated.sha != manifest.sha256 {
            return .mismatch("the export's rows differ from what the log gives at position \(manifest.position)")
        }
        if regenerated.rows != manifest.rowCount {
            return .mismatch("the manifest says \(manifest.rowCount) rows; the export holds \(regenerated.rows)")
        }
        // The export was made once the log held its position, and not in the future.
        let reached = try recordedAt(position: manifest.position)
        if manifest.madeAt.microseconds < reached || manifest.madeAt > System.now() {
            return .mismatch("""
                the manifest's madeAt \(manifest.madeAt.rfc3339) is impossible: the log reached position \
                \(manifest.position) at \(Timestamp(microseconds: reached).rfc3339), and it cannot be later than now
                """)
        }
        return .matches(position: manifest.position, rows: manifest.rowCount)
    }

    /// When the event at a position was appended (0 for position 0).
    func recordedAt(position: Int64) throws -> Int64 {
        try read {
            let statement = try database.prepare("SELECT recorded_at FROM events WHERE position = ?")
            statement.bind(1, position)
            return try statement.step() ? statement.int(0) : 0
        }
    }

    /// The chain hash at a position (nil past the end of the log).
    func chain(at position: Int64) throws -> String? {
        if position == 0 { return Hex.encode(HashChain.genesis) }
        return try read {
            let statement = try database.prepare("SELECT chain FROM events WHERE position = ?")
            statement.bind(1, position)
            return try statement.step() ? Hex.encode(statement.blob(0)) : nil
        }
    }

    /// An export file → (the bytes of its rows section, its manifest).
    static func splitExport(_ bytes: [UInt8]) -> ([UInt8], JSON)? {
        guard var end = bytes.lastIndex(where: { $0 != 0x0A && $0 != 0x0D }) else { return nil }
        end += 1
        var lineStart = end
        while lineStart > 0, bytes[lineStart - 1] != 0x0A { lineStart -= 1 }
        let last = String(decoding: bytes[lineStart..<end], as: UTF8.self)
        if last.hasPrefix(ExportManifest.csvPrefix) {
            guard let manifest = try? JSONParser.parse(String(last.dropFirst(ExportManifest.csvPrefix.count))) else { return nil }
            return (Array(bytes[..<lineStart]), manifest)
        }
        if last.hasPrefix("{\"\(ExportManifest.ndjsonKey)\":") {
            guard let manifest = (try? JSONParser.parse(last))?[ExportManifest.ndjsonKey] else { return nil }
            return (Array(bytes[..<lineStart]), manifest)
        }
        if last.hasPrefix("\"export\": "), last.hasSuffix("}") {
            let object = String(last.dropFirst("\"export\": ".count).dropLast())
            guard let manifest = try? JSONParser.parse(object) else { return nil }
            return (Array(bytes[..<lineStart]), manifest)
        }
        return nil
    }
}
