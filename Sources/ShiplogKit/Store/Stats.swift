/// Sizes and counts of a store.
public struct StoreStats: Sendable {
    public var events: Int64 = 0
    public var documents: Int64 = 0
    public var streams: Int64 = 0
    public var eventsByType: [(type: String, count: Int64)] = []
    public var documentsBySource: [(source: String, count: Int64)] = []
    /// The documents as received (after redaction), uncompressed.
    public var rawDocumentBytes: Int64 = 0
    /// The documents as stored.
    public var storedDocumentBytes: Int64 = 0
    /// The events' normalized data, as canonical JSON and as stored.
    public var rawDataBytes: Int64 = 0
    public var storedDataBytes: Int64 = 0
    public var documentsByCodec: [Codec: Int64] = [:]
    public var dictionaries: [(id: Int64, bytes: Int64, samples: Int64, documents: Int64)] = []
    public var databaseFileBytes: Int64 = 0
    public var walFileBytes: Int64 = 0
    public var firstEventTime: Timestamp?
    public var lastEventTime: Timestamp?
    public var headPosition: Int64 = 0
    public var headChain: String?
    public var schemaVersion = 0

    /// Documents and data as received over what storing them costs, dictionaries included.
    public var compressionRatio: Double {
        let stored = storedDocumentBytes + storedDataBytes + dictionaries.reduce(0) { $0 + $1.bytes }
        return stored == 0 ? 0 : Double(rawDocumentBytes + rawDataBytes) / Double(stored)
    }
}

extension EventStore {
    public func stats() throws -> StoreStats {
        try read {
            var stats = StoreStats()
            stats.events = try database.scalarInt("SELECT count(*) FROM events") ?? 0
            stats.documents = try database.scalarInt("SELECT count(*) FROM documents") ?? 0
            stats.streams = try database.scalarInt("SELECT count(*) FROM streams") ?? 0
            let types = try database.prepare("SELECT type, count(*) FROM events GROUP BY type ORDER BY count(*) DESC, type")
            while try types.step() { stats.eventsByType.append((types.text(0), types.int(1))) }
            let sources = try database.prepare(
                "SELECT source, count(*) FROM documents GROUP BY source ORDER BY count(*) DESC, source")
            while try sources.step() { stats.documentsBySource.append((sources.text(0), sources.int(1))) }
            let sizes = try database.prepare(
                "SELECT codec, count(*), sum(raw_length), sum(length(body)) FROM documents GROUP BY codec")
            while try sizes.step() {
                if let codec = Codec(rawValue: sizes.int(0)) { stats.documentsByCodec[codec] = sizes.int(1) }
                stats.rawDocumentBytes += sizes.int(2)
                stats.storedDocumentBytes += sizes.int(3)
            }
            let data = try database.prepare("SELECT sum(data_length), sum(length(data)) FROM events")
            if try data.step() {
                stats.rawDataBytes = data.optionalInt(0) ?? 0
                stats.storedDataBytes = data.optionalInt(1) ?? 0
            }
            let dictionaries = try database.prepare(
                """
                SELECT d.id, length(d.bytes), d.sample_count,
                       (SELECT count(*) FROM documents WHERE dictionary_id = d.id)
                FROM dictionaries d ORDER BY d.id
                """)
            while try dictionaries.step() {
                stats.dictionaries.append((dictionaries.int(0), dictionaries.int(1), dictionaries.int(2), dictionaries.int(3)))
            }
            stats.firstEventTime = try database.scalarInt("SELECT min(event_time) FROM events").map { Timestamp(microseconds: $0) }
            stats.lastEventTime = try database.scalarInt("SELECT max(event_time) FROM events").map { Timestamp(microseconds: $0) }
            let head = try database.prepare("SELECT position, chain FROM events ORDER BY position DESC LIMIT 1")
            if try head.step() {
                stats.headPosition = head.int(0)
                stats.headChain = Hex.encode(head.blob(1))
            }
            stats.schemaVersion = schemaVersion
            stats.databaseFileBytes = System.fileSize(path) ?? 0
            stats.walFileBytes = System.fileSize(path + "-wal") ?? 0
            return stats
        }
    }
}
