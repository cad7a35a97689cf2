internal import CSQLite

/// The shiplog store: an append-only, hash-chained event log in one SQLite file, plus the
/// projections derived from it.
///
/// One `EventStore` owns one connection; open one per process (or per thread). Several
/// processes may append at once: appends take SQLite's write lock up front and wait for it.
public final class EventStore {
    public let path: String
    let database: Database
    /// Opened from read-only media: queries and verify work, appends are refused.
    public let readOnly: Bool
    /// Signs every checkpoint this store appends from now on (`shiplog keygen` makes the key).
    public var checkpointSigner: CheckpointSigner?

    public enum OpenMode: Sendable {
        /// Create the file (and its directory) when missing, then migrate.
        case create
        /// Open an existing store; migrate it when it is older than this binary.
        case existing
    }

    public init(path: String, mode: OpenMode = .existing) throws(StoreError) {
        self.path = path
        let exists = System.fileExists(path)
        if !exists && mode == .existing { throw StoreError.missing(path: path) }
        if !exists {
            let directory = System.parentDirectory(path)
            do { try System.makeDirectories(directory) } catch {
                throw StoreError.database(path: path, DatabaseError(code: SQLITE_CANTOPEN, message: error.reason, sql: nil))
            }
        }
        // A store on read-only media (an auditor's copy, a read-only mount) is opened immutable so
        // queries and verify still run; SQLite could not create its lock files there. That is only
        // safe when no WAL holds commits the file lacks, so then it is refused instead.
        readOnly = exists && !(System.isWritable(path) && System.isWritable(System.parentDirectory(path)))
        if readOnly, System.fileSize(path + "-wal").map({ $0 > 0 }) == true {
            throw StoreError.database(path: path, DatabaseError(
                code: SQLITE_READONLY,
                message: "it cannot be written and its write-ahead log \(path)-wal holds commits not yet in it; "
                    + "open it once where it can be written", sql: nil))
        }
        do {
            database = try Database(path: path, mode: readOnly ? .immutable : mode == .create ? .readWriteCreate : .readWrite)
        } catch let error as DatabaseError {
            throw Self.classify(error, path: path)
        } catch {
            throw StoreError.notAStore(path: path, reason: "\(error)")
        }
        do {
            // An emptied file (truncated to 0 bytes, or a database with nothing in it) is not a
            // store: only `init` creates the schema, or a wiped log would verify as a new, empty
            // one. Checked before anything is written to the file.
            if mode == .existing, try database.scalarInt("PRAGMA user_version") == 0,
                try database.scalarInt("SELECT count(*) FROM sqlite_master") == 0
            {
                throw StoreError.notAStore(
                    path: path,
                    reason: "it is empty (no shiplog schema: a 0-byte file or an empty database); `shiplog init` creates a store")
            }
            try configure(creating: !exists)
            try Migrator.migrate(database, path: path, readOnly: readOnly)
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw Self.classify(error, path: path)
        } catch {
            throw StoreError.notAStore(path: path, reason: "\(error)")
        }
    }

    static func classify(_ error: DatabaseError, path: String) -> StoreError {
        if error.primaryCode == SQLITE_NOTADB {
            return .notAStore(path: path, reason: "the file is not a SQLite database (\(error.message))")
        }
        if error.primaryCode == SQLITE_CORRUPT { return .damaged(path: path, reason: error.message) }
        return .database(path: path, error)
    }

    private func configure(creating: Bool) throws {
        // Reading the header first turns "file is not a database" into a clear error before any write.
        _ = try database.scalarInt("PRAGMA schema_version")
        if !readOnly, try database.scalarText("PRAGMA journal_mode") != "wal" {
            _ = try database.scalarText("PRAGMA journal_mode=WAL")
        }
        try database.execute(
            """
            PRAGMA synchronous=\(Self.synchronousMode);
            PRAGMA foreign_keys=ON;
            PRAGMA temp_store=MEMORY;
            PRAGMA cache_size=-\(Self.readCacheKibibytes);
            """)
    }

    /// SQLite's page cache while writing, in KiB: large enough that an append transaction of a
    /// million events does not spill pages to the WAL and read them back (memory is taken only
    /// as pages are used). Reading keeps SQLite's small default, so an export or a verify of a
    /// large store streams in little memory.
    static let writeCacheKibibytes = 1 << 20
    static let readCacheKibibytes = 16 << 10

    /// Switches the page cache to the size for writing (true) or reading (false).
    func useWriteCache(_ writing: Bool) {
        try? database.execute("PRAGMA cache_size=-\(writing ? Self.writeCacheKibibytes : Self.readCacheKibibytes)")
    }

    /// Runs a write (a fold, a rebuild) with the large page cache, then gives the memory back.
    func withWriteCache<T>(_ body: () throws -> T) rethrows -> T {
        useWriteCache(true)
        defer { useWriteCache(false) }
        return try body()
    }

    /// `NORMAL` survives process crashes (every committed append is kept); `FULL` also survives
    /// power loss, at one fsync per append. Set `SHIPLOG_SYNCHRONOUS=FULL` to choose it.
    static var synchronousMode: String {
        System.environment("SHIPLOG_SYNCHRONOUS")?.uppercased() == "FULL" ? "FULL" : "NORMAL"
    }

    /// Runs a read in one transaction, so every statement sees the same snapshot of the log.
    public func read<T>(_ body: () throws -> T) throws -> T {
        try wrap { database.isAutocommit ? try database.transaction(body) : try body() }
    }

    /// Maps SQLite errors raised by `body` to `StoreError`.
    func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DatabaseError { throw Self.classify(error, path: path) }
    }

    /// The last position and chain hash (nil for an empty log).
    public func head() throws -> (position: Int64, chain: String)? {
        try wrap {
            let statement = try database.prepare("SELECT position, chain FROM events ORDER BY position DESC LIMIT 1")
            guard try statement.step() else { return nil }
            return (statement.int(0), Hex.encode(statement.blob(1)))
        }
    }

    public var schemaVersion: Int {
        (try? database.scalarInt("PRAGMA user_version")).flatMap { $0 }.map(Int.init) ?? 0
    }

    /// Fails before any write when the store was opened from read-only media.
    func refuseIfReadOnly() throws(StoreError) {
        guard readOnly else { return }
        throw StoreError.database(path: path, DatabaseError(
            code: SQLITE_READONLY, message: "the file or its folder cannot be written, so nothing can be appended or rebuilt",
            sql: nil))
    }

    /// Writes the WAL back into the database file and truncates it (after large appends).
    public func checkpointWAL() {
        try? database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// A WAL past this size is written back and truncated by the writer that finds it so.
    static let walSizeLimit: Int64 = 64 << 20

    /// Truncates the WAL once it is past `walSizeLimit`. SQLite's automatic checkpoints never
    /// restart the WAL while some reader is always using it — writers committing every few
    /// milliseconds with queries running beside them grew it to 10 GB for 300,000 events —
    /// whereas this one waits (briefly) for the readers of the moment to finish.
    func checkpointWALIfLarge() {
        guard let size = System.fileSize(path + "-wal"), size > Self.walSizeLimit else { return }
        checkpointWAL()
    }
}

/// Applies the SQL migrations embedded from `schema/migrations/`, each once, in order.
enum Migrator {
    static func migrate(_ database: Database, path: String, readOnly: Bool = false) throws {
        let known = EmbeddedSchema.migrations.count
        let current = Int(try database.scalarInt("PRAGMA user_version") ?? 0)
        if current > known { throw StoreError.newerSchema(path: path, found: current, known: known) }
        if current == known { return }
        if readOnly {
            throw StoreError.database(path: path, DatabaseError(
                code: SQLITE_READONLY, message: "it has schema version \(current) and needs \(known), which means writing to it",
                sql: nil))
        }
        if current == 0, try database.scalarInt("SELECT count(*) FROM sqlite_master") ?? 0 > 0 {
            throw StoreError.notAStore(path: path, reason: "it is a SQLite database with other tables in it")
        }
        for (index, migration) in EmbeddedSchema.migrations.enumerated() where index >= current {
            try database.transaction(immediate: true) {
                // Another process may have applied it while this one waited for the lock.
                guard try database.scalarInt("PRAGMA user_version") == Int64(index) else { return }
                try database.execute(migration.sql)
                let record = try database.prepare(
                    "INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)")
                record.bind(1, Int64(index + 1))
                record.bind(2, migration.name)
                record.bind(3, Hex.encode(SHA256Digest.of(Array(migration.sql.utf8))))
                record.bind(4, System.now().microseconds)
                try record.run()
                try database.execute("PRAGMA user_version=\(index + 1)")
            }
        }
    }
}
