/// The first place where the log does not match what was appended.
public struct IntegrityFailure: Sendable, Equatable, CustomStringConvertible {
    /// The first position known to be bad (or the first that may have been rewritten); 0 when
    /// the damage is in the file but in no event (an index, a projection).
    public let position: Int64
    public let reason: String

    public var description: String { "position \(position): \(reason)" }
}

/// The outcome of `EventStore.verify()`.
public struct VerifyReport: Sendable {
    public var events: Int64 = 0
    public var documents: Int64 = 0
    public var checkpoints: Int64 = 0
    public var dictionaries: Int64 = 0
    public var headPosition: Int64 = 0
    public var headChain: String = Hex.encode(HashChain.genesis)
    /// Checkpoints with a valid signature (by a trusted key when `verify` was given any).
    public var signedCheckpoints: Int64 = 0
    /// The last position a valid (trusted) signature covers; 0 when none does.
    public var signedThrough: Int64 = 0
    public var failure: IntegrityFailure?

    public var ok: Bool { failure == nil }
}

/// An externally kept chain head (from an export, a CI artifact): the chain hash at a position.
public struct ChainAnchor: Sendable, Equatable {
    public let position: Int64?
    public let chain: String

    /// Parses `HEX` (the head) or `HEX@POSITION`.
    public init?(_ text: String) {
        let parts = text.split(separator: "@", maxSplits: 1)
        guard let hex = parts.first, hex.count == 64, Hex.decode(String(hex)) != nil else { return nil }
        chain = hex.lowercased()
        if parts.count == 2 {
            guard let position = Int64(parts[1]), position > 0 else { return nil }
            self.position = position
        } else {
            position = nil
        }
        signed = nil
    }

    /// The head as `shiplog anchor` printed it (signed or not).
    public init(_ checkpoint: SignedCheckpoint) {
        position = checkpoint.fields.position
        chain = Hex.encode(checkpoint.fields.chain)
        signed = checkpoint
    }

    /// The checkpoint this anchor was printed from, when it came from `shiplog anchor`.
    public let signed: SignedCheckpoint?
}

extension EventStore {
    /// Recomputes every document checksum, the whole hash chain, the stream versions and the
    /// checkpoints and their signatures, checks the schema against the migrations and the file
    /// with SQLite's integrity_check, and reports the first position that does not match.
    ///
    /// With `publicKeys`, every event must be covered by a checkpoint validly signed by one of
    /// them (a signature over the chain head covers every event up to it).
    public func verify(
        anchor: ChainAnchor? = nil, publicKeys: [CheckpointPublicKey] = [], progress: ((Int64) -> Void)? = nil
    ) throws -> VerifyReport {
        try read {
            var report = VerifyReport()
            var loader = DocumentLoader(database: database)
            func fail(_ position: Int64, _ reason: String) -> VerifyReport {
                report.failure = IntegrityFailure(position: position, reason: reason)
                return report
            }
            if let signed = anchor?.signed, let key = signed.publicKey {
                guard signed.signatureIsValid else {
                    return fail(signed.fields.position, "the anchor's signature is not valid (the anchor was altered)")
                }
                if !publicKeys.isEmpty, !publicKeys.contains(key) {
                    return fail(signed.fields.position, "the anchor is signed by \(key), not by the given public key")
                }
            }

            let dictionaries = try database.prepare("SELECT id, sha256, bytes FROM dictionaries ORDER BY id")
            while try dictionaries.step() {
                report.dictionaries += 1
                if SHA256Digest.of(dictionaries.blob(2)) != dictionaries.blob(1) {
                    return fail(1, "compression dictionary \(dictionaries.int(0)) does not match its checksum")
                }
            }

            let checkpoints = try database.prepare(
                """
                SELECT c.position, c.chain, c.recorded_at, s.public_key, s.signature
                FROM checkpoints c LEFT JOIN checkpoint_signatures s ON s.position = c.position ORDER BY c.position
                """)
            var nextCheckpoint: (position: Int64, chain: [UInt8], recordedAt: Int64)?
            func advanceCheckpoint() throws {
                nextCheckpoint = try checkpoints.step() ? (checkpoints.int(0), checkpoints.blob(1), checkpoints.int(2)) : nil
            }
            var untrustedSigners: Set<String> = []
            try advanceCheckpoint()
            var lastGoodCheckpoint: Int64 = 0

            let rows = try database.prepare(
                """
                SELECT e.position, e.event_id, e.type, s.name, e.stream_version, e.event_time, e.recorded_at,
                       e.document_id, e.cluster, e.service, e.commit_sha, e.actor, e.chain,
                       e.data, e.data_length, d.dictionary_id,
                       d.id, d.source, d.sha256, d.first_position, d.codec, d.dictionary_id, d.raw_length, d.body
                FROM events e
                LEFT JOIN streams s ON s.id = e.stream_id
                LEFT JOIN documents d ON d.id = e.document_id
                ORDER BY e.position
                """)
            var previous = HashChain.genesis
            var expected: Int64 = 1
            var versions: [String: Int64] = [:]
            var verifiedDocument: Int64 = 0
            var canonical: [UInt8] = []
            while true {
                do {
                    guard try rows.step() else { break }
                } catch let error as DatabaseError where error.isCorrupt {
                    return fail(expected, "the database file is damaged here (\(error.message))")
                }
                let position = rows.int(0)
                if position != expected {
                    return fail(expected, position > expected
                        ? "event missing: the log jumps from position \(expected - 1) to \(position) (a deleted event)"
                        : "position \(position) out of order")
                }
                guard let stream = rows.optionalText(3) else {
                    return fail(position, "its stream (id \(rows.int(3))) is missing from the streams table")
                }
                guard !rows.isNull(16) else {
                    return fail(position, "its document (id \(rows.int(7))) is missing from the documents table")
                }
                for (column, name) in Self.textColumns where !rows.isValidUTF8(column) {
                    return fail(position, "its \(name) is not valid UTF-8 (the stored bytes were altered)")
                }
                let data: [UInt8]
                do { data = try loader.data(rows, column: 13) } catch {
                    return fail(position, "its data cannot be decoded (the event was altered): \(error)")
                }
                let documentID = rows.int(16)
                let documentSHA = rows.blob(18)
                if documentID != verifiedDocument {
                    guard rows.int(19) == position else {
                        return fail(position, "its document \(documentID) claims to start at position \(rows.int(19))")
                    }
                    let bytes: [UInt8]
                    do { bytes = try loader.document(rows, column: 20, firstEventData: data) } catch {
                        return fail(position, "its document \(documentID) cannot be decoded (the payload was altered): \(error)")
                    }
                    if SHA256Digest.of(bytes) != documentSHA {
                        return fail(position, "its document \(documentID) does not match its checksum (the payload was altered)")
                    }
                    verifiedDocument = documentID
                    report.documents += 1
                }
                let version = (versions[stream] ?? 0) + 1
                if rows.int(4) != version {
                    return fail(position, "stream \(stream) has version \(rows.int(4)) here, expected \(version)")
                }
                versions[stream] = version
                let event = CanonicalEvent(
                    position: position, id: rows.text(1), type: rows.text(2), stream: stream, streamVersion: version,
                    time: rows.int(5), recordedAt: rows.int(6), source: rows.text(17), documentSHA256: documentSHA,
                    cluster: rows.optionalText(8), service: rows.optionalText(9), commit: rows.optionalText(10),
                    actor: rows.optionalText(11), data: data)
                event.bytes(into: &canonical)
                let chain = HashChain.next(previous: previous, canonical: canonical)
                if chain != rows.blob(12) {
                    return fail(position, Self.explainChainMismatch(event))
                }
                if let checkpoint = nextCheckpoint, checkpoint.position == position {
                    if checkpoint.chain != chain {
                        return fail(lastGoodCheckpoint + 1, """
                            the chain no longer matches the checkpoint recorded at position \(position) \
                            (\(Timestamp(microseconds: checkpoint.recordedAt).rfc3339)): events \(lastGoodCheckpoint + 1)…\(position) \
                            were rewritten and re-hashed
                            """)
                    }
                    if !checkpoints.isNull(4) {
                        let signed = SignedCheckpoint(
                            fields: .init(position: position, chain: chain, recordedAt: checkpoint.recordedAt),
                            publicKey: try? CheckpointPublicKey(bytes: checkpoints.blob(3), origin: "its public key"),
                            signature: checkpoints.blob(4))
                        guard signed.signatureIsValid else {
                            return fail(report.signedThrough + 1, """
                                the signature of the checkpoint at position \(position) is not valid: the checkpoint or \
                                its signature was made without the signing key
                                """)
                        }
                        if publicKeys.isEmpty || publicKeys.contains(signed.publicKey!) {
                            report.signedThrough = position
                            report.signedCheckpoints += 1
                        } else {
                            untrustedSigners.insert(signed.publicKey!.description)
                        }
                    }
                    lastGoodCheckpoint = position
                    report.checkpoints += 1
                    try advanceCheckpoint()
                }
                if let anchor, anchor.position == position, Hex.encode(chain) != anchor.chain {
                    return fail(position, "the chain hash differs from the anchor \(anchor.chain) given for this position")
                }
                previous = chain
                expected += 1
                report.events += 1
                if position % 100_000 == 0 { progress?(position) }
            }
            report.headPosition = expected - 1
            report.headChain = Hex.encode(previous)
            if let checkpoint = nextCheckpoint {
                return fail(report.headPosition + 1, """
                    the log ends at position \(report.headPosition) but a checkpoint was recorded at position \
                    \(checkpoint.position): events were removed from the end
                    """)
            }
            if let anchor {
                if let position = anchor.position, position > report.headPosition {
                    return fail(report.headPosition + 1, """
                        the anchor names position \(position), past the end of the log at \(report.headPosition): \
                        events were removed from the end
                        """)
                }
                if anchor.position == nil, report.headChain != anchor.chain {
                    return fail(report.headPosition, "the head \(report.headChain) differs from the anchor \(anchor.chain)")
                }
            }
            if report.headPosition > 0, lastGoodCheckpoint != report.headPosition {
                // Every append ends with a checkpoint at its last event: events past the last one
                // were put in the file some other way (a plain INSERT), or the log was cut mid-append.
                return fail(lastGoodCheckpoint + 1, """
                    the log ends at position \(report.headPosition) with no checkpoint there (every append records \
                    one at its last event): events \(lastGoodCheckpoint + 1)…\(report.headPosition) were added outside \
                    shiplog, or events after them were removed
                    """)
            }
            if !publicKeys.isEmpty, report.signedThrough < report.headPosition {
                let others = untrustedSigners.isEmpty ? "" : " (signed by another key: \(untrustedSigners.sorted().joined(separator: ", ")))"
                let last = report.signedThrough == 0
                    ? "no checkpoint is signed by the given key" : "the last checkpoint it signed is at \(report.signedThrough)"
                return fail(report.signedThrough + 1, """
                    positions \(report.signedThrough + 1)…\(report.headPosition) are not covered by a valid signature \
                    of the given public key\(others): \(last); they may have been forged or rewritten
                    """)
            }
            // Position 0 from here on: no event is to blame. A dropped or altered trigger lets the
            // log be edited; an altered index makes queries skip events the table still holds.
            if let difference = try SchemaCheck.difference(database) {
                return fail(0, difference)
            }
            // The log read back whole; damage elsewhere in the file (an index that no longer
            // matches its table, a projection) is SQLite's full check to find: quick_check skips
            // comparing indexes with their tables.
            let check = try database.prepare("PRAGMA integrity_check(1)")
            if try check.step(), let result = check.optionalText(0), result != "ok" {
                return fail(0, "the database file is damaged outside the log's events (SQLite integrity_check: \(result))")
            }
            return report
        }
    }

    /// Says which part of an event no longer matches its chain hash, when it can tell.
    /// The text columns of the verify query the chain covers (event id, type, stream name, cluster,
    /// service, commit, actor, source).
    static let textColumns: [(Int32, String)] = [
        (1, "event id"), (2, "type"), (3, "stream name"), (8, "cluster"), (9, "service"), (10, "commit"), (11, "actor"),
        (17, "source"),
    ]

    static func explainChainMismatch(_ event: CanonicalEvent) -> String {
        let generic = "its chain hash does not match (this event, or the order of events, was altered)"
        guard let data = try? JSONParser.parse(event.data).object else {
            return "its data is not valid JSON (the event was altered)"
        }
        if Array(JSONWriter.canonical(.object(data)).utf8) != event.data {
            return "its data is not in canonical form (the event was altered)"
        }
        let columns: [(String, String?)] = [
            ("cluster", event.cluster), ("service", event.service), ("commit", event.commit), ("actor", event.actor),
        ]
        for (name, column) in columns where data[name]?.string != column {
            return "its \(name) column differs from its data (the event was altered)"
        }
        return generic
    }
}

/// Compares the schema in a store with the one its migrations create.
enum SchemaCheck {
    /// The schema objects the embedded migrations create: name -> (type, table, SQL).
    static let expected: [String: SchemaObject] = {
        // A migration that does not apply to an empty in-memory database is a bug the schema tests catch.
        let database = try! Database(path: ":memory:", mode: .readWriteCreate)
        for migration in EmbeddedSchema.migrations { try! database.execute(migration.sql) }
        return try! objects(database)
    }()

    struct SchemaObject: Equatable {
        let type: String
        let table: String
        let sql: String?
    }

    static func objects(_ database: Database) throws -> [String: SchemaObject] {
        let statement = try database.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master")
        var objects: [String: SchemaObject] = [:]
        while try statement.step() {
            objects[statement.text(1)] = SchemaObject(
                type: statement.text(0), table: statement.text(2), sql: statement.optionalText(3))
        }
        return objects
    }

    /// What differs, first the missing objects, then the altered, then the added; nil when nothing does.
    static func difference(_ database: Database) throws -> String? {
        let found = try objects(database)
        for (name, object) in expected.sorted(by: { $0.key < $1.key }) {
            guard let actual = found[name] else {
                return "the \(object.type) \(name) the migrations created is missing (dropped: the log can then be changed unseen)"
            }
            if actual != object {
                return "the \(object.type) \(name) differs from the one the migrations created (it was replaced)"
            }
        }
        // ANALYZE and PRAGMA optimize keep the query planner's statistics in sqlite_stat tables: harmless.
        let added = found.sorted(by: { $0.key < $1.key }).first { expected[$0.key] == nil && !$0.key.hasPrefix("sqlite_stat") }
        if let (name, object) = added {
            return "the \(object.type) \(name) on \(object.table) was not created by the migrations (it was added)"
        }
        let applied = try database.prepare("SELECT version, name, sha256 FROM schema_migrations ORDER BY version")
        var version = 0
        while try applied.step() {
            version += 1
            let migration = version <= EmbeddedSchema.migrations.count ? EmbeddedSchema.migrations[version - 1] : nil
            let expectedSHA = migration.map { Hex.encode(SHA256Digest.of(Array($0.sql.utf8))) }
            if applied.int(0) != Int64(version) || applied.text(1) != migration?.name || applied.text(2) != expectedSHA {
                return "schema_migrations row \(version) does not name the migration this shiplog applies as number \(version)"
            }
        }
        if version != EmbeddedSchema.migrations.count {
            return "schema_migrations records \(version) migrations, not \(EmbeddedSchema.migrations.count)"
        }
        return nil
    }
}
