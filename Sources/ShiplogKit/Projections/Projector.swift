/// Keeps the projections in step with the log.
///
/// Events are folded in the same transaction that appends them, with the checkpoint (the last
/// position folded), so projections are never ahead of or behind the log. Service streams fold
/// in event-time order: when an event arrives whose sort key is before what a service already
/// folded, that service alone is folded again from zero, so late and out-of-order events give the
/// same answer as ordered ones. The other streams' projections are order-independent merges.
final class Projector {
    private let database: Database
    private let catalog: CatalogProjections
    private let services: ServiceProjection
    private let selectStream: Statement
    private let upsertStream: Statement
    private let selectCheckpoint: Statement
    private let upsertCheckpoint: Statement
    private var loader: DocumentLoader

    static let projectionTables = [
        "projection_streams", "taskdefs", "taskdef_containers", "tag_assignments", "image_deletions", "images", "commits",
        "pushes", "builds", "deployments", "deployment_digests", "service_states", "bad_revisions",
    ]

    init(database: Database) throws {
        self.database = database
        catalog = try CatalogProjections(database: database)
        services = try ServiceProjection(database: database)
        selectStream = try database.prepare(
            "SELECT last_time, last_rank, last_id, state FROM projection_streams WHERE stream_id = ?")
        upsertStream = try database.prepare(
            "INSERT OR REPLACE INTO projection_streams (stream_id, last_time, last_rank, last_id, state) VALUES (?, ?, ?, ?, ?)")
        selectCheckpoint = try database.prepare("SELECT position FROM projection_checkpoint WHERE name = 'projections'")
        upsertCheckpoint = try database.prepare(
            "INSERT OR REPLACE INTO projection_checkpoint (name, position) VALUES ('projections', ?)")
        loader = DocumentLoader(database: database)
    }

    var checkpoint: Int64 {
        get throws {
            defer { selectCheckpoint.reset() }
            return try selectCheckpoint.step() ? selectCheckpoint.int(0) : 0
        }
    }

    /// Folds events appended after the checkpoint (in position order) and moves the checkpoint.
    func apply(_ events: [ProjectedEvent]) throws {
        guard let last = events.last?.position else { return }
        var serviceEvents: [Int64: [ProjectedEvent]] = [:]
        for event in events {
            if event.stream.hasPrefix("service/") {
                serviceEvents[event.streamID, default: []].append(event)
            } else {
                try catalog.apply(event)
            }
        }
        for (streamID, streamEvents) in serviceEvents.sorted(by: { $0.key < $1.key }) {
            try fold(streamID: streamID, stream: streamEvents[0].stream, newEvents: streamEvents)
        }
        upsertCheckpoint.bind(1, last)
        try upsertCheckpoint.run()
    }

    /// Folds whatever the log holds past the checkpoint (after a migration, or a rebuild), up to
    /// `limit` when given.
    func catchUp(batch: Int = 50_000, upTo limit: Int64 = Int64.max) throws {
        var after = try checkpoint
        while true {
            let events = try readEvents("e.position > ?1 AND e.position <= ?2 ORDER BY e.position LIMIT \(batch)", after, upTo: limit)
            guard let last = events.last else { break }
            try apply(events)
            after = last.position
        }
        try finish()
    }

    /// Deletes every projection and folds the log again (up to `position`: the log as it was then).
    func rebuild(upTo position: Int64 = Int64.max) throws {
        for table in Self.projectionTables { try database.execute("DELETE FROM \(table)") }
        try database.execute("DELETE FROM projection_checkpoint")
        try catchUp(upTo: position)
    }

    /// Service folds kept in memory for the transaction: loaded once, saved as they change, their
    /// state written by `finish()` before the transaction commits.
    private var folds: [Int64: (fold: ServiceFold, folded: SortKey)] = [:]

    private func fold(streamID: Int64, stream: String, newEvents: [ProjectedEvent]) throws {
        guard let names = ServiceProjection.names(ofStream: stream) else { return }
        let events = newEvents.sorted { $0.sortKey < $1.sortKey }
        var fold: ServiceFold
        var folded: SortKey?
        if let cached = folds[streamID] {
            (fold, folded) = (cached.fold, cached.folded)
        } else {
            selectStream.reset()
            selectStream.bind(1, streamID)
            var state: [UInt8]?
            if try selectStream.step() {
                folded = SortKey(time: selectStream.int(0), rank: Int(selectStream.int(1)), id: selectStream.text(2))
                state = selectStream.isNull(3) ? nil : selectStream.blob(3)
            }
            selectStream.reset()
            fold = try services.load(cluster: names.cluster, service: names.service, state: state)
        }
        var toApply = events
        if let folded, events[0].sortKey < folded {
            // A late event: fold this service again from its first event.
            try services.clear(cluster: names.cluster, service: names.service)
            fold = ServiceFold(cluster: names.cluster, service: names.service)
            // Up to the newest event being applied: later ones (a rebuild in batches) come in their turn.
            toApply = try readEvents("e.stream_id = ?1 AND e.position <= ?2", streamID, upTo: events.map(\.position).max()!)
                .sorted { $0.sortKey < $1.sortKey }
        }
        for event in toApply { fold.apply(event) }
        try services.save(rows: &fold)
        let lastKey = toApply.last!.sortKey
        folds[streamID] = (fold, folded.map { max($0, lastKey) } ?? lastKey)
    }

    /// Writes each folded service's state and position, so the next transaction continues from it.
    func finish() throws {
        for (streamID, entry) in folds.sorted(by: { $0.key < $1.key }) {
            upsertStream.bind(1, streamID)
            upsertStream.bind(2, entry.folded.time)
            upsertStream.bind(3, Int64(entry.folded.rank))
            upsertStream.bind(4, entry.folded.id)
            upsertStream.bind(5, blob: services.state(of: entry.fold))
            try upsertStream.run()
        }
        folds.removeAll()
    }

    /// Forgets folds held for a transaction that was rolled back.
    func discard() {
        folds.removeAll()
    }

    /// Reads events from the log with their data decoded.
    private func readEvents(_ condition: String, _ value: Int64, upTo bound: Int64? = nil) throws -> [ProjectedEvent] {
        let statement = try database.prepare(
            """
            SELECT e.position, e.event_id, e.type, e.stream_id, s.name, e.event_time, e.data, e.data_length, d.dictionary_id
            FROM events e JOIN streams s ON s.id = e.stream_id JOIN documents d ON d.id = e.document_id
            WHERE \(condition)
            """)
        statement.bind(1, value)
        if let bound { statement.bind(2, bound) }
        var events: [ProjectedEvent] = []
        while try statement.step() {
            let bytes = try loader.data(statement, column: 6)
            let data = try JSONParser.parse(bytes).object ?? JSONObject()
            events.append(ProjectedEvent(
                position: statement.int(0), id: statement.text(1), type: statement.text(2), streamID: statement.int(3),
                stream: statement.text(4), time: Timestamp(microseconds: statement.int(5)), data: data))
        }
        return events
    }
}

extension EventStore {
    /// Folds the whole log again inside a transaction that is rolled back, and compares the
    /// result with the projections in the store. Returns the first table that differs, or nil.
    public func projectionsDifferFromRebuild() throws -> String? {
        try wrap { try withWriteCache { try foldAgainAndCompare() } }
    }

    private func foldAgainAndCompare() throws -> String? {
        try wrap {
            try database.execute("BEGIN IMMEDIATE")
            defer { try? database.execute("ROLLBACK") }
            let projector = try Projector(database: database)
            try projector.catchUp()
            let stored = try Self.projectionDigests(database)
            try projector.rebuild()
            let rebuilt = try Self.projectionDigests(database)
            return stored.first { rebuilt[$0.key] != $0.value }?.key
        }
    }

    /// A SHA-256 per projection table over its rows in a fixed order (streams by name, not id).
    static func projectionDigests(_ database: Database) throws -> [String: [UInt8]] {
        var digests: [String: [UInt8]] = [:]
        for table in Projector.projectionTables {
            let sql: String
            if table == "projection_streams" {
                sql = """
                    SELECT s.name, p.last_time, p.last_rank, p.last_id, p.state FROM projection_streams p
                    JOIN streams s ON s.id = p.stream_id ORDER BY s.name
                    """
            } else {
                let columns = try database.prepare("SELECT * FROM \(table) LIMIT 0").columnCount
                sql = "SELECT * FROM \(table) ORDER BY " + (1...columns).map(String.init).joined(separator: ", ")
            }
            let statement = try database.prepare(sql)
            var bytes: [UInt8] = []
            while try statement.step() {
                for column in 0..<statement.columnCount {
                    bytes.append(contentsOf: (statement.optionalText(column) ?? "\u{0}NULL").utf8)
                    bytes.append(0x1F)
                }
                bytes.append(0x1E)
            }
            digests[table] = SHA256Digest.of(bytes)
        }
        return digests
    }
}
