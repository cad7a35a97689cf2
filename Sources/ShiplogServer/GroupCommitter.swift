import NIOPosix
import ShiplogKit

/// What one request's documents became once appended.
struct IntakeResult: Sendable {
    var appended = 0
    var duplicates = 0
    /// Documents whose event id is already stored with other content: not stored, with why.
    var conflicts: [String] = []
}

/// Appends what requests bring in as few transactions as possible: requests that arrive while a
/// transaction is being written wait for the next one and share it, so under load the cost of a
/// commit is spread over many requests instead of one each. A request is answered only after the
/// transaction holding its documents has committed.
///
/// One store connection writes, on a thread of its own: SQLite work blocks, and must not hold
/// one of the few threads Swift's concurrency runs everything else on.
actor GroupCommitter {
    private let store: UncheckedStore
    private let thread: NIOThreadPool
    private var waiting: [(documents: [PreparedDocument], continuation: CheckedContinuation<IntakeResult, any Error>)] = []
    private var writing = false
    /// Requests per transaction at most, so one transaction stays short.
    static let maximumRequestsPerCommit = 512

    private let metrics: ServerMetrics

    init(store: UncheckedStore, metrics: ServerMetrics) {
        self.store = store
        self.metrics = metrics
        thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    /// Appends the documents; returns once they are committed (or throws the store's error).
    func append(_ documents: [PreparedDocument]) async throws -> IntakeResult {
        guard !documents.isEmpty else { return IntakeResult() }
        return try await withCheckedThrowingContinuation { continuation in
            waiting.append((documents, continuation))
            if !writing {
                writing = true
                Task { await drain() }
            }
        }
    }

    private func drain() async {
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(Self.maximumRequestsPerCommit))
            waiting.removeFirst(batch.count)
            let store = self.store
            let requests = batch.map(\.documents)
            do {
                let results = try await thread.runIfActive { try Self.commit(requests, to: store.store) }
                metrics.committed()
                for (entry, result) in zip(batch, results) { entry.continuation.resume(returning: result) }
            } catch {
                for entry in batch { entry.continuation.resume(throwing: error) }
            }
        }
        writing = false
        for waiter in drained { waiter.resume() }
        drained.removeAll()
    }

    /// One transaction for all the requests' documents.
    private static func commit(_ requests: [[PreparedDocument]], to store: EventStore) throws -> [IntakeResult] {
        let session = try store.beginAppend()
        var results: [IntakeResult] = []
        do {
            for documents in requests {
                var result = IntakeResult()
                for (document, outcome) in zip(documents, try session.append(documents)) {
                    switch outcome {
                    case .stored(let appended, let duplicates):
                        result.appended += appended
                        result.duplicates += duplicates
                    case .conflicting(let id, let position):
                        result.conflicts.append(
                            "event id \(id) is already stored at position \(position) with different content (\(document.source))")
                    }
                }
                results.append(result)
            }
            _ = try session.commit()
        } catch {
            session.rollback()
            throw error
        }
        return results
    }

    private var drained: [CheckedContinuation<Void, Never>] = []

    /// Waits for what is queued to be committed, then stops the writing thread.
    func shutdown() async {
        if writing { await withCheckedContinuation { drained.append($0) } }
        try? await thread.shutdownGracefully()
    }
}
