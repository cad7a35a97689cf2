internal import CSQLite

/// An error from SQLite, with the result code, SQLite's message and the statement that failed.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public let sql: String?

    public var description: String {
        if let sql { return "SQLite error \(code): \(message) (in: \(sql.prefix(200)))" }
        return "SQLite error \(code): \(message)"
    }

    /// The primary result code, without the extended bits (`SQLITE_BUSY`, `SQLITE_FULL`, …).
    public var primaryCode: Int32 { code & 0xff }
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }
    public var isDiskFull: Bool { primaryCode == SQLITE_FULL }
    public var isIOError: Bool { primaryCode == SQLITE_IOERR }
    public var isReadOnly: Bool { primaryCode == SQLITE_READONLY }
    public var isCorrupt: Bool { primaryCode == SQLITE_CORRUPT || primaryCode == SQLITE_NOTADB }
    public var isCantOpen: Bool { primaryCode == SQLITE_CANTOPEN }
}

/// Swift does not import `SQLITE_TRANSIENT`; it tells SQLite to copy bound bytes before returning.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// How a connection waits for the write lock: in short polls, for as long as other writers make
/// progress, and up to the timeout only when none does.
///
/// SQLite's own busy timeout counts from the first try, so a writer that keeps losing the race
/// for the lock to others committing every few milliseconds fails after it though the log never
/// stopped moving. Here, any change to the WAL file (a commit somewhere) restarts the timeout:
/// it only bounds how long a lock may be held by a writer that does not finish.
final class LockWait {
    let walPath: String
    let timeoutNanoseconds: UInt64
    private var lastProgress: UInt64 = 0
    private var lastSignature: (Int64, Int, Int) = (0, 0, 0)

    init(walPath: String, timeoutMilliseconds: Int32) {
        self.walPath = walPath
        timeoutNanoseconds = UInt64(max(timeoutMilliseconds, 0)) * 1_000_000
    }

    /// Called by SQLite with the number of tries so far; true to try again.
    func shouldRetry(tries: Int32) -> Bool {
        let now = System.monotonicNanoseconds()
        let signature = System.changeSignature(walPath)
        if tries == 0 || signature != lastSignature {
            lastSignature = signature
            lastProgress = now
        }
        guard now - lastProgress < timeoutNanoseconds else { return false }
        // Short polls: the lock is free only between another writer's commit and its next batch.
        System.sleep(microseconds: UInt32(min(Int(tries) + 1, 5)) * 1000)
        return true
    }
}

/// One SQLite connection, confined to one owner. Small on purpose: exec, prepare, transactions.
public final class Database {
    let handle: OpaquePointer
    public let path: String
    private let lockWait: LockWait

    public enum Mode: Sendable {
        case readOnly, readWrite, readWriteCreate
        /// Read-only media: no lock files, no WAL; only for a file nothing else can change.
        case immutable
    }

    public init(path: String, mode: Mode = .readWriteCreate, busyTimeout: Int32 = 60_000) throws {
        var db: OpaquePointer?
        var flags = SQLITE_OPEN_NOMUTEX
        switch mode {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .readWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .immutable: flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
        }
        let name = mode == .immutable ? "file:" + Self.uriPath(path) + "?immutable=1" : path
        let rc = sqlite3_open_v2(name, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            let code = db.map { sqlite3_extended_errcode($0) } ?? rc
            sqlite3_close_v2(db)
            throw DatabaseError(code: code, message: message, sql: nil)
        }
        handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        lockWait = LockWait(walPath: path + "-wal", timeoutMilliseconds: busyTimeout)
        sqlite3_busy_handler(db, { context, tries in
            Unmanaged<LockWait>.fromOpaque(context!).takeUnretainedValue().shouldRetry(tries: tries) ? 1 : 0
        }, Unmanaged.passUnretained(lockWait).toOpaque())
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// A path as the path part of a `file:` URI: `%`, `?` and `#` escaped.
    static func uriPath(_ path: String) -> String {
        var escaped = ""
        for character in path {
            switch character {
            case "%": escaped += "%25"
            case "?": escaped += "%3F"
            case "#": escaped += "%23"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    func error(_ code: Int32, _ sql: String?) -> DatabaseError {
        DatabaseError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw DatabaseError(code: sqlite3_extended_errcode(handle), message: text, sql: sql)
        }
    }

    public func prepare(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc, sql) }
        return Statement(database: self, handle: statement, sql: sql)
    }

    /// Runs `body` in a transaction; commits when it returns, rolls back when it throws.
    /// `immediate` takes the write lock up front, so a writer never fails half way on a lock upgrade.
    public func transaction<T>(immediate: Bool = false, _ body: () throws -> T) throws -> T {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if !isAutocommit { try? execute("ROLLBACK") }
            throw error
        }
    }

    public var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }
    public var changes: Int { Int(sqlite3_changes(handle)) }
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// The first column of the first row, or nil when there is no row or it is NULL.
    public func scalarInt(_ sql: String) throws -> Int64? {
        let statement = try prepare(sql)
        return try statement.step() ? statement.optionalInt(0) : nil
    }

    public func scalarText(_ sql: String) throws -> String? {
        let statement = try prepare(sql)
        return try statement.step() ? statement.optionalText(0) : nil
    }
}

@available(*, unavailable)
extension Database: Sendable {}

/// A prepared statement, reused across executions on hot paths (bind, step, reset).
public final class Statement {
    let handle: OpaquePointer
    unowned let database: Database
    public let sql: String

    init(database: Database, handle: OpaquePointer, sql: String) {
        self.database = database
        self.handle = handle
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Clears bindings and resets the statement so it can run again.
    @discardableResult
    public func reset() -> Statement {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        return self
    }

    public func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    public func bind(_ index: Int32, _ value: Int) {
        sqlite3_bind_int64(handle, index, Int64(value))
    }

    public func bind(_ index: Int32, _ value: String) {
        var value = value
        value.withUTF8 { bytes in
            _ = sqlite3_bind_text(handle, index, bytes.baseAddress, Int32(bytes.count), transient)
        }
    }

    public func bind(_ index: Int32, _ value: String?) {
        if let value { bind(index, value) } else { sqlite3_bind_null(handle, index) }
    }

    public func bind(_ index: Int32, _ value: Int64?) {
        if let value { bind(index, value) } else { sqlite3_bind_null(handle, index) }
    }

    public func bind(_ index: Int32, blob bytes: UnsafeRawBufferPointer) {
        // A zero-length blob must not bind NULL: SQLite treats a nil pointer as NULL.
        if let base = bytes.baseAddress, bytes.count > 0 {
            sqlite3_bind_blob(handle, index, base, Int32(bytes.count), transient)
        } else {
            sqlite3_bind_zeroblob(handle, index, 0)
        }
    }

    public func bind(_ index: Int32, blob bytes: [UInt8]) {
        bytes.withUnsafeBytes { bind(index, blob: $0) }
    }

    public func bindNull(_ index: Int32) {
        sqlite3_bind_null(handle, index)
    }

    /// Advances to the next row; false when the statement is done.
    public func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let failure = database.error(rc, sql)
            sqlite3_reset(handle)
            throw failure
        }
    }

    /// Runs a statement that returns no rows, then resets it for the next use.
    public func run() throws {
        defer { reset() }
        while try step() {}
    }

    public var columnCount: Int32 { sqlite3_column_count(handle) }

    public func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    public func int(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    public func optionalInt(_ column: Int32) -> Int64? {
        isNull(column) ? nil : int(column)
    }

    public func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    public func optionalText(_ column: Int32) -> String? {
        isNull(column) ? nil : text(column)
    }

    /// Whether the column's stored bytes are valid UTF-8. `text` repairs invalid bytes to U+FFFD,
    /// so a check over decoded text cannot tell a stored U+FFFD from a byte someone broke.
    public func isValidUTF8(_ column: Int32) -> Bool {
        withBytes(column) { raw in
            if raw.allSatisfy({ $0 < 0x80 }) { return true }
            var decoder = Unicode.UTF8()
            var bytes = raw.makeIterator()
            while true {
                switch decoder.decode(&bytes) {
                case .scalarValue: continue
                case .emptyInput: return true
                case .error: return false
                }
            }
        }
    }

    /// Calls `body` with the column's bytes without copying them; valid only inside `body`.
    public func withBytes<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let pointer = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    public func blob(_ column: Int32) -> [UInt8] {
        withBytes(column) { Array($0) }
    }
}

@available(*, unavailable)
extension Statement: Sendable {}
