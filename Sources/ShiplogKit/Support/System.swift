#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The few operating-system calls the library needs, without loading Foundation.
public enum System {
    /// The current time from the system clock.
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(microseconds: Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000)
    }

    /// A monotonic clock in nanoseconds, for measuring durations.
    public static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    public static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    public static func fileExists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// The largest file this process may write (`ulimit -f`), in bytes; nil when unlimited.
    public static var fileSizeLimit: UInt64? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return UInt64(limit.rlim_cur)
    }

    /// Whether this process may write `path`: its permissions allow it and its file system is
    /// not mounted read-only (root passes permission checks, not a read-only mount).
    public static func isWritable(_ path: String) -> Bool {
        guard access(path, W_OK) == 0 else { return false }
        var info = statvfs()
        return statvfs(path, &info) != 0 || info.f_flag & UInt(ST_RDONLY) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : nil
    }

    /// Which file a path names (device and inode, symlinks followed); nil when it does not exist.
    public static func fileIdentity(_ path: String) -> FileIdentity? {
        var info = stat()
        return stat(path, &info) == 0 ? FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) : nil
    }

    /// Which file an open descriptor is (standard input redirected from a file, say).
    public static func fileIdentity(descriptor: Int32) -> FileIdentity? {
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// An absolute path with symlinks and `..` resolved, also for a file that does not exist
    /// yet (its folder is resolved and its name appended), so two spellings of one path compare equal.
    public static func resolvedPath(_ path: String) -> String {
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        let folder = path.contains("/") ? parentDirectory(path) : "."
        guard let resolved = realpath(folder, nil) else { return path }
        defer { free(resolved) }
        let base = String(cString: resolved)
        return (base.hasSuffix("/") ? base : base + "/") + name
    }

    /// Size and modification time of a file, to notice that it was written; zeros when absent.
    static func changeSignature(_ path: String) -> (Int64, Int, Int) {
        var info = stat()
        guard stat(path, &info) == 0 else { return (0, 0, 0) }
        return (Int64(info.st_size), info.st_mtim.tv_sec, info.st_mtim.tv_nsec)
    }

    public static func sleep(microseconds: UInt32) {
        usleep(microseconds)
    }

    public static func isTerminal(_ descriptor: Int32) -> Bool {
        isatty(descriptor) == 1
    }

    public static func errorText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// Creates a directory and its missing parents.
    public static func makeDirectories(_ path: String) throws(SystemError) {
        guard !path.isEmpty, !isDirectory(path) else { return }
        let parent = parentDirectory(path)
        if parent != path { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw SystemError(path: path, reason: "cannot create directory: \(errorText())")
        }
    }

    public static func parentDirectory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The entries of a directory, sorted by name, without `.` and `..`.
    public static func listDirectory(_ path: String) throws(SystemError) -> [String] {
        guard let directory = opendir(path) else {
            throw SystemError(path: path, reason: "cannot read directory: \(errorText())")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Reads a whole file.
    public static func readFile(_ path: String) throws(SystemError) -> [UInt8] {
        let reader = try FileReader(path: path)
        var bytes: [UInt8] = []
        while let chunk = try reader.read(maximum: 1 << 20) { bytes.append(contentsOf: chunk) }
        return bytes
    }

    /// Writes a whole file, replacing it atomically (write to a temporary file, then rename).
    public static func writeFile(_ path: String, _ bytes: [UInt8]) throws(SystemError) {
        let temporary = path + ".tmp-\(getpid())"
        try write(bytes, to: try FileWriter(path: temporary), removingOnFailure: temporary)
        if rename(temporary, path) != 0 {
            let reason = errorText()
            unlink(temporary)
            throw SystemError(path: path, reason: "cannot replace file: \(reason)")
        }
    }

    /// Creates a file that must not exist yet, readable by its owner only when `private` (a key).
    public static func createNewFile(_ path: String, _ bytes: [UInt8], private: Bool) throws(SystemError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, `private` ? 0o600 : 0o644)
        guard descriptor >= 0 else {
            let reason = errno == EEXIST ? "it already exists (refusing to overwrite it)" : errorText()
            throw SystemError(path: path, reason: "cannot create: \(reason)")
        }
        try write(bytes, to: FileWriter(descriptor: descriptor, path: path, owned: true), removingOnFailure: path)
    }

    /// Writes and closes (syncing); a file that could not be written whole is removed.
    private static func write(_ bytes: [UInt8], to writer: FileWriter, removingOnFailure path: String) throws(SystemError) {
        do {
            try writer.write(bytes)
            try writer.close()
        } catch {
            unlink(path)
            throw error
        }
    }

    /// The permission bits of a file (0o600…), nil when it cannot be read.
    public static func permissions(_ path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode) & 0o777
    }

    public static func removeFile(_ path: String) {
        unlink(path)
    }

    public static var processID: Int32 { getpid() }
}

/// A file's identity on this machine: equal for every path (hard link, symlink) to the same file.
public struct FileIdentity: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64
}

public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Where an input reader's bytes come from, a chunk at a time.
public protocol ByteSource {
    /// The next chunk of at most `maximum` bytes, or nil at the end of the input.
    func read(maximum: Int) throws(SystemError) -> [UInt8]?
    /// Whether a read would return at once (a pipe may make it wait for the writer).
    var hasInputReady: Bool { get }
}

/// Bytes already in memory, handed out in chunks like a file.
public final class MemoryReader: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var hasInputReady: Bool { true }

    public func read(maximum: Int) throws(SystemError) -> [UInt8]? {
        guard offset < bytes.count else { return nil }
        let end = min(bytes.count, offset + maximum)
        defer { offset = end }
        return Array(bytes[offset..<end])
    }
}

/// Reads a file (or standard input) in chunks.
public final class FileReader: ByteSource {
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    public let path: String

    public init(path: String) throws(SystemError) {
        if path == "-" {
            descriptor = 0
            ownsDescriptor = false
        } else {
            descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else { throw SystemError(path: path, reason: System.errorText()) }
            ownsDescriptor = true
        }
        self.path = path
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    /// Whether a read would return at once (data, or the end); false for a pipe with nothing in it yet.
    public var hasInputReady: Bool {
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&request, 1, 0) != 0
    }

    /// The next chunk, or nil at the end of the input.
    public func read(maximum: Int) throws(SystemError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: maximum)
        var count = 0
        let result: Int = buffer.withUnsafeMutableBytes { raw in
            while true {
                let got = Glibc.read(descriptor, raw.baseAddress, maximum)
                if got < 0 && errno == EINTR { continue }
                return got
            }
        }
        if result < 0 {
            // Reading a directory gives EISDIR: say so plainly.
            throw SystemError(path: path == "-" ? "<stdin>" : path, reason: "cannot read: \(System.errorText())")
        }
        count = result
        if count == 0 { return nil }
        buffer.removeSubrange(count...)
        return buffer
    }
}

/// Writes a file (or standard output / error) with a buffer.
public final class FileWriter {
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    public let path: String
    private var buffer: [UInt8] = []
    private var closed = false

    /// `ownerOnly` makes the file readable by its owner alone (mode 0600), also when it existed:
    /// for files that may hold what the user would not share, like rejected input.
    public init(path: String, append: Bool = false, ownerOnly: Bool = false) throws(SystemError) {
        let flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
        descriptor = open(path, flags, ownerOnly ? 0o600 : 0o644)
        guard descriptor >= 0 else { throw SystemError(path: path, reason: "cannot write: \(System.errorText())") }
        if ownerOnly, fchmod(descriptor, 0o600) != 0 {
            let reason = System.errorText()
            _ = Glibc.close(descriptor)
            throw SystemError(path: path, reason: "cannot make it private: \(reason)")
        }
        ownsDescriptor = true
        self.path = path
        buffer.reserveCapacity(1 << 16)
    }

    /// Writes to an already open descriptor (1 for standard output, 2 for standard error).
    public init(descriptor: Int32, path: String, owned: Bool = false) {
        self.descriptor = descriptor
        ownsDescriptor = owned
        self.path = path
    }

    /// Collects what is written in memory (`collected`): a server answers with the same bytes
    /// a command prints.
    public static func inMemory() -> FileWriter { FileWriter(descriptor: -1, path: "<memory>") }

    /// What an in-memory writer holds.
    public var collected: [UInt8] { buffer }

    deinit {
        try? flush()
        if ownsDescriptor && !closed { Glibc.close(descriptor) }
    }

    public func write(_ text: String) throws(SystemError) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    public func write(_ bytes: [UInt8]) throws(SystemError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { try flush() }
    }

    public func write(_ bytes: some Collection<UInt8>) throws(SystemError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { try flush() }
    }

    public func flush() throws(SystemError) {
        guard descriptor >= 0 else { return }
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                let reason = System.errorText()
                buffer.removeAll(keepingCapacity: true)
                throw SystemError(path: path, reason: "cannot write: \(reason)")
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, makes the bytes durable, and closes the file.
    public func close() throws(SystemError) {
        try flush()
        guard ownsDescriptor, !closed else { return }
        closed = true
        if fsync(descriptor) != 0 { throw SystemError(path: path, reason: "cannot sync: \(System.errorText())") }
        if Glibc.close(descriptor) != 0 { throw SystemError(path: path, reason: "cannot close: \(System.errorText())") }
    }
}
