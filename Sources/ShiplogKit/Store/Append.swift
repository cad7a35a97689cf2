/// A document ready to append: its bytes (secrets already redacted), the adapter that read it,
/// and the normalized events it yields.
public struct PreparedDocument: Sendable {
    public var source: String
    public var bytes: [UInt8]
    public var events: [NewEvent]
    /// SHA-256 of `bytes` when whoever prepared it already computed it (ingest does, for the
    /// adapters' context), so a 2 KB document is hashed once, not twice.
    let sha256: [UInt8]?
    /// Each event's canonical data, when computed before the append (ingest does it on its
    /// reading thread): work done there is work not done while holding the write lock.
    let canonicalData: [[UInt8]]?

    public init(source: String, bytes: [UInt8], events: [NewEvent]) {
        self.init(source: source, bytes: bytes, events: events, sha256: nil)
    }

    init(source: String, bytes: [UInt8], events: [NewEvent], sha256: [UInt8]?, canonicalData: [[UInt8]]? = nil) {
        self.source = source
        self.bytes = bytes
        self.events = events
        self.sha256 = sha256
        self.canonicalData = canonicalData
    }

    /// The canonical data of the event at `index`, as the chain hashes and the store keeps it.
    func canonicalData(at index: Int) -> [UInt8] {
        if let canonicalData, index < canonicalData.count { return canonicalData[index] }
        return Array(JSONWriter.canonical(.object(events[index].data)).utf8)
    }
}

/// Counts of what an append did.
public struct AppendResult: Sendable, Equatable {
    public var appended = 0
    public var duplicates = 0
    public var documentsStored = 0
    public var firstPosition: Int64?
    public var lastPosition: Int64?

    public init() {}

    mutating func add(_ other: AppendResult) {
        appended += other.appended
        duplicates += other.duplicates
        documentsStored += other.documentsStored
        firstPosition = firstPosition ?? other.firstPosition
        lastPosition = other.lastPosition ?? lastPosition
    }
}

/// What happened to one document in an append.
public enum DocumentOutcome: Sendable, Equatable {
    /// `appended` new events stored, `duplicates` already present.
    case stored(appended: Int, duplicates: Int)
    /// An event id is already stored with different content; nothing of the document was stored.
    case conflicting(id: String, position: Int64)
}

extension EventStore {
    /// Appends documents in one transaction. Events whose id is already stored (with the same
    /// content) are counted as duplicates, not stored again. A document whose event id is
    /// stored with *different* content aborts the append with `StoreError.conflictingDuplicate`.
    ///
    /// `expecting` checks a stream's version before its first new event (optimistic concurrency);
    /// a batch whose events for that stream are all duplicates succeeds without the check, so a
    /// retried append is idempotent.
    @discardableResult
    public func append(_ documents: [PreparedDocument], expecting: [String: ExpectedVersion] = [:]) throws -> AppendResult {
        let session = try beginAppend()
        do {
            for outcome in try session.append(documents, expecting: expecting) {
                if case .conflicting(let id, let position) = outcome {
                    throw StoreError.conflictingDuplicate(id: id, position: position)
                }
            }
            return try session.commit()
        } catch {
            session.rollback()
            throw error
        }
    }

    /// Starts an append session. It takes the write lock (waiting for other writers) only when it
    /// appends, and gives it back at each commit.
    public func beginAppend() throws -> AppendSession {
        try refuseIfReadOnly()
        return try wrap { try AppendSession(store: self) }
    }
}

/// Write transactions on the log: append documents, then commit or roll back; after a commit
/// the next append starts a new transaction.
///
/// Holding the write lock for the whole transaction is what makes positions gap-free and the chain
/// linear while other processes append too. It is taken by the first append, not before, and
/// released by the commit, so a session waiting for its next batch (an ingest parsing, a pipe
/// with nothing arriving) never holds it.
public final class AppendSession {
    private let store: EventStore
    private var database: Database { store.database }
    private let findEvent: Statement
    private let findStream: Statement
    private let insertStream: Statement
    private let streamVersion: Statement
    private let insertDocument: Statement
    private let insertEvent: Statement
    private let insertCheckpoint: Statement
    private let insertSignature: Statement
    private let insertDictionary: Statement

    private var nextPosition: Int64 = 1
    private var nextDocumentID: Int64 = 1
    private var previousChain = HashChain.genesis
    private var streams: [String: (id: Int64, version: Int64)] = [:]
    private var compressor: EventCompressor?
    private lazy var loader = DocumentLoader(database: database)
    private var dictionarySampleCount = 0
    private var dictionaryLoaded = false
    private var recordedAt: Int64 = 0
    private var lastCheckpoint: Int64 = 0
    private var canonical: [UInt8] = []
    private var pending = AppendResult()
    /// The events appended by the current `append` call, for the projector to fold.
    private var toProject: [ProjectedEvent] = []
    private var projector: Projector?
    private var committed = AppendResult()
    private var open = false

    /// Checkpoints inside a large transaction too, so a rewritten tail is located within this many events.
    static let checkpointInterval: Int64 = 1024

    init(store: EventStore) throws {
        self.store = store
        let database = store.database
        findEvent = try database.prepare(
            """
            SELECT e.position, e.type, e.event_time, s.name, e.data, e.data_length, d.dictionary_id
            FROM events e JOIN streams s ON s.id = e.stream_id JOIN documents d ON d.id = e.document_id
            WHERE e.event_id = ?
            """)
        findStream = try database.prepare("SELECT id FROM streams WHERE name = ?")
        insertStream = try database.prepare("INSERT INTO streams (name) VALUES (?)")
        streamVersion = try database.prepare("SELECT max(stream_version) FROM events WHERE stream_id = ?")
        insertDocument = try database.prepare(
            """
            INSERT INTO documents (id, source, codec, dictionary_id, first_position, raw_length, sha256, body)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insertEvent = try database.prepare(
            """
            INSERT INTO events (position, event_id, type, stream_id, stream_version, event_time, recorded_at,
                document_id, cluster, service, commit_sha, actor, data, data_length, chain)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insertCheckpoint = try database.prepare(
            "INSERT OR IGNORE INTO checkpoints (position, chain, recorded_at) VALUES (?, ?, ?)")
        insertSignature = try database.prepare(
            "INSERT INTO checkpoint_signatures (position, public_key, signature) VALUES (?, ?, ?)")
        insertDictionary = try database.prepare(
            "INSERT INTO dictionaries (sha256, trained_at, sample_count, bytes) VALUES (?, ?, ?, ?)")
    }

    deinit {
        if open { rollback() }
    }

    private func begin() throws {
        store.useWriteCache(true)
        try database.execute("BEGIN IMMEDIATE")
        open = true
        recordedAt = System.now().microseconds
        let head = try database.prepare("SELECT position, chain FROM events ORDER BY position DESC LIMIT 1")
        if try head.step() {
            nextPosition = head.int(0) + 1
            previousChain = head.blob(1)
        } else {
            nextPosition = 1
            previousChain = HashChain.genesis
        }
        lastCheckpoint = try database.scalarInt("SELECT max(position) FROM checkpoints") ?? 0
        if store.checkpointSigner == nil,
            try database.scalarInt("SELECT count(*) FROM checkpoint_signatures WHERE position = \(lastCheckpoint)") == 1
        {
            // An unsigned tail would fail `verify --public-key`; say so now rather than at the next audit.
            throw StoreError.signingKeyRequired(path: store.path)
        }
        nextDocumentID = (try database.scalarInt("SELECT max(id) FROM documents") ?? 0) + 1
        streams.removeAll(keepingCapacity: true)
        dictionaryLoaded = false
        toProject.removeAll(keepingCapacity: true)
        // Projections missing events (a store from before they existed): fold those first.
        if try projections().checkpoint < nextPosition - 1 { try projections().catchUp() }
    }

    private func projections() throws -> Projector {
        if let projector { return projector }
        let created = try Projector(database: database)
        projector = created
        return created
    }

    /// Appends documents; returns one outcome per document. A conflicting document stores nothing.
    public func append(_ documents: [PreparedDocument], expecting: [String: ExpectedVersion] = [:]) throws -> [DocumentOutcome] {
        try store.wrap {
            if !open { try begin() }
            var checked = Set<String>()
            var outcomes: [DocumentOutcome] = []
            outcomes.reserveCapacity(documents.count)
            for (index, document) in documents.enumerated() {
                outcomes.append(try append(document, batch: documents, index: index, expecting: expecting, checked: &checked))
            }
            // Fold as we go, in the same transaction, so a large append holds one batch in memory.
            try projections().apply(toProject)
            toProject.removeAll(keepingCapacity: true)
            return outcomes
        }
    }

    private struct Planned {
        var event: NewEvent
        var stream: String
        var data: [UInt8]
    }

    private func append(
        _ document: PreparedDocument, batch: [PreparedDocument], index: Int,
        expecting: [String: ExpectedVersion], checked: inout Set<String>
    ) throws -> DocumentOutcome {
        // First classify every event, so a conflicting document stores nothing at all.
        var planned: [Planned] = []
        var duplicates = 0
        for (index, event) in document.events.enumerated() {
            let stream = try event.stream()
            let data = document.canonicalData(at: index)
            findEvent.reset()
            findEvent.bind(1, event.id)
            if try findEvent.step() {
                let position = findEvent.int(0)
                // A snapshot that carries no time of its own is timed when received: the same
                // snapshot received later is still the same event.
                let sameTime = findEvent.int(2) == event.time.microseconds || event.timeFromReceipt
                let same = try findEvent.text(1) == event.type && sameTime && findEvent.text(3) == stream
                    && loader.data(findEvent, column: 4) == data
                findEvent.reset()
                if !same { return .conflicting(id: event.id, position: position) }
                duplicates += 1
            } else if planned.contains(where: { $0.event.id == event.id }) {
                duplicates += 1
            } else {
                planned.append(Planned(event: event, stream: stream, data: data))
            }
        }
        pending.duplicates += duplicates
        guard !planned.isEmpty else { return .stored(appended: 0, duplicates: duplicates) }

        for item in planned where !checked.contains(item.stream) {
            guard let expected = expecting[item.stream] else { continue }
            checked.insert(item.stream)
            let actual = try stream(named: item.stream).version
            if !expected.allows(actual) { throw StoreError.versionConflict(stream: item.stream, expected: expected, actual: actual) }
        }

        try prepareCompressor(batch: batch, from: index)
        let documentSHA = document.sha256 ?? SHA256Digest.of(document.bytes)
        let documentID = nextDocumentID
        for (offset, item) in planned.enumerated() {
            let event = item.event
            var stream = try stream(named: item.stream)
            stream.version += 1
            streams[item.stream] = stream
            let position = nextPosition
            let dataBytes = item.data
            // The document goes with its first new event, compressed right after that event's data.
            let compressed = compressor!.compress(data: dataBytes, document: offset == 0 ? document.bytes : nil)
            if offset == 0 {
                insertDocument.bind(1, documentID)
                insertDocument.bind(2, document.source)
                insertDocument.bind(3, compressed.documentCodec.rawValue)
                // The events' data blocks use the dictionary even when the document is stored raw.
                insertDocument.bind(4, compressor!.dictionary?.id)
                insertDocument.bind(5, position)
                insertDocument.bind(6, Int64(document.bytes.count))
                insertDocument.bind(7, blob: documentSHA)
                insertDocument.bind(8, blob: compressed.document)
                try insertDocument.run()
                nextDocumentID += 1
                pending.documentsStored += 1
            }
            let record = CanonicalEvent(
                position: position, id: event.id, type: event.type, stream: item.stream, streamVersion: stream.version,
                time: event.time.microseconds, recordedAt: recordedAt, source: document.source,
                documentSHA256: documentSHA, cluster: event.cluster, service: event.service, commit: event.commit,
                actor: event.actor, data: dataBytes)
            record.bytes(into: &canonical)
            let chain = HashChain.next(previous: previousChain, canonical: canonical)
            insertEvent.bind(1, position)
            insertEvent.bind(2, event.id)
            insertEvent.bind(3, event.type)
            insertEvent.bind(4, stream.id)
            insertEvent.bind(5, stream.version)
            insertEvent.bind(6, event.time.microseconds)
            insertEvent.bind(7, recordedAt)
            insertEvent.bind(8, documentID)
            insertEvent.bind(9, event.cluster)
            insertEvent.bind(10, event.service)
            insertEvent.bind(11, event.commit)
            insertEvent.bind(12, event.actor)
            insertEvent.bind(13, blob: compressed.data)
            insertEvent.bind(14, Int64(dataBytes.count))
            insertEvent.bind(15, blob: chain)
            try insertEvent.run()
            toProject.append(ProjectedEvent(
                position: position, id: event.id, type: event.type, streamID: stream.id, stream: item.stream, time: event.time,
                data: event.data))
            previousChain = chain
            nextPosition += 1
            pending.appended += 1
            pending.firstPosition = pending.firstPosition ?? position
            pending.lastPosition = position
            if position % Self.checkpointInterval == 0 { try checkpoint(position) }
        }
        return .stored(appended: planned.count, duplicates: duplicates)
    }

    private func stream(named name: String) throws -> (id: Int64, version: Int64) {
        if let cached = streams[name] { return cached }
        findStream.reset()
        findStream.bind(1, name)
        let found: (id: Int64, version: Int64)
        if try findStream.step() {
            let id = findStream.int(0)
            findStream.reset()
            streamVersion.reset()
            streamVersion.bind(1, id)
            _ = try streamVersion.step()
            found = (id, streamVersion.optionalInt(0) ?? 0)
            streamVersion.reset()
        } else {
            findStream.reset()
            insertStream.bind(1, name)
            try insertStream.run()
            found = (database.lastInsertRowID, 0)
        }
        streams[name] = found
        return found
    }

    private func checkpoint(_ position: Int64) throws {
        guard position > lastCheckpoint else { return }
        insertCheckpoint.bind(1, position)
        insertCheckpoint.bind(2, blob: previousChain)
        insertCheckpoint.bind(3, recordedAt)
        try insertCheckpoint.run()
        if let signer = store.checkpointSigner, database.changes == 1 {
            let fields = SignedCheckpoint.Fields(position: position, chain: previousChain, recordedAt: recordedAt)
            insertSignature.bind(1, position)
            insertSignature.bind(2, blob: signer.publicKey.bytes)
            insertSignature.bind(3, blob: signer.sign(fields))
            try insertSignature.run()
        }
        lastCheckpoint = position
    }

    /// Chooses the compressor for the rest of the transaction. Once the store holds enough
    /// documents it trains a dictionary from them (the batch in hand first, then the most recent
    /// stored ones); a dictionary trained on few samples is replaced when the store has many
    /// times more, up to `DictionaryPolicy.sampleTarget` samples.
    private func prepareCompressor(batch: [PreparedDocument], from index: Int) throws {
        if !dictionaryLoaded {
            dictionaryLoaded = true
            let latest = try database.prepare("SELECT id, bytes, sample_count FROM dictionaries ORDER BY id DESC LIMIT 1")
            if try latest.step() {
                compressor = EventCompressor(dictionary: CompressionDictionary(id: latest.int(0), bytes: latest.blob(1)))
                dictionarySampleCount = Int(latest.int(2))
            } else {
                compressor = EventCompressor(dictionary: nil)
                dictionarySampleCount = 0
            }
        }
        let total = Int(nextDocumentID - 1) + (batch.count - index)
        guard DictionaryPolicy.shouldTrain(hasDictionary: compressor?.dictionary != nil,
                                           trainedOn: dictionarySampleCount, documents: total)
        else { return }
        // Samples of both kinds of stored text: original documents and their events' data.
        let picked = DictionaryPolicy.pick(Array(batch[index...]))
        var samples = picked.flatMap { document in
            [document.bytes] + (document.events.isEmpty ? [] : [document.canonicalData(at: 0)])
        }
        var sampled = picked.count
        if sampled < DictionaryPolicy.sampleTarget {
            let recent = try store.recentSamples(documents: DictionaryPolicy.sampleTarget - sampled)
            samples += recent.flatMap { [$0.document, $0.data] }
            sampled += recent.count
        }
        let bytes = DictionaryTrainer.train(samples: samples)
        // Even a poor dictionary is recorded, so training is not retried on every append.
        let id = try storeDictionary(bytes, sampleCount: sampled)
        compressor = EventCompressor(dictionary: CompressionDictionary(id: id, bytes: bytes))
        dictionarySampleCount = sampled
    }

    func storeDictionary(_ bytes: [UInt8], sampleCount: Int) throws -> Int64 {
        insertDictionary.bind(1, blob: SHA256Digest.of(bytes))
        insertDictionary.bind(2, recordedAt)
        insertDictionary.bind(3, Int64(sampleCount))
        insertDictionary.bind(4, blob: bytes)
        try insertDictionary.run()
        return database.lastInsertRowID
    }

    /// Commits what was appended since the last commit and releases the write lock; returns the
    /// totals of the whole session. The session stays usable: the next append begins anew.
    @discardableResult
    public func commit() throws -> AppendResult {
        guard open else { return committed }
        try store.wrap {
            if pending.appended > 0 { try checkpoint(nextPosition - 1) }
            try projections().finish()
            try database.execute("COMMIT")
        }
        store.useWriteCache(false)
        open = false
        committed.add(pending)
        pending = AppendResult()
        return committed
    }

    /// Discards everything appended since the last commit.
    public func rollback() {
        if open, !database.isAutocommit { try? database.execute("ROLLBACK") }
        store.useWriteCache(false)
        open = false
        pending = AppendResult()
        toProject.removeAll()
        projector?.discard()
    }

    /// What the open transaction has appended so far (not yet committed).
    public var uncommitted: AppendResult { pending }
}

/// When to train a compression dictionary and from which documents.
enum DictionaryPolicy {
    /// Fewer documents than this do not make a useful dictionary.
    static let minimumSamples = 32
    /// Documents sampled for training; more adds little and costs training time.
    static let sampleTarget = 2048
    /// A dictionary trained on n samples is replaced once a batch brings this many times n.
    static let retrainFactor = 8

    static func shouldTrain(hasDictionary: Bool, trainedOn samples: Int, documents: Int) -> Bool {
        if !hasDictionary { return documents >= minimumSamples }
        return samples < sampleTarget && documents >= retrainFactor * max(samples, 1)
    }

    /// Up to `sampleTarget` documents spread evenly over the batch.
    static func pick<T>(_ documents: [T]) -> [T] {
        guard documents.count > sampleTarget else { return documents }
        let step = Double(documents.count) / Double(sampleTarget)
        return (0..<sampleTarget).map { documents[Int(Double($0) * step)] }
    }
}
