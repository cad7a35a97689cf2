/// Which events to read from the log.
public struct EventFilter: Sendable {
    /// Exact types (`deployment.failed`) or families (`deployment` matches `deployment.*`).
    public var types: [String] = []
    public var stream: String?
    public var since: Timestamp?
    public var until: Timestamp?
    public var cluster: String?
    public var service: String?
    /// A commit sha or its prefix (≥ 7 hex digits); matches the events that name it.
    public var commit: String?
    public var actor: String?
    public var limit: Int?
    /// From position (or, for `after`, strictly after it).
    public var afterPosition: Int64?

    public init() {}
}

extension EventStore {
    /// Calls `body` with each matching event in log order, streaming (constant memory).
    public func events(_ filter: EventFilter, _ body: (StoredEvent) throws -> Void) throws {
        var clauses: [String] = []
        var binders: [(Statement, Int32) -> Void] = []
        func bind(_ text: String) { binders.append { $0.bind($1, text) } }
        func bind(_ number: Int64) { binders.append { $0.bind($1, number) } }
        if !filter.types.isEmpty {
            var alternatives: [String] = []
            for type in filter.types {
                if type.contains(".") {
                    alternatives.append("e.type = ?")
                    bind(type)
                } else {
                    alternatives.append("e.type LIKE ?")
                    bind(type + ".%")
                }
            }
            clauses.append("(" + alternatives.joined(separator: " OR ") + ")")
        }
        if let stream = filter.stream {
            clauses.append("e.stream_id = (SELECT id FROM streams WHERE name = ?)")
            bind(stream)
        }
        if let since = filter.since {
            clauses.append("e.event_time >= ?")
            bind(since.microseconds)
        }
        if let until = filter.until {
            clauses.append("e.event_time <= ?")
            bind(until.microseconds)
        }
        if let cluster = filter.cluster {
            clauses.append("e.cluster = ?")
            bind(cluster)
        }
        if let service = filter.service {
            clauses.append("e.service = ?")
            bind(service)
        }
        if let actor = filter.actor {
            clauses.append("e.actor = ?")
            bind(actor)
        }
        if let commit = filter.commit?.lowercased() {
            // A push names many commits; the column holds its head, the data holds them all.
            clauses.append("(e.commit_sha LIKE ? OR (e.type = 'git.push' AND instr(e.data, ?) > 0))")
            bind(commit + "%")
            bind("\"sha\":\"" + commit)
        }
        if let after = filter.afterPosition {
            clauses.append("e.position > ?")
            bind(after)
        }
        var sql = """
            SELECT e.position, e.event_id, e.type, s.name, e.stream_version, e.event_time, e.recorded_at,
                   d.source, e.document_id, e.data, e.chain
            FROM events e JOIN streams s ON s.id = e.stream_id JOIN documents d ON d.id = e.document_id
            """
        if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
        sql += " ORDER BY e.position"
        if let limit = filter.limit { sql += " LIMIT \(max(0, limit))" }
        try read {
            let statement = try database.prepare(sql)
            for (index, binder) in binders.enumerated() { binder(statement, Int32(index + 1)) }
            while try statement.step() {
                try body(try Self.storedEvent(statement))
            }
        }
    }

    static func storedEvent(_ row: Statement) throws -> StoredEvent {
        let dataText = row.text(9)
        let data: JSONObject
        do {
            data = try JSONParser.parse(dataText).object ?? JSONObject()
        } catch {
            throw StoreError.notAStore(path: "", reason: "event at position \(row.int(0)) has unreadable data: \(error)")
        }
        return StoredEvent(
            position: row.int(0), id: row.text(1), type: row.text(2), stream: row.text(3), streamVersion: row.int(4),
            time: Timestamp(microseconds: row.int(5)), recordedAt: Timestamp(microseconds: row.int(6)),
            source: row.text(7), documentID: row.int(8), data: data, chain: Hex.encode(row.blob(10)))
    }

    /// The original document of an event, decompressed: the bytes as received, secrets redacted.
    public func document(id: Int64) throws -> (source: String, bytes: [UInt8])? {
        try read {
            var loader = DocumentLoader(database: database)
            let statement = try database.prepare(
                "SELECT source, codec, dictionary_id, raw_length, body FROM documents WHERE id = ?")
            statement.bind(1, id)
            guard try statement.step() else { return nil }
            return (statement.text(0), try loader.load(statement, codecColumn: 1))
        }
    }

    /// The most recent stored documents, decompressed (for training a new dictionary).
    func recentDocuments(limit: Int) throws -> [[UInt8]] {
        var loader = DocumentLoader(database: database)
        let statement = try database.prepare(
            "SELECT codec, dictionary_id, raw_length, body FROM documents ORDER BY id DESC LIMIT ?")
        statement.bind(1, Int64(limit))
        var documents: [[UInt8]] = []
        while try statement.step() { documents.append(try loader.load(statement, codecColumn: 0)) }
        return documents
    }
}

/// Decompresses stored documents, loading each dictionary once.
struct DocumentLoader {
    let database: Database
    private var dictionaries: [Int64: [UInt8]] = [:]

    init(database: Database) {
        self.database = database
    }

    mutating func dictionary(_ id: Int64) throws -> [UInt8]? {
        if let cached = dictionaries[id] { return cached }
        let statement = try database.prepare("SELECT bytes FROM dictionaries WHERE id = ?")
        statement.bind(1, id)
        guard try statement.step() else { return nil }
        let bytes = statement.blob(0)
        dictionaries[id] = bytes
        return bytes
    }

    /// Reads (codec, dictionary_id, raw_length, body) starting at `codecColumn`.
    mutating func load(_ row: Statement, codecColumn column: Int32) throws -> [UInt8] {
        guard let codec = Codec(rawValue: row.int(column)) else {
            throw CompressionError.corrupt("unknown codec \(row.int(column))")
        }
        let dictionary = try row.optionalInt(column + 1).flatMap { try self.dictionary($0) }
        let length = Int(row.int(column + 2))
        guard length >= 0, length <= 1 << 30 else { throw CompressionError.corrupt("implausible length \(length)") }
        return try row.withBytes(column + 3) { stored in
            try BlockDecompressor.decompress(codec: codec, stored: stored, originalLength: length, dictionary: dictionary)
        }
    }
}
