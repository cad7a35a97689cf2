#if canImport(Glibc)
    import Glibc
#endif

/// A document that was not appended, and why: printed as `file:line: reason`.
public struct Rejection: Sendable, CustomStringConvertible {
    public let origin: Origin
    public let reason: String
    /// The document's bytes as read, secrets redacted (for the rejects file). A document that
    /// failed to parse is redacted as text.
    public let bytes: [UInt8]

    public init(origin: Origin, reason: String, bytes: [UInt8]) {
        self.origin = origin
        self.reason = Redactor.redactedText(reason)
        self.bytes = Redactor.redactText(bytes) ?? bytes
    }

    public var description: String { "\(origin): \(reason)" }
}

/// Documents read and normalized from memory, not yet appended (`Ingestor.prepare(bytes:name:)`).
public struct PreparedInput: Sendable {
    public var documents = 0
    public var prepared: [PreparedDocument] = []
    /// Why documents were ignored, with counts.
    public var ignoredReasons: [String: Int] = [:]
    public var ignored: Int { ignoredReasons.values.reduce(0, +) }
    public var rejections: [Rejection] = []
    public var redactions = 0

    public init() {}
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
    /// Nil for an ingestor that only prepares documents (a server, before it appends them).
    private let store: EventStore?
    private let options: IngestOptions
    private let forcedAdapter: (any SourceAdapter)?

    public convenience init(store: EventStore, options: IngestOptions) throws(AdapterError) {
        try self.init(store: Optional(store), options: options)
    }

    /// An ingestor that reads and normalizes (`prepare(bytes:name:)`) but never appends: it needs
    /// no store, so a server can prepare requests in parallel with the one writer.
    public convenience init(preparingOnly options: IngestOptions) throws(AdapterError) {
        try self.init(store: nil, options: options)
    }

    private init(store: EventStore?, options: IngestOptions) throws(AdapterError) {
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
    ///
    /// Reading and normalizing run on a second thread while this one appends: each is about half
    /// of the work, and the machines this runs on have at least two cores. Everything the caller
    /// sees — rejections, counts, what is appended — comes in input order, as if it ran on one.
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
            guard let store else { preconditionFailure("an ingestor made with init(preparingOnly:) does not append") }
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
            if options.skipInvalid, sinceCommit >= options.commitEvery { try commit() }
        }
        func commit() throws {
            _ = try session?.commit()
            sinceCommit = 0
            store?.checkpointWALIfLarge()
        }
        // With --skip-invalid, input that stops arriving (a pipe between events) is stored and
        // the write lock released while waiting, instead of both waiting for the next document.
        func idle() throws {
            guard options.skipInvalid else { return }
            try flush()
            try commit()
        }

        let reading = PreparingThread(ingestor: self, files: files, receivedAt: receivedAt)
        do {
            while let chunk = try reading.nextChunk(onIdle: idle) {
                for item in chunk {
                    report.documents += 1
                    switch item {
                    case .prepared(let prepared, let origin, let redactions):
                        report.redactions += redactions
                        batch.append(prepared)
                        origins.append(origin)
                        if batch.count >= options.batchSize { try flush() }
                    case .ignored(let redactions):
                        report.redactions += redactions
                    case .rejected(let rejection, let redactions):
                        report.redactions += redactions
                        reject(rejection)
                    }
                }
            }
            try flush()
        } catch {
            reading.cancel()
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
                if result.appended >= 50_000 { store?.checkpointWAL() }
            }
        }
        return report
    }

    /// Reads and normalizes documents held in memory (a request body) without appending them:
    /// what a server checks before it acknowledges anything. `name` stands for the file in the
    /// origins of rejections.
    public func prepare(bytes: [UInt8], name: String, receivedAt: Timestamp = System.now()) throws -> PreparedInput {
        var input = PreparedInput()
        // The ingestor counts what it ignores over its life; this input's share is what it adds.
        let ignoredBefore = ignored
        let reader = InputReader(bytes: bytes, name: name)
        while let item = try reader.next() {
            input.documents += 1
            switch item {
            case .invalid(let origin, let reason, let bytes):
                input.rejections.append(Rejection(origin: origin, reason: reason, bytes: bytes))
            case .document(let document):
                input.redactions += document.redactions
                switch prepare(document, receivedAt: receivedAt) {
                case .success(.some(let ready)): input.prepared.append(ready)
                case .success(.none): break
                case .failure(let error):
                    input.rejections.append(Rejection(origin: document.origin, reason: error.reason, bytes: document.bytes))
                }
            }
        }
        input.ignoredReasons = ignored.merging(ignoredBefore) { $0 - $1 }.filter { $0.value > 0 }
        return input
    }

    /// One input document after reading and normalizing.
    enum PreparedItem: Sendable {
        case prepared(PreparedDocument, Origin, redactions: Int)
        case ignored(redactions: Int)
        case rejected(Rejection, redactions: Int)
    }

    /// Reads and normalizes one file's documents, calling `emit` for each in order, and
    /// `whenInputWaits` before waiting for input that has not arrived yet.
    fileprivate func read(
        _ file: String, receivedAt: Timestamp, whenInputWaits: @escaping () -> Void, emit: (PreparedItem) -> Bool
    ) throws {
        let reader = try InputReader(path: file)
        reader.whenInputWaits = whenInputWaits
        while let item = try reader.next() {
            let prepared: PreparedItem
            switch item {
            case .invalid(let origin, let reason, let bytes):
                prepared = .rejected(Rejection(origin: origin, reason: reason, bytes: bytes), redactions: 0)
            case .document(let document):
                switch prepare(document, receivedAt: receivedAt) {
                case .success(.some(let ready)): prepared = .prepared(ready, document.origin, redactions: document.redactions)
                case .success(.none): prepared = .ignored(redactions: document.redactions)
                case .failure(let error):
                    prepared = .rejected(
                        Rejection(origin: document.origin, reason: error.reason, bytes: document.bytes), redactions: document.redactions)
                }
            }
            guard emit(prepared) else { return }
        }
    }

    /// Detects the source and normalizes one document; `.success(nil)` when it is ignored.
    public func prepare(_ document: InputDocument, receivedAt: Timestamp) -> Result<PreparedDocument?, AdapterError> {
        guard let adapter = forcedAdapter ?? SourceRegistry.detect(document.json) else {
            return .failure(AdapterError("unrecognized document: not a format shiplog reads (\(Self.hint(document.json)))"))
        }
        let sha256 = SHA256Digest.of(document.bytes)
        let context = AdapterContext(documentSHA256: Hex.encode(sha256), receivedAt: receivedAt)
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
                return .success(PreparedDocument(
                    source: adapter.name, bytes: document.bytes, events: events, sha256: sha256,
                    canonicalData: events.map { Array(JSONWriter.canonical(.object($0.data)).utf8) }))
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

/// The reading half of an ingest: a thread that reads and normalizes documents into chunks, a
/// few chunks ahead of the thread that appends them.
private final class PreparingThread: @unchecked Sendable {
    private static let chunkSize = 512
    private static let chunksAhead = 4

    private let ingestor: Ingestor
    private let files: [String]
    private let receivedAt: Timestamp
    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()
    private var ready: [[Ingestor.PreparedItem]] = []
    private var finished = false
    private var cancelled = false
    private var failure: (any Error)?
    /// Whether a second thread reads: if not, reading runs to the end before appending starts.
    private var concurrent = true
    private var thread: pthread_t?

    init(ingestor: Ingestor, files: [String], receivedAt: Timestamp) {
        self.ingestor = ingestor
        self.files = files
        self.receivedAt = receivedAt
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let started = pthread_create(&thread, nil, { context in
            let this = Unmanaged<PreparingThread>.fromOpaque(context!).takeRetainedValue()
            this.run()
            return nil
        }, context)
        if started == 0 {
            self.thread = thread
        } else {
            // No second thread to be had: read everything here, ahead of appending.
            Unmanaged<PreparingThread>.fromOpaque(context).release()
            concurrent = false
            run()
        }
    }

    deinit {
        pthread_cond_destroy(&changed)
        pthread_mutex_destroy(&mutex)
    }

    private func run() {
        var chunk: [Ingestor.PreparedItem] = []
        chunk.reserveCapacity(Self.chunkSize)
        func hand(_ items: [Ingestor.PreparedItem], last: Bool = false, failure: (any Error)? = nil) -> Bool {
            pthread_mutex_lock(&mutex)
            defer { pthread_mutex_unlock(&mutex) }
            while concurrent && !cancelled && ready.count >= Self.chunksAhead { pthread_cond_wait(&changed, &mutex) }
            if !items.isEmpty { ready.append(items) }
            if last {
                finished = true
                self.failure = failure
            }
            pthread_cond_broadcast(&changed)
            return !cancelled
        }
        do {
            for file in files {
                // Input that pauses (a pipe) hands on what it has, so it is appended while the pipe waits.
                let handPartialChunk = {
                    guard !chunk.isEmpty else { return }
                    _ = hand(chunk)
                    chunk.removeAll(keepingCapacity: true)
                }
                try ingestor.read(file, receivedAt: receivedAt, whenInputWaits: handPartialChunk) { item in
                    chunk.append(item)
                    guard chunk.count >= Self.chunkSize else { return true }
                    defer { chunk.removeAll(keepingCapacity: true) }
                    return hand(chunk)
                }
                if isCancelled { break }
            }
            _ = hand(chunk, last: true)
        } catch {
            _ = hand(chunk, last: true, failure: error)
        }
    }

    private var isCancelled: Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return cancelled
    }

    /// How long the reading may produce nothing before the appending side is told it is idle.
    static let idleNanoseconds: UInt64 = 200_000_000

    /// The next chunk in input order; nil after the last; throws what stopped the reading (an
    /// unreadable file) once every chunk before it was taken. When nothing comes for
    /// `idleNanoseconds`, calls `onIdle` once (without holding the mutex) and waits on.
    func nextChunk(onIdle: () throws -> Void) throws -> [Ingestor.PreparedItem]? {
        pthread_mutex_lock(&mutex)
        if ready.isEmpty && !finished {
            var deadline = timespec()
            clock_gettime(CLOCK_REALTIME, &deadline)
            let nanoseconds = UInt64(deadline.tv_nsec) + Self.idleNanoseconds
            deadline.tv_sec += Int(nanoseconds / 1_000_000_000)
            deadline.tv_nsec = Int(nanoseconds % 1_000_000_000)
            var timedOut = false
            while ready.isEmpty && !finished && !timedOut {
                timedOut = pthread_cond_timedwait(&changed, &mutex, &deadline) == ETIMEDOUT
            }
            if timedOut && ready.isEmpty && !finished {
                pthread_mutex_unlock(&mutex)
                try onIdle()
                pthread_mutex_lock(&mutex)
            }
        }
        while ready.isEmpty && !finished { pthread_cond_wait(&changed, &mutex) }
        var chunk: [Ingestor.PreparedItem]?
        if !ready.isEmpty { chunk = ready.removeFirst() }
        let failure = chunk == nil ? self.failure : nil
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
        if chunk == nil { join() }
        if let failure { throw failure }
        return chunk
    }

    /// Stops the reading early (the append failed) and waits for the thread to end.
    func cancel() {
        pthread_mutex_lock(&mutex)
        cancelled = true
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
        join()
    }

    private func join() {
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }
}
