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
    /// Only events strictly after this position.
    public var afterPosition: Int64?
    /// Only events at or before this position (the log as it was then).
    public var upToPosition: Int64?

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
        if let upTo = filter.upToPosition {
            clauses.append("e.position <= ?")
            bind(upTo)
        }
        var sql = """
            SELECT e.position, e.event_id, e.type, s.name, e.stream_version, e.event_time, e.recorded_at,
                   d.source, e.document_id, e.chain, e.data, e.data_length, d.dictionary_id
            FROM events e JOIN streams s ON s.id = e.stream_id JOIN documents d ON d.id = e.document_id
            """
        if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
        sql += " ORDER BY e.position"
        if let limit = filter.limit { sql += " LIMIT \(max(0, limit))" }
        try read {
            var loader = DocumentLoader(database: database)
            let statement = try database.prepare(sql)
            for (index, binder) in binders.enumerated() { binder(statement, Int32(index + 1)) }
            while try statement.step() {
                try body(try Self.storedEvent(statement, loader: &loader))
            }
        }
    }

    /// Decodes a row of (position, id, type, stream, version, time, recorded, source, document, chain,
    /// data, data_length, dictionary_id).
    static func storedEvent(_ row: Statement, loader: inout DocumentLoader) throws -> StoredEvent {
        let data: JSONObject
        do {
            let bytes = try loader.data(row, column: 10)
            data = try JSONParser.parse(bytes).object ?? JSONObject()
        } catch {
            throw StoreError.notAStore(path: "", reason: "event at position \(row.int(0)) has unreadable data: \(error)")
        }
        return StoredEvent(
            position: row.int(0), id: row.text(1), type: row.text(2), stream: row.text(3), streamVersion: row.int(4),
            time: Timestamp(microseconds: row.int(5)), recordedAt: Timestamp(microseconds: row.int(6)),
            source: row.text(7), documentID: row.int(8), data: data, chain: Hex.encode(row.blob(9)))
    }

    /// The original document of an event, decompressed: the bytes as received, secrets redacted.
    public func document(id: Int64) throws -> (source: String, bytes: [UInt8])? {
        try read {
            var loader = DocumentLoader(database: database)
            let statement = try database.prepare(DocumentLoader.documentQuery + " WHERE d.id = ?")
            statement.bind(1, id)
            guard try statement.step() else { return nil }
            return (statement.text(0), try loader.document(statement, column: 1))
        }
    }

    /// Recent stored documents and their first events' data, decompressed (to train a dictionary).
    func recentSamples(documents limit: Int) throws -> [(document: [UInt8], data: [UInt8])] {
        var loader = DocumentLoader(database: database)
        let statement = try database.prepare(DocumentLoader.documentQuery + " ORDER BY d.id DESC LIMIT ?")
        statement.bind(1, Int64(limit))
        var samples: [(document: [UInt8], data: [UInt8])] = []
        while try statement.step() {
            samples.append((try loader.document(statement, column: 1), try loader.data(statement, column: 5)))
        }
        return samples
    }
}

/// Decompresses stored data and documents, loading each dictionary once.
struct DocumentLoader {
    let database: Database
    private var dictionaries: [Int64: [UInt8]] = [:]

    /// (source, codec, dictionary_id, raw_length, body, first event: data, data_length, dictionary_id)
    static let documentQuery = """
        SELECT d.source, d.codec, d.dictionary_id, d.raw_length, d.body, e.data, e.data_length, d.dictionary_id
        FROM documents d JOIN events e ON e.position = d.first_position
        """

    init(database: Database) {
        self.database = database
    }

    mutating func dictionary(_ id: Int64?) throws -> [UInt8]? {
        guard let id else { return nil }
        if let cached = dictionaries[id] { return cached }
        let statement = try database.prepare("SELECT bytes FROM dictionaries WHERE id = ?")
        statement.bind(1, id)
        guard try statement.step() else { throw CompressionError.corrupt("dictionary \(id) is missing") }
        let bytes = statement.blob(0)
        dictionaries[id] = bytes
        return bytes
    }

    /// Reads (data, data_length, dictionary_id) starting at `column`.
    mutating func data(_ row: Statement, column: Int32) throws -> [UInt8] {
        let dictionary = try dictionary(row.optionalInt(column + 2))
        let length = try Self.length(row.int(column + 1))
        return try row.withBytes(column) { try EventDecompressor.data($0, length: length, dictionary: dictionary) }
    }

    /// Reads (codec, dictionary_id, raw_length, body, data, data_length, dictionary_id) starting at `column`.
    mutating func document(_ row: Statement, column: Int32) throws -> [UInt8] {
        guard Codec(rawValue: row.int(column)) != nil else {
            throw CompressionError.corrupt("unknown codec \(row.int(column))")
        }
        return try document(row, column: column, firstEventData: try data(row, column: column + 4))
    }

    /// Reads (codec, dictionary_id, raw_length, body) starting at `column`, given the first event's data.
    mutating func document(_ row: Statement, column: Int32, firstEventData: [UInt8]) throws -> [UInt8] {
        guard let codec = Codec(rawValue: row.int(column)) else {
            throw CompressionError.corrupt("unknown codec \(row.int(column))")
        }
        let dictionary = try dictionary(row.optionalInt(column + 1))
        let length = try Self.length(row.int(column + 2))
        return try row.withBytes(column + 3) { stored in
            try EventDecompressor.document(
                codec: codec, stored: stored, length: length, dictionary: dictionary, firstEventData: firstEventData)
        }
    }

    static func length(_ value: Int64) throws -> Int {
        guard value >= 0, value <= 1 << 30 else { throw CompressionError.corrupt("implausible length \(value)") }
        return Int(value)
    }
}
