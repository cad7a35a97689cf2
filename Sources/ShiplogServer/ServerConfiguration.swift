import ShiplogKit

/// A value the server must keep secret, and where it was read from (the name is what logs and
/// errors may show; the value never is).
public struct SecretValue: Sendable {
    public let origin: String
    let bytes: [UInt8]

    init(origin: String, value: String) {
        self.origin = origin
        bytes = Array(value.utf8)
    }
}

/// Why a configuration cannot be used: the file, the member and the reason, never a value.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// How the server is set up: where it listens, and the credentials of each kind of caller.
///
/// Read from a JSON file (`serve --config FILE`) whose secrets are named, never written in it:
/// `{"env": "NAME"}` (an environment variable) or `{"file": "PATH"}` (a file's content, trailing
/// newline dropped), so the file can be committed and shown. Without a file, the same comes from
/// `SHIPLOG_GITHUB_SECRET`, `SHIPLOG_WRITE_TOKEN`, `SHIPLOG_READ_TOKEN`,
/// `SHIPLOG_EVENTBRIDGE_API_KEY` and `SHIPLOG_EVENTBRIDGE_PASSWORD`.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var database: String?
    /// Every secret GitHub may sign with: more than one while a secret is rotated.
    public var githubSecrets: [SecretValue] = []
    /// The header an EventBridge connection's API-key authorization sends, and its accepted values.
    public var eventBridgeAPIKeyHeader = "x-shiplog-api-key"
    public var eventBridgeAPIKeys: [SecretValue] = []
    /// An EventBridge connection's Basic authorization.
    public var eventBridgeBasicUser: String?
    public var eventBridgeBasicPasswords: [SecretValue] = []
    /// Bearer tokens for POST /events (write) and the read API (read; a write token also reads).
    public var writeTokens: [SecretValue] = []
    public var readTokens: [SecretValue] = []
    public var publicReads = false
    /// GitHub's own maximum payload is 25 MB; a little more for the delivery wrapping.
    public var maximumBodyBytes = 26 << 20
    public var idleTimeoutSeconds = 30
    public var maximumConcurrentRequests = 256

    public init() {}

    /// The configuration from a file, or from the environment when `path` is nil.
    public static func load(path: String?, environment: @escaping (String) -> String? = System.environment) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        guard let path else {
            func secrets(_ name: String) -> [SecretValue] {
                environment(name).flatMap { $0.isEmpty ? nil : [SecretValue(origin: "$\(name)", value: $0)] } ?? []
            }
            configuration.githubSecrets = secrets("SHIPLOG_GITHUB_SECRET")
            configuration.writeTokens = secrets("SHIPLOG_WRITE_TOKEN")
            configuration.readTokens = secrets("SHIPLOG_READ_TOKEN")
            configuration.eventBridgeAPIKeys = secrets("SHIPLOG_EVENTBRIDGE_API_KEY")
            configuration.eventBridgeBasicPasswords = secrets("SHIPLOG_EVENTBRIDGE_PASSWORD")
            if !configuration.eventBridgeBasicPasswords.isEmpty {
                configuration.eventBridgeBasicUser = environment("SHIPLOG_EVENTBRIDGE_USER") ?? "eventbridge"
            }
            return configuration
        }
        let json: JSON
        do {
            let reader = try FileReader(path: path)
            var bytes: [UInt8] = []
            while let chunk = try reader.read(maximum: 1 << 16) {
                bytes += chunk
                if bytes.count > 1 << 20 { throw ConfigurationError("\(path): larger than 1 MiB; not a configuration") }
            }
            json = try JSONParser.parse(bytes, rejectsDuplicateKeys: true)
        } catch let error as ConfigurationError {
            throw error
        } catch let error as JSONSyntaxError {
            throw ConfigurationError("\(path): not JSON: \(error.reason) (at byte \(error.offset))")
        } catch {
            throw ConfigurationError("\(error)")
        }
        guard let root = json.object else { throw ConfigurationError("\(path): expected a JSON object") }
        var reader = Reader(file: path, environment: environment)
        try reader.check(root, allowed: ["listen", "db", "github", "eventbridge", "tokens", "limits"], at: "")
        if let listen = try reader.string(root["listen"], "listen") {
            (configuration.host, configuration.port) = try parseListen(listen, origin: "\(path): listen")
        }
        configuration.database = try reader.string(root["db"], "db")
        if let github = try reader.object(root["github"], "github") {
            try reader.check(github, allowed: ["secrets"], at: "github")
            configuration.githubSecrets = try reader.secrets(github["secrets"], "github.secrets")
        }
        if let eventBridge = try reader.object(root["eventbridge"], "eventbridge") {
            try reader.check(eventBridge, allowed: ["apiKey", "basic"], at: "eventbridge")
            if let apiKey = try reader.object(eventBridge["apiKey"], "eventbridge.apiKey") {
                try reader.check(apiKey, allowed: ["header", "values"], at: "eventbridge.apiKey")
                if let header = try reader.string(apiKey["header"], "eventbridge.apiKey.header") {
                    configuration.eventBridgeAPIKeyHeader = header.lowercased()
                }
                configuration.eventBridgeAPIKeys = try reader.secrets(apiKey["values"], "eventbridge.apiKey.values")
            }
            if let basic = try reader.object(eventBridge["basic"], "eventbridge.basic") {
                try reader.check(basic, allowed: ["username", "passwords"], at: "eventbridge.basic")
                configuration.eventBridgeBasicUser = try reader.string(basic["username"], "eventbridge.basic.username")
                configuration.eventBridgeBasicPasswords = try reader.secrets(basic["passwords"], "eventbridge.basic.passwords")
                if configuration.eventBridgeBasicUser == nil {
                    throw ConfigurationError("\(path): eventbridge.basic.username is required with passwords")
                }
            }
        }
        if let tokens = try reader.object(root["tokens"], "tokens") {
            try reader.check(tokens, allowed: ["write", "read", "publicReads"], at: "tokens")
            configuration.writeTokens = try reader.secrets(tokens["write"], "tokens.write")
            configuration.readTokens = try reader.secrets(tokens["read"], "tokens.read")
            if let value = tokens["publicReads"] {
                guard let flag = value.bool else { throw ConfigurationError("\(path): tokens.publicReads must be true or false") }
                configuration.publicReads = flag
            }
        }
        if let limits = try reader.object(root["limits"], "limits") {
            try reader.check(limits, allowed: ["maxBodyBytes", "idleTimeoutSeconds", "maxConcurrentRequests"], at: "limits")
            configuration.maximumBodyBytes = try reader.integer(limits["maxBodyBytes"], "limits.maxBodyBytes", 1024...(1 << 30))
                ?? configuration.maximumBodyBytes
            configuration.idleTimeoutSeconds = try reader.integer(limits["idleTimeoutSeconds"], "limits.idleTimeoutSeconds", 1...3600)
                ?? configuration.idleTimeoutSeconds
            configuration.maximumConcurrentRequests = try reader.integer(
                limits["maxConcurrentRequests"], "limits.maxConcurrentRequests", 1...100_000) ?? configuration.maximumConcurrentRequests
        }
        return configuration
    }

    /// `HOST:PORT`, `:PORT` or `[IPv6]:PORT`.
    public static func parseListen(_ text: String, origin: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigurationError("\(origin): expected HOST:PORT, got \"\(text)\"")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// What `serve --check-config` prints: each credential by where it comes from, never its value.
    public var summary: String {
        func names(_ values: [SecretValue]) -> String { values.isEmpty ? "none" : values.map(\.origin).joined(separator: ", ") }
        return """
            listen: \(host):\(port)
            github webhook secrets: \(names(githubSecrets))
            eventbridge api key (\(eventBridgeAPIKeyHeader)): \(names(eventBridgeAPIKeys))
            eventbridge basic auth: \(eventBridgeBasicUser.map { "\($0) with \(names(eventBridgeBasicPasswords))" } ?? "none")
            write tokens: \(names(writeTokens))
            read tokens: \(names(readTokens))\(publicReads ? " (reads are public)" : "")
            limits: body \(maximumBodyBytes) bytes, idle timeout \(idleTimeoutSeconds) s, \(maximumConcurrentRequests) concurrent requests

            """
    }

    private struct Reader {
        let file: String
        let environment: (String) -> String?

        func check(_ object: JSONObject, allowed: Set<String>, at path: String) throws {
            for member in object where !allowed.contains(member.key) {
                let name = path.isEmpty ? member.key : path + "." + member.key
                throw ConfigurationError("\(file): unknown setting \(name) (known: \(allowed.sorted().joined(separator: ", ")))")
            }
        }

        func string(_ value: JSON?, _ name: String) throws -> String? {
            guard let value, !value.isNull else { return nil }
            guard let text = value.string else { throw ConfigurationError("\(file): \(name) must be a string") }
            return text
        }

        func object(_ value: JSON?, _ name: String) throws -> JSONObject? {
            guard let value, !value.isNull else { return nil }
            guard let object = value.object else { throw ConfigurationError("\(file): \(name) must be an object") }
            return object
        }

        func integer(_ value: JSON?, _ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let value, !value.isNull else { return nil }
            guard case .number(let text) = value, let number = Int(text), range.contains(number) else {
                throw ConfigurationError("\(file): \(name) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }

        /// `[{"env": NAME} | {"file": PATH}, …]` (or one such object), each resolved now.
        func secrets(_ value: JSON?, _ name: String) throws -> [SecretValue] {
            guard let value, !value.isNull else { return [] }
            let items = value.array ?? [value]
            return try items.enumerated().map { index, item in
                let where_ = "\(name)[\(index)]"
                guard let object = item.object else {
                    // A string here would be the secret itself, written into a file that gets shared.
                    throw ConfigurationError(
                        "\(file): \(where_) must name where the secret is, {\"env\": NAME} or {\"file\": PATH}, not hold it")
                }
                if let variable = object["env"]?.string, object.count == 1 {
                    guard let secret = environment(variable), !secret.isEmpty else {
                        throw ConfigurationError("\(file): \(where_): the environment variable \(variable) is not set")
                    }
                    return SecretValue(origin: "$\(variable)", value: secret)
                }
                if let secretPath = object["file"]?.string, object.count == 1 {
                    do {
                        let reader = try FileReader(path: secretPath)
                        var bytes: [UInt8] = []
                        while let chunk = try reader.read(maximum: 4096) {
                            bytes += chunk
                            if bytes.count > 65536 { throw ConfigurationError("\(file): \(where_): \(secretPath) is larger than 64 KiB") }
                        }
                        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
                        guard !bytes.isEmpty else { throw ConfigurationError("\(file): \(where_): \(secretPath) is empty") }
                        return SecretValue(origin: secretPath, value: String(decoding: bytes, as: UTF8.self))
                    } catch let error as ConfigurationError {
                        throw error
                    } catch {
                        throw ConfigurationError("\(file): \(where_): \(error)")
                    }
                }
                throw ConfigurationError("\(file): \(where_) must be {\"env\": NAME} or {\"file\": PATH}")
            }
        }
    }
}
