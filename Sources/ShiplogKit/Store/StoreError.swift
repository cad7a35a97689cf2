/// Why the store could not do what was asked. The CLI maps each kind to an exit status.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    /// There is no store at the path (reads and appends never create one; `init` does).
    case missing(path: String)
    /// The file exists but is not a shiplog store (or not a SQLite database at all).
    case notAStore(path: String, reason: String)
    /// The file is a database, but damaged: SQLite found a page that does not parse.
    case damaged(path: String, reason: String)
    /// The store was written by a newer shiplog with migrations this binary does not know.
    case newerSchema(path: String, found: Int, known: Int)
    /// An append's expected stream version did not hold (optimistic concurrency).
    case versionConflict(stream: String, expected: ExpectedVersion, actual: Int64)
    /// An event id is already stored with different content.
    case conflictingDuplicate(id: String, position: Int64)
    /// The store's checkpoints are signed and this append was given no signing key.
    case signingKeyRequired(path: String)
    /// The database refused the operation (read-only file, disk full, I/O error, …).
    case database(path: String, DatabaseError)

    public var description: String {
        switch self {
        case .missing(let path):
            return "no shiplog store at \(path) (create one with `shiplog init`, or point --db / SHIPLOG_DB at yours)"
        case .notAStore(let path, let reason):
            return "\(path) is not a shiplog store: \(reason)"
        case .damaged(let path, let reason):
            return "\(path) is damaged (\(reason)); `shiplog verify` says where, and a backup or a copy of the log is the way back"
        case .newerSchema(let path, let found, let known):
            return "\(path) has schema version \(found), newer than this shiplog knows (\(known)); upgrade shiplog"
        case .versionConflict(let stream, let expected, let actual):
            return "stream \(stream) is at version \(actual), expected \(expected)"
        case .conflictingDuplicate(let id, let position):
            return "event id \(id) is already stored at position \(position) with different content"
        case .signingKeyRequired(let path):
            return "\(path) has signed checkpoints, so appending needs the signing key (--signing-key FILE, "
                + "$SHIPLOG_SIGNING_KEY_FILE or $SHIPLOG_SIGNING_KEY); nothing was appended"
        case .database(let path, let error):
            if error.isReadOnly { return "\(path) is read-only: \(error.message)" }
            if error.isDiskFull { return "the disk holding \(path) is full; nothing was appended (\(error.message))" }
            if error.isCorrupt { return "\(path) is corrupt or not a database: \(error.message)" }
            if error.isIOError {
                var text = "reading or writing \(path) failed (\(error.message)); the transaction was rolled back"
                if let limit = System.fileSizeLimit {
                    text += " — this process may write files of at most \(limit) bytes (ulimit -f), which may be why"
                }
                return text
            }
            if error.isBusy { return "\(path) stayed locked by another writer past the busy timeout: \(error.message)" }
            return "\(path): \(error)"
        }
    }
}

/// What an append expects of a stream's version (as EventStoreDB offers it).
public enum ExpectedVersion: Sendable, Equatable, CustomStringConvertible {
    case any
    case noStream
    case streamExists
    case exactly(Int64)

    public var description: String {
        switch self {
        case .any: return "any version"
        case .noStream: return "no stream"
        case .streamExists: return "an existing stream"
        case .exactly(let version): return "version \(version)"
        }
    }

    func allows(_ version: Int64) -> Bool {
        switch self {
        case .any: return true
        case .noStream: return version == 0
        case .streamExists: return version > 0
        case .exactly(let expected): return version == expected
        }
    }
}
