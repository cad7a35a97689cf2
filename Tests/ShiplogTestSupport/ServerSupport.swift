import Foundation
import ShiplogKit

#if canImport(Glibc)
    import Glibc
#endif

/// A `shiplog serve` process on 127.0.0.1 and a port the kernel picked, for tests over real HTTP.
public final class ServerProcess: @unchecked Sendable {
    public let process = Process()
    public private(set) var port = 0
    private let errors = Pipe()
    private let output = Pipe()
    nonisolated(unsafe) private var errorText = Data()
    private let errorDone = DispatchSemaphore(value: 0)

    /// Starts the server and waits until it says where it listens.
    public init(db: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: ShiplogProcess.executable)
        process.arguments = ["serve", "--db", db, "--listen", "127.0.0.1:0"] + arguments
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("SHIPLOG_") { env.removeValue(forKey: key) }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        DispatchQueue.global().async { [self] in
            errorText = errors.fileHandleForReading.readDataToEndOfFile()
            errorDone.signal()
        }
        // The first line on stdout: "listening on 127.0.0.1:PORT".
        var line = Data()
        let handle = output.fileHandleForReading
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty { break }
            if byte.first == 0x0A { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("listening on "), let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            process.terminate()
            process.waitUntilExit()
            errorDone.wait()
            throw ServerFailure("the server did not start: \(text) \(String(decoding: errorText, as: UTF8.self))")
        }
        self.port = port
    }

    /// SIGTERM, then waits: the exit status and what it wrote on stderr.
    @discardableResult
    public func stop() -> (status: Int32, errors: String) {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        errorDone.wait()
        return (process.terminationStatus, String(decoding: errorText, as: UTF8.self))
    }

    /// SIGKILL: no chance to finish anything.
    public func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        errorDone.wait()
    }

    deinit {
        if process.isRunning { kill() }
    }

    public func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
                        timeout: Int = 30) throws -> HTTPResponse {
        try HTTPClient.request(port: port, method: method, path: path, headers: headers, body: body, timeout: timeout)
    }
}

public struct ServerFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public struct HTTPResponse: Sendable {
    public let status: Int
    public let headers: [(String, String)]
    public let body: [UInt8]
    public var text: String { String(decoding: body, as: UTF8.self) }
    public var json: JSON? { try? JSONParser.parse(body) }
    public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
}

/// A deliberately small HTTP/1.1 client over a socket (one request per connection): tests
/// control every byte sent, including how slowly.
public enum HTTPClient {
    public static func connect(port: Int, timeout: Int = 30) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ServerFailure("socket: \(String(cString: strerror(errno)))") }
        var time = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(socket)
            throw ServerFailure("connect to 127.0.0.1:\(port): \(reason)")
        }
        return socket
    }

    public static func send(_ socket: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw ServerFailure("send: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    public static func head(method: String, path: String, headers: [(String, String)], bodyLength: Int) -> [UInt8] {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if bodyLength > 0 || method == "POST" { text += "Content-Length: \(bodyLength)\r\n" }
        return Array((text + "\r\n").utf8)
    }

    public static func request(port: Int, method: String, path: String, headers: [(String, String)] = [], body: [UInt8] = [],
                               timeout: Int = 30) throws -> HTTPResponse {
        let socket = try connect(port: port, timeout: timeout)
        defer { close(socket) }
        try send(socket, head(method: method, path: path, headers: headers, bodyLength: body.count) + body)
        return try readResponse(socket)
    }

    /// Reads until the server closes the connection, then parses status, headers and body.
    public static func readResponse(_ socket: Int32) throws -> HTTPResponse {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                if received.isEmpty { throw ServerFailure("recv: \(String(cString: strerror(errno)))") }
                break
            }
            if count == 0 { break }
            received += buffer[0..<count]
        }
        guard let end = (0..<max(0, received.count - 3)).first(where: { received[$0...$0 + 3] == [13, 10, 13, 10] }) else {
            throw ServerFailure("no HTTP response (\(received.count) bytes)")
        }
        let lines = String(decoding: received[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw ServerFailure("bad status line: \(lines[0])") }
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body = Array(received[(end + 4)...])
        if headers.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            body = dechunk(body)
        }
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let lineEnd = (index..<bytes.count - 1).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }),
                let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";")[0], radix: 16)
            else { break }
            if size == 0 { break }
            let start = lineEnd + 2
            output += bytes[start..<min(bytes.count, start + size)]
            index = start + size + 2
        }
        return output
    }
}
